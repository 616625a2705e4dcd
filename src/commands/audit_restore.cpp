#include "audit_restore.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "ops/commands/audit_restore.hpp"
#include "ops/core/values.hpp"

namespace ops {
namespace {

constexpr std::size_t kReportedKeys = 20;

std::string joined(const std::vector<std::string>& parts, const std::string& separator) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
    return out;
}

std::string on_delete_name(char action) {
    switch (action) {
        case 'n':
            return "SET NULL";
        case 'd':
            return "SET DEFAULT";
        case 'c':
            return "CASCADE";
        case 'r':
            return "RESTRICT";
        default:
            return "NO ACTION";
    }
}

void bind_options(CLI::App& app, RestoreOptions& o) {
    app.add_option("FILE", o.files, "archive data files (.jsonl, .jsonl.gz)")->required();
    app.add_option("--batch-size", o.batch_size, "rows per transaction (default 5000)");
    app.add_flag("--accept-damaged", o.accept_damaged,
                 "restore the sound lines of damaged files; report what is left out");
    app.add_flag("--allow-type-change", o.allow_type_change,
                 "restore into columns whose type changed since the archive; report every "
                 "value that changes");
    app.add_flag("--drop-unknown-columns", o.drop_unknown_columns,
                 "leave out values of columns the table no longer has");
    app.add_flag("--dry-run", o.dry_run,
                 "check the files and count what would be restored; change nothing");
}

}  // namespace

CommandSpec audit_restore_spec() {
    CommandSpec spec;
    spec.group = "audit";
    spec.name = "restore";
    // ids already present, then INSERT with the archived ids; the foreign keys' referenced
    // rows looked up; the id sequence advanced past the restored ids (setval)
    spec.needs.tables = {{"audit_events", audit_event_columns(), {"SELECT", "INSERT"}},
                         {"tenants", {{"id", kIntegerTypes}}, {"SELECT"}}};
    spec.needs.sequences = {{"audit_events", "id", {"SELECT", "UPDATE"}}};
    spec.description = "Put archived audit events back into the table, exactly, keeping their ids";
    spec.examples =
        "  ops audit restore --dry-run "
        "storage/app/audit-archives/audit-events-20261127T010000Z-1a2b3c4d.jsonl\n"
        "  ops audit restore /backup/audit-events-*.jsonl.gz\n"
        "  ops audit restore --accept-damaged "
        "/backup/audit-events-20261127T010000Z-1a2b3c4d.jsonl.gz";
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<AuditRestoreCommand>();
        bind_options(app, command->options());
        return command;
    };
    return spec;
}

RestoreRequest make_restore_request(const RestoreOptions& o) {
    RestoreRequest r;
    r.batch_size = parse_integer(o.batch_size, "--batch-size", 1, 100000);
    for (const auto& file : o.files) {
        if (!std::filesystem::is_regular_file(file)) {
            throw UsageError("FILE: '" + file + "' is not a readable archive file");
        }
    }
    r.files = o.files;
    r.dry_run = o.dry_run;
    r.accept_damaged = o.accept_damaged;
    r.allow_type_change = o.allow_type_change;
    r.drop_unknown_columns = o.drop_unknown_columns;
    return r;
}

// Everything is checked before the first insert; then file by file, batch by batch.
void AuditRestoreCommand::execute(CommandEnv& env) {
    load_table(*env.session);
    inspect_files();
    refuse_damage();
    refuse_unknown_columns();
    plan_type_checks();
    refuse_type_changes();
    check_references(*env.session);
    restore_batches(request_, plan_, *decoder_, result_, env);
}

void AuditRestoreCommand::load_table(Session& session) {
    ReadTransaction tx(session);
    RestoreRepository repo(tx);
    plan_.columns = repo.columns();
    plan_.sequences = repo.owned_sequences();
    decoder_ = std::make_unique<LineDecoder>(plan_.columns);
    if (decoder_->column_of("id") < 0) throw RunFailure("audit_events has no id column");
    for (auto& key : repo.foreign_keys()) {
        RestoreKey state;
        state.column = decoder_->column_of(key.column);
        state.key = std::move(key);
        plan_.keys.push_back(std::move(state));
    }
}

