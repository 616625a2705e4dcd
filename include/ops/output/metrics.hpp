#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "ops/output/summary.hpp"

namespace ops {

// What one finished run tells monitoring.
struct RunMetrics {
    std::string command;  // "audit archive"
    double ended_at = 0;  // Unix seconds
    double duration_seconds = 0;
    int exit_code = 0;
    std::optional<double> last_success_at;  // this run's end if it succeeded, else the previous
    Summary rows_by_action = Summary::object();  // action -> rows, from the summary
};

// The Prometheus text exposition format read by node_exporter's textfile collector.
std::string render_metrics(const RunMetrics& metrics);

// "ops_audit_archive.prom": one file per command in the metrics folder.
std::filesystem::path metrics_file(const std::filesystem::path& dir, const std::string& command);

// The last success recorded in an earlier file, kept when this run failed.
std::optional<double> previous_success(const std::filesystem::path& file);

// The row counts worth graphing, taken from a command's summary.
Summary rows_by_action(const Summary& summary);

}  // namespace ops
