#include "ops/commands/doctor_replication.hpp"

#include "ops/commands/replication_preflight.hpp"
#include "ops/db/audit_repository.hpp"
#include "ops/db/clock.hpp"
#include "ops/db/replication_repository.hpp"
#include "ops/db/schema_repository.hpp"

namespace ops {
namespace {

constexpr std::int64_t kBaselineDays = 90;  // the schedule's nightly `audit archive --days 90`

Summary row(const std::string& check, const std::string& status, const std::string& detail) {
    return {{"check", check}, {"status", status}, {"detail", detail}};
}

std::string describe(const StandbyState& s) {
    std::string out = s.address + ", " + s.state + ", " + s.sync_state;
    if (s.replay_lag_bytes) out += ", replays " + format_bytes(*s.replay_lag_bytes) + " behind";
    return out;
}

std::string describe(const SlotState& slot) {
    std::string out = slot.type + (slot.active ? ", active" : ", inactive");
    if (slot.retained_bytes) out += ", retains " + format_bytes(*slot.retained_bytes);
    out += slot.safe_wal_size ? ", safe_wal_size " + format_bytes(*slot.safe_wal_size)
                              : ", no cap (max_slot_wal_keep_size = -1)";
    return out;
}

// Rows older than the baseline's 90 days, 0 when audit_events cannot be read (the table
// check reports that).
std::int64_t baseline_rows(Transaction& tx, const std::string& timezone) {
    if (!SchemaRepository(tx).missing_privileges("audit_events", {"SELECT"}).empty()) return 0;
    const AuditSelection selection{Clock(tx, timezone).days_ago(kBaselineDays), {}, {}};
    std::int64_t rows = 0;
    for (const auto& channel : AuditRepository(tx).count_by_channel(selection))
        rows += channel.rows;
    return rows;
}

void add_monitor_and_topology(ReplicationRepository& replication, Summary& rows) {
    if (replication.can_monitor()) {
        rows.push_back(row("replication monitoring", "ok", "pg_monitor: lags are visible"));
    } else {
        rows.push_back(row("replication monitoring", "warning",
                           "the role is not in pg_monitor: --max-lag and --max-lag-bytes are "
                           "refused (exit 78) and standbys' positions are hidden"));
    }
    const ReplicationSnapshot snapshot = replication.snapshot();
    for (const auto& s : snapshot.standbys)
        rows.push_back(row("standby '" + s.name + "'", "ok", describe(s)));
    for (const auto& slot : snapshot.slots)
        rows.push_back(row("slot '" + slot.name + "'", "ok", describe(slot)));
}

}  // namespace

Summary replication_checks(Transaction& tx, const std::string& timezone) {
    Summary rows = Summary::array();
    ReplicationRepository replication(tx);
    if (replication.in_recovery()) {
        rows.push_back(row("primary", "problem",
                           "this server is a standby (pg_is_in_recovery()): commands that change "
                           "data refuse here (exit 78); dry runs work; point ops at the primary"));
        return rows;
    }
    rows.push_back(row("primary", "ok", "not in recovery"));
    add_monitor_and_topology(replication, rows);
    ArchivePreflight request;
    request.rows = baseline_rows(tx, timezone);
    const PreflightResult preflight = run_archive_preflight(tx, request);
    rows.push_back(row("archive WAL estimate", "ok",
                       std::to_string(request.rows) + " rows older than " +
                           std::to_string(kBaselineDays) + " days: ~" +
                           format_bytes(preflight.expected_wal) + " of WAL"));
    for (const auto& f : preflight.findings) {
        rows.push_back(row("preflight: " + f.subject,
                           f.level == FindingLevel::kRefusal ? "problem" : "warning", f.detail));
    }
    return rows;
}

}  // namespace ops
