#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ops/commands/command.hpp"
#include "ops/commands/replica_lag_gate.hpp"
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
// of them run at once, each on its own connection.
class WaRedriveFailedCommand : public Command {
  public:
    struct Options {
        std::vector<std::string> reasons;
        bool include_permanent = false;
        std::vector<std::string> tenants;
        std::string failed_after;
        std::string failed_before;
        std::string limit;
        std::optional<std::string> queue;  // unset: a plain dispatch onto 'default'
        std::string rate;
        std::string batch_size = "1000";
        std::string parallel = "2";
        std::string tries;
        std::string backoff;
        std::string timeout;
        bool serializes_models = false;
        bool allow_settings_mismatch = false;
        bool dry_run = false;
        ReplicaLagGate::Options lag;
    };

    static CommandSpec spec();

    void validate() override;
    DryRun dry_run() const override { return options_.dry_run ? DryRun::kYes : DryRun::kNo; }
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    bool changed_data() const override { return jobs_inserted_ > 0; }
    // 75 (try again later) when replica lag stopped the run before it took what it selected.
    ExitCode outcome() const override {
        return gate_.gave_up() ? ExitCode::kTryLater : ExitCode::kSuccess;
    }

  private:
    // A --failed-after/--failed-before value: a wall time, or a duration ago.
    struct When {
        std::optional<std::string> at;
        std::optional<std::chrono::milliseconds> ago;
    };
    struct Limits {
        std::optional<When> failed_after;
        std::optional<When> failed_before;
        std::optional<std::int64_t> rate;
        std::int64_t batch_size = 1000;
        std::size_t parallel = 2;
    };
    struct Batch;

    void plan(Session& session, const RunContext& run);
    void choose_payload(const ResolvedConfig* config);
    Summary payload_summary() const;
    void redrive(CommandEnv& env);
    JobBatch job_batch(const RedriveRange& range, std::int64_t first_index,
                       std::vector<std::int64_t> job_ids) const;
    Batch run_batch(Session& session, const RunContext& run, const RedriveRange& range,
                    const JobBatch& jobs);
    void account(const Batch& batch);
    std::string queue_name() const { return options_.queue.value_or(queue_.queue); }

    Options options_;
    Limits limits_;
    RedriveSelection selection_;
    JobClassProperties properties_;
    QueueSettings queue_;
    PayloadForm form_;
    std::string form_reason_;
    std::optional<ApplicationJob> application_job_;  // the newest the application wrote
    std::vector<SettingMismatch> mismatches_;
    std::optional<LaravelJobPayload> payload_;

    // The plan (what the dry run reports).
    RedriveTally tally_;
    std::vector<ReasonMessageCount> left_alone_;
    std::string jobs_id_sequence_;
    std::int64_t already_queued_ = 0;

    // What the run committed (batches running in parallel report under the mutex).
    std::mutex progress_mutex_;
    std::int64_t redriven_ = 0;
    std::int64_t jobs_inserted_ = 0;
    std::int64_t audit_events_ = 0;
    std::map<std::string, std::int64_t> redriven_by_reason_;
    std::map<std::int64_t, std::int64_t> redriven_by_tenant_;
    std::optional<std::string> oldest_failed_at_;
    std::optional<std::string> newest_failed_at_;
    std::optional<std::int64_t> rate_start_;
    std::int64_t rate_last_index_ = -1;  // the highest --rate index a committed job got
    bool exhausted_ = false;
    ReplicaLagGate gate_{LagLimits{}};
};

}  // namespace ops
