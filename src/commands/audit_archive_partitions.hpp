#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "archive_tally.hpp"
#include "ops/archive/archive_writer.hpp"
#include "ops/archive/manifest.hpp"
#include "ops/commands/command.hpp"
#include "ops/db/audit_repository.hpp"
#include "ops/db/partition_repository.hpp"

namespace ops {

// What the archive run asks of the partition step.
struct PartitionRequest {
    struct Options {
        bool row_by_row = false;  // --row-by-row
    };
    AuditSelection selection;
    std::optional<std::int64_t> max_rows;  // --limit
    std::filesystem::path data_file;  // the row-by-row file; a partition's file is named after it
    bool gzip = false;
    Options options;
    std::size_t parallel = 1;             // --parallel: tables copied at once
    std::vector<ManifestColumn> columns;  // the run's column types, for each manifest
};

// The partition-aware part of `ops audit archive` on a partitioned audit_events. A partition
// wholly older than the cutoff goes whole: DETACH (plain, under a 100 ms lock timeout,
// retried), copy every row of the detached table into a file of its own with the row-by-row
// path's line bytes, make file and manifest durable, DROP. Every other partition (straddling
// the cutoff, DEFAULT, not owned, cut short by --limit) is left to the row-by-row batches,
// which run after this step. Each step leaves a partition attached with its rows, detached
// (and marked, see detached_marker) with its rows, or dropped after its file and manifest
// were durable; a later run finds the marked tables and finishes them first.
class PartitionStep {
  public:
    using Options = PartitionRequest::Options;
    static void add_options(CLI::App& app, Options& options);

    // Reads the layout and decides which partitions go whole (read only; the dry run's list).
    void plan(Session& session, const PartitionRequest& request);
    // True when plan() found whole partitions or detached leftovers to finish.
    bool has_work() const { return !whole_.empty() || !leftovers_.empty(); }

    // Finishes leftovers, then archives the whole partitions, checking `stop` before each
    // group (a group detached is finished: partition-sized steps). Returns the rows of whole
    // partitions (leftovers' rows count in the summary, but were not among those selected).
    std::int64_t archive(CommandEnv& env, const std::function<bool()>& stop);

    // The created_at ranges the row-by-row batches then take one after another: each partition
    // still attached that holds old rows, oldest first, then one unbounded pass (the DEFAULT
    // partition, rows that arrived meanwhile); just that pass for a table that is not
    // partitioned by range on created_at. Called after archive().
    std::vector<CreatedRange> row_by_row_passes() const;
    // The rows planned to go whole: they write next to no WAL (for the replication preflight).
    std::int64_t planned_whole_rows() const;

    bool changed_data() const { return whole_tally_.rows > 0 || !dropped_.empty(); }
    // Adds "partitions" to the run's summary, and (real runs) this step's rows and files to
    // its totals. Nothing for a table that is not partitioned.
    void add_to(Summary& summary, DryRun dry_run) const;

  private:
    struct Planned {
        AuditPartition partition;
        std::string reason;  // why it goes row by row; empty when whole
    };
    struct Copied {
        std::string table;
        ArchiveTally tally;
        std::optional<std::filesystem::path> file;  // none when the table was empty
        std::unique_ptr<ArchiveWriter> writer;      // until the file is durable
        Manifest manifest;
    };

    void decide(const PartitionLayout& layout);
    std::string reason_for(const AuditPartition& partition, std::int64_t& taken) const;
    bool detach(Session& session, const std::vector<AuditPartition>& group);
    void finish_detached(CommandEnv& env, const std::vector<std::string>& tables);
    std::vector<Copied> copy_tables(CommandEnv& env, const std::vector<std::string>& tables,
                                    std::exception_ptr& failure);
    Copied copy_table(Session& session, const std::string& table) const;
    void make_durable(const RunContext& run, Copied& copied) const;
    void write_manifest(const RunContext& run, Copied& copied, const ArchiveWriter& writer) const;
    void record(const Copied& copied);
    bool with_lock_retries(Session& session, const std::string& what,
                           const std::function<void(PartitionRepository&)>& action);
    std::filesystem::path file_for(const std::string& table) const;
    Summary plan_summary() const;
    void add_totals(Summary& summary) const;
    void add_planned_files(Summary& summary) const;

    PartitionRequest request_;
    PartitionLayout layout_;
    std::string reason_;  // why the whole table goes row by row; empty when partitions may go whole
    std::vector<Planned> planned_;
    std::vector<AuditPartition> whole_;
    std::vector<std::string> leftovers_;
    std::vector<std::unique_ptr<Session>> sessions_;  // the copies' other sessions
    // Results.
    ArchiveTally whole_tally_;  // the tables dropped
    std::vector<std::string> dropped_;
    std::vector<std::string> not_detached_;
    Summary files_ = Summary::array();
    int lock_timeouts_ = 0;
    int deadlocks_ = 0;
    std::chrono::milliseconds longest_lock_wait_{0};
};

}  // namespace ops
