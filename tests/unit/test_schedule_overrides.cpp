// The baseline schedule and its overrides: a schedule file (ops's own .env syntax), then flags,
// win over the baseline; a bad flag is a UsageError, a bad file a ConfigError, both naming
// the option or key.
#include <catch2/catch.hpp>
#include <fstream>

#include "ops/core/errors.hpp"
#include "ops/schedule/schedule.hpp"
#include "scratch_dir.hpp"

using namespace ops;
using ops_test::ScratchDir;

namespace {

const ScheduledJob& job(const std::vector<ScheduledJob>& jobs, const std::string& name) {
    for (const auto& j : jobs) {
        if (j.name == name) return j;
    }
    FAIL("no job " << name);
    throw std::logic_error("unreachable");
}

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

std::string write(const ScratchDir& dir, const std::string& name, const std::string& text) {
    const auto path = dir / name;
    std::ofstream(path) << text;
    return path.string();
}

ScheduleOverrides cron(const std::string& flag) {
    ScheduleOverrides overrides;
    overrides.cron = {flag};
    return overrides;
}

ScheduleOverrides options(const std::string& flag) {
    ScheduleOverrides overrides;
    overrides.options = {flag};
    return overrides;
}

ScheduleOverrides disabled(const std::string& flag) {
    ScheduleOverrides overrides;
    overrides.disabled = {flag};
    return overrides;
}

}  // namespace

TEST_CASE("schedule: the baseline, with the archive folder placed") {
    const auto jobs = resolve_schedule({});
    REQUIRE(jobs.size() == 4);
    CHECK(jobs[0].name == "audit-archive");
    CHECK(jobs[0].when.text() == "30 2 * * *");
    CHECK(joined(jobs[0].arguments()) ==
          "audit archive --days 90 --gzip --max-runtime 3h --dir /var/lib/ops/audit-archives");
    CHECK(jobs[1].name == "wa-redrive-failed");
    CHECK(jobs[1].when.text() == "*/15 * * * *");
    CHECK(joined(jobs[1].arguments()) == "wa redrive-failed --failed-after 24h --rate 20");
    CHECK(joined(jobs[2].arguments()) == "quota reconcile current");
    CHECK(jobs[3].when.text() == "45 3 1 * *");
    CHECK(joined(jobs[3].arguments()) == "quota reconcile previous");
    for (const auto& j : jobs) CHECK(j.enabled);
}

TEST_CASE("schedule: a schedule file, then flags, win over the baseline") {
    ScratchDir dir;
    ScheduleOverrides overrides;
    overrides.schedule_file = write(dir, "schedule.env",
                                    "# quieter nights\n"
                                    "AUDIT_ARCHIVE_CRON=\"0 1 * * 6\"\n"
                                    "WA_REDRIVE_FAILED_OPTIONS=\"--failed-after 6h --rate 50\"\n"
                                    "QUOTA_RECONCILE_PREVIOUS_ENABLED=false\n"
                                    "QUOTA_RECONCILE_CURRENT_CRON='0 4 * * *'\n");
    overrides.cron = {"quota-reconcile-current=5 4 * * *"};
    overrides.archive_dir = "/srv/archives";
    const auto jobs = resolve_schedule(overrides);
    CHECK(job(jobs, "audit-archive").when.text() == "0 1 * * 6");
    CHECK(joined(job(jobs, "audit-archive").options) ==
          "--days 90 --gzip --max-runtime 3h --dir /srv/archives");
    CHECK(joined(job(jobs, "wa-redrive-failed").options) == "--failed-after 6h --rate 50");
    CHECK(job(jobs, "quota-reconcile-current").when.text() == "5 4 * * *");  // the flag wins
    CHECK(!job(jobs, "quota-reconcile-previous").enabled);

    overrides.options = {"audit-archive=--days 30 --dir /mnt/elsewhere"};
    overrides.disabled = {"wa-redrive-failed"};
    const auto flagged = resolve_schedule(overrides);
    // Options replace the job's; a --dir of their own keeps the archive folder out.
    CHECK(joined(job(flagged, "audit-archive").options) == "--days 30 --dir /mnt/elsewhere");
    CHECK(!job(flagged, "wa-redrive-failed").enabled);
}

