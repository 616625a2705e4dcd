#include "ops/db/sql_error.hpp"

namespace ops {
namespace {

template <typename T>
bool is(const pqxx::failure& error) {
    return dynamic_cast<const T*>(&error) != nullptr;
}

// Most specific first: several of these derive from one another.
std::string code_from_type(const pqxx::sql_error& e) {
    if (is<pqxx::undefined_column>(e)) return "42703";
    if (is<pqxx::undefined_function>(e)) return "42883";
    if (is<pqxx::undefined_table>(e)) return "42P01";
    if (is<pqxx::syntax_error>(e)) return "42601";
    if (is<pqxx::insufficient_privilege>(e)) return "42501";
    if (is<pqxx::unique_violation>(e)) return "23505";
    if (is<pqxx::foreign_key_violation>(e)) return "23503";
    if (is<pqxx::not_null_violation>(e)) return "23502";
    if (is<pqxx::check_violation>(e)) return "23514";
    if (is<pqxx::restrict_violation>(e)) return "23001";
    if (is<pqxx::disk_full>(e)) return "53100";
    if (is<pqxx::out_of_memory>(e)) return "53200";
    if (is<pqxx::invalid_cursor_state>(e)) return "24000";
    if (is<pqxx::invalid_sql_statement_name>(e)) return "26000";
    if (is<pqxx::invalid_cursor_name>(e)) return "34000";
    if (is<pqxx::feature_not_supported>(e)) return "0A000";
    if (is<pqxx::plpgsql_no_data_found>(e)) return "P0002";
    if (is<pqxx::plpgsql_too_many_rows>(e)) return "P0003";
    if (is<pqxx::plpgsql_raise>(e)) return "P0001";
    return {};
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// libpqxx 6.4 throws class 40 (transaction rollback) as its own types, outside sql_error and
// without the code: a deadlock is a pqxx::deadlock_detected, never an sql_error "40P01".
std::string rollback_code(const pqxx::transaction_rollback& e) {
    if (is<pqxx::deadlock_detected>(e)) return "40P01";
    if (is<pqxx::serialization_failure>(e)) return "40001";
    if (is<pqxx::statement_completion_unknown>(e)) return "40003";
    return "40000";
}

}  // namespace

std::string sqlstate_of(const pqxx::failure& error) {
    if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&error); sql != nullptr) {
        if (!sql->sqlstate().empty()) return sql->sqlstate();
        return code_from_type(*sql);
    }
    if (const auto* rollback = dynamic_cast<const pqxx::transaction_rollback*>(&error);
        rollback != nullptr) {
        return rollback_code(*rollback);
    }
    return {};
}

std::string describe_database_failure(const pqxx::failure& error) {
    const std::string state = sqlstate_of(error);
    return "database error" + (state.empty() ? std::string() : " (SQLSTATE " + state + ")") + ": " +
           trimmed(error.what());
}

}  // namespace ops
