#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "ops/db/archived_batch.hpp"
#include "ops/db/session.hpp"

namespace ops {

// One partition's created_at range [from, to), either end open: a batch's statements that
// carry it touch (and lock) only the partitions it overlaps.
struct CreatedRange {
    std::optional<std::string> from;  // "YYYY-MM-DD HH:MM:SS" (inclusive); none: unbounded
    std::optional<std::string> to;    // exclusive; none: unbounded
};

// Which audit events a run selects: created before `cutoff` (NULL created_at never is),
// in one of `channels` (all when empty), within `within` (one partition's pass).
struct AuditSelection {
    std::string cutoff;  // "YYYY-MM-DD HH:MM:SS", naive wall time in the application's zone
    std::vector<std::string> channels;
    CreatedRange within;
};

struct IdRange {
    std::int64_t after_id = 0;  // exclusive
    std::int64_t upper = 0;     // inclusive
    std::int64_t rows = 0;      // matching rows when planned
};

struct ChannelCount {
    std::string channel;
    std::int64_t rows = 0;
    std::string oldest;  // created_at
    std::string newest;
};

// The member archive adds to a line whose json/jsonb columns hold JSON null (format 2;
// ops/archive/archive_line.hpp reads it).
constexpr const char* kJsonNullMember = "$json_null";

// The expression that renders one audit_events row `a` as its archive line (row_to_json, plus
// the "$json_null" member): the row-by-row path and a whole partition's copy write the same bytes.
std::string archive_line_sql(pqxx::transaction_base& tx);

// All SQL on audit_events.
class AuditRepository {
  public:
    explicit AuditRepository(Transaction& tx);

    // Rows the selection matches, per channel, largest first.
    std::vector<ChannelCount> count_by_channel(const AuditSelection& selection);

    // The id range (after_id, upper] that holds the next `limit` matching rows, and how
    // many it holds; nullopt when none are left. Reads only.
    std::optional<IdRange> next_range(const AuditSelection& selection, std::int64_t after_id,
                                      std::int64_t limit);

    // Deletes the matching rows of `range` and returns them as JSON lines (row_to_json: every
    // column, json columns embedded as values), in no set order. Whatever it deletes (even a
    // row that arrived after next_range) it returns. Real only when the caller commits.
    ArchivedBatch take_range(const AuditSelection& selection, const IdRange& range);

    // Each column's name and format_type(), for the manifest.
    std::vector<std::pair<std::string, std::string>> column_types();

  private:
    pqxx::transaction_base& tx_;
};

}  // namespace ops
