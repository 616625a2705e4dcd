#include "ops/batch/engine.hpp"

#include "ops/core/run_context.hpp"
#include "ops/db/retry.hpp"
#include "ops/output/progress.hpp"

namespace ops::batch {

std::string_view to_string(Stop stop) {
    switch (stop) {
        case Stop::kExhausted:
            return "exhausted";
        case Stop::kLimit:
            return "limit";
        case Stop::kDeadline:
            return "max-runtime";
        case Stop::kSignal:
            return "signal";
        case Stop::kRefused:
            return "replica-lag";
    }
    return "exhausted";
}

Hooks default_hooks() {
    Hooks hooks;
    hooks.stop_requested = [] { return ops::stop_requested(); };
    hooks.sleep = [](std::chrono::milliseconds duration) { interruptible_sleep(duration); };
    hooks.now = [] { return std::chrono::steady_clock::now(); };
    hooks.retry = [](std::string_view what, const std::function<void()>& step) {
        retry_transient(what, step);
    };
    return hooks;
}

struct Progress::Impl {
    Impl(const std::string& what, std::int64_t total) : reporter(what, total) {}
    ProgressReporter reporter;
    std::int64_t done = 0;
};

Progress::Progress(const std::string& what, std::optional<std::int64_t> total) {
    if (total) impl_ = std::make_unique<Impl>(what, *total);
}

Progress::~Progress() = default;

void Progress::add(std::int64_t rows) {
    if (!impl_) return;
    impl_->done += rows;
    impl_->reporter.update(impl_->done);
}

}  // namespace ops::batch
