// ops schedule: the baseline as a table, a crontab whose every line runs, systemd units whose
// timers fire when cron would, and the overrides.
#include <catch2/catch.hpp>
#include <ctime>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "harness.hpp"
#include "text_files.hpp"

using namespace ops_test;

namespace {

// An independent reading of one cron field: does `value` match it?
bool field_matches(const std::string& field, int value, int max) {
    std::istringstream items(field);
    for (std::string item; std::getline(items, item, ',');) {
        int step = 1;
        if (const auto slash = item.find('/'); slash != std::string::npos) {
            step = std::stoi(item.substr(slash + 1));
            item = item.substr(0, slash);
        }
        int first = 0, last = max;
        if (item != "*") {
            const auto dash = item.find('-');
            first = std::stoi(item.substr(0, dash));
            last = dash == std::string::npos ? first : std::stoi(item.substr(dash + 1));
        } else {
            first = max == 31 || max == 12 ? 1 : 0;
        }
        for (int v = first; v <= last; v += step) {
            if (v == value || (max == 7 && v == 7 && value == 0)) return true;
        }
    }
    return false;
}

// The first `count` times (UTC, "YYYY-MM-DD HH:MM:SS") at or after `from` that cron runs `expr`.
std::vector<std::string> cron_times(const std::string& expr, std::time_t from, int count) {
    std::istringstream in(expr);
    std::vector<std::string> f(5);
    for (auto& field : f) in >> field;
    const bool dom_any = f[2] == "*", dow_any = f[4] == "*";
    std::vector<std::string> times;
    for (std::time_t t = from; times.size() < static_cast<std::size_t>(count); t += 60) {
        std::tm tm{};
        gmtime_r(&t, &tm);
        const bool dom = field_matches(f[2], tm.tm_mday, 31);
        const bool dow = field_matches(f[4], tm.tm_wday, 7);
        const bool day = dom_any || dow_any ? dom && dow : dom || dow;
        if (field_matches(f[0], tm.tm_min, 59) && field_matches(f[1], tm.tm_hour, 23) &&
            field_matches(f[3], tm.tm_mon + 1, 12) && day) {
            char text[32];
            std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
            times.emplace_back(text);
        }
    }
    return times;
}

// What systemd computes for an OnCalendar= value, from the same start.
std::vector<std::string> systemd_times(const std::string& calendar, int count) {
    Process analyze(
        {"/usr/bin/systemd-analyze", "calendar", "--iterations=" + std::to_string(count),
         "--base-time=2025-12-31 23:59:30 UTC", calendar},
        {{"TZ", "UTC"}});
    const RunResult result = analyze.wait();
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    static const std::regex kTime(R"((?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+) UTC)");
    std::vector<std::string> times;
    for (const auto& line : lines_of(result.out)) {
        std::smatch m;
        if (std::regex_search(line, m, kTime)) times.push_back(m[1]);
    }
    return times;
}

std::string unit_value(const std::string& unit_text, const std::string& key) {
    for (const auto& line : lines_of(unit_text)) {
        if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    }
    FAIL("no " << key << "= in unit:\n" << unit_text);
    return "";
}

// cron's own reading of a command: '\%' is a literal '%', a bare '%' would end the command.
std::string cron_command(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '%') {
            out += '%';
            ++i;
        } else {
            REQUIRE(text[i] != '%');
            out += text[i];
        }
    }
    return out;
}

bool valid_cron_field(const std::string& field, int min, int max) {
    static const std::regex kItem(R"(^(\*|(\d+)(-(\d+))?)(/(\d+))?$)");
    std::istringstream items(field);
    int seen = 0;
    for (std::string item; std::getline(items, item, ','); ++seen) {
        std::smatch m;
        if (!std::regex_match(item, m, kItem)) return false;
        if (m[2].matched) {
            const int first = std::stoi(m[2]);
            const int last = m[4].matched ? std::stoi(m[4]) : first;
            if (first < min || last > max || first > last) return false;
        }
        if (m[6].matched && std::stoi(m[6]) < 1) return false;
    }
    return seen > 0;
}

}  // namespace

