// `ops` through the real PgBouncer (Debian's 1.18) that the `pgbouncer` CTest fixture starts
// in front of the test cluster: transaction and session pooling keep every guarantee of a
// direct connection; statement pooling is refused before anything changes.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "database_waits.hpp"
#include "harness.hpp"

using namespace ops_test;

namespace {

struct Pool {
    std::string mode;
    std::string port_setting;
    int size;  // default_pool_size in tests/setup-pgbouncer.sh
};

const std::vector<Pool> kKeepingPools = {{"transaction", "OPS_TEST_PGBOUNCER_TRANSACTION_PORT", 4},
                                         {"session", "OPS_TEST_PGBOUNCER_SESSION_PORT", 10}};
const Pool kStatementPool = {"statement", "OPS_TEST_PGBOUNCER_STATEMENT_PORT", 4};

// The waMessageId inside a jobs.payload (the serialized command, JSON-escaped).
constexpr const char* kJobMessageId =
    R"(substring(payload FROM 'waMessageId\\";i:([0-9]+);')::bigint)";

std::string pooled_url(const TestDatabase& db, const Pool& pool) {
    return "postgresql://postgres@127.0.0.1:" + required_env(pool.port_setting) + "/" + db.name();
}

Env pooled_env(const TestDatabase& db, const Pool& pool) {
    return {{"DATABASE_URL", pooled_url(db, pool)}};
}

void seed_old_events(TestDatabase& db, int rows) {
    db.exec(
        "INSERT INTO audit_events (channel, event, metadata, created_at) "
        "SELECT 'web', 'order.created', json_build_object('i', i), "
        "timestamp '2026-01-01 00:00:00' - i * interval '1 minute' "
        "FROM generate_series(1, " +
        std::to_string(rows) + ") AS i");
}

void seed_failed_messages(TestDatabase& db, int rows) {
    db.exec("INSERT INTO tenants (id, name, created_at) VALUES (1, 'Toko Satu', '2025-01-01')");
    db.exec(
        "INSERT INTO wa_messages (tenant_id, recipient, status, attempts, error_code, "
        "error_message, failed_at, created_at) "
        "SELECT 1, '+62' || i, 'failed', 1, 'timeout', 'error ' || i, "
        "timestamp '2026-01-15 10:00:00' - i * interval '1 minute', '2026-01-15 09:00:00' "
        "FROM generate_series(1, " +
        std::to_string(rows) + ") AS i");
}

// Holds every server connection of the pool at once (one open transaction per plain client,
// which the pooler cannot share) and checks each shows what a fresh direct connection
// shows: nothing that ops set stayed behind on any of them.
void check_pool_clean(TestDatabase& db, const Pool& pool) {
    const std::string statement_timeout = db.scalar("SHOW statement_timeout");
    const std::string lock_timeout = db.scalar("SHOW lock_timeout");
    const std::string idle_timeout = db.scalar("SHOW idle_in_transaction_session_timeout");
    std::vector<std::unique_ptr<pqxx::connection>> clients;
    std::vector<std::unique_ptr<pqxx::work>> transactions;
    std::set<int> server_pids;
    for (int i = 0; i < pool.size; ++i) {
        clients.push_back(std::make_unique<pqxx::connection>(pooled_url(db, pool)));
        transactions.push_back(std::make_unique<pqxx::work>(*clients.back()));
        const auto row = transactions.back()->exec1(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
            "current_setting('idle_in_transaction_session_timeout'), "
            "current_setting('application_name'), pg_backend_pid()");
        INFO(pool.mode << " pool, server connection " << row[4].as<int>());
        CHECK(row[0].as<std::string>() == statement_timeout);
        CHECK(row[1].as<std::string>() == lock_timeout);
        CHECK(row[2].as<std::string>() == idle_timeout);
        CHECK(row[3].as<std::string>().rfind("ops", 0) != 0);
        server_pids.insert(row[4].as<int>());
    }
    CHECK(server_pids.size() == static_cast<std::size_t>(pool.size));
    CHECK(advisory_locks(db) == 0);
}

std::vector<std::string> archive_args(const std::filesystem::path& dir) {
    return {"--output", "json", "audit", "archive", "--batch-size", "100", "--dir", dir.string()};
}

std::vector<std::string> redrive_args(const std::string& parallel) {
    return {"--output",     "json", "wa",         "redrive-failed",
            "--batch-size", "50",   "--parallel", parallel};
}

}  // namespace

