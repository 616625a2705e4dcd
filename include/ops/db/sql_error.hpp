#pragma once

#include <pqxx/except>
#include <string>

namespace ops {

// The SQLSTATE of a database error. libpqxx 6.4 throws some of its specific exception types
// (insufficient_privilege, undefined_table, ...) without the code; their type names it.
// Class 40 (deadlock, serialization failure) it throws outside sql_error, also without it.
// Empty for a failure that is no server error (a lost connection).
std::string sqlstate_of(const pqxx::failure& error);

// "database error (SQLSTATE 42501): ERROR:  permission denied for table jobs"; a failure that
// is no server error (a lost connection) has no SQLSTATE part.
std::string describe_database_failure(const pqxx::failure& error);

}  // namespace ops
