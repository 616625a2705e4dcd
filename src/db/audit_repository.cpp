#include "ops/db/audit_repository.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "ops/db/statement.hpp"
#include "sql_access.hpp"

namespace ops {

namespace {

// The rows a selection matches, named {matches} in the statements below (its parameters bound
// in bind_selection). Channels travel as one JSON-array parameter: no SQL text is ever built
// from a name. The statements are planned with their values (unnamed), so a NULL bound folds
// away and a given one prunes the partitions outside it.
constexpr const char* kMatches = R"sql(created_at < :cutoff::timestamp
      AND (:from::timestamp IS NULL OR created_at >= :from::timestamp)
      AND (:to::timestamp IS NULL OR created_at < :to::timestamp)
      AND (:channels::json IS NULL
           OR channel IN (SELECT json_array_elements_text(:channels::json))))sql";

std::string expand(std::string_view sql, std::string_view archive_line = {}) {
    return fmt::format(fmt::runtime(sql), fmt::arg("matches", kMatches),
                       fmt::arg("archive_line", archive_line));
}

void bind_selection(Bindings& b, const AuditSelection& selection) {
    b.set("cutoff", selection.cutoff).set("channels", json_filter(selection.channels));
    b.set("from", selection.within.from).set("to", selection.within.to);
}

}  // namespace

AuditRepository::AuditRepository(Transaction& tx) : tx_(SqlAccess::of(tx)) {}

std::vector<ChannelCount> AuditRepository::count_by_channel(const AuditSelection& selection) {
    static const Statement counts(expand(R"sql(
        SELECT channel, count(*), to_char(min(created_at), :wall_time),
               to_char(max(created_at), :wall_time)
        FROM audit_events WHERE {matches}
        GROUP BY channel ORDER BY count(*) DESC, channel
    )sql"));
    Bindings b(counts);
    bind_selection(b, selection);
    b.set("wall_time", kWallTimeFormat);
    std::vector<ChannelCount> result;
    for (const auto& row : run(tx_, b)) {
        result.push_back({row[0].as<std::string>(), row[1].as<std::int64_t>(),
                          row[2].as<std::string>(), row[3].as<std::string>()});
    }
    return result;
}

std::optional<IdRange> AuditRepository::next_range(const AuditSelection& selection,
                                                   std::int64_t after_id, std::int64_t limit) {
    static const Statement next(expand(R"sql(
        SELECT max(id), count(*) FROM (
          SELECT id FROM audit_events WHERE id > :after_id AND {matches}
          ORDER BY id LIMIT :limit) AS batch
    )sql"));
    Bindings b(next);
    bind_selection(b, selection);
    b.set("after_id", after_id).set("limit", limit);
    const auto row = run1(tx_, b);
    if (row[0].is_null()) return std::nullopt;
    return IdRange{after_id, row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
}

// One pkey range scan, rather than a join back from a list of ids. The line's expression
// comes from the catalog (archive_line_sql), so this one is translated per batch.
ArchivedBatch AuditRepository::take_range(const AuditSelection& selection, const IdRange& range) {
    const Statement take(expand(R"sql(
        DELETE FROM audit_events a WHERE id > :after_id AND id <= :upper AND {matches}
        RETURNING a.id, a.channel, to_char(a.created_at, :wall_time), {archive_line}
    )sql",
                                archive_line_sql(tx_)));
    Bindings b(take);
    bind_selection(b, selection);
    b.set("after_id", range.after_id).set("upper", range.upper).set("wall_time", kWallTimeFormat);
    return ArchivedBatch(run(tx_, b));
}

// row_to_json(a) renders SQL NULL and a json value `null` alike; lines with a json or jsonb
// column holding JSON null end in a "$json_null" member naming those columns (format 2).
// Read from the catalog in the batch's transaction: a migration may add a column mid-run.
std::string archive_line_sql(pqxx::transaction_base& tx) {
    const auto rows = tx.exec(R"sql(
        SELECT attname, atttypid = 'jsonb'::regtype FROM pg_attribute
        WHERE attrelid = 'audit_events'::regclass AND attnum > 0 AND NOT attisdropped
          AND atttypid IN ('json'::regtype, 'jsonb'::regtype)
        ORDER BY attnum
    )sql");
    if (rows.empty()) return "row_to_json(a)::text";
    std::string any, names;
    for (const auto& row : rows) {
        const auto name = row[0].as<std::string>();
        const std::string test =
            fmt::format("{}(a.{}) = 'null'", row[1].as<bool>() ? "jsonb_typeof" : "json_typeof",
                        tx.quote_name(name));
        any += (any.empty() ? "" : " OR ") + test;
        names +=
            (names.empty() ? "" : ", ") + fmt::format("CASE WHEN {} THEN {} END", test,
                                                      tx.quote(nlohmann::json(name).dump() + ","));
    }
    return "CASE WHEN " + any + " THEN left(row_to_json(a)::text, -1) || " +
           tx.quote(",\"" + std::string(kJsonNullMember) + "\":[") + " || rtrim(concat(" + names +
           "), ',') || ']}' ELSE row_to_json(a)::text END";
}

std::vector<std::pair<std::string, std::string>> AuditRepository::column_types() {
    std::vector<std::pair<std::string, std::string>> columns;
    for (const auto& row : tx_.exec(R"sql(
             SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = 'audit_events'::regclass AND attnum > 0 AND NOT attisdropped
             ORDER BY attnum
         )sql")) {
        columns.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    }
    return columns;
}

}  // namespace ops
