#include "database_waits.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

namespace ops_test {

void slow_down(TestDatabase& db, const SlowDown& slow) {
    const std::string name = "ops_test_slow_" + slow.table;
    // A BEFORE ROW trigger's result is the row the statement goes on with.
    const std::string result = !slow.each_row ? "NULL" : slow.operation == "DELETE" ? "OLD" : "NEW";
    db.exec("CREATE OR REPLACE FUNCTION " + name +
            "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(" + slow.seconds +
            "); RETURN " + result + "; END $$");
    db.exec("CREATE TRIGGER " + name + (slow.each_row ? " BEFORE " : " AFTER ") + slow.operation +
            " ON " + slow.table + (slow.each_row ? " FOR EACH ROW" : " FOR EACH STATEMENT") +
            " EXECUTE FUNCTION " + name + "()");
}

void remove_slow_down(TestDatabase& db, const SlowDown& slow) {
    db.exec("DROP TRIGGER ops_test_slow_" + slow.table + " ON " + slow.table);
}

void wait_for_backend_to_leave(TestDatabase& db, const std::string& application_name) {
    for (int i = 0; i < 400; ++i) {
        if (db.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" +
                     application_name + "' AND datname = current_database()") == 0) {
            return;
        }
        usleep(50000);
    }
    FAIL("the killed run's backend (" << application_name << ") did not go away");
}

std::int64_t advisory_locks(TestDatabase& db) {
    return db.count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'");
}

bool wait_for_advisory_lock(TestDatabase& db, bool held) {
    for (int i = 0; i < 200; ++i) {
        if ((advisory_locks(db) > 0) == held) return true;
        usleep(50000);
    }
    return false;
}

int lock_key(const std::string& command) {
    std::uint32_t hash = 2166136261u;
    for (const unsigned char c : command) hash = (hash ^ c) * 16777619u;
    return static_cast<int>(hash & 0x7fffffff);
}

void hold_lock(pqxx::connection& connection, const std::string& command) {
    pqxx::nontransaction tx(connection);
    tx.exec_params("SELECT pg_advisory_lock($1, $2)", kLockNamespace, lock_key(command));
}

std::int64_t changed(const RunResult& run, const std::string& key) {
    if (run.exit_code == 75) return 0;
    REQUIRE(run.exit_code == 0);
    return run.json()[key].get<std::int64_t>();
}

std::int64_t race_two_runs(const std::vector<std::string>& first,
                           const std::vector<std::string>& second, const Env& env,
                           const std::string& key) {
    Process one(ops_argv(first), env);
    Process two(ops_argv(second), env);
    const auto a = one.wait();
    const auto b = two.wait();
    INFO("first: " << a.exit_code << " " << a.err << "\nsecond: " << b.exit_code << " " << b.err);
    const std::int64_t changed_a = changed(a, key), changed_b = changed(b, key);
    CHECK(((changed_a == 0) != (changed_b == 0)));
    return changed_a + changed_b;
}

}  // namespace ops_test