TEST_CASE("schedule: ENABLED takes true/yes/1 and false/no/0") {
    ScratchDir dir;
    for (const auto& [text, enabled] : std::vector<std::pair<std::string, bool>>{{"true", true},
                                                                                 {"yes", true},
                                                                                 {"1", true},
                                                                                 {"false", false},
                                                                                 {"no", false},
                                                                                 {"0", false}}) {
        INFO(text);
        ScheduleOverrides overrides;
        overrides.schedule_file = write(dir, "s.env", "AUDIT_ARCHIVE_ENABLED=" + text + "\n");
        CHECK(job(resolve_schedule(overrides), "audit-archive").enabled == enabled);
    }
}

TEST_CASE("schedule: bad flags are usage errors naming the flag and the accepted form") {
    const std::vector<std::pair<ScheduleOverrides, std::string>> cases = {
        {cron("audit-archive=0 1 * *"), "--cron audit-archive: expected five fields"},
        {cron("audit-archive=0 5-3 * * *"), "hour field '5-3' is a range that runs backwards"},
        {cron("nightly=0 1 * * *"),
         "--cron: unknown job 'nightly'; the jobs are audit-archive, "
         "wa-redrive-failed, quota-reconcile-current, "
         "quota-reconcile-previous"},
        {cron("0 1 * * *"), "--cron: expected NAME='MIN HOUR DOM MON DOW', got '0 1 * * *'"},
        {cron("=0 1 * * *"), "--cron: expected NAME="},
        {options("audit-archive=--before '2026-01-01 10:00'"),
         "--options audit-archive: expected options separated by spaces, without quotes"},
        {options("audit-archive=--dir a\\ b"), "without quotes or backslashes"},
        {options("--days 9"), "--options: expected NAME='OPTION ...'"},
        {disabled("archive"), "--disable: unknown job 'archive'"},
    };
    for (const auto& [overrides, message] : cases) {
        INFO(message);
        CHECK_THROWS_AS(resolve_schedule(overrides), UsageError);
        CHECK_THROWS_WITH(resolve_schedule(overrides), Catch::Contains(message));
    }
}

TEST_CASE("schedule: a bad schedule file is a configuration error naming the file and key") {
    ScratchDir dir;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"AUDIT_ARCHIVE_WHEN=\"0 1 * * *\"\n", "AUDIT_ARCHIVE_WHEN: unknown setting"},
        {"CRON=\"0 1 * * *\"\n", "CRON: unknown setting"},
        {"AUDIT_ARCHIVE_CRON=\"0 25 * * *\"\n", "hour field '25' is outside 0-23"},
        {"NIGHTLY_CRON=\"0 1 * * *\"\n", "unknown job 'nightly'"},
        {"AUDIT_ARCHIVE_ENABLED=maybe\n", "AUDIT_ARCHIVE_ENABLED: expected true or false"},
        {"AUDIT_ARCHIVE_OPTIONS=\"--dir 'a b'\"\n", "without quotes"},
    };
    for (const auto& [text, message] : cases) {
        INFO(text);
        ScheduleOverrides overrides;
        overrides.schedule_file = write(dir, "bad.env", text);
        CHECK_THROWS_AS(resolve_schedule(overrides), ConfigError);
        CHECK_THROWS_WITH(resolve_schedule(overrides),
                          Catch::Contains(overrides.schedule_file) && Catch::Contains(message));
    }
    ScheduleOverrides missing;
    missing.schedule_file = (dir / "missing.env").string();
    CHECK_THROWS_AS(resolve_schedule(missing), ConfigError);
    CHECK_THROWS_WITH(resolve_schedule(missing), Catch::Contains("missing.env"));
}
