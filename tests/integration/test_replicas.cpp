// Replicas and replication slots: a real streaming standby (pg_basebackup -R over loopback)
// and real logical slots on the test cluster. `audit archive` paces itself to them
// (--max-lag-bytes, --max-pause), its preflight refuses or warns before a row goes, commands
// that change data refuse on a standby, and doctor reports all of it.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "harness.hpp"

using namespace ops_test;
using nlohmann::json;

namespace {

std::string primary_url(const std::string& database, const std::string& user = "postgres") {
    return "postgresql://" + user + "@127.0.0.1:" + required_env("OPS_TEST_PGPORT") + "/" +
           database;
}

// The standby's port: CTest's environment, else the build's OPS_TEST_STANDBY_PORT.
std::string standby_port() {
    const char* value = std::getenv("OPS_TEST_STANDBY_PORT");
    return value != nullptr && *value != '\0' ? value : OPS_TEST_STANDBY_PORT;
}

// A string member of a summary, "" when absent or not a string (never an assertion).
std::string text(const json& object, const std::string& key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void run_script(const std::vector<std::string>& argv) {
    Process script(argv, {});
    const RunResult result = script.wait();
    INFO("script " << argv[1] << " stdout:\n" << result.out << "\nstderr:\n" << result.err);
    REQUIRE(result.exit_code == 0);
}

// A hot standby of the test cluster, on its own port, removed (stopped at once) afterwards.
class Standby {
  public:
    Standby()
        // One fixed folder: a standby left by a crashed test is removed by the next one.
        : dir_(std::filesystem::path(required_env("OPS_TEST_SCRATCH")) / "standby"),
          port_(standby_port()) {
        std::filesystem::create_directories(dir_.parent_path());
        destroy();
        run_script({script(), "standby", dir_.string(), port_, required_env("OPS_TEST_PGPORT")});
    }
    ~Standby() { destroy(); }
    Standby(const Standby&) = delete;
    Standby& operator=(const Standby&) = delete;

    std::string url(const std::string& database) const {
        return "postgresql://postgres@127.0.0.1:" + port_ + "/" + database;
    }
    void exec(const std::string& sql) const {
        pqxx::connection c(url("postgres"));
        pqxx::nontransaction tx(c);
        tx.exec(sql);
    }

  private:
    static std::string script() {
        return required_env("OPS_SOURCE_DIR") + "/scripts/pg-cluster.sh";
    }
    void destroy() const {
        Process stop({script(), "destroy", dir_.string(), port_}, {});
        stop.wait();
    }

    std::filesystem::path dir_;
    std::string port_;
};

std::string primary_scalar(const std::string& sql) {
    pqxx::connection c(primary_url("postgres"));
    pqxx::nontransaction tx(c);
    const auto field = tx.exec1(sql)[0];
    return field.is_null() ? "" : field.as<std::string>();
}

// Polls `sql` on the primary until it returns 't', for up to `limit`.
bool wait_until(const std::string& sql, std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (primary_scalar(sql) == "t") return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

bool standby_caught_up() {
    return wait_until(
        "SELECT count(*) = 1 FROM pg_stat_replication WHERE application_name = 'ops_standby' "
        "AND replay_lsn >= pg_current_wal_lsn()");
}

// A cluster-wide setting for one test, reset (and reloaded) when it ends, pass or fail.
class ClusterSetting {
  public:
    ClusterSetting(std::string name, const std::string& value) : name_(std::move(name)) {
        apply("ALTER SYSTEM SET " + name_ + " = '" + value + "'");
        REQUIRE(wait_until("SELECT current_setting('" + name_ + "') = '" + value + "'",
                           std::chrono::seconds(5)));
    }
    ~ClusterSetting() {
        try {
            apply("ALTER SYSTEM RESET " + name_);
        } catch (const std::exception&) {
        }
    }

  private:
    void apply(const std::string& sql) const {
        pqxx::connection c(primary_url("postgres"));
        pqxx::nontransaction tx(c);
        tx.exec(sql);
        tx.exec("SELECT pg_reload_conf()");
    }
    std::string name_;
};

// What a test that crashed (no destructors) may have left on the cluster: its slots and
// cluster-wide settings. Every test here starts from a clean cluster.
void reset_replication_state() {
    pqxx::connection c(primary_url("postgres"));
    pqxx::nontransaction tx(c);
    tx.exec(
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
        "WHERE slot_name LIKE 'ops\\_test\\_%' AND NOT active");
    tx.exec("ALTER SYSTEM RESET max_slot_wal_keep_size");
    tx.exec("ALTER SYSTEM RESET synchronous_standby_names");
    tx.exec("SELECT pg_reload_conf()");
}

// A logical replication slot on the test database, dropped when the test ends (a slot
// would keep the database from being dropped and retain WAL for every later test).
class LogicalSlot {
  public:
    LogicalSlot(TestDatabase& db, std::string name) : db_(db), name_(std::move(name)) {
        db_.exec("SELECT pg_create_logical_replication_slot('" + name_ + "', 'pgoutput')");
    }
    ~LogicalSlot() {
        try {
            drop();
        } catch (const std::exception&) {
        }
    }
    void drop() {
        if (dropped_) return;
        db_.exec("SELECT pg_drop_replication_slot('" + name_ + "')");
        dropped_ = true;
    }
    std::string wal_status() {
        return db_.scalar("SELECT wal_status FROM pg_replication_slots WHERE slot_name = '" +
                          name_ + "'");
    }

  private:
    TestDatabase& db_;
    std::string name_;
    bool dropped_ = false;
};

// `rows` archivable events (all of 2025) with a `width`-byte user agent.
void seed_old_events(TestDatabase& db, int rows, int width = 100) {
    db.exec(
        "INSERT INTO audit_events (channel, event, user_agent, created_at, updated_at) "
        "SELECT (ARRAY['web','api'])[1 + i % 2], 'order.created', repeat('x', " +
        std::to_string(width) +
        "), timestamp '2025-12-31 00:00:00' - i * interval '1 minute', "
        "timestamp '2025-12-31 00:00:00' FROM generate_series(1, " +
        std::to_string(rows) + ") AS i");
}

std::int64_t old_rows(TestDatabase& db) {
    return db.count("SELECT count(*) FROM audit_events WHERE channel <> 'ops'");
}

// Waits until a running ops logs that it pauses for replica lag.
void wait_for_pause(const Process& process) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (process.stderr_so_far().find("pausing up to") == std::string::npos) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// Whole lines in the folder's data files (not manifests).
std::int64_t archived_lines(const std::filesystem::path& dir) {
    std::int64_t lines = 0;
    for (const auto& file : files_in(dir, ".jsonl")) {
        const std::string text = read_file(file);
        lines += std::count(text.begin(), text.end(), '\n');
    }
    return lines;
}

json find_check(const json& doctor, const std::string& prefix) {
    for (const auto& check : doctor["checks"]) {
        if (check["check"].get<std::string>().rfind(prefix, 0) == 0) return check;
    }
    return nullptr;
}

bool has_finding(const json& summary, const std::string& subject, const std::string& level) {
    if (!summary.contains("replication_preflight")) return false;
    for (const auto& f : summary["replication_preflight"]) {
        if (f["subject"] == subject && f["level"] == level) return true;
    }
    return false;
}

}  // namespace

TEST_CASE("replicas: a paused standby makes archive pause, then stop (75) with rows left") {
    reset_replication_state();
    TestDatabase db;
    TempDir dir;
    seed_old_events(db, 20000);
    Standby standby;
    REQUIRE(standby_caught_up());
    standby.exec("SELECT pg_wal_replay_pause()");
    TempDir metrics;
    const std::string prom = (metrics.path() / "ops_audit_archive.prom").string();
    const std::vector<std::string> args = {
        "--metrics-dir", metrics.path(), "--output",   "json",  "audit",
        "archive",       "--days",       "90",         "--dir", dir.path(),
        "--batch-size",  "2000",         "--parallel", "1",     "--max-lag-bytes",
        "512kB",         "--max-pause",  "2s"};

    const auto stopped = run_ops(args, db.env());
    CHECK(stopped.exit_code == 75);
    json s = stopped.json();
    CHECK(s["stopped_by"] == "replica-lag");
    CHECK(s["selected"] == 20000);
    const std::int64_t archived = s["archived"].get<std::int64_t>();
    CHECK(archived > 0);
    CHECK(archived < 20000);
    CHECK(old_rows(db) == 20000 - archived);  // what the summary says went, went; no more
    CHECK(s["replica_lag"]["pauses"] == 1);
    CHECK(s["replica_lag"]["paused_ms"].get<std::int64_t>() >= 2000);
    CHECK(text(s["replica_lag"], "last_over").find("standby 'ops_standby'") != std::string::npos);
    CHECK(stopped.err.find("replica lag: standby 'ops_standby' replays") != std::string::npos);
    CHECK(s["files"][0]["rows"] == archived);
    // Not a success: the stale-archive alert keeps counting from the last real one.
    CHECK(read_file(prom).find("ops_last_run_exit_code{command=\"audit archive\"} 75") !=
          std::string::npos);
    CHECK(read_file(prom).find("ops_last_success_timestamp_seconds") == std::string::npos);
    // Exit 75 for lag, not a held lock: the lock alert (OpsLockHeldRepeatedly) looks at this.
    CHECK(s["outcome"] == "replica_lag");
    CHECK(read_file(prom).find(
              "ops_last_run_outcome{command=\"audit archive\",outcome=\"replica_lag\"} 1") !=
          std::string::npos);

    // A pause is interruptible: SIGTERM ends it at once, like a batch boundary (exit 143,
    // manifest written), not after --max-pause.
    auto long_pause = args;
    long_pause.back() = "10m";
    Process waiting(ops_argv(long_pause), db.env());
    wait_for_pause(waiting);
    const auto signalled_at = std::chrono::steady_clock::now();
    waiting.send(SIGTERM);
    const RunResult interrupted = waiting.wait();
    CHECK(std::chrono::steady_clock::now() - signalled_at < std::chrono::seconds(5));
    CHECK(interrupted.exit_code == 143);
    json i = interrupted.json();
    CHECK(i["status"] == "interrupted");
    CHECK_FALSE(i.contains("stopped_by"));
    const std::int64_t before_resume = old_rows(db);
    CHECK(before_resume == 20000 - archived - i["archived"].get<std::int64_t>());
    CHECK(files_in(dir.path(), ".manifest.json").size() == 2);

    // kill -9 while paused: no batch is in flight during a pause, so every row is in the
    // table or on a whole line of a file, exactly once.
    Process killed(ops_argv(long_pause), db.env());
    wait_for_pause(killed);
    killed.send(SIGKILL);
    CHECK(killed.wait().signal == SIGKILL);
    CHECK(old_rows(db) + archived_lines(dir.path()) == 20000);
    CHECK(old_rows(db) == before_resume);

    standby.exec("SELECT pg_wal_replay_resume()");
    REQUIRE(standby_caught_up());
    const auto rerun = run_ops(args, db.env());
    CHECK(rerun.exit_code == 0);
    json r = rerun.json();
    CHECK(r["archived"] == before_resume);
    CHECK(read_file(prom).find("ops_last_success_timestamp_seconds{") != std::string::npos);
    CHECK_FALSE(r.contains("stopped_by"));
    CHECK(old_rows(db) == 0);
}

TEST_CASE("replicas: on a standby, data-changing commands refuse (78), dry runs and doctor work") {
    reset_replication_state();
    TestDatabase db;
    TempDir dir;
    seed_old_events(db, 10);
    Standby standby;
    const ops_test::Env on_standby = {{"DATABASE_URL", standby.url(db.name())}};

    const auto archive =
        run_ops({"audit", "archive", "--days", "90", "--dir", dir.path()}, on_standby);
    CHECK(archive.exit_code == 78);
    CHECK(archive.err.find("is a standby (pg_is_in_recovery() is true): 'ops audit archive' "
                           "changes data") != std::string::npos);
    CHECK(archive.out.empty());
    CHECK(old_rows(db) == 10);
    CHECK(files_in(dir.path(), "").empty());

    for (const auto& command : std::vector<std::vector<std::string>>{
             {"wa", "redrive-failed"}, {"quota", "reconcile", "current"}}) {
        const auto refused = run_ops(command, on_standby);
        CHECK(refused.exit_code == 78);
        CHECK(refused.err.find("is a standby") != std::string::npos);
    }

    const auto dry = run_ops(
        {"--output", "json", "audit", "archive", "--days", "90", "--dir", dir.path(), "--dry-run"},
        on_standby);
    CHECK(dry.exit_code == 0);
    CHECK(dry.json()["selected"] == 10);
    CHECK(dry.err.find("connected to a standby (pg_is_in_recovery())") != std::string::npos);

    const auto doctor = run_ops({"--output", "json", "doctor", "--dir", dir.path()}, on_standby);
    CHECK(doctor.exit_code == 1);
    json primary = find_check(doctor.json(), "primary");
    CHECK(primary["status"] == "problem");
    CHECK(primary["detail"].get<std::string>().find("this server is a standby") !=
          std::string::npos);

    // The same doctor on the primary sees the standby streaming.
    const auto on_primary = run_ops({"--output", "json", "doctor", "--dir", dir.path()}, db.env());
    json seen = on_primary.json();
    CHECK(find_check(seen, "primary")["status"] == "ok");
    CHECK(find_check(seen, "standby 'ops_standby'")["detail"].get<std::string>().find(
              "streaming") != std::string::npos);
}

TEST_CASE("replicas: a slot whose safe_wal_size is below the run's WAL is refused (78)") {
    reset_replication_state();
    TestDatabase db;
    TempDir dir;
    seed_old_events(db, 40000, 900);  // ~40 MB of WAL expected at ~1 kB a row
    LogicalSlot slot(db, "ops_test_capped");
    // One 16 MB segment kept: safe_wal_size is 16-32 MB (to the end of the segment after next).
    ClusterSetting cap("max_slot_wal_keep_size", "16MB");
    const std::vector<std::string> base = {"--output", "json", "audit", "archive",
                                           "--days",   "90",   "--dir", dir.path()};

    const auto refused = run_ops(base, db.env());
    CHECK(refused.exit_code == 78);
    CHECK(refused.err.find("replication preflight refused the run: slot 'ops_test_capped' "
                           "safe_wal_size") != std::string::npos);
    CHECK(refused.err.find("--allow-slot-loss") != std::string::npos);
    CHECK(old_rows(db) == 40000);

    auto dry_args = base;
    dry_args.push_back("--dry-run");
    const auto dry = run_ops(dry_args, db.env());
    CHECK(dry.exit_code == 0);
    CHECK(has_finding(dry.json(), "slot 'ops_test_capped'", "refused"));
    CHECK(dry.json()["expected_wal_bytes"].get<std::int64_t>() > 20 * 1024 * 1024);

    const auto doctor = run_ops({"--output", "json", "doctor", "--dir", dir.path()}, db.env());
    CHECK(find_check(doctor.json(), "preflight: slot 'ops_test_capped'")["status"] == "problem");

    // A gate below safe_wal_size lets the run start; the slot, never read, keeps it paused
    // until --max-pause, and the slot survives.
    auto gated = base;
    for (const char* a : {"--max-lag-bytes", "1MB", "--max-pause", "1s", "--batch-size", "500",
                          "--parallel", "1"}) {
        gated.push_back(a);
    }
    const auto paused = run_ops(gated, db.env());
    CHECK(paused.exit_code == 75);
    json p = paused.json();
    CHECK(p["stopped_by"] == "replica-lag");
    CHECK(text(p["replica_lag"], "last_over").find("slot 'ops_test_capped' retains") !=
          std::string::npos);
    CHECK(old_rows(db) == 40000 - p["archived"].get<std::int64_t>());
    CHECK(old_rows(db) > 0);
    CHECK(slot.wal_status() != "lost");

    // So does a run small enough to fit.
    auto small = base;
    for (const char* a : {"--limit", "100"}) small.push_back(a);
    const auto fits = run_ops(small, db.env());
    CHECK(fits.exit_code == 0);
    CHECK(fits.json()["archived"] == 100);
}

TEST_CASE("replicas: an uncapped inactive slot and a publication of audit_events deletes warn") {
    reset_replication_state();
    TestDatabase db;
    TempDir dir;
    seed_old_events(db, 200);
    db.exec("CREATE PUBLICATION ops_pub_all FOR TABLE audit_events");
    db.exec(
        "CREATE PUBLICATION ops_pub_keep FOR TABLE audit_events WITH (publish = 'insert, update')");
    LogicalSlot slot(db, "ops_test_idle");

    const auto run = run_ops(
        {"--output", "json", "audit", "archive", "--days", "90", "--dir", dir.path()}, db.env());
    CHECK(run.exit_code == 0);
    json s = run.json();
    CHECK(s["archived"] == 200);
    CHECK(has_finding(s, "slot 'ops_test_idle'", "warning"));
    CHECK(has_finding(s, "publication 'ops_pub_all'", "warning"));
    CHECK_FALSE(has_finding(s, "publication 'ops_pub_keep'", "warning"));
    CHECK(run.err.find("slot 'ops_test_idle' is inactive and uncapped") != std::string::npos);
    CHECK(run.err.find("publication 'ops_pub_all' replicates deletes of audit_events") !=
          std::string::npos);

    const auto doctor = run_ops({"--output", "json", "doctor", "--dir", dir.path()}, db.env());
    json d = doctor.json();
    CHECK(find_check(d, "preflight: slot 'ops_test_idle'")["status"] == "warning");
    CHECK(find_check(d, "preflight: publication 'ops_pub_all'")["status"] == "warning");
    CHECK(find_check(d, "preflight: publication 'ops_pub_keep'") == nullptr);
}

TEST_CASE("replicas: a synchronous standby that is not connected is refused (78)") {
    reset_replication_state();
    TestDatabase db;
    TempDir dir;
    seed_old_events(db, 50);
    ClusterSetting names("synchronous_standby_names", "ops_missing_standby");
    // The test cluster runs with synchronous_commit = off; ops's session gets the default.
    ops_test::Env env = db.env();
    env["PGOPTIONS"] = "-c synchronous_commit=on";

    const auto refused = run_ops({"audit", "archive", "--days", "90", "--dir", dir.path()}, env);
    CHECK(refused.exit_code == 78);
    CHECK(refused.err.find("synchronous standbys synchronous_standby_names = "
                           "'ops_missing_standby' wants 1 connected, 0 are") != std::string::npos);
    CHECK(old_rows(db) == 50);

    const auto doctor = run_ops({"--output", "json", "doctor", "--dir", dir.path()}, env);
    CHECK(find_check(doctor.json(), "preflight: synchronous standbys")["status"] == "problem");

    // With commits that do not wait (synchronous_commit = local), nothing hangs: it runs.
    env["PGOPTIONS"] = "-c synchronous_commit=local";
    const auto local = run_ops({"audit", "archive", "--days", "90", "--dir", dir.path()}, env);
    CHECK(local.exit_code == 0);
    CHECK(old_rows(db) == 0);
}

TEST_CASE("replicas: without pg_monitor, --max-lag-bytes is refused (78) and doctor says so") {
    reset_replication_state();
    TestDatabase db;
    TempDir dir;
    seed_old_events(db, 50);
    db.exec(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ops_nomonitor') THEN "
        "CREATE ROLE ops_nomonitor LOGIN; END IF; END $$");
    db.exec("GRANT SELECT, INSERT, DELETE ON audit_events TO ops_nomonitor");
    // doctor reads the queue tables too (its queue report stops at one it cannot read).
    db.exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO ops_nomonitor");
    db.exec("GRANT USAGE ON SEQUENCE audit_events_id_seq TO ops_nomonitor");
    const ops_test::Env as_role = {{"DATABASE_URL", primary_url(db.name(), "ops_nomonitor")}};
    const std::vector<std::string> args = {"audit", "archive",  "--days",          "90",
                                           "--dir", dir.path(), "--max-lag-bytes", "64MB"};

    const auto refused = run_ops(args, as_role);
    CHECK(refused.exit_code == 78);
    CHECK(refused.err.find("--max-lag/--max-lag-bytes need the role pg_monitor") !=
          std::string::npos);
    CHECK(old_rows(db) == 50);

    const auto doctor = run_ops({"--output", "json", "doctor", "--dir", dir.path()}, as_role);
    json monitoring = find_check(doctor.json(), "replication monitoring");
    CHECK(monitoring["status"] == "warning");
    CHECK(monitoring["detail"].get<std::string>().find("not in pg_monitor") != std::string::npos);

    db.exec("GRANT pg_monitor TO ops_nomonitor");
    const auto granted = run_ops(args, as_role);
    db.exec("REVOKE pg_monitor FROM ops_nomonitor");
    CHECK(granted.exit_code == 0);
    CHECK(old_rows(db) == 0);
}

TEST_CASE(
    "replicas: wa redrive-failed pauses for an unread slot, then stops (75) with messages left") {
    reset_replication_state();
    TestDatabase db;
    db.exec("INSERT INTO tenants (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    db.exec(
        "INSERT INTO wa_messages (tenant_id, recipient, status, attempts, error_code, failed_at, "
        "created_at) SELECT 1 + i % 3, '+62' || i, 'failed', 1, 'timeout', "
        "timestamp '2026-11-30 10:00:00' - i * interval '1 second', '2026-11-30 09:00:00' "
        "FROM generate_series(1, 3000) AS i");
    LogicalSlot slot(db, "ops_test_redrive");
    const std::vector<std::string> args = {"--output",
                                           "json",
                                           "wa",
                                           "redrive-failed",
                                           "--failed-after",
                                           "2026-11-01",
                                           "--batch-size",
                                           "200",
                                           "--parallel",
                                           "1",
                                           "--max-lag-bytes",
                                           "256kB",
                                           "--max-pause",
                                           "1s"};

    const auto stopped = run_ops(args, db.env());
    CHECK(stopped.exit_code == 75);
    json s = stopped.json();
    CHECK(s["stopped_by"] == "replica-lag");
    const std::int64_t redriven = s["redriven"].get<std::int64_t>();
    CHECK(redriven > 0);
    CHECK(redriven < 3000);
    CHECK(db.count("SELECT count(*) FROM wa_messages WHERE status = 'queued'") == redriven);
    CHECK(db.count("SELECT count(*) FROM jobs") == redriven);
    CHECK(text(s["replica_lag"], "last_over").find("slot 'ops_test_redrive' retains") !=
          std::string::npos);

    slot.drop();  // nothing retains WAL any more: the rerun goes through
    const auto rerun = run_ops(args, db.env());
    CHECK(rerun.exit_code == 0);
    CHECK(rerun.json()["redriven"] == 3000 - redriven);
    CHECK(db.count("SELECT count(*) FROM jobs") == 3000);
}
