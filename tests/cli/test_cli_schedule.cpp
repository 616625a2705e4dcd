// The schedule generators in process: bad overrides are refused with the option and the
// accepted form (2), a bad schedule file is a configuration error (78); nothing is written
// (moved here from tests/integration/test_schedule.cpp and test_schedule_laravel.cpp).
#include <catch2/catch.hpp>
#include <fstream>

#include "cli_fixture.hpp"
#include "scratch_dir.hpp"

using namespace ops_test;

TEST_CASE("schedule: bad overrides are refused with the option and the accepted form") {
    struct Case {
        std::vector<std::string> args;
        int code;
        std::string message;
    };
    ScratchDir dir;
    const auto bad_file = dir / "bad.env";
    std::ofstream(bad_file) << "AUDIT_ARCHIVE_WHEN=\"0 1 * * *\"\n";
    const auto bad_cron_file = dir / "bad-cron.env";
    std::ofstream(bad_cron_file) << "AUDIT_ARCHIVE_CRON=\"0 25 * * *\"\n";
    const std::vector<Case> cases = {
        {{"--cron", "audit-archive=0 1 * *"}, 2, "--cron audit-archive: expected five fields"},
        {{"--cron", "audit-archive=61 1 * * *"}, 2, "minute field '61' is outside 0-59"},
        {{"--cron", "audit-archive=0 1 * * mon"}, 2, "day of week field 'mon'"},
        {{"--cron", "audit-archive=0 5-3 * * *"},
         2,
         "hour field '5-3' is a range that runs backwards"},
        {{"--cron", "audit-archive=*/0 1 * * *"}, 2, "minute field '*/0' has a step"},
        {{"--cron", "nightly=0 1 * * *"}, 2, "--cron: unknown job 'nightly'; the jobs are"},
        {{"--cron", "0 1 * * *"}, 2, "--cron: expected NAME='MIN HOUR DOM MON DOW'"},
        {{"--disable", "archive"}, 2, "--disable: unknown job 'archive'"},
        {{"--options", "audit-archive=--dayz 9"}, 2, "job audit-archive: "},
        {{"--options", "audit-archive=--days -1"}, 2, "job audit-archive: --days"},
        {{"--options", "audit-archive=--before '2026-01-01 10:00'"}, 2, "without quotes"},
        {{"--archive-dir", "relative/dir"}, 2, "--archive-dir: expected an absolute path"},
        {{"--schedule-file", bad_file.string()}, 78, "AUDIT_ARCHIVE_WHEN: unknown setting"},
        {{"--schedule-file", bad_cron_file.string()}, 78, "hour field '25' is outside 0-23"},
        {{"--schedule-file", (dir / "missing.env").string()}, 78, "missing.env"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = {"schedule", "list"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const CliResult result = run_cli_in_process(args);
        INFO(args.back());
        if (c.code == 2) {
            check_usage_error(result, c.message);
        } else {
            CHECK(result.exit_code == c.code);
            CHECK(result.err.find(c.message) != std::string::npos);
            CHECK(result.out.empty());
        }
    }
    check_usage_error(run_cli_in_process({"--env-file", "ops.env", "schedule", "crontab"}),
                      "--env-file: expected an absolute path");
    const auto unit_dir = dir / "units";
    check_usage_error(run_cli_in_process({"schedule", "systemd", "--unit-dir", unit_dir.string(),
                                          "--cron", "audit-archive=0 1 1 * 1"}),
                      "keep one of them '*'");
    CHECK(!std::filesystem::exists(unit_dir));
}

TEST_CASE("schedule laravel: control characters and bad versions are refused with exit 2") {
    check_usage_error(
        run_cli_in_process({"--env-file", "/etc/ops/a\nb.env", "schedule", "laravel"}),
        "control character");
    check_usage_error(run_cli_in_process({"--laravel-version", "7.30", "schedule", "laravel"}),
                      "--laravel-version: expected a Laravel version");
}
