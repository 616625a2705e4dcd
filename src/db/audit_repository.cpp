#include "ops/db/audit_repository.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace ops {
namespace {

// Channels travel as one JSON-array parameter: no SQL text is ever built from a name.
constexpr const char* kMatches =
    "created_at < $1::timestamp "
    "AND ($2::json IS NULL OR channel IN (SELECT json_array_elements_text($2::json)))";

// The channel filter as a JSON array, or a null parameter (all channels).
class ChannelsParam {
  public:
    explicit ChannelsParam(const AuditSelection& selection)
        : json_(selection.channels.empty() ? "" : nlohmann::json(selection.channels).dump()) {}
    const char* get() const { return json_.empty() ? nullptr : json_.c_str(); }

  private:
    std::string json_;
};

}  // namespace

std::vector<ChannelCount> AuditRepository::count_by_channel(const AuditSelection& selection) {
    const auto rows = tx_.exec_params(
        std::string("SELECT channel, count(*), to_char(min(created_at), 'YYYY-MM-DD HH24:MI:SS'), "
                    "to_char(max(created_at), 'YYYY-MM-DD HH24:MI:SS') "
                    "FROM audit_events WHERE ") +
            kMatches + " GROUP BY channel ORDER BY count(*) DESC, channel",
        selection.cutoff, ChannelsParam(selection).get());
    std::vector<ChannelCount> counts;
    for (const auto& row : rows) {
        counts.push_back({row[0].as<std::string>(), row[1].as<std::int64_t>(),
                          row[2].as<std::string>(), row[3].as<std::string>()});
    }
    return counts;
}

std::optional<IdRange> AuditRepository::next_range(const AuditSelection& selection,
                                                   std::int64_t after_id, std::int64_t limit) {
    const auto row = tx_.exec_params1(
        std::string(
            "SELECT max(id), count(*) FROM (SELECT id FROM audit_events WHERE id > $3 AND ") +
            kMatches + " ORDER BY id LIMIT $4) AS batch",
        selection.cutoff, ChannelsParam(selection).get(), after_id, limit);
    if (row[0].is_null()) return std::nullopt;
    return IdRange{after_id, row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
}

// One pkey range scan, rather than a join back from a list of ids.
ArchivedBatch AuditRepository::take_range(const AuditSelection& selection, const IdRange& range) {
    return ArchivedBatch(tx_.exec_params(
        std::string("DELETE FROM audit_events a WHERE id > $3 AND id <= $4 AND ") + kMatches +
            " RETURNING a.id, a.channel, to_char(a.created_at, 'YYYY-MM-DD HH24:MI:SS'), "
            "row_to_json(a)::text",
        selection.cutoff, ChannelsParam(selection).get(), range.after_id, range.upper));
}

std::vector<ColumnType> AuditRepository::columns() {
    const auto rows = tx_.exec(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
        "       a.atttypid IN ('json'::regtype, 'jsonb'::regtype), t.typcategory = 'A' "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = 'audit_events'::regclass AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum");
    std::vector<ColumnType> columns;
    for (const auto& row : rows) {
        columns.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<bool>(),
                           row[3].as<bool>()});
    }
    return columns;
}

RestoreCounts AuditRepository::restore_rows(const std::string& json_array,
                                            const std::vector<ColumnType>& columns) {
    // Identifiers and types come from the catalog (quoted here), values only from $1.
    std::string names, values;
    for (const auto& column : columns) {
        const std::string key = tx_.quote(column.name);
        const std::string value =
            column.is_array ? fmt::format(
                                  "CASE WHEN json_typeof(r -> {0}) = 'array' THEN "
                                  "ARRAY(SELECT json_array_elements_text(r -> {0}))::{1} END",
                                  key, column.type)
                            : fmt::format("(r ->> {})::{}", key, column.type);
        names += fmt::format("{}{}", names.empty() ? "" : ", ", tx_.quote_name(column.name));
        values += fmt::format("{}{}", values.empty() ? "" : ", ", value);
    }
    const auto row = tx_.exec_params1(
        fmt::format("WITH given AS (SELECT value AS r FROM json_array_elements($1::json)), "
                    "inserted AS (INSERT INTO audit_events ({}) SELECT {} FROM given "
                    "ON CONFLICT (id) DO NOTHING RETURNING 1) "
                    "SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM given)",
                    names, values),
        json_array);
    const auto inserted = row[0].as<std::int64_t>();
    return {inserted, row[1].as<std::int64_t>() - inserted};
}

std::int64_t AuditRepository::count_existing(const std::string& json_ids) {
    return tx_
        .exec_params1(
            "SELECT count(*) FROM audit_events "
            "WHERE id IN (SELECT json_array_elements_text($1::json)::bigint)",
            json_ids)[0]
        .as<std::int64_t>();
}

}  // namespace ops
