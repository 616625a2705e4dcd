#pragma once

#include <ostream>
#include <string>

#include "ops/core/config.hpp"
#include "ops/core/run_context.hpp"

namespace ops {

// The one place that configures spdlog: a stderr sink, text or JSON lines, and in a dry run
// every line prefixed "[DRY-RUN]" so a pasted log cannot be mistaken for a real run.
void setup_logging(const std::string& level, LogFormat format, DryRun dry_run);

// The reason a run exits non-zero, on stderr in the format set up last: "ops: error: WHAT" and
// "HINT: HINT" lines (control characters escaped), or one JSON object with `error` and `hint`.
void report_error(const std::string& what, const std::string& hint);

// Where log lines and error reports go: std::cerr unless an in-process run (a test) passes its
// own stream. Returns the previous one, so the caller can put it back.
std::ostream& set_log_stream(std::ostream& stream);

// Throws UsageError unless `level` is one of trace, debug, info, warn, error, off.
void validate_log_level(const std::string& level);

}  // namespace ops
