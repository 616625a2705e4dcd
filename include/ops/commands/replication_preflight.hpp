#pragma once

#include <cstdint>
#include <vector>

#include "ops/core/replication.hpp"
#include "ops/db/session.hpp"
#include "ops/output/summary.hpp"

namespace ops {

// The replication preflight of a run that archives `rows` audit events: reads the
// standbys, slots, publications and synchronous settings and judges them against the WAL the
// run is expected to write (see preflight_findings). Nothing on a standby (it has no slots
// of its own to break and writes nothing).
struct ArchivePreflight {
    std::int64_t rows = 0;
    LagLimits limits;
    std::int64_t rows_in_flight = 0;  // batch size x parallel: written before the gate looks
    bool allow_slot_loss = false;
};

struct PreflightResult {
    std::int64_t expected_wal = 0;
    std::vector<Finding> findings;

    bool refused() const;
    // [{subject, level, detail}], for the summary and doctor.
    Summary to_summary() const;
};

PreflightResult run_archive_preflight(Session& session, const ArchivePreflight& request);
PreflightResult run_archive_preflight(Transaction& tx, const ArchivePreflight& request);

// Logs each finding; in a real run a refusal throws ConfigError (exit 78) naming the first.
void enforce_preflight(const PreflightResult& result, bool dry_run);

}  // namespace ops
