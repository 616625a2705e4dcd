// Tried as a hostile user would: bad values, planted links, forged log lines, machine-readable
// output on every exit (issue 13).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "database_waits.hpp"
#include "harness.hpp"
#include "text_files.hpp"

using namespace ops_test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

void seed(TestDatabase& db) {
    db.exec("INSERT INTO tenants (name) VALUES ('acme')");
    db.exec(
        "INSERT INTO audit_events (tenant_id, channel, event, created_at) SELECT 1, 'web', "
        "'order.created', timestamp '2026-01-01 00:00:00' - i * interval '1 minute' "
        "FROM generate_series(1, 50) AS i");
    db.exec(
        "INSERT INTO wa_messages (tenant_id, recipient, status, attempts, error_code, "
        "failed_at, created_at) SELECT 1, '+62' || i, 'failed', 1, 'timeout', "
        "timestamp '2026-01-15 10:00:00' - i * interval '1 minute', '2026-01-15 09:00:00' "
        "FROM generate_series(1, 20) AS i");
}

}  // namespace

TEST_CASE("hardening: the largest values a range names are accepted") {
    TestDatabase db;
    seed(db);
    const auto tenant = run_ops({"--output", "json", "wa", "redrive-failed", "--dry-run",
                                 "--tenant", "9223372036854775807"},
                                db.env());
    INFO(tenant.err);
    CHECK(tenant.exit_code == 0);
    CHECK(tenant.json()["selected"] == 0);
    const auto limit = run_ops(
        {"--output", "json", "wa", "redrive-failed", "--limit", "4611686018427387903"}, db.env());
    INFO(limit.err);
    CHECK(limit.exit_code == 0);
    CHECK(limit.json()["redriven"] == 20);
}

TEST_CASE("hardening: --max-runtime counts from the start of work and cuts --sleep short") {
    TestDatabase db;
    seed(db);
    TempDir dir;
    const auto started = std::chrono::steady_clock::now();
    const auto result = run_ops(
        {"--output", "json", "audit", "archive", "--days", "1", "--dir", dir.path().string(),
         "--batch-size", "10", "--parallel", "1", "--max-runtime", "1s", "--sleep", "8000"},
        db.env());
    const auto took = std::chrono::steady_clock::now() - started;
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.json()["archived"].get<int>() >= 10);
    CHECK(result.json()["archived"].get<int>() < 50);
    // One 8 s pause would be 8 s: the budget of 1 s ends the pause instead.
    CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("hardening: --output json prints exactly one JSON object on every exit") {
    TestDatabase db;
    seed(db);
    TempDir dir;
    const std::string port = required_env("OPS_TEST_PGPORT");
    struct Case {
        std::vector<std::string> args;
        int code;
    };
    const std::vector<Case> cases = {
        {{"doctor"}, 0},
        {{"--no-such-option", "doctor"}, 2},
        {{"audit", "archive", "--days", "x"}, 2},
        {{"--env-file", "/nonexistent/.env", "doctor"}, 78},
        {{"--database-url", "postgresql://nobody@127.0.0.1:" + port + "/" + db.name(), "doctor"},
         69},
        {{"quota", "reconcile"}, 75},
        {{"schedule", "crontab", "--log-dir", "relative"}, 2},
        {{"schedule", "crontab"}, 0},
    };
    pqxx::work hold(db.connection());
    hold.exec("SELECT pg_advisory_lock(" + std::to_string(kLockNamespace) + ", " +
              std::to_string(lock_key("quota reconcile")) + ")");
    for (const auto& c : cases) {
        for (const std::string log_format : {"text", "json"}) {
            std::vector<std::string> args = {"--output", "json", "--log-format", log_format};
            args.insert(args.end(), c.args.begin(), c.args.end());
            INFO(c.args.back() << " " << c.code << " " << log_format);
            const auto result = run_ops(args, db.env());
            INFO(result.out);
            INFO(result.err);
            CHECK(result.exit_code == c.code);
            const auto object = result.json();  // one object, nothing before or after
            CHECK(object["exit_code"] == c.code);
            CHECK(object["status"] == (c.code == 0 ? "completed" : "failed"));
            if (c.code != 0) {
                REQUIRE(object.contains("error"));
                CHECK(!object["error"].get<std::string>().empty());
                CHECK(object.contains("hint"));
            }
            if (log_format == "text") continue;
            const auto lines = lines_of(result.err);
            bool end_line = false;
            for (const auto& line : lines) {
                INFO(line);
                const json parsed = json::parse(line);  // throws (fails) on a plain-text line
                const std::string message = parsed["message"];
                if (message.find("aborted with exit code " + std::to_string(c.code)) !=
                        std::string::npos ||
                    message.find("completed successfully") != std::string::npos) {
                    end_line = true;
                }
            }
            const bool generator = c.args.front() == "schedule";
            const bool selected = c.args.front() != "--no-such-option";
            CHECK(end_line == (selected && !generator));
        }
    }
    hold.abort();
}

