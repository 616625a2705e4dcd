#include "ops/output/metrics.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>

#include "ops/core/errors.hpp"
#include "ops/core/files.hpp"

namespace ops {
namespace {

constexpr const char* kActions[] = {"archived", "deleted", "redriven", "jobs_inserted",
                                    "inserted", "updated", "drifted",  "skipped_existing"};
constexpr const char* kSuccessMetric = "ops_last_success_timestamp_seconds";
constexpr const char* kFailuresMetric = "ops_consecutive_failures";
// A file ops writes is under 2 KiB; anything much larger was not written by ops.
constexpr std::size_t kMaxPreviousFile = std::size_t{64} * 1024;
// The count saturates here instead of overflowing on a forged huge value.
constexpr std::int64_t kMaxConsecutiveFailures = 1'000'000'000;

void gauge(std::string& out, const std::string& name, const std::string& help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
}

// The value after `name{command="..."} ` on a line of exactly that sample, else nothing.
std::optional<std::string_view> sample_value(std::string_view line, std::string_view prefix) {
    if (line.size() <= prefix.size() || line.substr(0, prefix.size()) != prefix) {
        return std::nullopt;
    }
    return line.substr(prefix.size());
}

// The whole text as a number: from_chars takes no "+", spaces, hex prefix or trailing text.
template <typename T>
std::optional<T> whole_number(std::string_view text) {
    T value{};
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end) return std::nullopt;
    return value;
}

class ReadOnlyFile {
  public:
    // O_NOFOLLOW: a planted link is not read; O_NONBLOCK: a planted FIFO does not hang.
    explicit ReadOnlyFile(const std::filesystem::path& path, int flags = 0)
        : fd_(::open(path.c_str(),
                     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | flags)) {}
    ~ReadOnlyFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    ReadOnlyFile(const ReadOnlyFile&) = delete;
    ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

// At most `limit` bytes of a regular file; nothing if it is anything else or longer.
std::optional<std::string> read_small_regular_file(const std::filesystem::path& path,
                                                   std::size_t limit) {
    const ReadOnlyFile file(path);
    struct stat info {};
    if (file.get() < 0 || ::fstat(file.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        return std::nullopt;
    }
    std::string text(limit + 1, '\0');
    std::size_t size = 0;
    while (size < text.size()) {
        const ssize_t got = ::read(file.get(), text.data() + size, text.size() - size);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return std::nullopt;
        if (got == 0) break;
        size += static_cast<std::size_t>(got);
    }
    if (size > limit) return std::nullopt;
    text.resize(size);
    return text;
}

// mkdir's mode passes through the umask (UMask=0027 in the units), so the mode is set after;
// through the opened folder, never a link swapped in at its name.
void set_folder_mode(const std::filesystem::path& folder, mode_t mode) {
    const ReadOnlyFile opened(folder, O_DIRECTORY);
    if (opened.get() < 0 || ::fchmod(opened.get(), mode) != 0) {
        throw RunFailure("cannot set the mode of '" + folder.string() +
                         "': " + std::strerror(errno));
    }
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
    if (!m.outcome.empty()) {
        gauge(out, "ops_last_run_outcome",
              "Why the last run ended, as its outcome label (lock_held and replica_lag share exit "
              "75).");
        out += fmt::format("ops_last_run_outcome{{{},outcome=\"{}\"}} 1\n", label, m.outcome);
    }
    gauge(out, kFailuresMetric, "Runs in a row, the last one included, that did not exit 0.");
    out += fmt::format("{}{{{}}} {}\n", kFailuresMetric, label, m.consecutive_failures);
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

PreviousMetrics parse_previous_metrics(std::string_view text, const std::string& command) {
    const std::string label = "{command=\"" + command + "\"} ";
    const std::string success_prefix = kSuccessMetric + label;
    const std::string failures_prefix = kFailuresMetric + label;
    PreviousMetrics previous;
    bool failures_seen = false;
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        if (const auto value = sample_value(line, success_prefix);
            value && !previous.last_success_at) {
            const auto seconds = whole_number<double>(*value);
            if (seconds && std::isfinite(*seconds) && *seconds >= 0)
                previous.last_success_at = seconds;
        } else if (const auto count = sample_value(line, failures_prefix);
                   count && !failures_seen) {
            const auto runs = whole_number<std::int64_t>(*count);
            failures_seen = runs && *runs >= 0;
            if (failures_seen)
                previous.consecutive_failures = std::min(*runs, kMaxConsecutiveFailures);
        }
    }
    return previous;
}

PreviousMetrics read_previous_metrics(const std::filesystem::path& file,
                                      const std::string& command) {
    const auto text = read_small_regular_file(file, kMaxPreviousFile);
    return text ? parse_previous_metrics(*text, command) : PreviousMetrics{};
}

void carry_over(RunMetrics& metrics, const PreviousMetrics& previous) {
    if (metrics.exit_code == 0) {
        metrics.last_success_at = metrics.ended_at;
        metrics.consecutive_failures = 0;
    } else {
        metrics.last_success_at = previous.last_success_at;
        metrics.consecutive_failures = previous.consecutive_failures + 1;
    }
}

void create_metrics_folder(const std::filesystem::path& dir) {
    std::filesystem::path folder;
    for (const auto& part : dir) {
        folder /= part;
        if (::mkdir(folder.c_str(), 0755) == 0) {
            set_folder_mode(folder, 0755);
        } else if (errno != EEXIST) {
            throw RunFailure("cannot create '" + folder.string() + "': " + std::strerror(errno));
        }
    }
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

void write_metrics_file(const std::filesystem::path& dir, RunMetrics metrics) {
    const auto file = metrics_file(dir, metrics.command);
    try {
        carry_over(metrics, read_previous_metrics(file, metrics.command));
        create_metrics_folder(dir);
        write_file_atomically(file, render_metrics(metrics), kPublicFileMode);
    } catch (const std::exception& e) {
        spdlog::warn("cannot write metrics to {}: {}", file.string(), e.what());
    }
}

}  // namespace ops
