#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "ops/core/config.hpp"
#include "ops/core/run_context.hpp"
#include "ops/db/redis_redrive_repository.hpp"
#include "ops/db/session.hpp"
#include "ops/output/summary.hpp"
#include "ops/queue/laravel_job_payload.hpp"
#include "ops/queue/queue_settings.hpp"
#include "ops/queue/redis_queue.hpp"

// `wa redrive-failed` onto Laravel's redis queue driver (docs/REDIS_QUEUE.md). PostgreSQL and
// Redis share no transaction, so a batch's transaction requeues its messages and records each
// job in the message's audit row; only after the commit are the jobs pushed, each by a script
// that pushes it only if its marker key does not exist yet. A crash between the two leaves
// messages 'queued' with their jobs recorded; the next run pushes them first. No job is ever on
// Redis while its message is 'failed', and none is pushed twice.
namespace ops {

struct RedisRedriveOptions {
    std::string url;  // --redis-url: overrides REDIS_URL, REDIS_HOST, ...
};
void add_redis_options(CLI::App& app, RedisRedriveOptions& options);

// How far back a run looks for jobs a crashed run recorded but did not push. The marker
// (kMarkerLifetime, 14 days) outlives it by 7 days, so a job found again was pushed at most
// once.
inline constexpr std::int64_t kRecoveryWindowSeconds = std::int64_t{7} * 24 * 3600;

class RedisRedriveTarget {
  public:
    // Null when the queue is not on Redis (queue_settings() with --redis-url); else connected
    // (RedisUnavailable, exit 69, when Redis cannot be reached).
    static std::unique_ptr<RedisRedriveTarget> open(const QueueSettings& queue,
                                                    const ResolvedConfig* config,
                                                    const RedisRedriveOptions& options);
    explicit RedisRedriveTarget(RedisQueueSettings settings);

    const RedisQueueSettings& settings() const { return settings_; }

    // Pushes what earlier runs committed but did not push; a dry run only counts them.
    void recover(Session& session, const RunContext& run);
    // The selected messages that have a job on Redis already (list, delayed, reserved).
    std::vector<std::int64_t> queued_ids(SnapshotTransaction& tx, const RedriveSelection& selection,
                                         const std::string& queue);
    // Where --rate continues: now, or the second after the latest job in the delayed set.
    std::int64_t rate_start(ReadTransaction& tx, const std::string& queue);

    // In the batch's open transaction: requeues the range's messages and records their jobs;
    // fills `out` (jobs_inserted: the jobs recorded) and returns the jobs to push once the
    // transaction has committed.
    std::vector<RedisPush> requeue(Work& tx, const RedriveSelection& selection,
                                   const RedriveRange& range, const LaravelJobPayload& payload,
                                   const JobBatch& jobs, const RedriveAudit& audit,
                                   const std::string& zone, RequeuedBatch& out);
    // After the commit: pushes them, riding out a Redis restart for up to 30 s.
    void push(const std::vector<RedisPush>& jobs);

    Summary summary() const;
    std::int64_t recovered() const { return recovered_.load(); }  // jobs recovery pushed

  private:
    std::vector<bool> push_with_retry(const std::vector<RedisPush>& jobs);

    RedisQueueSettings settings_;
    std::unique_ptr<RedisClient> client_;  // the main thread's (plan, recovery)
    std::atomic<std::int64_t> recovered_{0};
    std::atomic<std::int64_t> pushed_{0};
    std::atomic<std::int64_t> pushed_before_{0};
    std::int64_t pending_push_ = 0;  // dry run: recorded, not pushed
    bool dry_run_ = false;
};

}  // namespace ops
