#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "ops/output/summary.hpp"

namespace ops {

// What one finished run tells monitoring.
struct RunMetrics {
    std::string command;  // "audit archive"
    double ended_at = 0;  // Unix seconds
    double duration_seconds = 0;
    int exit_code = 0;
    // Why it ended (Outcome::outcome: lock_held, replica_lag, ...); empty: not rendered.
    std::string outcome;
    std::optional<double> last_success_at;  // this run's end if it succeeded, else the previous
    std::int64_t consecutive_failures = 0;  // runs in a row, this one included, not exiting 0
    Summary rows_by_action = Summary::object();  // action -> rows, from the summary
};

// What the previous file of the same command recorded, carried over to the next one.
struct PreviousMetrics {
    std::optional<double> last_success_at;
    std::int64_t consecutive_failures = 0;
};

// The Prometheus text exposition format read by node_exporter's textfile collector.
std::string render_metrics(const RunMetrics& metrics);

// "ops_audit_archive.prom": one file per command in the metrics folder.
std::filesystem::path metrics_file(const std::filesystem::path& dir, const std::string& command);

// The samples of `command` in the text of an earlier file. Anything else in the text, and any
// sample whose value is not a well-formed finite number >= 0, is ignored.
PreviousMetrics parse_previous_metrics(std::string_view text, const std::string& command);

// Reads an earlier file back without trusting it: a link, a FIFO, a device or a file larger
// than any ops writes counts as no earlier file. Never throws.
PreviousMetrics read_previous_metrics(const std::filesystem::path& file,
                                      const std::string& command);

// Sets the last success and the consecutive failures from this run's exit code and the
// previous file.
void carry_over(RunMetrics& metrics, const PreviousMetrics& previous);

// Creates `dir` and its missing parents with mode 0755, whatever the umask, so that
// node_exporter's own user can read the files in it. An existing folder keeps its mode.
void create_metrics_folder(const std::filesystem::path& dir);

// Writes this run's file in `dir`: the previous file's counts carried over, the folder
// created (0755) if missing, the file replaced atomically (0644). Metrics never change a
// run's outcome: a folder that cannot be written only warns. Never throws.
void write_metrics_file(const std::filesystem::path& dir, RunMetrics metrics);

// The row counts worth graphing, taken from a command's summary.
Summary rows_by_action(const Summary& summary);

}  // namespace ops