TEST_CASE("hardening: a newline in a value cannot forge a text log line or a summary line") {
    TestDatabase db;
    seed(db);
    TempDir dir;
    const std::string forged = "2026-12-01 06:00:00 info: ops audit archive completed successfully";
    const auto result = run_ops({"audit", "archive", "--dry-run", "--dir", dir.path().string(),
                                 "--channel", "web\n" + forged, "--channel", "\x1b[2Jweb"},
                                db.env());
    INFO(result.err);
    CHECK(result.exit_code == 0);
    static const std::regex kLogLine(R"(^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [a-z]+: .*)");
    for (const auto& line : lines_of(result.err)) {
        INFO(line);
        CHECK(line.rfind(forged, 0) != 0);
        CHECK(std::regex_match(line, kLogLine));
        CHECK(line.find('\x1b') == std::string::npos);
    }
    CHECK(result.err.find("web\\n" + forged) != std::string::npos);
    for (const auto& line : lines_of(result.out)) CHECK(line.rfind(forged, 0) != 0);
    CHECK(result.out.find('\x1b') == std::string::npos);
}

TEST_CASE(
    "hardening: metrics are written through no planted link, readable by node_exporter (0644)") {
    TestDatabase db;
    TempDir dir;
    const fs::path metrics = dir.path() / "metrics";
    fs::create_directories(metrics);
    const fs::path victim = dir.path() / "victim";
    std::ofstream(victim) << "precious\n";
    fs::permissions(victim, fs::perms::owner_read | fs::perms::owner_write);
    // The old temporary name, and the final name, both links to the victim.
    fs::create_symlink(victim, metrics / "ops_doctor.prom.tmp");
    fs::create_symlink(victim, metrics / "ops_quota_reconcile.prom");
    for (const std::string command : {"doctor", "quota reconcile"}) {
        std::vector<std::string> args = {"--metrics-dir", metrics.string()};
        std::istringstream words(command);
        for (std::string w; words >> w;) args.push_back(w);
        const auto result = run_ops(args, db.env());
        INFO(result.err);
        CHECK(result.err.find("cannot write metrics") == std::string::npos);
    }
    CHECK(read_file(victim) == "precious\n");
    for (const std::string name : {"ops_doctor.prom", "ops_quota_reconcile.prom"}) {
        INFO(name);
        const mode_t mode = mode_of(metrics / name);
        CHECK(S_ISREG(mode));
        CHECK((mode & 07777) == 0644);
        CHECK(read_file(metrics / name).find("ops_last_run_exit_code") != std::string::npos);
    }
    CHECK(fs::is_symlink(metrics / "ops_doctor.prom.tmp"));      // left alone, never followed
    for (const auto& entry : fs::directory_iterator(metrics)) {  // no temporary left behind
        CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
    }
}