TEST_CASE("two concurrent archives through PgBouncer never both change data") {
    for (const Pool& pool : kKeepingPools) {
        INFO("pool_mode=" << pool.mode);
        TestDatabase db;
        seed_old_events(db, 1500);
        slow_down(db, {"audit_events", "DELETE"});
        TempDir dir;
        // The second starts while the first holds the lock: it exits 75 and writes nothing.
        Process first(ops_argv(archive_args(dir.path() / "a")), pooled_env(db, pool));
        REQUIRE(wait_for_advisory_lock(db));
        const auto second = run_ops(archive_args(dir.path() / "b"), pooled_env(db, pool));
        CHECK(second.exit_code == 75);
        CHECK(second.err.find("ops audit archive") != std::string::npos);
        CHECK(!std::filesystem::exists(dir.path() / "b"));
        const auto a = first.wait();
        REQUIRE(a.exit_code == 0);
        CHECK(a.json()["deleted"] == 1500);

        // Two started at the same moment: one of them does all the work.
        seed_old_events(db, 1500);
        CHECK(race_two_runs(archive_args(dir.path() / "c"), archive_args(dir.path() / "d"),
                            pooled_env(db, pool), "deleted") == 1500);
        CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'order.created'") == 0);
        check_pool_clean(db, pool);
        // A direct run afterwards is not blocked by anything left on the pool.
        const auto direct = run_ops(archive_args(dir.path() / "e"), db.env());
        CHECK(direct.exit_code == 0);
    }
}

TEST_CASE("two concurrent redrives through PgBouncer never both change data") {
    for (const Pool& pool : kKeepingPools) {
        INFO("pool_mode=" << pool.mode);
        TestDatabase db;
        seed_failed_messages(db, 600);
        slow_down(db, {"wa_messages", "UPDATE"});
        Process first(ops_argv(redrive_args("2")), pooled_env(db, pool));
        REQUIRE(wait_for_advisory_lock(db));
        const auto second = run_ops(redrive_args("1"), pooled_env(db, pool));
        CHECK(second.exit_code == 75);
        CHECK(second.err.find("ops wa redrive-failed") != std::string::npos);
        const auto a = first.wait();
        REQUIRE(a.exit_code == 0);
        CHECK(a.json()["redriven"] == 600);

        // The same messages fail again; their jobs are gone (a worker ran them).
        db.exec("DELETE FROM jobs");
        db.exec("UPDATE wa_messages SET status = 'failed', error_code = 'timeout'");
        CHECK(race_two_runs(redrive_args("1"), redrive_args("3"), pooled_env(db, pool),
                            "redriven") == 600);
        // Each message queued exactly once.
        CHECK(db.count("SELECT count(*) FROM jobs") == 600);
        CHECK(db.count(std::string("SELECT count(DISTINCT ") + kJobMessageId + ") FROM jobs") ==
              600);
        check_pool_clean(db, pool);
        const auto direct = run_ops(redrive_args("1"), db.env());
        CHECK(direct.exit_code == 0);
    }
}

TEST_CASE("kill -9 of a run through PgBouncer leaves no lock behind") {
    for (const Pool& pool : kKeepingPools) {
        INFO("pool_mode=" << pool.mode);
        TestDatabase db;
        seed_old_events(db, 1500);
        slow_down(db, {"audit_events", "DELETE"});
        TempDir dir;
        {
            Process run(ops_argv(archive_args(dir.path() / "a")), pooled_env(db, pool));
            REQUIRE(wait_for_advisory_lock(db));
            run.send(SIGKILL);
            CHECK(run.wait().signal == SIGKILL);
        }
        // PgBouncer closes the server connection whose client left mid-transaction.
        CHECK(wait_for_advisory_lock(db, false));
        const auto direct = run_ops(archive_args(dir.path() / "b"), db.env());
        CHECK(direct.exit_code == 0);
        remove_slow_down(db, {"audit_events", "DELETE"});
        seed_old_events(db, 10);
        const auto pooled = run_ops(archive_args(dir.path() / "c"), pooled_env(db, pool));
        CHECK(pooled.exit_code == 0);
        CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'order.created'") == 0);
        check_pool_clean(db, pool);
    }
}

