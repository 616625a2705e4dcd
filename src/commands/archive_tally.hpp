#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "ops/db/archived_batch.hpp"

namespace ops {

// What archived lines add up to: rows, rows per channel, the id and created_at extremes. The
// row-by-row batches and the whole-partition copies both count with it.
struct ArchiveTally {
    std::int64_t rows = 0;
    std::map<std::string, std::int64_t, std::less<>> by_channel;
    std::optional<std::int64_t> first_id, last_id;
    std::optional<std::string> oldest, newest;  // created_at

    // One pass over the batch; a string is copied only for a channel first seen or a new
    // extreme (once per batch, not per row).
    void add(const ArchivedBatch& batch);
    void add(const ArchiveTally& other);
};

}  // namespace ops
