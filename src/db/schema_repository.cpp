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

std::string SchemaRepository::current_role() {
    return tx_.exec1("SELECT current_user")[0].as<std::string>();
}

}  // namespace ops
