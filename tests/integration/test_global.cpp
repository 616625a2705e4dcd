// Behaviour every command gets from the dispatcher: help, exit codes, configuration,
// connection errors without secrets, the per-command lock, output formats.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "database_waits.hpp"
#include "harness.hpp"
#include "text_files.hpp"

using namespace ops_test;

TEST_CASE("version names the version, commit and build type") {
    const auto result = run_ops({"--version"});
    CHECK(result.exit_code == 0);
    CHECK(result.out.rfind("ops 0.", 0) == 0);
    CHECK(result.out.find("commit") != std::string::npos);
    CHECK(result.out.find("build") != std::string::npos);
}

// The usage-error tables run in process (tests/cli); these rows check the real binary: its
// exit code, its one error line and an untouched database.
TEST_CASE(
    "usage errors: the real binary exits 2 with one line naming the option, changes nothing") {
    TestDatabase db;
    db.exec(
        "INSERT INTO audit_events (channel, event, created_at) SELECT 'web', 'old', "
        "timestamp '2020-01-01' FROM generate_series(1, 5)");
    TempDir dir;
    const std::string out = (dir.path() / "out").string();
    for (const auto& [args, names] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--output", "yaml", "doctor"}, "--output"},
             {{"audit", "archive", "--dir", out, "--days", "0"}, "--days"}}) {
        INFO(names);
        const auto result = run_ops(args, db.env());
        CHECK(result.exit_code == 2);
        CHECK(result.out.empty());
        const auto lines = lines_of(result.err);
        CHECK(std::count_if(lines.begin(), lines.end(), [&](const std::string& line) {
                  return line.rfind("ops: error: " + names, 0) == 0;
              }) == 1);
    }
    CHECK(db.count("SELECT count(*) FROM audit_events") == 5);
    CHECK(!std::filesystem::exists(out));
}

TEST_CASE("a missing env file is a configuration error (78)") {
    const auto result = run_ops({"--env-file", "/nonexistent/.env", "doctor"});
    CHECK(result.exit_code == 78);
    CHECK(result.err.find("--env-file") != std::string::npos);
}

TEST_CASE("an env file without DB settings is a configuration error (78)") {
    TempDir dir;
    std::ofstream(dir.path() / ".env") << "APP_NAME=shop\n";
    const auto result = run_ops({"--env-file", (dir.path() / ".env").string(), "doctor"});
    CHECK(result.exit_code == 78);
}

TEST_CASE("the Laravel env file supplies the connection and the timezone") {
    TestDatabase db;
    TempDir dir;
    std::ofstream(dir.path() / ".env")
        << "# comment\nexport DB_HOST=127.0.0.1\nDB_PORT=\"" << required_env("OPS_TEST_PGPORT")
        << "\"\nDB_DATABASE='" << db.name() << "'\nDB_USERNAME=postgres # inline comment\n"
        << "APP_TIMEZONE=Asia/Jakarta\n";
    const auto result = run_ops({"--env-file", (dir.path() / ".env").string(), "--output", "json",
                                 "audit", "archive", "--dry-run"});
    REQUIRE(result.exit_code == 0);
    CHECK(result.err.find("timezone Asia/Jakarta") != std::string::npos);
    // Jakarta is UTC+7 all year: the cutoff is 90 days before Jakarta's wall clock.
    const std::string expected = db.scalar(
        "SELECT to_char(now() AT TIME ZONE 'Asia/Jakarta' - interval '90 days', 'YYYY-MM-DD "
        "HH24')");
    CHECK(result.json()["cutoff"].get<std::string>().substr(0, 13) == expected);

    // Set once per shell in the runbook: OPS_ENV_FILE stands for --env-file.
    const auto from_variable = run_ops({"--output", "json", "audit", "archive", "--dry-run"},
                                       {{"OPS_ENV_FILE", (dir.path() / ".env").string()}});
    REQUIRE(from_variable.exit_code == 0);
    CHECK(from_variable.err.find("(from --env-file " + (dir.path() / ".env").string()) !=
          std::string::npos);
}

TEST_CASE("connection precedence: the flag wins over DATABASE_URL, which wins over the env file") {
    TestDatabase db;
    TempDir dir;
    std::ofstream(dir.path() / ".env") << "DB_HOST=127.0.0.1\nDB_PORT=1\nDB_DATABASE=nowhere\n";
    const std::string env_file = (dir.path() / ".env").string();
    auto result = run_ops({"--env-file", env_file, "doctor"}, db.env());
    CHECK(result.exit_code == 0);
    result = run_ops({"--env-file", env_file, "--database-url", db.url(), "doctor"},
                     {{"DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere"}});
    CHECK(result.exit_code == 0);
    result = run_ops({"--env-file", env_file, "doctor"});
    CHECK(result.exit_code == 69);
}

TEST_CASE("an unreachable database exits 69") {
    const auto result =
        run_ops({"doctor"}, {{"DATABASE_URL", "postgresql://postgres@127.0.0.1:1/app"}});
    CHECK(result.exit_code == 69);
    CHECK(result.err.find("cannot connect") != std::string::npos);
}

