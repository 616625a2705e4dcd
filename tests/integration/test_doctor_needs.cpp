// doctor checks what the commands really need: for each command, a role granted exactly the
// grants written here (by hand, not taken from the declaration doctor reads) passes doctor
// and runs the command cleanly; a role one grant short fails doctor, and the command itself
// fails or cannot leave its run record.
#include <catch2/catch.hpp>
#include <functional>

#include "harness.hpp"

using namespace ops_test;
using nlohmann::json;

namespace {

constexpr const char* kRole = "ops_test_minimal";

struct CommandCase {
    std::string command;              // as `doctor --for` names it
    std::vector<std::string> args;    // the run, after the global options
    std::vector<std::string> grants;  // exactly what it needs
    std::function<void(TestDatabase&, const std::filesystem::path&)> seed;
};

void seed_audit(TestDatabase& db) {
    db.exec("INSERT INTO tenants (name) VALUES ('acme')");
    db.exec(
        "INSERT INTO audit_events (tenant_id, channel, event, created_at) SELECT 1, 'web', 'e', "
        "timestamp '2026-01-01' - i * interval '1 minute' FROM generate_series(1, 30) AS i");
}

std::vector<CommandCase> cases() {
    return {
        {"audit archive",
         {"audit", "archive", "--days", "1", "--dir", "@DIR@/out"},
         {"GRANT SELECT ON audit_events TO @R@", "GRANT DELETE ON audit_events TO @R@",
          "GRANT INSERT ON audit_events TO @R@",
          "GRANT USAGE ON SEQUENCE audit_events_id_seq TO @R@"},
         [](TestDatabase& db, const std::filesystem::path&) { seed_audit(db); }},
        {"audit restore",
         {"audit", "restore", "@ARCHIVE@"},
         {"GRANT SELECT ON audit_events TO @R@", "GRANT INSERT ON audit_events TO @R@",
          "GRANT SELECT ON SEQUENCE audit_events_id_seq TO @R@",
          "GRANT UPDATE ON SEQUENCE audit_events_id_seq TO @R@", "GRANT SELECT ON tenants TO @R@"},
         [](TestDatabase& db, const std::filesystem::path& dir) {
             seed_audit(db);
             const auto archived = run_ops(
                 {"audit", "archive", "--days", "1", "--dir", (dir / "in").string()}, db.env());
             REQUIRE(archived.exit_code == 0);
         }},
        {"wa redrive-failed",
         {"wa", "redrive-failed"},
         {"GRANT SELECT ON wa_messages TO @R@", "GRANT UPDATE ON wa_messages TO @R@",
          "GRANT SELECT ON jobs TO @R@", "GRANT INSERT ON jobs TO @R@",
          "GRANT INSERT ON audit_events TO @R@", "GRANT SELECT ON audit_events TO @R@",
          "GRANT SELECT ON failed_jobs TO @R@", "GRANT USAGE ON SEQUENCE jobs_id_seq TO @R@",
          "GRANT USAGE ON SEQUENCE audit_events_id_seq TO @R@"},
         [](TestDatabase& db, const std::filesystem::path&) {
             db.exec("INSERT INTO tenants (name) VALUES ('a')");
             db.exec(
                 "INSERT INTO wa_messages (tenant_id, recipient, status, attempts, error_code, "
                 "failed_at, created_at) SELECT 1, '+62' || i, 'failed', 1, 'timeout', "
                 "timestamp '2026-01-15 10:00:00', '2026-01-15 09:00:00' "
                 "FROM generate_series(1, 5) AS i");
         }},
        {"quota reconcile",
         {"quota", "reconcile", "2025-03"},
         {"GRANT SELECT ON tenants TO @R@", "GRANT SELECT ON orders TO @R@",
          "GRANT SELECT ON quota_usages TO @R@", "GRANT INSERT ON quota_usages TO @R@",
          "GRANT UPDATE ON quota_usages TO @R@",
          "GRANT USAGE ON SEQUENCE quota_usages_id_seq TO @R@",
          "GRANT INSERT ON audit_events TO @R@",
          "GRANT USAGE ON SEQUENCE audit_events_id_seq TO @R@"},
         [](TestDatabase& db, const std::filesystem::path&) {
             // Tenant 1 has a drifted row (UPDATE), tenant 2 none yet (INSERT).
             db.exec(
                 "INSERT INTO tenants (name, created_at) VALUES ('a', '2024-01-01'), "
                 "('b', '2024-01-01')");
             db.exec(
                 "INSERT INTO orders (tenant_id, number, status, created_at, updated_at) "
                 "SELECT 1 + i % 2, 'N-' || i, 'paid', '2025-03-10', '2025-03-10' "
                 "FROM generate_series(1, 6) AS i");
             db.exec(
                 "INSERT INTO quota_usages (tenant_id, period, used, created_at, updated_at) "
                 "VALUES (1, '2025-03', 99, '2025-03-01', '2025-03-01')");
         }},
    };
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

// A fresh database and role holding `grants`; returns the role's connection URL.
std::string role_with(TestDatabase& db, const std::vector<std::string>& grants) {
    db.exec(std::string("DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '") + kRole +
            "') THEN DROP OWNED BY " + kRole + "; DROP ROLE " + kRole + "; END IF; END $$");
    db.exec(std::string("CREATE ROLE ") + kRole + " LOGIN");
    for (const auto& grant : grants) db.exec(replaced(grant, "@R@", kRole));
    return "postgresql://" + std::string(kRole) + "@127.0.0.1:" + required_env("OPS_TEST_PGPORT") +
           "/" + db.name();
}

void drop_role(TestDatabase& db) {
    db.exec(std::string("DROP OWNED BY ") + kRole);
    db.exec(std::string("DROP ROLE ") + kRole);
}

struct Verdict {
    RunResult doctor;
    RunResult run;
};

Verdict try_with(const CommandCase& c, const std::vector<std::string>& grants) {
    TestDatabase db;
    TempDir dir;
    c.seed(db, dir.path());
    const std::string url = role_with(db, grants);
    Verdict verdict;
    verdict.doctor = run_ops({"--database-url", url, "--output", "json", "doctor", "--dir",
                              (dir.path() / "out").string(), "--for", c.command});
    std::vector<std::string> args = {"--database-url", url, "--output", "json"};
    for (auto a : c.args) {
        if (a == "@ARCHIVE@") {  // the data file the seed archived
            const auto files = files_in(dir.path() / "in", ".jsonl");
            REQUIRE(files.size() == 1);
            a = files.front().string();
        }
        args.push_back(replaced(a, "@DIR@", dir.path().string()));
    }
    verdict.run = run_ops(args);
    drop_role(db);
    return verdict;
}

}  // namespace

TEST_CASE("doctor: a role with exactly what a command needs passes, and the command runs") {
    for (const auto& c : cases()) {
        INFO(c.command);
        const Verdict v = try_with(c, c.grants);
        INFO(v.doctor.out);
        INFO(v.run.err);
        CHECK(v.doctor.exit_code == 0);
        CHECK(v.doctor.json()["commands"][c.command] == "ready");
        CHECK(v.run.exit_code == 0);
        CHECK(v.run.err.find("could not write the run record") == std::string::npos);
        CHECK(v.run.json()["status"] == "completed");
    }
}

TEST_CASE("doctor: a role one grant short fails doctor, and the command cannot run cleanly") {
    for (const auto& c : cases()) {
        for (std::size_t left_out = 0; left_out < c.grants.size(); ++left_out) {
            std::vector<std::string> grants = c.grants;
            grants.erase(grants.begin() + static_cast<std::ptrdiff_t>(left_out));
            INFO(c.command << " without: " << c.grants[left_out]);
            const Verdict v = try_with(c, grants);
            INFO(v.doctor.out);
            INFO(v.run.err);
            CHECK(v.doctor.exit_code == 1);
            CHECK(v.doctor.json()["commands"][c.command].get<std::string>().rfind("not ready", 0) ==
                  0);
            // The grant was needed: the run fails, or commits without its run record.
            CHECK((v.run.exit_code != 0 ||
                   v.run.err.find("could not write the run record") != std::string::npos));
        }
    }
}

TEST_CASE("doctor: a role that cannot read the queue still gets every check, not an abort") {
    const CommandCase archive = cases().front();
    TestDatabase db;
    TempDir dir;
    archive.seed(db, dir.path());
    const std::string url = role_with(db, archive.grants);
    const auto doctor = run_ops({"--database-url", url, "--output", "json", "doctor", "--dir",
                                 (dir.path() / "out").string()});
    drop_role(db);
    INFO(doctor.out);
    INFO(doctor.err);
    CHECK(doctor.exit_code == 1);
    CHECK(doctor.err.find("permission denied") == std::string::npos);
    const auto report = doctor.json();
    CHECK(report["commands"]["audit archive"] == "ready");
    CHECK(report["commands"]["wa redrive-failed"].get<std::string>().rfind("not ready", 0) == 0);
    // The checks after the queue's still ran: the replication rows come last.
    CHECK(doctor.out.find("the role cannot read it (SELECT)") != std::string::npos);
    CHECK(doctor.out.find("pg_monitor") != std::string::npos);
}
