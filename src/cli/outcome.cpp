#include "ops/cli/outcome.hpp"

#include <csignal>
#include <pqxx/except>

#include "ops/db/sql_error.hpp"

namespace ops {
namespace {

// Outcome names, part of the interface like the exit codes (summary `outcome`, the metric
// ops_last_run_outcome): completed, drift_found, replica_lag, interrupted, usage_error,
// config_error, database_unavailable, lock_held, try_later, failed.
std::string failure_name(ExitCode code) {
    switch (code) {
        case ExitCode::kUsage:
            return "usage_error";
        case ExitCode::kConfig:
            return "config_error";
        case ExitCode::kDatabaseUnavailable:
            return "database_unavailable";
        case ExitCode::kTryLater:
            return "try_later";
        default:
            return "failed";
    }
}

Outcome failed(ExitCode code, std::string error, std::string hint = {}) {
    // libpq's messages end in a newline; the error report adds its own.
    while (!error.empty() && (error.back() == '\n' || error.back() == ' ')) error.pop_back();
    return {code, "failed", failure_name(code), std::move(error), std::move(hint)};
}

Outcome classify_database_error(const pqxx::failure& e) {
    if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
        // The server may have committed the batch before the connection went; the summary
        // counts it as not committed, and every command's rerun is right either way.
        return failed(ExitCode::kFailure,
                      "lost the connection to the database while committing a batch, which may "
                      "or may not have committed: " +
                          std::string(e.what()),
                      "the summary counts that batch as not committed; run the command again to "
                      "continue");
    }
    if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
        return failed(ExitCode::kFailure,
                      "lost the connection to the database: " + std::string(e.what()),
                      "the summary shows what was committed; run the command again to continue");
    }
    return failed(ExitCode::kFailure, describe_database_failure(e));
}

}  // namespace

Outcome classify(const std::exception_ptr& error) {
    try {
        if (error) std::rethrow_exception(error);
        return failed(ExitCode::kFailure, "unknown error");
    } catch (const LockHeld& e) {
        Outcome outcome = failed(e.code(), e.what(), e.hint());
        outcome.outcome = "lock_held";
        return outcome;
    } catch (const Error& e) {
        return failed(e.code(), e.what(), e.hint());
    } catch (const pqxx::failure& e) {
        return classify_database_error(e);
    } catch (const std::exception& e) {
        return failed(ExitCode::kFailure, e.what());
    } catch (...) {
        return failed(ExitCode::kFailure, "unknown error");
    }
}

Outcome returned_outcome(ExitCode code, int stop_signal) {
    if (stop_signal != 0) {
        const ExitCode interrupted =
            stop_signal == SIGTERM ? ExitCode::kTerminated : ExitCode::kInterrupted;
        return {interrupted, "interrupted", "interrupted", {}, {}};
    }
    switch (code) {
        case ExitCode::kSuccess:
            return {};
        case ExitCode::kDriftFound:
            return {code, "completed", "drift_found", {}, {}};
        // A command returns kTryLater only when a replica-lag gate gave up (a held lock is
        // thrown, as LockHeld, before the command runs).
        case ExitCode::kTryLater:
            return {code, "completed", "replica_lag", {}, {}};
        default:
            return {code, "completed", failure_name(code), {}, {}};
    }
}

Summary run_summary(const std::string& command, const RunContext& run, const Summary& reported,
                    const Outcome& outcome) {
    Summary summary;
    summary["command"] = command;
    summary["dry_run"] = run.is_dry_run();
    summary["run_id"] = run.run_id;
    if (reported.is_object()) summary.update(reported);
    summary["status"] = outcome.status;
    summary["outcome"] = outcome.outcome;
    summary["exit_code"] = static_cast<int>(outcome.code);
    if (!outcome.error.empty()) summary["error"] = outcome.error;
    if (!outcome.hint.empty()) summary["hint"] = outcome.hint;
    summary["duration_ms"] = run.elapsed().count();
    return summary;
}

Summary failure_summary(const std::string* command, const RunContext* run, const Outcome& outcome) {
    Summary failure;
    failure["command"] = command != nullptr ? Summary(*command) : Summary(nullptr);
    if (run != nullptr) {
        failure["dry_run"] = run->is_dry_run();
        failure["run_id"] = run->run_id;
    }
    failure["status"] = outcome.status;
    failure["outcome"] = outcome.outcome;
    failure["exit_code"] = static_cast<int>(outcome.code);
    failure["error"] = outcome.error;
    failure["hint"] = outcome.hint.empty() ? Summary(nullptr) : Summary(outcome.hint);
    if (run != nullptr) failure["duration_ms"] = run->elapsed().count();
    return failure;
}

EndLine end_line(const std::string& command, const Outcome& outcome,
                 std::chrono::milliseconds elapsed) {
    const std::string took = " (" + std::to_string(elapsed.count()) + "ms)";
    if (outcome.succeeded()) return {false, "ops " + command + " completed successfully" + took};
    const char* how = outcome.status == "interrupted" ? " interrupted" : " aborted";
    return {true, "ops " + command + how + " with exit code " +
                      std::to_string(static_cast<int>(outcome.code)) + took};
}

}  // namespace ops