TEST_CASE("a wrong password exits 69 and no output shows any password") {
    TestDatabase db;
    const std::string port = required_env("OPS_TEST_PGPORT");
    const std::string url = "postgresql://ops_pw:wrong-secret@127.0.0.1:" + port + "/" + db.name();
    const auto result = run_ops({"--database-url", url, "doctor"});
    CHECK(result.exit_code == 69);
    CHECK(result.err.find("password authentication failed") != std::string::npos);
    CHECK(result.err.find("wrong-secret") == std::string::npos);
    CHECK(result.out.find("wrong-secret") == std::string::npos);
    // The password on the command line draws a warning that points elsewhere.
    CHECK(result.err.find("DATABASE_URL, --env-file or ~/.pgpass") != std::string::npos);

    const auto kv = run_ops(
        {"doctor"}, {{"DATABASE_URL", "host=127.0.0.1 port=" + port + " dbname=" + db.name() +
                                          " user=ops_pw password=also-wrong"}});
    CHECK(kv.exit_code == 69);
    CHECK(kv.err.find("also-wrong") == std::string::npos);
    CHECK(kv.err.find("password=***") != std::string::npos);

    const auto right = run_ops(
        {"doctor"}, {{"DATABASE_URL",
                      "postgresql://ops_pw:right-password@127.0.0.1:" + port + "/" + db.name()}});
    CHECK(right.exit_code == 0);
    CHECK(right.err.find("right-password") == std::string::npos);
}

TEST_CASE("doctor passes on the application schema and names what is missing") {
    TestDatabase db;
    TempDir dir;
    auto result = run_ops(
        {"--output", "json", "doctor", "--dir", (dir.path() / "archives").string()}, db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["problems"] == 0);
    CHECK(summary["server_version"].get<std::string>().rfind("15", 0) == 0);

    db.exec("ALTER TABLE wa_messages DROP COLUMN error_code");
    db.exec("ALTER TABLE jobs ALTER COLUMN available_at TYPE text");
    result = run_ops({"doctor", "--dir", (dir.path() / "archives").string()}, db.env());
    CHECK(result.exit_code == 1);
    CHECK(result.out.find("column wa_messages.error_code is missing (wa redrive-failed)") !=
          std::string::npos);
    CHECK(result.out.find("column jobs.available_at is text") != std::string::npos);
}

TEST_CASE("doctor reports an archive folder that is a file") {
    TestDatabase db;
    TempDir dir;
    std::ofstream(dir.path() / "file") << "x";
    const auto result = run_ops({"doctor", "--dir", (dir.path() / "file").string()}, db.env());
    CHECK(result.exit_code == 1);
    CHECK(result.out.find("not a folder") != std::string::npos);
}

TEST_CASE("the connection shows the command as application_name") {
    TestDatabase db;
    slow_down(db, {"audit_events", "DELETE", "3", true});
    db.exec(
        "INSERT INTO audit_events (channel, event, created_at) VALUES ('web', 'x', now() - "
        "interval '400 days')");
    TempDir dir;
    Process process(ops_argv({"audit", "archive", "--dir", dir.path().string()}), db.env());
    std::string seen;
    for (int i = 0; i < 50 && seen.empty(); ++i) {
        usleep(100000);
        seen = db.scalar(
            "SELECT coalesce(max(application_name), '') FROM pg_stat_activity "
            "WHERE application_name LIKE 'ops %' AND datname = current_database()");
    }
    CHECK(seen == "ops audit archive");
    CHECK(process.wait().exit_code == 0);
}

TEST_CASE("json output is exactly one object on stdout and json logs are one object per line") {
    TestDatabase db;
    const auto result = run_ops({"--output", "json", "--log-format", "json", "audit", "archive",
                                 "--dry-run", "--dir", "/nonexistent/archives"},
                                db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["command"] == "audit archive");
    CHECK(std::count(result.out.begin(), result.out.end(), '\n') == 1);
    std::istringstream lines(result.err);
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
        INFO(line);
        const auto parsed = nlohmann::json::parse(line);
        CHECK(parsed.contains("level"));
        CHECK(parsed.contains("message"));
        CHECK(parsed["dry_run"] == true);
        ++count;
    }
    CHECK(count >= 2);  // at least the begin and the end line
}

TEST_CASE("doctor names the privileges the connected role lacks") {
    TestDatabase db;
    db.exec(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ops_reader') THEN "
        "CREATE ROLE ops_reader LOGIN; END IF; END $$");
    db.exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO ops_reader");
    const std::string url =
        "postgresql://ops_reader@127.0.0.1:" + required_env("OPS_TEST_PGPORT") + "/" + db.name();
    TempDir dir;
    const auto result = run_ops({"--output", "json", "doctor", "--dir", dir.path().string()},
                                {{"DATABASE_URL", url}});
    CHECK(result.exit_code == 1);
    const auto summary = result.json();
    // Four tables it cannot write, and three sequences it cannot take ids from.
    CHECK(summary["problems"] == 7);
    CHECK(result.out.find("role ops_reader lacks DELETE on audit_events (audit archive)") !=
          std::string::npos);
    CHECK(
        result.out.find("role ops_reader lacks USAGE on public.jobs_id_seq (wa redrive-failed)") !=
        std::string::npos);
    CHECK(summary["commands"]["quota reconcile"].get<std::string>().rfind("not ready", 0) == 0);
}
