// Tried as a hostile user would, in process: values at and past the limits of what a range
// names, bytes that are not UTF-8, and control characters headed for generated files (moved
// here from tests/integration/test_hardening.cpp).
#include <catch2/catch.hpp>
#include <filesystem>

#include "cli_fixture.hpp"
#include "scratch_dir.hpp"

using namespace ops_test;
namespace fs = std::filesystem;

TEST_CASE("hardening: bad values exit 2 with one line naming the option, and create nothing") {
    ScratchDir dir;
    const std::string archive_dir = (dir / "archive").string();
    struct Case {
        std::vector<std::string> args;
        std::string names;
    };
    const std::vector<Case> cases = {
        {{"audit", "archive", "--dir", archive_dir, "--before", "0000-01-01"}, "--before"},
        {{"wa", "redrive-failed", "--failed-after", "0000-01-01"}, "--failed-after"},
        {{"wa", "redrive-failed", "--failed-after", "999999999d"}, "--failed-after"},
        {{"wa", "redrive-failed", "--failed-before", "800000d"}, "--failed-before"},
        {{"--timezone", "leapseconds", "audit", "archive", "--dir", archive_dir}, "--timezone"},
        {{"--timezone", "right/UTC", "audit", "archive", "--dir", archive_dir}, "--timezone"},
        {{"--timezone", "zone.tab", "quota", "reconcile"}, "--timezone"},
        {{"audit", "archive", "--dir", archive_dir, "--channel", "\xff"}, "--channel"},
        {{"wa", "redrive-failed", "--reason", "\xff", "--include-permanent"}, "--reason"},
        {{"wa", "redrive-failed", "--tenant", "9223372036854775808"}, "--tenant"},
        {{"wa", "redrive-failed", "--limit", "4611686018427387904"}, "--limit"},
        {{"audit", "archive", "--dir", archive_dir, "--max-runtime", "0"}, "--max-runtime"},
        {{"--statement-timeout", "999999999d", "audit", "archive", "--dir", archive_dir},
         "--statement-timeout"},
        {{"--lock-timeout", "30d", "wa", "redrive-failed"}, "--lock-timeout"},
    };
    for (const auto& c : cases) {
        std::string shown;
        for (const auto& a : c.args) shown += a + " ";
        INFO(shown);
        check_usage_error(run_cli_in_process(c.args, kNoDatabase), "ops: error: " + c.names);
        CHECK(!fs::exists(archive_dir));
    }
}

TEST_CASE("hardening: generated files: control characters refused, never-firing cron refused") {
    ScratchDir dir;
    const std::string unit_dir = (dir / "units").string();
    struct Case {
        std::vector<std::string> args;
        std::string names;
    };
    const std::vector<Case> cases = {
        {{"--env-file", "/etc/ops/ops.env\nMAILTO=x", "schedule", "crontab"}, "--env-file"},
        {{"schedule", "crontab", "--log-dir", "/var/log/ops\n* * * * * root sh"}, "--log-dir"},
        {{"schedule", "crontab", "--bin", "/usr/bin/ops\r"}, "--bin"},
        {{"--metrics-dir", "/var/lib/ops\n", "schedule", "crontab"}, "--metrics-dir"},
        {{"schedule", "systemd", "--unit-dir", unit_dir, "--bin",
          "/usr/bin/ops\nExecStartPre=/bin/sh"},
         "--bin"},
        {{"schedule", "crontab", "--options", "audit-archive=--channel a\x01b"}, "audit-archive"},
        {{"schedule", "crontab", "--archive-dir", "/var/lib/x\ty"}, "--archive-dir"},
        {{"schedule", "crontab", "--cron", "audit-archive=0 0 31 2 *"}, "never fires"},
        {{"schedule", "crontab", "--cron", "audit-archive=0 0 30,31 2 *"}, "never fires"},
    };
    for (const auto& c : cases) {
        INFO(c.args.back());
        check_usage_error(run_cli_in_process(c.args), c.names);
    }
    CHECK(!fs::exists(unit_dir));
    // Days that exist in some month named, or a weekday, do fire.
    CHECK(run_cli_in_process({"schedule", "crontab", "--cron", "audit-archive=0 0 29 2 *"})
              .exit_code == 0);
    CHECK(run_cli_in_process({"schedule", "crontab", "--cron", "audit-archive=0 0 31 2 1"})
              .exit_code == 0);
    // Other paths survive the quoting.
    const auto odd =
        run_cli_in_process({"--env-file", "/etc/ops/it's $HOME %.env", "schedule", "crontab"});
    CHECK(odd.exit_code == 0);
    CHECK(odd.out.find("'/etc/ops/it'\\''s $HOME \\%.env'") != std::string::npos);
}
