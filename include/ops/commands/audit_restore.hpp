#pragma once

#include <map>
#include <set>

#include "ops/archive/archive_check.hpp"
#include "ops/commands/command.hpp"
#include "ops/commands/restore_rows.hpp"
#include "ops/db/restore_repository.hpp"

namespace ops {

// `ops audit restore FILE...`: puts archived rows back exactly as they were archived, with
// their ids, in batches, for an investigation or a rollback. Every file is read and checked
// before anything is inserted: damage, columns the table lacks, column types that changed
// since the archive, and references to rows that are gone stop the run with nothing changed
// (options let it go on, reporting what it did instead). Rows whose id exists are skipped.
class AuditRestoreCommand : public Command {
  public:
    static CommandSpec spec();

    void validate() override;
    DryRun dry_run() const override { return dry_run_ ? DryRun::kYes : DryRun::kNo; }
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    bool changed_data() const override { return !dry_run_ && inserted_ > 0; }

  private:
    struct FileState {
        FileCheck check;
        std::vector<bool> checked;  // by table column: compare each value with the archive's
    };
    struct KeyState {
        ForeignKey key;
        int column = -1;
        std::map<std::string, std::int64_t> lines_by_value;
        std::set<std::string> missing;
        std::int64_t lines_missing = 0, applied = 0;
    };
    struct Change {
        std::string file;
        std::int64_t line = 0;
        std::string column, from, to;
    };
    struct BatchResult {
        std::int64_t inserted = 0;
        std::vector<Change> changes;
    };

    void load_table(Session& session);
    void inspect_files();
    void note_line(const ArchiveLine& line);
    void refuse_damage() const;
    void refuse_unknown_columns() const;
    void plan_type_checks();
    void check_references(Session& session);
    void restore_file(Session& session, FileState& file);
    bool apply_references(RestoreRow& row);
    void flush(Session& session, const FileState& file, std::vector<RestoreRow>& rows);
    BatchResult apply_batch(Transaction& tx, const FileState& file,
                            const std::vector<RestoreRow>& rows, std::size_t count, bool probing);
    std::vector<Change> check_values(RestoreRepository& repo, const FileState& file,
                                     const std::vector<RestoreRow>& rows,
                                     const std::vector<std::size_t>& members,
                                     const ShapeRows& shape);
    void advance_sequences(RestoreRepository& repo, const std::vector<RestoreRow>& rows);
    [[noreturn]] void diagnose(Session& session, const FileState& file,
                               const std::vector<RestoreRow>& rows, const pqxx::sql_error& error);
    void record(BatchResult&& result, std::size_t rows);

    std::vector<std::string> files_;
    std::string batch_size_text_ = "5000";
    std::int64_t batch_size_ = 5000;
    bool dry_run_ = false, accept_damaged_ = false, allow_type_change_ = false,
         drop_unknown_columns_ = false;

    std::vector<TableColumn> columns_;
    std::vector<OwnedSequence> sequences_;
    std::vector<KeyState> keys_;
    std::unique_ptr<LineDecoder> decoder_;
    std::vector<FileState> checked_files_;
    std::set<std::string> unknown_columns_;
    std::vector<Change> type_changes_;  // file, column, from (archived type), to (table type)
    std::int64_t lines_ = 0, whole_ = 0, torn_ = 0, bad_ = 0;
    std::int64_t inserted_ = 0, skipped_existing_ = 0, skipped_cascade_ = 0;
    std::int64_t changed_count_ = 0;
    std::vector<Change> changed_values_;  // the first kReportedChanges
};

}  // namespace ops
