#pragma once

// What the integration and pooler tests do around a running `ops`: slow its statements down
// with a pg_sleep trigger so that a signal or a second run lands mid-run, wait for its lock
// or its backend, hold its lock, and start two runs at the same moment.
#include <cstdint>
#include <string>
#include <vector>

#include "harness.hpp"

namespace ops_test {

// A trigger on `table` that sleeps `seconds` in each statement (or each row) of `operation`
// (INSERT, UPDATE or DELETE), so that a run lasts long enough to be interrupted or overlapped.
struct SlowDown {
    std::string table;
    std::string operation;
    std::string seconds = "0.1";  // SQL numeric text, as pg_sleep takes it
    bool each_row = false;        // FOR EACH ROW (BEFORE) instead of FOR EACH STATEMENT (AFTER)
};
void slow_down(TestDatabase& db, const SlowDown& slow);
void remove_slow_down(TestDatabase& db, const SlowDown& slow);

// Polls until the backend of a killed run (its application_name, "ops quota reconcile") has
// left the test database; fails the test after 20 s.
void wait_for_backend_to_leave(TestDatabase& db, const std::string& application_name);

// Advisory locks held on the cluster (ops holds one per running command).
std::int64_t advisory_locks(TestDatabase& db);
// Polls (up to 10 s) until some advisory lock is held (`held`) or none is; false on timeout.
bool wait_for_advisory_lock(TestDatabase& db, bool held = true);

// The advisory lock key ops takes for `command` ("quota reconcile"): namespace "ops" and the
// FNV-1a hash of the name, as src/db computes them.
constexpr int kLockNamespace = 0x6f7073;
int lock_key(const std::string& command);
// Takes that lock on `connection`'s session (it stays until the session ends or unlocks).
void hold_lock(pqxx::connection& connection, const std::string& command);

// The rows a run reports having changed under `key` ("deleted"): 0 when it exited 75 (the
// other run held the lock); any other exit fails the test.
std::int64_t changed(const RunResult& run, const std::string& key);

// Two runs started at the same moment: exactly one of them changes data, and the total it
// changed is returned.
std::int64_t race_two_runs(const std::vector<std::string>& first,
                           const std::vector<std::string>& second, const Env& env,
                           const std::string& key);

}  // namespace ops_test
