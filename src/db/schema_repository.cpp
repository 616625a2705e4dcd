#include "ops/db/schema_repository.hpp"

#include "ops/db/statement.hpp"
#include "sql_access.hpp"

namespace ops {

namespace {

std::vector<std::string> first_column(const pqxx::result& rows) {
    std::vector<std::string> values;
    values.reserve(rows.size());
    for (const auto& row : rows) values.push_back(row[0].as<std::string>());
    return values;
}

}  // namespace

SchemaRepository::SchemaRepository(Transaction& tx) : tx_(SqlAccess::of(tx)) {}

std::vector<ColumnInfo> SchemaRepository::columns_of(const std::vector<std::string>& tables) {
    static const Statement columns(R"sql(
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.oid IN (SELECT to_regclass(t) FROM json_array_elements_text(:tables::json) AS t)
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum
    )sql");
    std::vector<ColumnInfo> result;
    for (const auto& row : run(tx_, Bindings(columns).set("tables", json_array(tables)))) {
        result.push_back(
            {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    }
    return result;
}

std::vector<std::string> SchemaRepository::missing_privileges(
    const std::string& table, const std::vector<std::string>& wanted) {
    static const Statement missing(R"sql(
        SELECT p FROM json_array_elements_text(:wanted::json) AS p
        WHERE to_regclass(:table) IS NULL OR NOT has_table_privilege(to_regclass(:table), p)
    )sql");
    return first_column(
        run(tx_, Bindings(missing).set("table", table).set("wanted", json_array(wanted))));
}

SequenceAccess SchemaRepository::sequence_access(const std::string& table,
                                                 const std::string& column,
                                                 const std::vector<std::string>& wanted) {
    // pg_get_serial_sequence() raises for a missing table or column: only asked for one found.
    static const Statement sequence(R"sql(
        SELECT pg_get_serial_sequence(:table, :column) FROM pg_attribute
        WHERE attrelid = to_regclass(:table) AND attname = :column
          AND attnum > 0 AND NOT attisdropped
    )sql");
    // nextval() takes USAGE or UPDATE, as PostgreSQL checks it.
    static const Statement missing(R"sql(
        SELECT p FROM json_array_elements_text(:wanted::json) AS p
        WHERE NOT (has_sequence_privilege(:sequence, p)
                   OR (p = 'USAGE' AND has_sequence_privilege(:sequence, 'UPDATE')))
    )sql");
    const auto found = run(tx_, Bindings(sequence).set("table", table).set("column", column));
    SequenceAccess access;
    if (found.empty() || found[0][0].is_null()) return access;
    access.sequence = found[0][0].as<std::string>();
    access.missing = first_column(run(
        tx_, Bindings(missing).set("sequence", access.sequence).set("wanted", json_array(wanted))));
    return access;
}

std::vector<std::string> SchemaRepository::missing_roles(const std::vector<std::string>& roles) {
    static const Statement missing(R"sql(
        SELECT r FROM json_array_elements_text(:roles::json) AS r
        WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)
           OR NOT pg_has_role(current_user, (SELECT oid FROM pg_roles WHERE rolname = r), 'USAGE')
    )sql");
    return first_column(run(tx_, Bindings(missing).set("roles", json_array(roles))));
}

bool SchemaRepository::owns(const std::string& table) {
    static const Statement owner(R"sql(
        SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class
        WHERE oid = to_regclass(:table)
    )sql");
    const auto rows = run(tx_, Bindings(owner).set("table", table));
    return !rows.empty() && rows[0][0].as<bool>();
}

bool SchemaRepository::table_exists(const std::string& table) {
    static const Statement exists("SELECT to_regclass(:table) IS NOT NULL");
    return run1(tx_, Bindings(exists).set("table", table))[0].as<bool>();
}

std::string SchemaRepository::current_role() {
    return tx_.exec1("SELECT current_user")[0].as<std::string>();
}

}  // namespace ops
