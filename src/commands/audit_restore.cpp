#include "ops/commands/audit_restore.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "ops/archive/archive_reader.hpp"
#include "ops/core/values.hpp"
#include "ops/db/audit_repository.hpp"
#include "ops/db/retry.hpp"

namespace ops {
namespace {

// The row as restore_rows() takes it: json columns' values turned into their JSON text.
std::string restorable(nlohmann::json row, const std::vector<ColumnType>& columns) {
    for (const auto& column : columns) {
        auto it = row.find(column.name);
        if (column.is_json && it != row.end() && !it->is_null()) *it = it->dump();
    }
    return row.dump();
}

}  // namespace

CommandSpec AuditRestoreCommand::spec() {
    CommandSpec spec;
    spec.group = "audit";
    spec.name = "restore";
    // ids already present, then INSERT with the archived ids (no sequence)
    spec.needs.tables = {{"audit_events", audit_event_columns(), {"SELECT", "INSERT"}}};
    spec.description = "Put archived audit events back into the table, keeping their ids";
    spec.examples =
        "  ops audit restore --dry-run "
        "storage/app/audit-archives/audit-events-20261127T010000Z-1a2b3c4d.jsonl\n"
        "  ops audit restore /backup/audit-events-*.jsonl.gz";
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<AuditRestoreCommand>();
        app.add_option("FILE", command->files_, "archive data files (.jsonl, .jsonl.gz)")
            ->required();
        app.add_option("--batch-size", command->batch_size_text_,
                       "rows per transaction (default 5000)");
        app.add_flag("--dry-run", command->dry_run_,
                     "count what would be restored; change nothing");
        return command;
    };
    return spec;
}

void AuditRestoreCommand::validate() {
    batch_size_ = parse_integer(batch_size_text_, "--batch-size", 1, 100000);
    for (const auto& file : files_) {
        if (!std::filesystem::is_regular_file(file)) {
            throw UsageError("FILE: '" + file + "' is not a readable archive file");
        }
    }
}

void AuditRestoreCommand::execute(CommandEnv& env) {
    check_columns(*env.session);
    for (const auto& file : files_) {
        if (stop_requested()) return;
        restore_file(*env.session, file, env.run.is_dry_run());
    }
}

// Reads every line of every file once, before any insert, for columns the table lacks.
void AuditRestoreCommand::check_columns(Session& session) {
    pqxx::read_transaction tx(session.connection());
    const auto columns = AuditRepository(tx).columns();
    std::set<std::string> carried;
    for (const auto& file : files_) {
        ArchiveReader reader(file);
        while (const auto line = reader.next()) {
            if (!line->whole) continue;
            for (const auto& [key, value] : line->value.items()) carried.insert(key);
        }
    }
    std::set<std::string> unknown = carried;
    for (const auto& column : columns) {
        unknown.erase(column.name);
        if (carried.count(column.name)) columns_.push_back(column);
    }
    if (!unknown.empty()) {
        std::string names;
        for (const auto& name : unknown) names += (names.empty() ? "" : ", ") + name;
        throw RunFailure("audit_events has no column " + names +
                             " that the archive files carry; nothing was restored",
                         "add the columns (the application's migration) before restoring");
    }
}

void AuditRestoreCommand::restore_file(Session& session, const std::string& path, bool dry) {
    ArchiveReader reader(path);
    std::string batch_json = "[", batch_ids = "[";
    std::int64_t batch_rows = 0;
    while (const auto line = reader.next()) {
        ++lines_;
        if (!line->whole) {
            ++torn_;
            spdlog::warn("{}: skipping a torn line (a run was interrupted while writing it)", path);
            continue;
        }
        batch_json += (batch_rows > 0 ? "," : "") + restorable(line->value, columns_);
        batch_ids += (batch_rows > 0 ? "," : "") + std::to_string(line->id);
        if (++batch_rows == batch_size_) {
            flush_batch(session, batch_json, batch_ids, batch_rows, dry);
            if (stop_requested()) return;
        }
    }
    if (batch_rows > 0) flush_batch(session, batch_json, batch_ids, batch_rows, dry);
}

void AuditRestoreCommand::flush_batch(Session& session, std::string& batch_json,
                                      std::string& batch_ids, std::int64_t& batch_rows, bool dry) {
    batch_json += "]";
    batch_ids += "]";
    if (dry) {
        pqxx::read_transaction tx(session.connection());
        const auto existing = AuditRepository(tx).count_existing(batch_ids);
        skipped_existing_ += existing;
        inserted_ += batch_rows - existing;
    } else {
        const RestoreCounts counts = retry_transient("audit restore batch", [&] {
            pqxx::work tx(session.connection());
            const RestoreCounts c = AuditRepository(tx).restore_rows(batch_json, columns_);
            tx.commit();
            return c;
        });
        inserted_ += counts.inserted;
        skipped_existing_ += counts.skipped_existing;
    }
    batch_json = "[";
    batch_ids = "[";
    batch_rows = 0;
}

Summary AuditRestoreCommand::summary() const {
    Summary s;
    s["files"] = files_;
    s["lines"] = lines_;
    s["torn_lines"] = torn_;
    s[dry_run_ ? "would_insert" : "inserted"] = inserted_;
    s[dry_run_ ? "would_skip_existing" : "skipped_existing"] = skipped_existing_;
    return s;
}

}  // namespace ops
