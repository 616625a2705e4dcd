#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ops/archive/archive_check.hpp"
#include "ops/commands/command.hpp"
#include "ops/db/restore_repository.hpp"
#include "restore_rows.hpp"

namespace ops {

// `ops audit restore FILE...`: puts archived rows back exactly as they were archived, with
// their ids, in batches, for an investigation or a rollback. Every file is read and checked
// before anything is inserted: damage, columns the table lacks, column types that changed
// since the archive, and references to rows that are gone stop the run with nothing changed
// (options let it go on, reporting what it did instead). Rows whose id exists are skipped.
// The batches run on the batch engine, one at a time, in the order of the files' lines.

// The options as CLI11 binds them.
struct RestoreOptions {
    std::vector<std::string> files;
    std::string batch_size = "5000";
    bool dry_run = false, accept_damaged = false, allow_type_change = false,
         drop_unknown_columns = false;
};

// What the run was asked, checked: every usage error is found making it.
struct RestoreRequest {
    std::vector<std::string> files;
    std::int64_t batch_size = 5000;
    bool dry_run = false, accept_damaged = false, allow_type_change = false,
         drop_unknown_columns = false;
};
RestoreRequest make_restore_request(const RestoreOptions& options);  // throws UsageError

struct RestoreFile {
    FileCheck check;
    std::vector<bool> checked;  // by table column: compare each value with the archive's
};

struct RestoreKey {
    ForeignKey key;
    int column = -1;
    std::map<std::string, std::int64_t> lines_by_value;
    std::set<std::string> missing;
    std::int64_t lines_missing = 0;
};

// A value that changes (or would) on the way into the table.
struct RestoreChange {
    std::string file;
    std::int64_t line = 0;
    std::string column, from, to;
};

// The table as it is and the files as they were checked (what a dry run reports, with the
// counts of the probe).
struct RestorePlan {
    std::vector<TableColumn> columns;
    std::vector<OwnedSequence> sequences;
    std::vector<RestoreKey> keys;
    std::vector<RestoreFile> files;
    std::set<std::string> unknown_columns;
    std::vector<RestoreChange> type_changes;  // file, column, from (archived), to (table)
    std::int64_t lines = 0, whole = 0, torn = 0, bad = 0;
};

struct RestoreResult {
    std::int64_t inserted = 0, skipped_existing = 0, skipped_cascade = 0;
    std::int64_t changed_count = 0;
    std::vector<RestoreChange> changed_values;  // the first kReportedChanges
};

Summary restore_summary(const RestoreRequest& request, const RestorePlan& plan,
                        const RestoreResult& result);

class AuditRestoreCommand : public Command {
  public:
    RestoreOptions& options() { return options_; }  // for CLI11 to bind

    void validate() override { request_ = make_restore_request(options_); }
    DryRun dry_run() const override { return options_.dry_run ? DryRun::kYes : DryRun::kNo; }
    void execute(CommandEnv& env) override;
    Summary summary() const override { return restore_summary(request_, plan_, result_); }
    bool changed_data() const override { return !request_.dry_run && result_.inserted > 0; }

  private:
    void load_table(Session& session);
    void inspect_files();
    void note_line(const ArchiveLine& line);
    void refuse_damage() const;
    void refuse_unknown_columns() const;
    void plan_type_checks();
    void refuse_type_changes() const;
    void check_references(Session& session);

    RestoreOptions options_;
    RestoreRequest request_;
    RestorePlan plan_;
    RestoreResult result_;
    std::unique_ptr<LineDecoder> decoder_;
};

// Restores the plan's files batch by batch on the engine (audit_restore_batches.cpp).
void restore_batches(const RestoreRequest& request, const RestorePlan& plan, LineDecoder& decoder,
                     RestoreResult& result, CommandEnv& env);

}  // namespace ops
