#include "ops/db/restore_repository.hpp"

#include <fmt/format.h>

#include "sql_access.hpp"

namespace ops {

namespace {

std::string joined(const std::vector<std::string>& parts, const char* separator) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
    return out;
}

// "v.c1, v.c2" as unnest(...) AS v(c1, c2, ...) names them.
std::string column_aliases(std::size_t count) {
    std::vector<std::string> names;
    for (std::size_t i = 1; i <= count; ++i) names.push_back(fmt::format("c{}", i));
    return joined(names, ", ");
}

std::string unnest_of(std::size_t count, std::size_t first_param) {
    std::vector<std::string> arrays;
    for (std::size_t i = 0; i < count; ++i)
        arrays.push_back(fmt::format("${}::text[]", first_param + i));
    return "unnest(" + joined(arrays, ", ") + ")";
}

// PostgreSQL's message without its "ERROR:  " prefix and context lines.
std::string first_line(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    if (line.starts_with("ERROR:  ")) line.erase(0, 8);
    return line;
}

}  // namespace

RestoreRepository::RestoreRepository(Transaction& tx) : tx_(SqlAccess::of(tx)) {}

void RestoreRepository::write_batch(Session& session,
                                    const std::function<void(RestoreRepository&)>& work) {
    try {
        Work tx(session);
        RestoreRepository repo(tx);
        work(repo);
        tx.commit();
    } catch (const pqxx::data_exception& e) {
        throw RowsRejected(first_line(e.what()));
    } catch (const pqxx::integrity_constraint_violation& e) {
        throw RowsRejected(first_line(e.what()));
    }
}

void RestoreRepository::read_batch(Session& session,
                                   const std::function<void(RestoreRepository&)>& work) {
    ReadTransaction tx(session);
    RestoreRepository repo(tx);
    work(repo);
}

void RestoreRepository::probe_batch(Session& session,
                                    const std::function<void(RestoreRepository&)>& work) {
    Work tx(session);  // never committed
    RestoreRepository repo(tx);
    work(repo);
}

bool RestoreRepository::writes() const {
    return dynamic_cast<const pqxx::read_transaction*>(&tx_) == nullptr;
}

std::string RestoreRepository::attempt(const std::function<void()>& work) {
    tx_.exec("SAVEPOINT ops_restore_probe");
    std::string failure;
    try {
        work();
    } catch (const pqxx::sql_error& e) {
        failure = first_line(e.what());
    }
    tx_.exec("ROLLBACK TO SAVEPOINT ops_restore_probe");
    return failure;
}

std::vector<TableColumn> RestoreRepository::columns() {
    const auto rows = tx_.exec(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
        "       quote_ident(n.nspname) || '.' || quote_ident(t.typname), "
        "       a.atttypid IN ('json'::regtype, 'jsonb'::regtype), t.typcategory = 'A', "
        "       coalesce(t.typelem IN ('json'::regtype, 'jsonb'::regtype), false), "
        "       a.atttypmod <> -1, a.attgenerated <> '' "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE a.attrelid = 'audit_events'::regclass AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum");
    std::vector<TableColumn> columns;
    for (const auto& row : rows) {
        columns.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                           row[2].as<std::string>(), row[3].as<bool>(), row[4].as<bool>(),
                           row[5].as<bool>(), row[6].as<bool>(), row[7].as<bool>()});
    }
    return columns;
}

std::vector<ForeignKey> RestoreRepository::foreign_keys() {
    const auto rows = tx_.exec(
        "SELECT c.conname, a.attname, c.confdeltype, "
        "       c.confrelid::regclass::text || '(' || quote_ident(fa.attname) || ')', "
        "       c.confrelid::regclass::text, quote_ident(fa.attname), "
        "       quote_ident(n.nspname) || '.' || quote_ident(t.typname) "
        "FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1] "
        "JOIN pg_type t ON t.oid = fa.atttypid JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE c.conrelid = 'audit_events'::regclass AND c.contype = 'f' "
        "  AND cardinality(c.conkey) = 1 AND c.conparentid = 0 ORDER BY c.conname");
    std::vector<ForeignKey> keys;
    for (const auto& row : rows) {
        ForeignKey key{row[0].as<std::string>(),
                       row[1].as<std::string>(),
                       row[3].as<std::string>(),
                       row[2].as<std::string>()[0],
                       {}};
        key.lookup_sql = fmt::format(
            "SELECT k FROM unnest($1::text[]) AS k "
            "WHERE NOT EXISTS (SELECT 1 FROM {} r WHERE r.{} = k::{})",
            row[4].as<std::string>(), row[5].as<std::string>(), row[6].as<std::string>());
        keys.push_back(std::move(key));
    }
    return keys;
}

std::vector<OwnedSequence> RestoreRepository::owned_sequences() {
    const auto rows = tx_.exec(
        "SELECT a.attname, quote_ident(n.nspname) || '.' || quote_ident(s.relname) "
        "FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
        "JOIN pg_namespace n ON n.oid = s.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass "
        "  AND d.refobjid = 'audit_events'::regclass AND d.deptype IN ('a', 'i') "
        "ORDER BY a.attnum");
    std::vector<OwnedSequence> sequences;
    for (const auto& row : rows)
        sequences.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
    return sequences;
}