TEST_CASE("schedule list shows the baseline as a table and as JSON") {
    const RunResult text = run_ops({"schedule", "list"});
    INFO(text.err);
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.find("30 2 * * *    ops audit archive --days 90 --gzip") != std::string::npos);
    CHECK(text.out.find("*/15 * * * *  ops wa redrive-failed --failed-after 24h --rate 20") !=
          std::string::npos);
    CHECK(text.out.find("15 3 * * *    ops quota reconcile current") != std::string::npos);
    CHECK(text.out.find("45 3 1 * *    ops quota reconcile previous") != std::string::npos);
    CHECK(text.err.empty());

    const auto json = run_ops({"--output", "json", "schedule", "list"}).json();
    REQUIRE(json["schedule"].size() == 4);
    for (const auto& job : json["schedule"]) {
        for (const char* key : {"name", "cron", "command", "enabled", "purpose", "overlap"}) {
            CHECK(job.contains(key));
        }
        CHECK(job["overlap"].get<std::string>().find("exits 75") != std::string::npos);
    }
    CHECK(json["schedule"][1]["name"] == "wa-redrive-failed");
}

TEST_CASE("schedule overrides: a schedule file, then flags, win over the baseline") {
    TempDir dir;
    const auto file = dir.path() / "schedule.env";
    {
        std::ofstream out(file);
        out << "# quieter nights\n"
               "AUDIT_ARCHIVE_CRON=\"0 1 * * 6\"\n"
               "WA_REDRIVE_FAILED_OPTIONS=\"--failed-after 6h --rate 50\"\n"
               "QUOTA_RECONCILE_PREVIOUS_ENABLED=false\n"
               "QUOTA_RECONCILE_CURRENT_CRON='0 4 * * *'\n";
    }
    const auto json = run_ops({"--output", "json", "schedule", "list", "--schedule-file",
                               file.string(), "--cron", "quota-reconcile-current=5 4 * * *"})
                          .json();
    const auto& jobs = json["schedule"];
    REQUIRE(jobs.size() == 4);
    CHECK(jobs[0]["cron"] == "0 1 * * 6");
    CHECK(jobs[1]["command"] == "ops wa redrive-failed --failed-after 6h --rate 50");
    CHECK(jobs[2]["cron"] == "5 4 * * *");
    CHECK(jobs[3]["enabled"] == false);

    TempDir out;
    const RunResult crontab =
        run_ops({"schedule", "crontab", "--schedule-file", file.string(), "--disable",
                 "wa-redrive-failed", "--log-dir", out.path().string()});
    REQUIRE(crontab.exit_code == 0);
    CHECK(crontab.out.find("redrive-failed") == std::string::npos);
    CHECK(crontab.out.find("reconcile previous") == std::string::npos);
    CHECK(crontab.out.find("\n0 1 * * 6 ") != std::string::npos);
}

TEST_CASE("schedule crontab: every line is a valid cron entry and every command runs") {
    TestDatabase db;
    db.exec(
        "INSERT INTO tenants (id, name, created_at) VALUES (1, 'Toko Satu', '2025-01-01');"
        "INSERT INTO audit_events (channel, event, created_at) SELECT 'web', 'e', "
        "now() - interval '200 days' + i * interval '1 minute' FROM generate_series(1, 30) i;"
        "INSERT INTO wa_messages (tenant_id, recipient, status, attempts, error_code, failed_at, "
        "created_at) VALUES (1, '+62811', 'failed', 3, 'timeout', now() - interval '1 hour', "
        "now() - interval '2 hours');"
        "INSERT INTO orders (tenant_id, number, status, created_at, updated_at) "
        "VALUES (1, 'N-1', 'paid', now(), now())");
    TempDir dir;
    // A space and a '%' in a path prove the quoting for sh and the escaping for cron.
    const auto base = dir.path() / "ops 100%";
    const auto env_file = base / "ops.env", metrics = base / "metrics", logs = base / "logs",
               archive = base / "archive", home = base / "home";
    for (const auto& d : {metrics, logs, archive, home}) std::filesystem::create_directories(d);
    std::ofstream(env_file) << "DB_HOST=127.0.0.1\nDB_PORT=" << required_env("OPS_TEST_PGPORT")
                            << "\nDB_DATABASE=" << db.name() << "\nDB_USERNAME=postgres\n";

    const RunResult result =
        run_ops({"--env-file", env_file.string(), "--metrics-dir", metrics.string(), "schedule",
                 "crontab", "--bin", required_env("OPS_BIN"), "--log-dir", logs.string(),
                 "--archive-dir", archive.string()});
    INFO(result.out << result.err);
    REQUIRE(result.exit_code == 0);

    static const std::regex kVariable(R"(^[A-Z_]+=\S+$)");
    static const std::regex kEntry(R"(^(\S+) (\S+) (\S+) (\S+) (\S+) (.+)$)");
    std::vector<std::string> commands;
    for (const auto& line : lines_of(result.out)) {
        INFO(line);
        if (line.empty() || line[0] == '#' || std::regex_match(line, kVariable)) continue;
        std::smatch m;
        REQUIRE(std::regex_match(line, m, kEntry));
        CHECK(valid_cron_field(m[1], 0, 59));
        CHECK(valid_cron_field(m[2], 0, 23));
        CHECK(valid_cron_field(m[3], 1, 31));
        CHECK(valid_cron_field(m[4], 1, 12));
        CHECK(valid_cron_field(m[5], 0, 7));
        CHECK(m[6].str().rfind(required_env("OPS_BIN") + " --env-file '", 0) == 0);
        commands.push_back(cron_command(m[6]));
    }
    REQUIRE(commands.size() == 4);

    // As cron runs them: sh, a bare environment, the home folder as working folder.
    for (const auto& command : commands) {
        INFO(command);
        Process job({"/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=" + home.string(), "/bin/sh",
                     "-c", "cd \"$HOME\" && " + command},
                    {});
        const RunResult run = job.wait();
        CHECK(run.exit_code == 0);
    }
    for (const char* name : {"audit-archive", "wa-redrive-failed", "quota-reconcile-current",
                             "quota-reconcile-previous"}) {
        const std::string log = read_file(logs / ("ops-" + std::string(name) + ".log"));
        INFO(name << ":\n" << log);
        CHECK(log.find("completed successfully") != std::string::npos);
    }
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel = 'web'") == 0);
    CHECK(files_in(archive, ".jsonl.gz").size() == 1);
    CHECK(db.count("SELECT count(*) FROM jobs") == 1);
    CHECK(db.count("SELECT count(*) FROM quota_usages WHERE used = 1") == 1);
    for (const char* file :
         {"ops_audit_archive.prom", "ops_wa_redrive_failed.prom", "ops_quota_reconcile.prom"}) {
        CHECK(read_file(metrics / file).find("ops_last_run_exit_code{command=") !=
              std::string::npos);
    }
}

