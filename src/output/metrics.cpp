#include "ops/output/metrics.hpp"

#include <fmt/format.h>

#include <fstream>
#include <regex>

namespace ops {
namespace {

constexpr const char* kActions[] = {"archived", "deleted", "redriven", "jobs_inserted",
                                    "inserted", "updated", "drifted",  "skipped_existing"};
constexpr const char* kSuccessMetric = "ops_last_success_timestamp_seconds";

void gauge(std::string& out, const std::string& name, const std::string& help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
}

}  // namespace

std::string render_metrics(const RunMetrics& m) {
    const std::string label = fmt::format("command=\"{}\"", m.command);
    std::string out;
    gauge(out, "ops_last_run_timestamp_seconds", "Unix time the last run of the command ended.");
    out += fmt::format("ops_last_run_timestamp_seconds{{{}}} {:.3f}\n", label, m.ended_at);
    if (m.last_success_at) {
        gauge(out, kSuccessMetric, "Unix time the last successful run of the command ended.");
        out += fmt::format("{}{{{}}} {:.3f}\n", kSuccessMetric, label, *m.last_success_at);
    }
    gauge(out, "ops_last_run_duration_seconds", "How long the last run took.");
    out += fmt::format("ops_last_run_duration_seconds{{{}}} {:.3f}\n", label, m.duration_seconds);
    gauge(out, "ops_last_run_exit_code", "Exit code of the last run (0 success, see ops --help).");
    out += fmt::format("ops_last_run_exit_code{{{}}} {}\n", label, m.exit_code);
    if (!m.rows_by_action.empty()) {
        gauge(out, "ops_last_run_rows", "Rows the last run handled, per action.");
        for (const auto& [action, rows] : m.rows_by_action.items()) {
            out += fmt::format("ops_last_run_rows{{{},action=\"{}\"}} {}\n", label, action,
                               rows.get<std::int64_t>());
        }
    }
    return out;
}

std::filesystem::path metrics_file(const std::filesystem::path& dir, const std::string& command) {
    std::string name = "ops_" + command + ".prom";
    std::replace(name.begin(), name.end(), ' ', '_');
    std::replace(name.begin(), name.end(), '-', '_');
    return dir / name;
}

std::optional<double> previous_success(const std::filesystem::path& file) {
    static const std::regex kLine(std::string("^") + kSuccessMetric + "\\{[^}]*\\} ([0-9.]+)$");
    // The file is replaced, never followed: a link planted at its name is not read as root.
    std::error_code ec;
    if (std::filesystem::is_symlink(file, ec)) return std::nullopt;
    std::ifstream in(file);
    std::string line;
    std::smatch match;
    while (std::getline(in, line)) {
        if (std::regex_match(line, match, kLine)) return std::stod(match[1]);
    }
    return std::nullopt;
}

Summary rows_by_action(const Summary& summary) {
    Summary rows = Summary::object();
    for (const char* action : kActions) {
        if (summary.contains(action) && summary[action].is_number_integer()) {
            rows[action] = summary[action];
        }
    }
    return rows;
}

}  // namespace ops
