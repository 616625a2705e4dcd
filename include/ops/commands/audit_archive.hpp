#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

#include "ops/archive/manifest.hpp"
#include "ops/commands/audit_archive_partitions.hpp"
#include "ops/commands/command.hpp"
#include "ops/commands/replica_lag_gate.hpp"
#include "ops/commands/replication_preflight.hpp"
#include "ops/db/audit_repository.hpp"

namespace ops {

// `ops audit archive`: moves audit events older than a cutoff into a JSONL file and
// deletes them, batch by batch. A batch's rows are deleted in the same transaction that
// returns them, and that transaction commits only after their lines are fsync'd: a kill at
// any point leaves every row in the table, in the file, or (between fsync and commit) both.
// Batches cover disjoint id ranges, so up to --parallel of them run at once, each on its
// own connection; the file takes one batch's lines at a time.
class AuditArchiveCommand : public Command {
  public:
    struct Options {
        std::string days = "90";
        std::string before;
        std::vector<std::string> channels;
        std::string dir = "storage/app/audit-archives";
        std::string batch_size = "10000";
        std::string limit;
        std::string sleep_ms = "0";
        std::string max_runtime;
        std::string parallel = "2";
        bool gzip = false;
        bool dry_run = false;
        ReplicaLagGate::Options lag;
        bool allow_slot_loss = false;
        PartitionStep::Options partitions;
    };

    static CommandSpec spec();

    void validate() override;
    DryRun dry_run() const override { return options_.dry_run ? DryRun::kYes : DryRun::kNo; }
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    bool changed_data() const override { return deleted_ > 0 || partitions_.changed_data(); }
    // 75 (try again later) when replica lag stopped the run before it took what it selected.
    ExitCode outcome() const override {
        return gate_.gave_up() ? ExitCode::kTryLater : ExitCode::kSuccess;
    }

  private:
    struct Limits {
        std::int64_t days = 90;
        std::optional<std::string> before;
        std::int64_t batch_size = 10000;
        std::optional<std::int64_t> max_rows;
        std::chrono::milliseconds sleep{0};
        std::optional<std::chrono::milliseconds> max_runtime;
        std::size_t parallel = 2;
    };

    void resolve_cutoff(Session& session, const RunContext& run);
    void check_folder(bool create) const;
    void check_replication(Session& session, bool dry_run);
    void plan(Session& session, const RunContext& run);
    void archive(CommandEnv& env);
    void archive_range(Session& session, const IdRange& range, class ArchiveWriter& writer);
    void count_batch(const ArchivedBatch& batch);
    bool should_stop(const RunContext& run);
    std::chrono::milliseconds work_elapsed() const;
    std::chrono::milliseconds pause() const;
    void write_manifest(const class ArchiveWriter& writer, const RunContext& run);

    Options options_;
    Limits limits_;
    AuditSelection selection_;
    std::vector<ChannelCount> planned_;
    std::int64_t selected_ = 0;
    std::filesystem::path data_file_;
    std::mutex progress_mutex_;  // guards what batches running in parallel report
    std::mutex file_mutex_;      // one batch at a time appends and syncs
    std::int64_t planned_rows_ = 0;
    std::int64_t deleted_ = 0;
    std::map<std::string, std::int64_t> deleted_by_channel_;
    Manifest manifest_;
    bool stopped_by_runtime_ = false;
    std::chrono::steady_clock::time_point work_started_ = std::chrono::steady_clock::now();
    ReplicaLagGate gate_{LagLimits{}};
    PreflightResult preflight_;
    bool preflight_ran_ = false;
    PartitionStep partitions_;  // whole partitions of a partitioned table, before the batches
};

}  // namespace ops
