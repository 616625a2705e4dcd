#pragma once

#include <set>

#include "ops/commands/command.hpp"
#include "ops/db/audit_repository.hpp"

namespace ops {

// `ops audit restore FILE...`: puts archived rows back with their original ids, in
// batches, for an investigation or a rollback. Rows whose id exists are skipped and
// counted; torn lines are skipped and counted. Every file is read once before anything is
// inserted, so a column the table lacks stops the run with nothing changed.
class AuditRestoreCommand : public Command {
  public:
    static CommandSpec spec();

    void validate() override;
    DryRun dry_run() const override { return dry_run_ ? DryRun::kYes : DryRun::kNo; }
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    bool changed_data() const override { return !dry_run_ && inserted_ > 0; }

  private:
    void check_columns(Session& session);
    void restore_file(Session& session, const std::string& path, bool dry);
    void flush_batch(Session& session, std::string& batch_json, std::string& batch_ids,
                     std::int64_t& batch_rows, bool dry);

    std::vector<std::string> files_;
    std::vector<ColumnType> columns_;  // the table's columns that the files carry
    std::string batch_size_text_ = "5000";
    std::int64_t batch_size_ = 5000;
    bool dry_run_ = false;
    std::int64_t lines_ = 0, torn_ = 0, inserted_ = 0, skipped_existing_ = 0;
};

}  // namespace ops
