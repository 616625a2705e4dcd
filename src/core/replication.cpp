#include "ops/core/replication.hpp"

#include <algorithm>
#include <cstdio>

namespace ops {
namespace {

std::string millis(std::chrono::milliseconds value) {
    char out[32];
    std::snprintf(out, sizeof out, "%.1fs", static_cast<double>(value.count()) / 1000.0);
    return out;
}

std::string quoted(const std::string& kind, const std::string& name) {
    return kind + " '" + name + "'";
}

void check_slot(const SlotState& slot, const PreflightInput& in, std::vector<Finding>& out) {
    const std::string subject = quoted("slot", slot.name);
    if (slot.wal_status == "lost") {
        out.push_back({FindingLevel::kWarning, subject,
                       "is already lost (WAL it needs was removed): its consumer needs a new "
                       "copy; drop the slot once it is replaced"});
        return;
    }
    const FindingLevel loss = in.allow_slot_loss ? FindingLevel::kWarning : FindingLevel::kRefusal;
    if (slot.wal_status == "unreserved") {
        // PostgreSQL shows no safe_wal_size then: it is already past max_slot_wal_keep_size.
        out.push_back({loss, subject,
                       "is unreserved: it needs WAL beyond max_slot_wal_keep_size, which the "
                       "next checkpoint removes (invalidating it); this run's WAL hastens that"});
        return;
    }
    const std::int64_t retained = slot.retained_bytes.value_or(0);
    if (slot.safe_wal_size) {
        // The gate stops the run once the slot retains max_lag_bytes, batches in flight aside.
        std::int64_t may_write = in.expected_wal;
        if (in.max_lag_bytes) {
            may_write =
                std::min(may_write,
                         std::max<std::int64_t>(0, *in.max_lag_bytes - retained) + in.gate_margin);
        }
        if (*slot.safe_wal_size < may_write) {
            out.push_back(
                {loss, subject,
                 "safe_wal_size " + format_bytes(*slot.safe_wal_size) + " is below the ~" +
                     format_bytes(may_write) +
                     " of WAL this run may write: the slot would be "
                     "invalidated (max_slot_wal_keep_size) and its consumer would need a full "
                     "resync"});
        }
        return;
    }
    if (!slot.active) {
        out.push_back({FindingLevel::kWarning, subject,
                       "is inactive and uncapped (max_slot_wal_keep_size = -1): it retains " +
                           format_bytes(retained) + " of WAL and will retain the ~" +
                           format_bytes(in.expected_wal) +
                           " this run writes until its "
                           "consumer reads it; drop it if nothing will"});
    }
}

void check_sync(const SyncReplication& sync, std::vector<Finding>& out) {
    if (sync.standby_names.empty() || sync.required == 0) return;
    const bool commits_wait =
        sync.synchronous_commit != "off" && sync.synchronous_commit != "local";
    if (!commits_wait) return;
    const std::string subject = "synchronous standbys";
    if (!sync.visible) {
        out.push_back({FindingLevel::kWarning, subject,
                       "synchronous_standby_names = '" + sync.standby_names +
                           "', but this role cannot see whether they are connected (grant it "
                           "pg_monitor)"});
        return;
    }
    if (sync.connected < sync.required) {
        out.push_back({FindingLevel::kRefusal, subject,
                       "synchronous_standby_names = '" + sync.standby_names + "' wants " +
                           std::to_string(sync.required) + " connected, " +
                           std::to_string(sync.connected) +
                           " are: every commit would wait until one connects"});
    }
}

}  // namespace

std::optional<std::string> over_lag_limit(const ReplicationSnapshot& snapshot,
                                          const LagLimits& limits) {
    // Bytes first: a time lag reads as seconds behind when nothing commits.
    for (const auto& s : snapshot.standbys) {
        if (limits.max_bytes && s.replay_lag_bytes && *s.replay_lag_bytes > *limits.max_bytes) {
            return quoted("standby", s.name) + " replays " + format_bytes(*s.replay_lag_bytes) +
                   " behind (limit " + format_bytes(*limits.max_bytes) + ")";
        }
    }
    for (const auto& slot : snapshot.slots) {
        if (limits.max_bytes && slot.retained_bytes && *slot.retained_bytes > *limits.max_bytes) {
            return quoted("slot", slot.name) + " retains " + format_bytes(*slot.retained_bytes) +
                   " of WAL (limit " + format_bytes(*limits.max_bytes) + ")";
        }
    }
    for (const auto& s : snapshot.standbys) {
        if (limits.max_lag && s.replay_lag && *s.replay_lag > *limits.max_lag) {
            return quoted("standby", s.name) + " replays " + millis(*s.replay_lag) +
                   " behind (limit " + millis(*limits.max_lag) + ")";
        }
    }
    return std::nullopt;
}

std::vector<Finding> preflight_findings(const PreflightInput& input) {
    std::vector<Finding> out;
    check_sync(input.sync, out);
    for (const auto& slot : input.snapshot.slots) check_slot(slot, input, out);
    for (const auto& publication : input.deleting_publications) {
        out.push_back({FindingLevel::kWarning, quoted("publication", publication),
                       "replicates deletes of " + input.table +
                           ": its subscribers lose the archived rows too (publish = 'insert, "
                           "update' keeps them)"});
    }
    return out;
}

std::string format_bytes(std::int64_t bytes) {
    static const char* const kUnits[] = {"kB", "MB", "GB", "TB", "PB"};
    if (bytes < 1024 && bytes > -1024) return std::to_string(bytes) + " B";
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while ((value >= 1024.0 || value <= -1024.0) && unit + 1 < std::size(kUnits)) {
        value /= 1024.0;
        ++unit;
    }
    char out[32];
    std::snprintf(out, sizeof out, "%.1f %s", value, kUnits[unit]);
    return out;
}

}  // namespace ops