void AuditRestoreCommand::inspect_files() {
    for (const auto& file : request_.files) {
        RestoreFile state;
        state.check =
            check_archive_file(file, [this](const ArchiveLine& line) { note_line(line); });
        plan_.lines += state.check.lines;
        plan_.whole += state.check.whole;
        plan_.torn += state.check.torn;
        plan_.bad += state.check.bad;
        plan_.files.push_back(std::move(state));
    }
}

// What the checks before restoring need from each whole line: member names and the keys
// that foreign-key columns point at.
void AuditRestoreCommand::note_line(const ArchiveLine& line) {
    for (const auto& field : line.fields) {
        const int column = decoder_->column_of(field.key);
        if (column < 0) {
            if (field.key != kJsonNullKey) plan_.unknown_columns.insert(field.key);
            continue;
        }
        for (auto& key : plan_.keys) {
            if (key.column != column) continue;
            std::optional<std::string> value;
            std::string error;
            if (decoder_->value_of(line, field, plan_.columns[static_cast<std::size_t>(column)],
                                   value, error) &&
                value) {
                ++key.lines_by_value[*value];
            }
        }
    }
}

void AuditRestoreCommand::refuse_damage() const {
    std::vector<std::string> damaged;
    for (const auto& file : plan_.files) {
        if (!file.check.damaged()) continue;
        const std::string what =
            file.check.path.string() + ": " + joined(file.check.problems, "; ");
        if (request_.accept_damaged) {
            spdlog::warn("damaged archive file {}; restoring its sound lines only", what);
        }
        damaged.push_back(what);
    }
    if (damaged.empty() || request_.accept_damaged) return;
    throw RunFailure("damaged archive " + std::string(damaged.size() == 1 ? "file " : "files ") +
                         joined(damaged, " | ") + "; nothing was restored",
                     "--accept-damaged restores the sound lines and reports what it leaves out");
}

void AuditRestoreCommand::refuse_unknown_columns() const {
    if (plan_.unknown_columns.empty()) return;
    const std::vector<std::string> names(plan_.unknown_columns.begin(),
                                         plan_.unknown_columns.end());
    if (request_.drop_unknown_columns) {
        spdlog::warn("leaving out the archived values of columns audit_events no longer has: {}",
                     joined(names, ", "));
        return;
    }
    throw RunFailure("audit_events has no column " + joined(names, ", ") +
                         " that the archive files carry; nothing was restored",
                     "add the columns (the application's migration) before restoring, or "
                     "--drop-unknown-columns to leave their values out");
}

// A manifest (format 2) records the column types of the archived table. A column whose type
// differs now stops the restore unless allowed; then, as for files that record no types,
// every value of a column whose type could change it (a modifier, a new type) is compared
// with the archive's.
void AuditRestoreCommand::plan_type_checks() {
    for (auto& file : plan_.files) {
        file.checked.assign(plan_.columns.size(), false);
        std::map<std::string, std::string> archived;
        if (file.check.manifest) {
            for (const auto& c : file.check.manifest->columns) archived[c.name] = c.type;
        }
        for (std::size_t i = 0; i < plan_.columns.size(); ++i) {
            const TableColumn& column = plan_.columns[i];
            const auto it = archived.find(column.name);
            if (it == archived.end()) {
                file.checked[i] = column.has_modifier && !column.generated;
            } else if (it->second != column.type) {
                file.checked[i] = !column.generated;
                plan_.type_changes.push_back(
                    {file.check.path.string(), 0, column.name, it->second, column.type});
            }
        }
    }
}

void AuditRestoreCommand::refuse_type_changes() const {
    if (plan_.type_changes.empty() || request_.allow_type_change) return;
    std::vector<std::string> what;
    for (const auto& c : plan_.type_changes)
        what.push_back(c.column + " (" + c.from + " -> " + c.to + ")");
    std::sort(what.begin(), what.end());
    what.erase(std::unique(what.begin(), what.end()), what.end());
    throw RunFailure("column types changed since the archive: " + joined(what, ", ") +
                         "; values could change, nothing was restored",
                     "--allow-type-change restores anyway and reports every value that changes");
}

