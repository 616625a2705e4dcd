#pragma once

#include <pqxx/except>
#include <string>

namespace ops {

// The SQLSTATE of a database error. libpqxx 6.4 throws some of its specific exception types
// (insufficient_privilege, undefined_table, ...) without the code; their type names it.
// Empty only for an error libpqxx classed without a code.
std::string sqlstate_of(const pqxx::sql_error& error);

// "database error (SQLSTATE 42501): ERROR:  permission denied for table jobs".
std::string describe_sql_error(const pqxx::sql_error& error);

}  // namespace ops
