#pragma once

#include <string>

#include "ops/db/session.hpp"
#include "ops/output/summary.hpp"

namespace ops {

// Doctor's replication rows ({check, status, detail}, status ok, warning or problem):
// primary or standby, pg_monitor, each standby and slot, and the archive preflight for the
// baseline schedule's run (the rows older than 90 days). On a standby only the first.
Summary replication_checks(Transaction& tx, const std::string& timezone);

}  // namespace ops