void AuditRestoreCommand::check_references(Session& session) {
    ReadTransaction tx(session);
    RestoreRepository repo(tx);
    std::vector<std::string> stops;
    for (auto& key : plan_.keys) {
        if (key.lines_by_value.empty()) continue;
        std::string array = "{";
        for (const auto& [value, lines] : key.lines_by_value) append_array_element(array, value);
        for (auto& value : repo.missing_keys(key.key, array + "}")) {
            key.lines_missing += key.lines_by_value[value];
            key.missing.insert(std::move(value));
        }
        if (key.missing.empty() || (key.key.on_delete != 'a' && key.key.on_delete != 'r')) continue;
        std::vector<std::string> shown(key.missing.begin(), key.missing.end());
        if (shown.size() > kReportedKeys) shown.resize(kReportedKeys);
        stops.push_back(fmt::format(
            "{} {} {} missing from {} ({} lines need them; {} is ON "
            "DELETE {})",
            key.key.column, joined(shown, ", "), key.missing.size() == 1 ? "is" : "are",
            key.key.target, key.lines_missing, key.key.name, on_delete_name(key.key.on_delete)));
    }
    if (stops.empty()) return;
    throw RunFailure("archived rows refer to rows that no longer exist: " + joined(stops, "; ") +
                         "; nothing was restored",
                     "restore the referenced rows first");
}

namespace {

Summary references_summary(const RestorePlan& plan) {
    Summary references = Summary::object();
    for (const auto& key : plan.keys) {
        if (key.missing.empty()) continue;
        std::vector<std::string> shown(key.missing.begin(), key.missing.end());
        if (shown.size() > kReportedKeys) shown.resize(kReportedKeys);
        references[key.key.name] = {{"column", key.key.column},
                                    {"references", key.key.target},
                                    {"on_delete", on_delete_name(key.key.on_delete)},
                                    {"missing_keys", shown},
                                    {"missing_key_count", key.missing.size()},
                                    {"lines", key.lines_missing}};
    }
    return references;
}

Summary damaged_summary(const RestorePlan& plan) {
    Summary damaged = Summary::array();
    for (const auto& file : plan.files) {
        if (!file.check.damaged()) continue;
        Summary left_out = Summary::array();
        for (const auto& range : file.check.left_out)
            left_out.push_back({{"lines", describe_lines(range)}, {"reason", range.reason}});
        damaged.push_back({{"path", file.check.path.string()},
                           {"problems", file.check.problems},
                           {"left_out", left_out}});
    }
    return damaged;
}

void changes_summary(const RestoreRequest& request, const RestorePlan& plan,
                     const RestoreResult& result, Summary& s) {
    Summary types = Summary::array();
    for (const auto& c : plan.type_changes)
        types.push_back(
            {{"path", c.file}, {"column", c.column}, {"archived", c.from}, {"table", c.to}});
    s["type_changes"] = types;
    Summary changed = Summary::array();
    for (const auto& c : result.changed_values) {
        changed.push_back({{"path", c.file},
                           {"line", c.line},
                           {"column", c.column},
                           {"archived", c.from},
                           {"stored", c.to}});
    }
    s[request.dry_run ? "would_change_values" : "changed_values"] = result.changed_count;
    s["changed_values_shown"] = changed;
}

}  // namespace

Summary restore_summary(const RestoreRequest& request, const RestorePlan& plan,
                        const RestoreResult& result) {
    const bool dry = request.dry_run;
    Summary s;
    s["files"] = request.files;
    s["lines"] = plan.lines;
    s["torn_lines"] = plan.torn;
    s["bad_lines"] = plan.bad;
    s[dry ? "would_insert" : "inserted"] = result.inserted;
    s[dry ? "would_skip_existing" : "skipped_existing"] = result.skipped_existing;
    s["references"] = references_summary(plan);
    s[dry ? "would_skip_cascade" : "skipped_cascade"] = result.skipped_cascade;
    s["damaged_files"] = damaged_summary(plan);
    if (request.drop_unknown_columns)
        s["dropped_columns"] =
            std::vector<std::string>(plan.unknown_columns.begin(), plan.unknown_columns.end());
    changes_summary(request, plan, result, s);
    return s;
}

}  // namespace ops
