#include <catch2/catch.hpp>
#include <pqxx/except>

#include "ops/db/retry.hpp"
#include "ops/db/sql_error.hpp"

using ops::is_transient;
using ops::sqlstate_of;

// libpqxx 6.4 throws a deadlock and a serialization failure as transaction_rollback types,
// which are no sql_error and carry no code: a check on sql_error alone never sees them.
TEST_CASE("sql error: class 40 as libpqxx 6.4 throws it has its SQLSTATE and is transient") {
    const pqxx::deadlock_detected deadlock("ERROR:  deadlock detected");
    const pqxx::serialization_failure serialization("ERROR:  could not serialize access");
    CHECK(sqlstate_of(deadlock) == "40P01");
    CHECK(sqlstate_of(serialization) == "40001");
    CHECK(is_transient(deadlock));
    CHECK(is_transient(serialization));
    CHECK(ops::describe_database_failure(deadlock) ==
          "database error (SQLSTATE 40P01): ERROR:  deadlock detected");
}

TEST_CASE("sql error: a lock timeout is transient, an unknown commit and others are not") {
    CHECK(is_transient(
        pqxx::sql_error("ERROR:  canceling statement due to lock timeout", "", "55P03")));
    // The statement may have taken effect: running it again is not safe.
    const pqxx::statement_completion_unknown unknown("ERROR:  statement completion unknown");
    CHECK(sqlstate_of(unknown) == "40003");
    CHECK_FALSE(is_transient(unknown));
    CHECK_FALSE(is_transient(pqxx::unique_violation("ERROR:  duplicate key", "", "23505")));
    CHECK_FALSE(is_transient(pqxx::broken_connection("server closed the connection")));
    CHECK(sqlstate_of(pqxx::broken_connection("server closed the connection")).empty());
    CHECK(sqlstate_of(pqxx::insufficient_privilege("ERROR:  permission denied", "")) == "42501");
}
