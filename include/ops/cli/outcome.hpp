#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include "ops/core/errors.hpp"
#include "ops/core/run_context.hpp"
#include "ops/core/summary_data.hpp"

namespace ops {

// How a run ended: its exit code, the `status` every summary carries, and `outcome`, which
// names the reason where an exit code has two (75: a held lock or replica lag), so that
// monitoring and scripts can tell them apart.
struct Outcome {
    ExitCode code = ExitCode::kSuccess;
    std::string status = "completed";   // completed | interrupted | failed
    std::string outcome = "completed";  // see outcome_names() in outcome.cpp
    std::string error;                  // empty unless failed
    std::string hint;

    bool succeeded() const { return code == ExitCode::kSuccess || code == ExitCode::kDriftFound; }
};

// The one classifier: any exception a run can raise, as an outcome. The project's errors keep
// their code (LockHeld is "lock_held"); libpqxx's lost connections, doubtful commits and SQL
// errors, and any other std::exception, are failures (exit 1) with a message that says what
// happened. Call it from inside a catch block, or with any exception_ptr. Never throws.
Outcome classify(const std::exception_ptr& error);

// How a run that returned normally ended: `code` is what the command reports (kDriftFound,
// kTryLater for a replica-lag stop); a stop signal (SIGINT or SIGTERM, `stop_signal`)
// overrides it as an interruption.
Outcome returned_outcome(ExitCode code, int stop_signal);

// The summary every run prints: `command`, `dry_run`, `run_id`, then what the command reports,
// then `status`, `outcome`, `exit_code`, `error` and `hint` (when set), `duration_ms`.
Summary run_summary(const std::string& command, const RunContext& run, const Summary& reported,
                    const Outcome& outcome);

// With --output json, the one object of a run that ended before it had a summary (a bad
// option, no connection, the lock held). Without a command (the command line did not parse)
// it carries `command: null` and no run fields.
Summary failure_summary(const std::string* command, const RunContext* run, const Outcome& outcome);

// The end line of every run with a selected command: info for success, error otherwise.
struct EndLine {
    bool error = false;
    std::string text;
};
EndLine end_line(const std::string& command, const Outcome& outcome,
                 std::chrono::milliseconds elapsed);

}  // namespace ops
