#pragma once

#include <chrono>
#include <string>

namespace ops {

// A dry run plans and reports, and changes nothing.
enum class DryRun { kNo, kYes };

// What every command learns about the run it is part of.
struct RunContext {
    std::string run_id;  // 16 hex digits; the first 8 name files
    DryRun dry_run = DryRun::kNo;
    std::string timezone;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    bool is_dry_run() const { return dry_run == DryRun::kYes; }
    std::string short_run_id() const { return run_id.substr(0, 8); }
    std::chrono::milliseconds elapsed() const;
};

std::string new_run_id();

// SIGINT and SIGTERM only raise a flag that batch loops poll, so the batch in flight
// finishes or rolls back; a second signal falls back to the default action.
void install_signal_handlers();
bool stop_requested();
int stop_signal();  // 0 while no signal arrived

// Sleeps up to `duration`, waking early when a stop is requested.
void interruptible_sleep(std::chrono::milliseconds duration);

}  // namespace ops
