#include "ops/commands/doctor_pooler.hpp"

#include "ops/db/pooler.hpp"

namespace ops {
namespace {

std::string route_meaning(PoolMode mode) {
    switch (mode) {
        case PoolMode::kDirect:
            return "a direct connection to PostgreSQL: every guarantee as documented";
        case PoolMode::kSession:
            return "a pooler in session mode (each client connection keeps one server "
                   "connection): works as a direct connection does";
        case PoolMode::kTransaction:
            return "a pooler in transaction mode (PgBouncer pool_mode=transaction): each "
                   "transaction may run on another server connection; ops keeps every "
                   "guarantee, because it sets its timeouts in each transaction and holds its "
                   "lock in one open transaction (docs/SCALE.md)";
    }
    return "";
}

// What this route means for one command that uses the database.
std::string command_meaning(const CommandSpec& spec, PoolMode mode) {
    if (!spec.traits.takes_lock) {
        return "reads only, takes no lock: as on a direct connection";
    }
    if (mode == PoolMode::kDirect) return "as documented";
    const bool parallel = spec.name == "redrive-failed" || spec.name == "archive";
    const std::string batches = !parallel ? "1 for its batches"
                                : mode == PoolMode::kTransaction
                                    ? "1 per batch in flight (up to --parallel)"
                                    : "--parallel more for its batches";
    return "every guarantee kept; a run (not a --dry-run) keeps 1 server connection busy for "
           "its lock throughout, and uses " +
           batches +
           (mode == PoolMode::kTransaction ? " only while a batch's transaction runs"
                                           : " for the whole run");
}

}  // namespace

Summary report_pooler(CommandEnv& env) {
    PoolMode mode = PoolMode::kDirect;
    std::string observation = "the server's backend pid is the one the connection announced";
    std::string mode_name;
    if (env.session->through_pooler()) {
        try {
            const auto second = env.open_session();
            mode = observe_pool_mode(*env.session, *second);
            observation =
                mode == PoolMode::kTransaction
                    ? "two client connections were served by one server connection, or one "
                      "client's server connection changed between transactions"
                    : "the server's backend pid differs from the announced one, and the client "
                      "kept its server connection while another held a transaction";
        } catch (const std::exception& e) {
            // Every command keeps its guarantees in either mode: not knowing which is no problem.
            mode = PoolMode::kTransaction;
            mode_name = "unknown";
            observation = std::string(
                              "a pooler (backend pid differs); a second connection to "
                              "tell its mode failed: ") +
                          e.what();
        }
    }
    Summary report;
    report["mode"] = mode_name.empty() ? pool_mode_name(mode) : mode_name;
    report["through_pooler"] = mode != PoolMode::kDirect;
    report["meaning"] = route_meaning(mode);
    report["observed"] = observation;
    Summary commands = Summary::array();
    for (const CommandSpec& spec : command_table()) {
        if (!spec.traits.needs_database || spec.traits.generator) continue;
        commands.push_back(
            {{"command", spec.full_name()}, {"through this route", command_meaning(spec, mode)}});
    }
    report["commands"] = commands;
    return report;
}

}  // namespace ops
