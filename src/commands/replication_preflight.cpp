#include "ops/commands/replication_preflight.hpp"

#include <spdlog/spdlog.h>

#include "ops/core/errors.hpp"
#include "ops/db/replication_repository.hpp"

namespace ops {

bool PreflightResult::refused() const {
    for (const auto& f : findings) {
        if (f.level == FindingLevel::kRefusal) return true;
    }
    return false;
}

Summary PreflightResult::to_summary() const {
    Summary out = Summary::array();
    for (const auto& f : findings) {
        out.push_back({{"subject", f.subject},
                       {"level", f.level == FindingLevel::kRefusal ? "refused" : "warning"},
                       {"detail", f.detail}});
    }
    return out;
}

PreflightResult run_archive_preflight(Session& session, const ArchivePreflight& request) {
    ReadTransaction tx(session);
    return run_archive_preflight(tx, request);
}

PreflightResult run_archive_preflight(Transaction& tx, const ArchivePreflight& request) {
    ReplicationRepository replication(tx);
    PreflightResult result;
    if (replication.in_recovery()) return result;
    const std::int64_t per_row = request.rows > 0 ? replication.wal_bytes_per_archived_row() : 0;
    PreflightInput input;
    input.snapshot = replication.snapshot();
    input.sync = replication.sync_replication();
    input.deleting_publications = replication.publications_deleting("audit_events");
    input.expected_wal = request.rows * per_row;
    input.max_lag_bytes = request.limits.max_bytes;
    input.gate_margin = request.rows_in_flight * per_row;
    input.allow_slot_loss = request.allow_slot_loss;
    result.expected_wal = input.expected_wal;
    result.findings = preflight_findings(input);
    return result;
}

void enforce_preflight(const PreflightResult& result, bool dry_run) {
    const Finding* refusal = nullptr;
    for (const auto& f : result.findings) {
        if (f.level == FindingLevel::kRefusal) {
            spdlog::error("replication preflight: {} {}{}", f.subject, f.detail,
                          dry_run ? " (a real run would refuse)" : "");
            if (refusal == nullptr) refusal = &f;
        } else {
            spdlog::warn("replication preflight: {} {}", f.subject, f.detail);
        }
    }
    if (refusal == nullptr || dry_run) return;
    throw ConfigError(
        "replication preflight refused the run: " + refusal->subject + " " + refusal->detail,
        "see docs/SCALE.md (Replicas and replication slots); for a slot: archive fewer rows "
        "(--limit), pause before it (--max-lag-bytes below its safe_wal_size), or accept losing "
        "it (--allow-slot-loss)");
}

}  // namespace ops
