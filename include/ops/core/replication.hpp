#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// What the primary knows about its standbys and replication slots, and the decisions taken
// from it: is a standby or slot over the run's lag limits, and what the preflight of a big
// write finds. Pure logic over snapshots the ReplicationRepository reads, so it is tested
// without a cluster.
namespace ops {

// One row of pg_stat_replication. Positions are NULL (nullopt) to a role without pg_monitor
// and before the standby's first report.
struct StandbyState {
    std::string name;  // application_name (the standby's cluster_name by default)
    std::string address;
    std::string state;       // streaming, catchup, ...
    std::string sync_state;  // async, sync, potential, quorum
    std::optional<std::int64_t> replay_lag_bytes;
    std::optional<std::chrono::milliseconds> replay_lag;  // NULL when nothing is to replay
};

// One row of pg_replication_slots.
struct SlotState {
    std::string name;
    std::string type;  // physical, logical
    std::string database;
    bool active = false;
    std::string wal_status;                      // reserved, extended, unreserved, lost
    std::optional<std::int64_t> retained_bytes;  // WAL from restart_lsn to now; NULL when lost
    std::optional<std::int64_t> safe_wal_size;   // NULL without max_slot_wal_keep_size
};

// What commits wait for: synchronous_standby_names and synchronous_commit.
struct SyncReplication {
    std::string standby_names;  // empty: no synchronous replication
    std::int64_t required = 0;  // standbys a commit waits for (num_sync), 0 when none
    std::string synchronous_commit;
    std::int64_t connected = 0;  // standbys now sync, potential or quorum
    bool visible = true;         // false when the role cannot see sync_state
};

struct ReplicationSnapshot {
    std::vector<StandbyState> standbys;
    std::vector<SlotState> slots;
};

// --max-lag, --max-lag-bytes, --max-pause.
struct LagLimits {
    std::optional<std::int64_t> max_bytes;
    std::optional<std::chrono::milliseconds> max_lag;
    std::chrono::milliseconds max_pause{std::chrono::minutes(5)};

    bool enabled() const { return max_bytes.has_value() || max_lag.has_value(); }
};

// The first standby or slot over a limit, described for a log line ("standby 'b1' is
// 3.2 MB behind (limit 1.0 MB)"); nullopt when all are within.
std::optional<std::string> over_lag_limit(const ReplicationSnapshot& snapshot,
                                          const LagLimits& limits);

enum class FindingLevel { kWarning, kRefusal };

struct Finding {
    FindingLevel level = FindingLevel::kWarning;
    std::string subject;  // "slot 'cdc'", "publication 'analytics'", "synchronous standbys"
    std::string detail;
};

// What the preflight of a run that writes `expected_wal` bytes of WAL considers.
struct PreflightInput {
    ReplicationSnapshot snapshot;
    SyncReplication sync;
    std::vector<std::string> deleting_publications;  // replicate deletes of the table
    std::string table = "audit_events";
    std::int64_t expected_wal = 0;
    // With --max-lag-bytes the run pauses once a slot retains that much, so it writes at most
    // that (plus the batches in flight, `gate_margin`) past what the slot retains now.
    std::optional<std::int64_t> max_lag_bytes;
    std::int64_t gate_margin = 0;
    bool allow_slot_loss = false;
};

// Refusals: a slot whose safe_wal_size is below the WAL the run may write (unless
// allow_slot_loss), a synchronous standby that is not connected while commits wait for it.
// Warnings: an uncapped inactive slot, a publication replicating the table's deletes, a
// slot already lost, synchronous standbys the role cannot see.
std::vector<Finding> preflight_findings(const PreflightInput& input);

// "512 B", "1.5 kB", "3.2 MB", "1.0 GB" (1024-based, as PostgreSQL's units).
std::string format_bytes(std::int64_t bytes);

}  // namespace ops