TEST_CASE("through PgBouncer every transaction of a run has the run's timeouts") {
    for (const Pool& pool : kKeepingPools) {
        INFO("pool_mode=" << pool.mode);
        TestDatabase db;
        seed_old_events(db, 50);
        TempDir dir;
        // Warm the pool first, so that a later transaction may land on any of its connections.
        check_pool_clean(db, pool);
        pqxx::connection blocker(db.url());
        pqxx::work holding(blocker);
        holding.exec("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE");
        std::vector<std::string> args = {"--lock-timeout", "100ms", "--statement-timeout", "60s"};
        for (const auto& arg : archive_args(dir.path())) args.push_back(arg);
        const auto locked = run_ops(args, pooled_env(db, pool));
        CHECK(locked.exit_code == 1);
        CHECK(locked.err.find("55P03") != std::string::npos);  // lock_not_available

        const auto slow = run_ops({"--lock-timeout", "0", "--statement-timeout", "300ms", "audit",
                                   "archive", "--dry-run"},
                                  pooled_env(db, pool));
        CHECK(slow.exit_code == 1);
        CHECK(slow.err.find("57014") != std::string::npos);  // query_canceled
        holding.abort();
        CHECK(db.count("SELECT count(*) FROM audit_events") == 50);
        check_pool_clean(db, pool);
    }
}

TEST_CASE("statement pooling is refused with exit 78 before anything changes") {
    TestDatabase db;
    seed_old_events(db, 20);
    seed_failed_messages(db, 5);
    TempDir dir;
    const Env env = pooled_env(db, kStatementPool);
    for (const auto& args : std::vector<std::vector<std::string>>{archive_args(dir.path() / "a"),
                                                                  redrive_args("1"),
                                                                  {"quota", "reconcile"},
                                                                  {"doctor"}}) {
        INFO(args[args.size() > 2 ? 2 : 0]);
        const auto result = run_ops(args, env);
        CHECK(result.exit_code == 78);
        CHECK(result.err.find("PgBouncer in statement pooling mode") != std::string::npos);
        CHECK(result.err.find("OPS_DATABASE_URL") != std::string::npos);
        // With --output json the refusal is the one JSON object on stdout; otherwise stdout
        // stays empty.
        if (args[0] == "--output") {
            const auto object = nlohmann::json::parse(result.out);
            CHECK(object.at("exit_code") == 78);
            CHECK(object.at("status") == "failed");
        } else {
            CHECK(result.out.empty());
        }
    }
    CHECK(!std::filesystem::exists(dir.path() / "a"));
    CHECK(db.count("SELECT count(*) FROM audit_events") == 20);
    CHECK(db.count("SELECT count(*) FROM jobs") == 0);
    CHECK(db.count("SELECT count(*) FROM wa_messages WHERE status = 'failed'") == 5);

    // The application's .env points at the pooler; OPS_DATABASE_URL beside it gives ops a
    // direct connection.
    const auto env_file = dir.path() / "app.env";
    {
        std::ofstream out(env_file);
        out << "DB_CONNECTION=pgsql\nDB_HOST=127.0.0.1\nDB_PORT="
            << required_env(kStatementPool.port_setting) << "\nDB_DATABASE=" << db.name()
            << "\nDB_USERNAME=postgres\n";
    }
    const auto through_env_file = run_ops({"--env-file", env_file.string(), "audit", "archive",
                                           "--dir", (dir.path() / "b").string()});
    CHECK(through_env_file.exit_code == 78);
    std::ofstream(env_file, std::ios::app) << "OPS_DATABASE_URL=" << db.url() << "\n";
    const auto direct = run_ops({"--env-file", env_file.string(), "--output", "json", "audit",
                                 "archive", "--dir", (dir.path() / "b").string()});
    REQUIRE(direct.exit_code == 0);
    CHECK(direct.json()["deleted"] == 20);
    CHECK(direct.err.find("from OPS_DATABASE_URL in " + env_file.string()) != std::string::npos);
}

