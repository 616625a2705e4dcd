#include "ops/batch/replica_lag_gate.hpp"

#include <spdlog/spdlog.h>

#include "ops/core/errors.hpp"
#include "ops/core/run_context.hpp"
#include "ops/core/values.hpp"
#include "ops/db/replication_repository.hpp"

namespace ops {
namespace {

// Standbys report their replay position on each WAL receipt and every
// wal_receiver_status_interval; polling faster than this only adds queries.
constexpr std::chrono::milliseconds kPoll{500};

}  // namespace

void ReplicaLagGate::add_options(CLI::App& app, Options& options) {
    app.add_option("--max-lag", options.max_lag,
                   "pause while a standby replays more than DURATION behind (e.g. 30s)");
    app.add_option("--max-lag-bytes", options.max_lag_bytes,
                   "pause while a standby replays, or a replication slot retains, more than "
                   "SIZE of WAL (e.g. 256MB)");
    app.add_option("--max-pause", options.max_pause,
                   "stop (exit 75) once a pause for replica lag lasts DURATION (default 5m)");
}

// A lag limit or a pause longer than a day is no pacing at all.
constexpr std::chrono::hours kMaxLagDuration{24};

LagLimits ReplicaLagGate::parse(const Options& options) {
    LagLimits limits;
    if (!options.max_lag.empty()) {
        limits.max_lag = parse_duration(options.max_lag, "--max-lag", kMaxLagDuration);
        if (limits.max_lag->count() == 0)
            throw UsageError("--max-lag: expected a duration above 0 such as 30s, got '0'");
    }
    if (!options.max_lag_bytes.empty())
        limits.max_bytes = parse_size(options.max_lag_bytes, "--max-lag-bytes");
    limits.max_pause = parse_duration(options.max_pause, "--max-pause", kMaxLagDuration);
    return limits;
}

void ReplicaLagGate::check_access(Session& session) const {
    if (!enabled()) return;
    ReadTransaction tx(session);
    if (ReplicationRepository(tx).can_monitor()) return;
    throw ConfigError(
        "--max-lag/--max-lag-bytes need the role pg_monitor: without it pg_stat_replication "
        "hides the standbys' positions and lags",
        "GRANT pg_monitor TO <this role>; or run without --max-lag and --max-lag-bytes");
}

std::optional<std::string> ReplicaLagGate::over_limit(Session& session) const {
    ReadTransaction tx(session);
    return over_lag_limit(ReplicationRepository(tx).snapshot(), limits_);
}

bool ReplicaLagGate::admit(Session& session) {
    if (!enabled()) return true;
    auto over = over_limit(session);
    if (!over) return true;
    ++pauses_;
    last_over_ = *over;
    spdlog::warn("replica lag: {}; pausing up to {}ms", *over, limits_.max_pause.count());
    const auto start = std::chrono::steady_clock::now();
    const auto waited = [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
    };
    while (over && !stop_requested()) {
        const auto left = limits_.max_pause - waited();
        if (left.count() <= 0) break;
        interruptible_sleep(std::min(left, kPoll));
        over = over_limit(session);
        if (over) last_over_ = *over;
    }
    paused_ += waited();
    if (stop_requested()) return false;
    if (over) {
        gave_up_ = true;
        spdlog::error("replica lag: {} after pausing {}ms (--max-pause); stopping", *over,
                      waited().count());
        return false;
    }
    spdlog::info("replica lag: within the limits again after {}ms", waited().count());
    return true;
}

Summary ReplicaLagGate::summary() const {
    if (!enabled()) return nullptr;
    Summary s;
    s["max_lag_bytes"] = limits_.max_bytes ? Summary(*limits_.max_bytes) : nullptr;
    s["max_lag_ms"] = limits_.max_lag ? Summary(limits_.max_lag->count()) : nullptr;
    s["max_pause_ms"] = limits_.max_pause.count();
    s["pauses"] = pauses_;
    s["paused_ms"] = paused_.count();
    s["last_over"] = last_over_.empty() ? nullptr : Summary(last_over_);
    return s;
}

}  // namespace ops
