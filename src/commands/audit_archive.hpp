#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "audit_archive_partitions.hpp"
#include "ops/archive/manifest.hpp"
#include "ops/batch/engine.hpp"
#include "ops/batch/replica_lag_gate.hpp"
#include "ops/commands/command.hpp"
#include "ops/commands/replication_preflight.hpp"
#include "ops/db/audit_repository.hpp"

namespace ops {

// `ops audit archive`: moves audit events older than a cutoff into a JSONL file and
// deletes them, batch by batch. A batch's rows are deleted in the same transaction that
// returns them, and that transaction commits only after their lines are fsync'd: a kill at
// any point leaves every row in the table, in the file, or (between fsync and commit) both.
// Batches cover disjoint id ranges, so up to --parallel of them run at once, each on its
// own connection (the batch engine); the file takes one batch's lines at a time.

// The options as CLI11 binds them.
struct ArchiveOptions {
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
    PartitionStep::Options partitions;  // --row-by-row
};

// What the run was asked, checked: every usage error is found making it.
struct ArchiveRequest {
    std::int64_t days = 90;
    std::optional<std::string> before;  // as given, a local wall time
    std::vector<std::string> channels;
    std::filesystem::path dir;
    std::int64_t batch_size = 10000;
    std::optional<std::int64_t> max_rows;
    std::chrono::milliseconds sleep{0};
    std::optional<std::chrono::milliseconds> max_runtime;
    std::size_t parallel = 2;
    bool gzip = false;
    bool dry_run = false;
    LagLimits lag;
    bool allow_slot_loss = false;
    PartitionStep::Options partitions;
};
ArchiveRequest make_archive_request(const ArchiveOptions& options);  // throws UsageError

// What the run will do (what a dry run reports).
struct ArchivePlan {
    AuditSelection selection;            // the cutoff resolved on the database clock
    std::vector<ChannelCount> channels;  // what the selection holds, per channel
    std::int64_t selected = 0;           // rows to archive (--limit applied)
    std::filesystem::path data_file;
    std::vector<ManifestColumn> columns;  // the table's column types, for the manifest
    std::optional<PreflightResult> preflight;
};

// What the run did.
struct ArchiveResult {
    std::int64_t deleted = 0;
    std::map<std::string, std::int64_t> by_channel;
    std::optional<std::int64_t> first_id, last_id;
    std::optional<std::string> oldest_created_at, newest_created_at;
    std::optional<Manifest> manifest;  // once the file is complete and its manifest written
    Summary replica_lag;               // the gate's pauses; null without --max-lag*
};

// The summary: a function of what was asked, planned and done, and how planning stopped
// (nullopt: it did not end, the run failed or stopped before it).
Summary archive_summary(const ArchiveRequest& request, const ArchivePlan& plan,
                        const ArchiveResult& result, std::optional<batch::Stop> stop);

class AuditArchiveCommand : public Command {
  public:
    ArchiveOptions& options() { return options_; }  // for CLI11 to bind

    void validate() override { request_ = make_archive_request(options_); }
    DryRun dry_run() const override { return options_.dry_run ? DryRun::kYes : DryRun::kNo; }
    void resolve(CommandEnv& env) override;
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    bool changed_data() const override { return result_.deleted > 0 || partitions_.changed_data(); }
    // 75 (try again later) when replica lag stopped the run before it took what it selected.
    ExitCode outcome() const override {
        return stop_ == batch::Stop::kRefused ? ExitCode::kTryLater : ExitCode::kSuccess;
    }

  private:
    void make_plan(Session& session, const RunContext& run);
    void check_replication(Session& session, bool dry_run);
    void archive(CommandEnv& env, std::int64_t taken_whole);
    std::int64_t archive_partitions(CommandEnv& env);

    ArchiveOptions options_;
    ArchiveRequest request_;
    ArchivePlan plan_;
    ArchiveResult result_;
    std::optional<batch::Stop> stop_;
    ReplicaLagGate gate_{LagLimits{}};
    std::chrono::steady_clock::time_point work_started_ = std::chrono::steady_clock::now();
    PartitionStep partitions_;  // whole partitions of a partitioned table, before the batches
};

}  // namespace ops
