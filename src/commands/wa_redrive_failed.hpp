#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ops/batch/engine.hpp"
#include "ops/batch/replica_lag_gate.hpp"
#include "ops/commands/command.hpp"
#include "ops/commands/wa_redrive_redis.hpp"
#include "ops/db/queue_repository.hpp"
#include "ops/db/wa_message_repository.hpp"
#include "ops/queue/job_settings.hpp"
#include "ops/queue/laravel_job_payload.hpp"
#include "ops/queue/queue_settings.hpp"

namespace ops {

// `ops wa redrive-failed`: puts failed WhatsApp messages whose reason is transient back on
// the application's Laravel queue. Per batch, one transaction locks the next messages (skipping
// rows others hold), sets them 'queued', inserts one `jobs` row each (the payload Laravel
// itself writes for SendWaMessageJob) and one `wa.message.redriven` audit event each, and
// commits: a kill at any point leaves every message either failed with no job, or queued with
// exactly one job and one audit event. Batches cover disjoint id ranges, so up to --parallel
// of them run at once, each on its own connection (the batch engine).

// The options as CLI11 binds them.
struct RedriveOptions {
    std::vector<std::string> reasons;
    bool include_permanent = false;
    std::vector<std::string> tenants;
    std::string failed_after;
    std::string failed_before;
    std::string limit;
    std::optional<std::string> queue;  // unset: a plain dispatch onto 'default'
    std::string rate;
    std::string batch_size = "2000";  // docs/commands/wa-redrive-failed.md: why
    std::string parallel = "2";
    std::string tries;
    std::string backoff;
    std::string timeout;
    bool serializes_models = false;
    bool allow_settings_mismatch = false;
    bool dry_run = false;
    ReplicaLagGate::Options lag;
    RedisRedriveOptions redis;  // --redis-url
};

// A --failed-after/--failed-before value: a wall time, or a duration ago.
struct RedriveWhen {
    std::optional<std::string> at;
    std::optional<std::chrono::milliseconds> ago;
};

// What the run was asked, checked: every usage error but one is found making it (the
// resolve step finds a --failed-after that is not before --failed-before).
struct RedriveRequest {
    RedriveSelection selection;  // codes, tenants and limit; no times yet
    std::optional<RedriveWhen> failed_after;
    std::optional<RedriveWhen> failed_before;
    std::optional<std::int64_t> rate;
    std::int64_t batch_size = 2000;
    std::size_t parallel = 2;
    std::optional<std::string> queue;
    JobClassProperties properties;
    bool serializes_models = false;
    bool allow_settings_mismatch = false;
    bool dry_run = false;
    LagLimits lag;
};
RedriveRequest make_redrive_request(const RedriveOptions& options);  // throws UsageError

// What the run will do (what a dry run reports).
struct RedrivePlan {
    QueueSettings queue;
    RedriveSelection selection;  // the request's, times resolved, pending jobs excluded
    std::optional<ApplicationJob> application_job;  // the newest the application wrote
    RedriveTally tally;
    std::vector<ReasonMessageCount> left_alone;
    std::int64_t already_queued = 0;
    PayloadForm form;
    std::string form_reason;
    std::vector<SettingMismatch> mismatches;
    std::optional<LaravelJobPayload> payload;
    std::string jobs_id_sequence;
    std::optional<std::int64_t> rate_start;
    std::shared_ptr<RedisRedriveTarget> redis;  // set when the queue is on Redis
};

// What the run committed.
struct RedriveResult {
    std::int64_t redriven = 0;
    std::int64_t jobs_inserted = 0;
    std::int64_t audit_events = 0;
    std::map<std::string, std::int64_t> by_reason;
    std::map<std::int64_t, std::int64_t> by_tenant;
    std::optional<std::string> oldest_failed_at;
    std::optional<std::string> newest_failed_at;
    std::int64_t rate_last_index = -1;  // the highest --rate index a committed job got
    Summary replica_lag;                // the gate's pauses; null without --max-lag*
};

// The queue the jobs go to: --queue, else the connection's.
std::string queue_name(const RedriveRequest& request, const RedrivePlan& plan);

// The summary: a function of what was asked, planned and done, and how planning stopped
// (nullopt: it did not end, the run failed or stopped before it).
Summary redrive_summary(const RedriveRequest& request, const RedrivePlan& plan,
                        const RedriveResult& result, std::optional<batch::Stop> stop);

class WaRedriveFailedCommand : public Command {
  public:
    RedriveOptions& options() { return options_; }  // for CLI11 to bind

    void validate() override { request_ = make_redrive_request(options_); }
    DryRun dry_run() const override { return options_.dry_run ? DryRun::kYes : DryRun::kNo; }
    void resolve(CommandEnv& env) override;
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    bool changed_data() const override {
        return result_.jobs_inserted > 0 || (plan_.redis && plan_.redis->recovered() > 0);
    }
    // 75 (try again later) when replica lag stopped the run before it took what it selected.
    ExitCode outcome() const override {
        return stop_ == batch::Stop::kRefused ? ExitCode::kTryLater : ExitCode::kSuccess;
    }

  private:
    void make_plan(Session& session);
    void check_settings(bool dry_run) const;
    void start(Session& session);
    void redrive(CommandEnv& env);

    RedriveOptions options_;
    RedriveRequest request_;
    RedrivePlan plan_;
    RedriveResult result_;
    std::optional<batch::Stop> stop_;
    ReplicaLagGate gate_{LagLimits{}};
};

}  // namespace ops
