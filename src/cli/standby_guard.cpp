#include "ops/cli/standby_guard.hpp"

#include <spdlog/spdlog.h>

#include "ops/db/replication_repository.hpp"

namespace ops {

void guard_standby(Session& session, const CommandSpec& spec, const RunContext& run) {
    // A command that records its runs is one that changes data.
    if (!spec.traits.records_run) return;
    bool standby = false;
    {
        ReadTransaction tx(session);
        standby = ReplicationRepository(tx).in_recovery();
    }
    if (!standby) return;
    if (run.is_dry_run()) {
        spdlog::warn(
            "connected to a standby (pg_is_in_recovery()): this dry run reads it; a real "
            "run of 'ops {}' refuses here and must run on the primary",
            spec.full_name());
        return;
    }
    throw ConfigError("the database is a standby (pg_is_in_recovery() is true): 'ops " +
                          spec.full_name() + "' changes data and runs only on the primary",
                      "point --database-url, DATABASE_URL or DB_HOST at the primary; dry runs and "
                      "'ops doctor' work on a standby");
}

}  // namespace ops
