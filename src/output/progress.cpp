#include "ops/output/progress.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

namespace ops {
namespace {
constexpr auto kTerminalInterval = std::chrono::milliseconds(200);
constexpr auto kLogInterval = std::chrono::seconds(5);
}  // namespace

ProgressReporter::ProgressReporter(std::string what, std::int64_t total)
    : what_(std::move(what)), total_(total), terminal_(isatty(STDERR_FILENO) == 1) {}

ProgressReporter::~ProgressReporter() {
    if (drew_) std::fputs("\n", stderr);
}

void ProgressReporter::update(std::int64_t done) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_report_ < (terminal_ ? kTerminalInterval : kLogInterval)) return;
    last_report_ = now;
    if (terminal_) {
        std::fprintf(stderr, "\r%s\033[K", line(done).c_str());
        std::fflush(stderr);
        drew_ = true;
    } else {
        spdlog::info("{}", line(done));
    }
}

std::string ProgressReporter::line(std::int64_t done) const {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
    std::string eta = "-";
    if (rate > 0 && total_ > done) {
        const auto left = static_cast<long long>(static_cast<double>(total_ - done) / rate);
        eta = fmt::format("{}m{:02}s", left / 60, left % 60);
    }
    return fmt::format("{}: {} of {} rows, {:.0f} rows/s, ETA {}", what_, done, total_, rate, eta);
}

}  // namespace ops