TEST_CASE("doctor says whether it talks through a transaction pooler, and what that means") {
    TestDatabase db;
    TempDir dir;
    const std::vector<std::pair<std::string, Env>> routes = {
        {"direct", db.env()},
        {"transaction", pooled_env(db, kKeepingPools[0])},
        {"session", pooled_env(db, kKeepingPools[1])}};
    for (const auto& [mode, env] : routes) {
        INFO("expected " << mode);
        const auto result =
            run_ops({"--output", "json", "doctor", "--dir", dir.path().string()}, env);
        REQUIRE(result.exit_code == 0);
        const auto pooler = result.json()["pooler"];
        CHECK(pooler["mode"] == mode);
        CHECK(pooler["through_pooler"] == (mode != "direct"));
        std::set<std::string> commands;
        for (const auto& row : pooler["commands"]) {
            commands.insert(row["command"].get<std::string>());
            const std::string meaning = row["through this route"].get<std::string>();
            if (mode != "direct" && row["command"] != "doctor") {
                CHECK(meaning.find("server connection") != std::string::npos);
            }
        }
        CHECK(commands == std::set<std::string>{"doctor", "audit archive", "audit restore",
                                                "wa redrive-failed", "quota reconcile"});
        const auto text = run_ops({"doctor", "--dir", dir.path().string()}, env);
        CHECK(text.out.find("pooler") != std::string::npos);
        CHECK(text.out.find(mode) != std::string::npos);
    }
    check_pool_clean(db, kKeepingPools[0]);
}

TEST_CASE("a run whose lock connection breaks stops after the batch in flight") {
    std::vector<std::pair<std::string, std::function<Env(const TestDatabase&)>>> routes = {
        {"direct", [](const TestDatabase& db) { return db.env(); }}};
    for (const Pool& pool : kKeepingPools) {
        routes.emplace_back(pool.mode,
                            [pool](const TestDatabase& db) { return pooled_env(db, pool); });
    }
    for (const auto& [route, env_of] : routes) {
        INFO("route " << route);
        TestDatabase db;
        seed_old_events(db, 3000);
        slow_down(db, {"audit_events", "DELETE"});
        TempDir dir;
        Process run(ops_argv(archive_args(dir.path() / "a")), env_of(db));
        REQUIRE(wait_for_advisory_lock(db));
        // What a DBA's pg_terminate_backend, a failover or a pooler's timeout does to it.
        db.exec(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND "
            "granted");
        const auto stopped = run.wait();
        CHECK(stopped.exit_code == 143);
        CHECK(stopped.err.find("the lock is gone") != std::string::npos);
        const std::int64_t deleted = stopped.json()["deleted"].get<std::int64_t>();
        CHECK(deleted < 3000);
        CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'order.created'") ==
              3000 - deleted);
        CHECK(advisory_locks(db) == 0);
        const auto next = run_ops(archive_args(dir.path() / "b"), env_of(db));
        REQUIRE(next.exit_code == 0);
        CHECK(next.json()["deleted"] == 3000 - deleted);
    }
}

TEST_CASE("every command runs through the transaction pool and leaves it clean") {
    const Pool& pool = kKeepingPools[0];
    TestDatabase db;
    seed_old_events(db, 300);
    db.exec("INSERT INTO tenants (id, name, created_at) VALUES (1, 'Toko Satu', '2025-01-01')");
    db.exec(
        "INSERT INTO orders (tenant_id, number, status, created_at) SELECT 1, 'N-' || i, 'paid', "
        "timestamp '2025-03-01 00:00:00' + i * interval '1 minute' FROM generate_series(1, 7) i");
    db.exec(
        "INSERT INTO quota_usages (tenant_id, period, used, created_at) "
        "VALUES (1, '2025-03', 2, '2025-03-01')");
    TempDir dir;
    const Env env = pooled_env(db, pool);
    const auto archived = run_ops(archive_args(dir.path()), env);
    REQUIRE(archived.exit_code == 0);
    const auto files = files_in(dir.path(), ".jsonl");
    REQUIRE(files.size() == 1);
    const auto restored =
        run_ops({"--output", "json", "audit", "restore", files.front().string()}, env);
    CHECK(restored.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'order.created'") == 300);
    const auto reconciled = run_ops({"--output", "json", "quota", "reconcile", "2025-03"}, env);
    CHECK(reconciled.exit_code == 0);
    CHECK(db.count("SELECT used FROM quota_usages WHERE tenant_id = 1") == 7);
    check_pool_clean(db, pool);
}
