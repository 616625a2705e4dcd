#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "ops/core/replication.hpp"
#include "ops/db/session.hpp"
#include "ops/output/summary.hpp"

namespace ops {

// Paces a batch loop to what the standbys and replication slots can follow
// (--max-lag, --max-lag-bytes, --max-pause). Before each batch the loop asks admit(): it
// returns at once while every standby and slot is within the limits, else it waits, polling,
// until they are, or gives up after --max-pause and the loop stops (stopped_by: replica-lag).
class ReplicaLagGate {
  public:
    struct Options {
        std::string max_lag;
        std::string max_lag_bytes;
        std::string max_pause = "5m";
    };

    // Adds --max-lag, --max-lag-bytes and --max-pause to a command's CLI.
    static void add_options(CLI::App& app, Options& options);
    // Parses them; throws UsageError naming the option.
    static LagLimits parse(const Options& options);

    explicit ReplicaLagGate(LagLimits limits) : limits_(limits) {}

    bool enabled() const { return limits_.enabled(); }
    const LagLimits& limits() const { return limits_; }
    // Positions and lags show only to pg_monitor: throws ConfigError (exit 78) naming it.
    void check_access(Session& session) const;
    // True when the next batch may start; false once --max-pause passed with a standby or
    // slot still over a limit, or when a stop was requested while waiting.
    bool admit(Session& session);
    bool gave_up() const { return gave_up_; }
    // {limits, pauses, paused_ms, last_over} for the run's summary; null when disabled.
    Summary summary() const;

  private:
    std::optional<std::string> over_limit(Session& session) const;

    LagLimits limits_;
    int pauses_ = 0;
    std::chrono::milliseconds paused_{0};
    std::string last_over_;
    bool gave_up_ = false;
};

}  // namespace ops