TEST_CASE("schedule systemd: one service and timer per job, firing when cron would") {
    TempDir dir;
    const std::vector<std::string> extra = {"--cron", "audit-archive=*/5 8-18 * * 1-5",
                                            "--cron", "quota-reconcile-current=10,40 */6 1-7/2 * *",
                                            "--cron", "quota-reconcile-previous=0 12 * 1-12/3 0,7"};
    std::vector<std::string> args = {"--env-file", "/etc/ops/ops.env",  "schedule", "systemd",
                                     "--unit-dir", dir.path().string(), "--bin",    "/usr/bin/ops"};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult result = run_ops(args);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);

    const std::map<std::string, std::string> cron = {
        {"audit-archive", "*/5 8-18 * * 1-5"},
        {"wa-redrive-failed", "*/15 * * * *"},
        {"quota-reconcile-current", "10,40 */6 1-7/2 * *"},
        {"quota-reconcile-previous", "0 12 * 1-12/3 0,7"},
    };
    std::tm start{};
    start.tm_year = 126;  // 2026-01-01 00:00 UTC
    start.tm_mday = 1;
    const std::time_t from = timegm(&start);
    for (const auto& [name, expr] : cron) {
        INFO(name);
        const std::string timer = read_file(dir.path() / ("ops-" + name + ".timer"));
        const std::string service = read_file(dir.path() / ("ops-" + name + ".service"));
        CHECK(unit_value(timer, "Persistent") == "true");
        CHECK(unit_value(service, "Type") == "oneshot");
        CHECK(unit_value(service, "User") == "ops");
        CHECK(unit_value(service, "ExecStart")
                  .rfind("/usr/bin/ops --env-file /etc/ops/ops.env ", 0) == 0);
        CHECK(systemd_times(unit_value(timer, "OnCalendar"), 12) == cron_times(expr, from, 12));
    }
    CHECK(files_in(dir.path(), "").size() == 8);
}

TEST_CASE("schedule: the units shipped in packaging/systemd are what ops generates") {
    TempDir dir;
    const RunResult result = run_ops({"--env-file", "/etc/ops/ops.env", "--metrics-dir",
                                      "/var/lib/ops/metrics", "schedule", "systemd", "--bin",
                                      "/usr/bin/ops", "--unit-dir", dir.path().string()});
    REQUIRE(result.exit_code == 0);
    const auto shipped =
        std::filesystem::path(required_env("OPS_SOURCE_DIR")) / "packaging/systemd";
    const auto generated = files_in(dir.path(), "");
    REQUIRE(generated.size() == 8);
    CHECK(files_in(shipped, "").size() == 8);
    for (const auto& file : generated) {
        INFO(file.filename() << ": regenerate packaging/systemd with the command in this test");
        CHECK(read_file(shipped / file.filename()) == read_file(file));
    }
}
