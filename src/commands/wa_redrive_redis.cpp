#include "ops/commands/wa_redrive_redis.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace ops {
namespace {

constexpr auto kTimeout = std::chrono::seconds(10);
constexpr auto kRideOut = std::chrono::seconds(30);  // a Redis restart
constexpr std::size_t kMaxScannedJobs = 1000000;
constexpr const char* kRedrivenEvent = "wa.message.redriven";

std::vector<RedisPush> as_pushes(const std::vector<RecordedRedisJob>& jobs) {
    std::vector<RedisPush> pushes;
    pushes.reserve(jobs.size());
    for (const auto& job : jobs) {
        pushes.push_back({job.key, job.marker, job.payload, job.available_at});
    }
    return pushes;
}

}  // namespace

void add_redis_options(CLI::App& app, RedisRedriveOptions& options) {
    app.add_option("--redis-url", options.url,
                   "push onto this Redis: redis://[[user]:password@]host[:port][/db] (default: "
                   "the env file's REDIS_URL, REDIS_HOST, ...)");
}

std::unique_ptr<RedisRedriveTarget> RedisRedriveTarget::open(const QueueSettings& queue,
                                                             const ResolvedConfig* config,
                                                             const RedisRedriveOptions& options) {
    if (!on_redis(queue)) return nullptr;
    return std::make_unique<RedisRedriveTarget>(redis_queue_settings(config, options.url));
}

RedisRedriveTarget::RedisRedriveTarget(RedisQueueSettings settings)
    : settings_(std::move(settings)),
      client_(std::make_unique<RedisClient>(settings_.endpoint, kTimeout)) {
    spdlog::info("Redis queue at {}, prefix '{}' ({})", settings_.endpoint.describe(),
                 settings_.prefix, settings_.prefix_source);
}

void RedisRedriveTarget::recover(Session& session, const RunContext& run) {
    dry_run_ = run.is_dry_run();
    std::vector<RecordedRedisJob> recorded;
    {
        ReadTransaction tx(session);
        recorded = RedisRedriveRepository(tx).recent_redis_jobs(
            kRedrivenEvent, kRecoveryWindowSeconds, run.timezone);
        tx.commit();
    }
    if (recorded.empty()) return;
    if (dry_run_) {
        std::vector<std::string> markers;
        markers.reserve(recorded.size());
        for (const auto& job : recorded) markers.push_back(job.marker);
        for (const bool exists : markers_exist(*client_, markers)) pending_push_ += exists ? 0 : 1;
        return;
    }
    std::int64_t pushed = 0;
    for (const bool now : push_with_retry(as_pushes(recorded))) pushed += now ? 1 : 0;
    recovered_ += pushed;
    if (pushed > 0) {
        spdlog::warn("pushed {} jobs that an earlier run committed but did not push", pushed);
    }
}

std::vector<std::int64_t> RedisRedriveTarget::queued_ids(SnapshotTransaction& tx,
                                                         const RedriveSelection& selection,
                                                         const std::string& queue) {
    const RedisQueueKeys keys{settings_.prefix, queue};
    const auto on_redis = queued_message_ids(*client_, keys, kMaxScannedJobs);
    return RedisRedriveRepository(tx).selected_among(selection, on_redis);
}

std::int64_t RedisRedriveTarget::rate_start(ReadTransaction& tx, const std::string& queue) {
    const std::int64_t now = RedisRedriveRepository(tx).epoch_now();
    const auto latest =
        latest_delayed(*client_, RedisQueueKeys{settings_.prefix, queue}, kMaxScannedJobs);
    return latest && *latest + 1 > now ? *latest + 1 : now;
}

std::vector<RedisPush> RedisRedriveTarget::requeue(Work& tx, const RedriveSelection& selection,
                                                   const RedriveRange& range,
                                                   const LaravelJobPayload& payload,
                                                   const JobBatch& jobs, const RedriveAudit& audit,
                                                   const std::string& zone, RequeuedBatch& out) {
    RedisRedriveRepository repository(tx);
    RequeuedForRedis requeued =
        repository.requeue(selection, range.after_id, range.upper, range.rows, zone);
    const RedisQueueKeys keys{settings_.prefix, jobs.queue};
    out.locked = std::move(requeued.locked);
    std::vector<RedrivenForRedis> recorded;
    std::int64_t k = 0;
    for (const auto& message : out.locked) {
        if (!message.requeued) continue;
        RecordedRedisJob job;
        job.message_id = message.id;
        job.uuid = new_uuid_v4();
        job.key = keys.list();
        job.marker = keys.marker(job.uuid);
        job.payload = payload.build_redis(job.uuid, message.id, requeued.epoch, new_redis_job_id());
        // The same spacing as the database driver's available_at (one index per job).
        if (jobs.rate) job.available_at = jobs.rate_start + (jobs.first_index + k) / *jobs.rate;
        ++k;
        recorded.push_back({&message, std::move(job)});
    }
    out.audit_events = repository.record(recorded, audit, zone);
    out.jobs_inserted = static_cast<std::int64_t>(recorded.size());
    std::vector<RedisPush> pushes;
    pushes.reserve(recorded.size());
    for (const auto& r : recorded) {
        pushes.push_back({r.job.key, r.job.marker, r.job.payload, r.job.available_at});
    }
    return pushes;
}

void RedisRedriveTarget::push(const std::vector<RedisPush>& jobs) {
    if (jobs.empty()) return;
    for (const bool now : push_with_retry(jobs)) {
        if (now) {
            ++pushed_;
        } else {
            ++pushed_before_;  // by a concurrent run's recovery
        }
    }
}

// Each call has its own connection: batches push from several threads. The script is
// idempotent, so a chunk whose replies were lost is simply sent again.
std::vector<bool> RedisRedriveTarget::push_with_retry(const std::vector<RedisPush>& jobs) {
    const auto deadline = std::chrono::steady_clock::now() + kRideOut;
    auto pause = std::chrono::milliseconds(100);
    for (;;) {
        try {
            RedisClient client(settings_.endpoint, kTimeout);
            return push_once(client, jobs);
        } catch (const RedisUnavailable& error) {
            if (std::chrono::steady_clock::now() + pause > deadline) {
                throw RedisUnavailable(
                    std::string(error.what()) + "; " + std::to_string(jobs.size()) +
                        " messages are 'queued' in PostgreSQL with their jobs recorded but "
                        "maybe not pushed",
                    "run `ops wa redrive-failed` again once Redis is back: it pushes them "
                    "first, each once");
            }
            spdlog::warn("{}; retrying in {} ms", error.what(), pause.count());
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::milliseconds(2000));
        }
    }
}

Summary RedisRedriveTarget::summary() const {
    Summary s;
    s["server"] = settings_.endpoint.describe();
    s["prefix"] = settings_.prefix;
    s["prefix_source"] = settings_.prefix_source;
    s["marker_lifetime_s"] = static_cast<std::int64_t>(kMarkerLifetime.count());
    if (dry_run_) {
        s["recorded_not_pushed"] = pending_push_;
    } else {
        s["recovered"] = recovered_.load();
        s["pushed"] = pushed_.load();
        s["pushed_by_another_run"] = pushed_before_.load();
    }
    return s;
}

}  // namespace ops
