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
            " RETURNING a.id, a.channel, to_char(a.created_at, 'YYYY-MM-DD HH24:MI:SS'), " +
            archive_line_sql(),
        selection.cutoff, ChannelsParam(selection).get(), range.after_id, range.upper));
}

// row_to_json(a) renders SQL NULL and a json value `null` alike; lines with a json or jsonb
// column holding JSON null end in a "$json_null" member naming those columns (format 2).
// Read from the catalog in the batch's transaction: a migration may add a column mid-run.
std::string AuditRepository::archive_line_sql() {
    const auto rows = tx_.exec(
        "SELECT attname, atttypid = 'jsonb'::regtype FROM pg_attribute "
        "WHERE attrelid = 'audit_events'::regclass AND attnum > 0 AND NOT attisdropped "
        "  AND atttypid IN ('json'::regtype, 'jsonb'::regtype) ORDER BY attnum");
    if (rows.empty()) return "row_to_json(a)::text";
    std::string any, names;
    for (const auto& row : rows) {
        const auto name = row[0].as<std::string>();
        const std::string test =
            fmt::format("{}(a.{}) = 'null'", row[1].as<bool>() ? "jsonb_typeof" : "json_typeof",
                        tx_.quote_name(name));
        any += (any.empty() ? "" : " OR ") + test;
        names +=
            (names.empty() ? "" : ", ") + fmt::format("CASE WHEN {} THEN {} END", test,
                                                      tx_.quote(nlohmann::json(name).dump() + ","));
    }
    return "CASE WHEN " + any + " THEN left(row_to_json(a)::text, -1) || " +
           tx_.quote(",\"" + std::string(kJsonNullMember) + "\":[") + " || rtrim(concat(" + names +
           "), ',') || ']}' ELSE row_to_json(a)::text END";
}

std::vector<std::pair<std::string, std::string>> AuditRepository::column_types() {
    std::vector<std::pair<std::string, std::string>> columns;
    for (const auto& row :
         tx_.exec("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                  "WHERE attrelid = 'audit_events'::regclass AND attnum > 0 AND NOT attisdropped "
                  "ORDER BY attnum")) {
        columns.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    }
    return columns;
}

}  // namespace ops
