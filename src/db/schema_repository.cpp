#include "ops/db/schema_repository.hpp"

#include <nlohmann/json.hpp>

namespace ops {

std::vector<ColumnInfo> SchemaRepository::columns_of(const std::vector<std::string>& tables) {
    const auto rows = tx_.exec_params(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.oid IN (SELECT to_regclass(t) FROM json_array_elements_text($1::json) AS t) "
        "  AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum",
        nlohmann::json(tables).dump());
    std::vector<ColumnInfo> columns;
    for (const auto& row : rows) {
        columns.push_back(
            {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    }
    return columns;
}

std::vector<std::string> SchemaRepository::missing_privileges(
    const std::string& table, const std::vector<std::string>& wanted) {
    const auto rows = tx_.exec_params(
        "SELECT p FROM json_array_elements_text($2::json) AS p "
        "WHERE to_regclass($1) IS NULL OR NOT has_table_privilege(to_regclass($1), p)",
        table, nlohmann::json(wanted).dump());
    std::vector<std::string> missing;
    for (const auto& row : rows) missing.push_back(row[0].as<std::string>());
    return missing;
}

SequenceAccess SchemaRepository::sequence_access(const std::string& table,
                                                 const std::string& column,
                                                 const std::vector<std::string>& wanted) {
    // pg_get_serial_sequence() raises for a missing table or column: only asked for one found.
    const auto found = tx_.exec_params(
        "SELECT pg_get_serial_sequence($1, $2) FROM pg_attribute "
        "WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped",
        table, column);
    SequenceAccess access;
    if (found.empty() || found[0][0].is_null()) return access;
    access.sequence = found[0][0].as<std::string>();
    const auto rows = tx_.exec_params(
        "SELECT p FROM json_array_elements_text($2::json) AS p "
        // nextval() takes USAGE or UPDATE, as PostgreSQL checks it.
        "WHERE NOT (has_sequence_privilege($1, p) OR "
        "           (p = 'USAGE' AND has_sequence_privilege($1, 'UPDATE')))",
        access.sequence, nlohmann::json(wanted).dump());
    for (const auto& row : rows) access.missing.push_back(row[0].as<std::string>());
    return access;
}

std::vector<std::string> SchemaRepository::missing_roles(const std::vector<std::string>& roles) {
    const auto rows = tx_.exec_params(
        "SELECT r FROM json_array_elements_text($1::json) AS r "
        "WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) "
        "   OR NOT pg_has_role(current_user, (SELECT oid FROM pg_roles WHERE rolname = r), "
        "                      'USAGE')",
        nlohmann::json(roles).dump());
    std::vector<std::string> missing;
    for (const auto& row : rows) missing.push_back(row[0].as<std::string>());
    return missing;
}

bool SchemaRepository::owns(const std::string& table) {
    const auto rows = tx_.exec_params(
        "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class "
        "WHERE oid = to_regclass($1)",
        table);
    return !rows.empty() && rows[0][0].as<bool>();
}

bool SchemaRepository::table_exists(const std::string& table) {
    return tx_.exec_params1("SELECT to_regclass($1) IS NOT NULL", table)[0].as<bool>();
}

std::string SchemaRepository::current_role() {
    return tx_.exec1("SELECT current_user")[0].as<std::string>();
}

}  // namespace ops