TEST_CASE("hardening: archive data files and manifests are not readable by others (0640)") {
    TestDatabase db;
    seed(db);
    TempDir dir;
    const auto result =
        run_ops({"audit", "archive", "--days", "1", "--dir", dir.path().string()}, db.env());
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    int files = 0;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        INFO(entry.path());
        CHECK((mode_of(entry.path()) & 07777) == 0640);
        ++files;
    }
    CHECK(files == 2);  // the data file and its manifest
}

TEST_CASE("hardening: with --parallel the first write error is the one reported") {
    TestDatabase db;
    db.exec(
        "INSERT INTO audit_events (channel, event, metadata, created_at) SELECT 'web', 'e', "
        "json_build_object('pad', repeat('x', 400)), timestamp '2026-01-01' - i * interval '1s' "
        "FROM generate_series(1, 4000) AS i");
    TempDir dir;
    Process process({"/usr/bin/prlimit", "--fsize=100000", "--", required_env("OPS_BIN"),
                     "--output", "json", "audit", "archive", "--days", "1", "--dir",
                     dir.path().string(), "--batch-size", "50", "--parallel", "4"},
                    db.env());
    const auto result = process.wait();
    INFO(result.err);
    CHECK(result.exit_code == 1);
    const std::string error = result.json()["error"];
    CHECK(error.find("File too large") != std::string::npos);
    CHECK(result.err.find("File too large") != std::string::npos);
}

TEST_CASE("hardening: a permission error names its SQLSTATE") {
    TestDatabase db;
    db.exec("DROP ROLE IF EXISTS ops_test_weak");
    db.exec("CREATE ROLE ops_test_weak LOGIN");
    db.exec("GRANT SELECT ON wa_messages TO ops_test_weak");
    const std::string url =
        "postgresql://ops_test_weak@127.0.0.1:" + required_env("OPS_TEST_PGPORT") + "/" + db.name();
    const auto result = run_ops({"--database-url", url, "wa", "redrive-failed"});
    db.exec("DROP OWNED BY ops_test_weak");
    db.exec("DROP ROLE ops_test_weak");
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("(SQLSTATE 42501)") != std::string::npos);
}

TEST_CASE("hardening: the begin line redacts sslpassword as well as password") {
    TestDatabase db;
    const std::string url = "host=127.0.0.1 port=" + required_env("OPS_TEST_PGPORT") +
                            " dbname=" + db.name() + " user=postgres sslpassword=k3y-s3cret";
    const auto result = run_ops({"--database-url", url, "doctor"});
    INFO(result.err);
    CHECK(result.err.find("k3y-s3cret") == std::string::npos);
    CHECK(result.err.find("sslpassword=***") != std::string::npos);
    CHECK(result.err.find("process list") != std::string::npos);  // the warning
}

TEST_CASE("hardening: a password in a scheduled command line is warned about") {
    const auto result =
        run_ops({"schedule", "crontab", "--options",
                 "wa-redrive-failed=--database-url postgresql://u:pw@h/db --failed-after 24h"});
    INFO(result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.err.find("wa-redrive-failed") != std::string::npos);
    CHECK(result.err.find("password") != std::string::npos);
}

TEST_CASE("hardening: generators with --output json print one object framing the product") {
    const auto crontab = run_ops({"--output", "json", "schedule", "crontab"});
    REQUIRE(crontab.exit_code == 0);
    const auto object = crontab.json();
    CHECK(object["command"] == "schedule crontab");
    CHECK(object["exit_code"] == 0);
    CHECK(object["crontab"].get<std::string>().find("audit archive") != std::string::npos);
    TempDir dir;
    const auto units =
        run_ops({"--output", "json", "schedule", "systemd", "--unit-dir", dir.path().string()});
    REQUIRE(units.exit_code == 0);
    const auto files = units.json()["files"];
    CHECK(files.size() >= 2);
    for (const auto& file : files) CHECK((mode_of(file.get<std::string>()) & 07777) == 0644);
}