std::vector<std::string> RestoreRepository::missing_keys(const ForeignKey& key,
                                                         const std::string& keys_array) {
    std::vector<std::string> missing;
    for (const auto& row : tx_.exec_params(key.lookup_sql, keys_array))
        missing.push_back(row[0].as<std::string>());
    return missing;
}

// Existing ids are looked up one by one through the index on id (a LATERAL ... LIMIT 1 is
// never turned into a hash join over the whole table, which NOT EXISTS may be). Types are
// cast to the column's type without modifier, so the assignment to the column
// checks the modifier: a value too long for varchar(5) fails instead of being cut (an
// explicit cast would cut it).
std::int64_t RestoreRepository::insert_missing(const ShapeRows& rows) {
    std::vector<std::string> names, values;
    for (std::size_t i = 0; i < rows.columns.size(); ++i) {
        names.push_back(tx_.quote_name(rows.columns[i]->name));
        values.push_back(fmt::format("v.c{}::{}", i + 1, rows.columns[i]->base_type));
    }
    const std::string sql = fmt::format(
        "WITH inserted AS (INSERT INTO audit_events ({}) OVERRIDING SYSTEM VALUE "
        "SELECT {} FROM {} AS v({}) "
        "LEFT JOIN LATERAL (SELECT true AS found FROM audit_events e "
        "                   WHERE e.id = v.c{}::{} LIMIT 1) AS x ON true "
        "WHERE x.found IS NULL RETURNING 1) "
        "SELECT count(*) FROM inserted",
        joined(names, ", "), joined(values, ", "), unnest_of(rows.columns.size(), 1),
        column_aliases(rows.columns.size()), rows.id_position + 1,
        rows.columns[rows.id_position]->base_type);
    return tx_.exec_params1(sql, pqxx::prepare::make_dynamic_params(rows.arrays))[0]
        .as<std::int64_t>();
}

std::vector<ValueChange> RestoreRepository::changed_values(const ShapeRows& rows,
                                                           const std::vector<std::string>& tokens) {
    const std::size_t n = rows.columns.size();
    std::vector<std::string> checks;
    for (std::size_t i = 0; i < n; ++i) {
        const TableColumn& column = *rows.columns[i];
        checks.push_back(fmt::format("({}, coalesce(to_json(v.c{}::{}::{})::text, 'null'), v.t{})",
                                     tx_.quote(column.name), i + 1, column.base_type, column.type,
                                     i + 1));
    }
    std::vector<std::string> token_names;
    for (std::size_t i = 1; i <= n; ++i) token_names.push_back(fmt::format("t{}", i));
    std::vector<std::string> params = rows.arrays;
    params.insert(params.end(), tokens.begin(), tokens.end());
    const std::string sql = fmt::format(
        "SELECT v.ord, x.name, x.stored FROM {} WITH ORDINALITY AS v({}, {}, ord) "
        "CROSS JOIN LATERAL (VALUES {}) AS x(name, stored, archived) "
        "WHERE x.stored IS DISTINCT FROM x.archived ORDER BY v.ord",
        unnest_of(2 * n, 1), column_aliases(n), joined(token_names, ", "), joined(checks, ", "));
    std::vector<ValueChange> changes;
    for (const auto& row : tx_.exec_params(sql, pqxx::prepare::make_dynamic_params(params))) {
        changes.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>(),
                           row[2].is_null() ? "null" : row[2].as<std::string>()});
    }
    return changes;
}

std::int64_t RestoreRepository::count_existing(const std::string& ids_array) {
    return tx_
        .exec_params1(
            "SELECT count(*) FROM unnest($1::text[]) AS k, "
            "LATERAL (SELECT 1 FROM audit_events e WHERE e.id = k::bigint LIMIT 1) AS x",
            ids_array)[0]
        .as<std::int64_t>();
}

void RestoreRepository::advance_sequence(const OwnedSequence& sequence, std::int64_t at_least) {
    // The next value is last_value + 1 once called, last_value itself before.
    tx_.exec_params(fmt::format("SELECT setval($1::regclass, $2::bigint) FROM {} "
                                "WHERE (is_called AND last_value < $2::bigint) "
                                "   OR (NOT is_called AND last_value <= $2::bigint)",
                                sequence.sequence),
                    sequence.sequence, at_least);
}

void RestoreRepository::create_probe() {
    tx_.exec(
        "CREATE TEMPORARY TABLE ops_restore_probe ON COMMIT DROP AS "
        "SELECT * FROM audit_events WITH NO DATA");
}

void RestoreRepository::probe(const TableColumn& column, const std::optional<std::string>& value) {
    tx_.exec_params(fmt::format("INSERT INTO pg_temp.ops_restore_probe ({}) SELECT $1::text::{}",
                                tx_.quote_name(column.name), column.base_type),
                    value ? value->c_str() : nullptr);
}

}  // namespace ops
