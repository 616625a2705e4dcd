#include "ops/commands/audit_restore.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <unordered_set>

#include "ops/core/values.hpp"
#include "ops/db/retry.hpp"

namespace ops {
namespace {

constexpr std::size_t kReportedChanges = 100;
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

// PostgreSQL's message without its "ERROR:  " prefix and context lines.
std::string first_line(const std::string& text) {
    std::string line = text.substr(0, text.find('\n'));
    if (line.starts_with("ERROR:  ")) line.erase(0, 8);
    return line;
}

std::optional<std::int64_t> as_integer(const std::optional<std::string>& text) {
    std::int64_t value = 0;
    if (!text) return std::nullopt;
    const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || ptr != text->data() + text->size()) return std::nullopt;
    return value;
}

}  // namespace

CommandSpec AuditRestoreCommand::spec() {
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
        app.add_option("FILE", command->files_, "archive data files (.jsonl, .jsonl.gz)")
            ->required();
        app.add_option("--batch-size", command->batch_size_text_,
                       "rows per transaction (default 5000)");
        app.add_flag("--accept-damaged", command->accept_damaged_,
                     "restore the sound lines of damaged files; report what is left out");
        app.add_flag("--allow-type-change", command->allow_type_change_,
                     "restore into columns whose type changed since the archive; report every "
                     "value that changes");
        app.add_flag("--drop-unknown-columns", command->drop_unknown_columns_,
                     "leave out values of columns the table no longer has");
        app.add_flag("--dry-run", command->dry_run_,
                     "check the files and count what would be restored; change nothing");
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

// Everything is checked before the first insert; then file by file, batch by batch.
void AuditRestoreCommand::execute(CommandEnv& env) {
    load_table(*env.session);
    inspect_files();
    refuse_damage();
    refuse_unknown_columns();
    plan_type_checks();
    check_references(*env.session);
    for (auto& file : checked_files_) {
        if (stop_requested()) return;
        restore_file(*env.session, file);
    }
}

void AuditRestoreCommand::load_table(Session& session) {
    ReadTransaction tx(session);
    RestoreRepository repo(tx);
    columns_ = repo.columns();
    sequences_ = repo.owned_sequences();
    decoder_ = std::make_unique<LineDecoder>(columns_);
    if (decoder_->column_of("id") < 0) throw RunFailure("audit_events has no id column");
    for (auto& key : repo.foreign_keys()) {
        KeyState state;
        state.column = decoder_->column_of(key.column);
        state.key = std::move(key);
        keys_.push_back(std::move(state));
    }
}

void AuditRestoreCommand::inspect_files() {
    for (const auto& file : files_) {
        FileState state;
        state.check =
            check_archive_file(file, [this](const ArchiveLine& line) { note_line(line); });
        lines_ += state.check.lines;
        whole_ += state.check.whole;
        torn_ += state.check.torn;
        bad_ += state.check.bad;
        checked_files_.push_back(std::move(state));
    }
}

// What the checks before restoring need from each whole line: member names and the keys
// that foreign-key columns point at.
void AuditRestoreCommand::note_line(const ArchiveLine& line) {
    for (const auto& field : line.fields) {
        const int column = decoder_->column_of(field.key);
        if (column < 0) {
            if (field.key != kJsonNullKey) unknown_columns_.insert(field.key);
            continue;
        }
        for (auto& key : keys_) {
            if (key.column != column) continue;
            std::optional<std::string> value;
            std::string error;
            if (decoder_->value_of(line, field, columns_[static_cast<std::size_t>(column)], value,
                                   error) &&
                value) {
                ++key.lines_by_value[*value];
            }
        }
    }
}

void AuditRestoreCommand::refuse_damage() const {
    std::vector<std::string> damaged;
    for (const auto& file : checked_files_) {
        if (!file.check.damaged()) continue;
        const std::string what =
            file.check.path.string() + ": " + joined(file.check.problems, "; ");
        if (accept_damaged_) {
            spdlog::warn("damaged archive file {}; restoring its sound lines only", what);
        }
        damaged.push_back(what);
    }
    if (damaged.empty() || accept_damaged_) return;
    throw RunFailure("damaged archive " + std::string(damaged.size() == 1 ? "file " : "files ") +
                         joined(damaged, " | ") + "; nothing was restored",
                     "--accept-damaged restores the sound lines and reports what it leaves out");
}

void AuditRestoreCommand::refuse_unknown_columns() const {
    if (unknown_columns_.empty()) return;
    const std::vector<std::string> names(unknown_columns_.begin(), unknown_columns_.end());
    if (drop_unknown_columns_) {
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
    for (auto& file : checked_files_) {
        file.checked.assign(columns_.size(), false);
        std::map<std::string, std::string> archived;
        if (file.check.manifest) {
            for (const auto& c : file.check.manifest->columns) archived[c.name] = c.type;
        }
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            const TableColumn& column = columns_[i];
            const auto it = archived.find(column.name);
            if (it == archived.end()) {
                file.checked[i] = column.has_modifier && !column.generated;
            } else if (it->second != column.type) {
                file.checked[i] = !column.generated;
                type_changes_.push_back(
                    {file.check.path.string(), 0, column.name, it->second, column.type});
            }
        }
    }
    if (type_changes_.empty() || allow_type_change_) return;
    std::vector<std::string> what;
    for (const auto& c : type_changes_)
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
    for (auto& key : keys_) {
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

// A reference to a row that is gone gets what the database would have done to the line had
// it still been in the table when that row was deleted.
bool AuditRestoreCommand::apply_references(RestoreRow& row) {
    for (auto& key : keys_) {
        if (key.missing.empty() || key.column < 0) continue;
        auto& value = row.values[static_cast<std::size_t>(key.column)];
        if (!value || !key.missing.count(*value)) continue;
        ++key.applied;
        if (key.key.on_delete == 'c') return false;
        value.reset();
        if (key.key.on_delete == 'd') row.present[static_cast<std::size_t>(key.column)] = false;
    }
    return true;
}

void AuditRestoreCommand::restore_file(Session& session, FileState& file) {
    ArchiveReader reader(file.check.path);
    ArchiveLine line;
    std::vector<RestoreRow> rows;
    std::unordered_set<std::int64_t> ids;  // of this batch: a statement inserts an id once
    const bool tokens =
        std::find(file.checked.begin(), file.checked.end(), true) != file.checked.end();
    std::string error;
    while (reader.next(line)) {
        if (!line.whole) continue;  // reported by the checks before
        RestoreRow row;
        if (!decoder_->decode(line, row, tokens, error)) {
            throw RunFailure(fmt::format("{} line {}, {}; nothing of its batch was inserted",
                                         file.check.path.string(), line.number, error));
        }
        if (!apply_references(row)) {
            ++skipped_cascade_;
            continue;
        }
        if (!ids.insert(row.id).second) {
            ++skipped_existing_;
            continue;
        }
        rows.push_back(std::move(row));
        if (static_cast<std::int64_t>(rows.size()) == batch_size_) {
            flush(session, file, rows);
            ids.clear();
            if (stop_requested()) return;
        }
    }
    if (!rows.empty()) flush(session, file, rows);
}

void AuditRestoreCommand::flush(Session& session, const FileState& file,
                                std::vector<RestoreRow>& rows) {
    if (dry_run_) {
        ReadTransaction tx(session);
        BatchResult result = apply_batch(tx, file, rows, rows.size(), true);
        std::string ids = "{";
        for (const auto& row : rows) append_array_element(ids, std::to_string(row.id));
        const std::int64_t existing = RestoreRepository(tx).count_existing(ids + "}");
        result.inserted = static_cast<std::int64_t>(rows.size()) - existing;
        record(std::move(result), rows.size());
    } else {
        try {
            record(retry_transient("audit restore batch",
                                   [&] {
                                       Work tx(session);
                                       BatchResult result =
                                           apply_batch(tx, file, rows, rows.size(), false);
                                       tx.commit();
                                       return result;
                                   }),
                   rows.size());
        } catch (const pqxx::data_exception& e) {
            diagnose(session, file, rows, e);
        } catch (const pqxx::integrity_constraint_violation& e) {
            diagnose(session, file, rows, e);
        }
    }
    rows.clear();
}

void AuditRestoreCommand::record(BatchResult&& result, std::size_t rows) {
    inserted_ += result.inserted;
    skipped_existing_ += static_cast<std::int64_t>(rows) - result.inserted;
    for (auto& change : result.changes) {
        ++changed_count_;
        spdlog::warn("{} line {}, column {}: {} is stored as {}", change.file, change.line,
                     change.column, change.from, change.to);
        if (changed_values_.size() < kReportedChanges) changed_values_.push_back(std::move(change));
    }
}

// `probing`: a dry run or a diagnosis, which inserts nothing it keeps (dry run: nothing).
AuditRestoreCommand::BatchResult AuditRestoreCommand::apply_batch(
    Transaction& tx, const FileState& file, const std::vector<RestoreRow>& rows,
    std::size_t count, bool probing) {
    RestoreRepository repo(tx);
    std::vector<std::size_t> which(count);
    for (std::size_t i = 0; i < count; ++i) which[i] = i;
    BatchResult result;
    const auto groups = group_rows(columns_, rows, which);
    for (const auto& [shape, members] : groups) {
        auto changes = check_values(repo, file, rows, members, shape);
        result.changes.insert(result.changes.end(), changes.begin(), changes.end());
    }
    if (!result.changes.empty() && !allow_type_change_ && !probing) {
        const Change& c = result.changes.front();
        throw RunFailure(
            fmt::format("{} line {}, column {}: {} would be stored as {} ({} values "
                        "of this batch would change); nothing of its batch was "
                        "inserted",
                        c.file, c.line, c.column, c.from, c.to, result.changes.size()),
            "--allow-type-change restores anyway and reports every value that changes");
    }
    if (!tx.writes()) return result;
    for (const auto& [shape, members] : groups) result.inserted += repo.insert_missing(shape);
    if (!probing) advance_sequences(repo, rows);
    return result;
}

std::vector<AuditRestoreCommand::Change> AuditRestoreCommand::check_values(
    RestoreRepository& repo, const FileState& file, const std::vector<RestoreRow>& rows,
    const std::vector<std::size_t>& members, const ShapeRows& shape) {
    ShapeRows checked;
    std::vector<std::string> tokens;
    std::vector<std::size_t> indexes;
    for (std::size_t i = 0; i < shape.columns.size(); ++i) {
        const auto c = static_cast<std::size_t>(shape.columns[i] - columns_.data());
        if (!file.checked[c]) continue;
        checked.columns.push_back(shape.columns[i]);
        checked.arrays.push_back(shape.arrays[i]);
        std::string array = "{";
        for (const std::size_t r : members) {
            append_array_element(array, rows[r].values[c] ? std::optional(rows[r].tokens[c])
                                                          : std::optional<std::string>("null"));
        }
        tokens.push_back(array + "}");
        indexes.push_back(c);
    }
    std::vector<Change> changes;
    if (checked.columns.empty()) return changes;
    for (const auto& change : repo.changed_values(checked, tokens)) {
        const RestoreRow& row = rows[members[static_cast<std::size_t>(change.row - 1)]];
        const auto c = static_cast<std::size_t>(decoder_->column_of(change.column));
        changes.push_back({file.check.path.string(), row.line, change.column,
                           row.values[c] ? row.tokens[c] : "null", change.to});
    }
    return changes;
}

// In the batch's transaction, so that a committed batch never leaves a sequence behind it.
void AuditRestoreCommand::advance_sequences(RestoreRepository& repo,
                                            const std::vector<RestoreRow>& rows) {
    for (const auto& sequence : sequences_) {
        const int c = decoder_->column_of(sequence.column);
        std::optional<std::int64_t> highest;
        for (const auto& row : rows) {
            const auto value = as_integer(row.values[static_cast<std::size_t>(c)]);
            if (value && (!highest || *value > *highest)) highest = value;
        }
        if (highest) repo.advance_sequence(sequence, *highest);
    }
}

// The batch failed on a value: find the first line that makes it fail (each try in a
// savepoint, rolled back), then the column of that line that PostgreSQL does not take.
void AuditRestoreCommand::diagnose(Session& session, const FileState& file,
                                   const std::vector<RestoreRow>& rows,
                                   const pqxx::sql_error& error) {
    Work tx(session);
    // Savepoints by hand: each try is rolled back whether it failed or not.
    const auto attempt = [&tx](const std::function<void()>& work) -> std::string {
        tx.sql().exec("SAVEPOINT ops_restore_probe");
        std::string failure;
        try {
            work();
        } catch (const pqxx::sql_error& e) {
            failure = first_line(e.what());
        }
        tx.sql().exec("ROLLBACK TO SAVEPOINT ops_restore_probe");
        return failure;
    };
    const auto fails = [&](std::size_t count) {
        return !attempt([&] { apply_batch(tx, file, rows, count, true); }).empty();
    };
    if (!fails(rows.size())) {
        throw RunFailure(fmt::format("{} lines {}-{}: {}; nothing of this batch was inserted",
                                     file.check.path.string(), rows.front().line, rows.back().line,
                                     first_line(error.what())));
    }
    std::size_t low = 1, high = rows.size();  // the shortest failing prefix is in [low, high]
    while (low < high) {
        const std::size_t mid = low + (high - low) / 2;
        if (fails(mid)) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    const RestoreRow& row = rows[low - 1];
    RestoreRepository repo(tx);
    repo.create_probe();
    for (std::size_t c = 0; c < columns_.size(); ++c) {
        if (!row.present[c]) continue;
        const std::string failure = attempt([&] { repo.probe(columns_[c], row.values[c]); });
        if (!failure.empty()) {
            throw RunFailure(fmt::format("{} line {}, column {}: {}; nothing of its batch (lines "
                                         "{}-{}) was inserted",
                                         file.check.path.string(), row.line, columns_[c].name,
                                         failure, rows.front().line, rows.back().line),
                             "fix the table (or the value) and run the restore again");
        }
    }
    throw RunFailure(fmt::format("{} line {}: {}; nothing of its batch (lines {}-{}) was inserted",
                                 file.check.path.string(), row.line, first_line(error.what()),
                                 rows.front().line, rows.back().line),
                     "fix the table (or the value) and run the restore again");
}

Summary AuditRestoreCommand::summary() const {
    Summary s;
    s["files"] = files_;
    s["lines"] = lines_;
    s["torn_lines"] = torn_;
    s["bad_lines"] = bad_;
    s[dry_run_ ? "would_insert" : "inserted"] = inserted_;
    s[dry_run_ ? "would_skip_existing" : "skipped_existing"] = skipped_existing_;
    Summary references = Summary::object();
    for (const auto& key : keys_) {
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
    s["references"] = references;
    s[dry_run_ ? "would_skip_cascade" : "skipped_cascade"] = skipped_cascade_;
    Summary damaged = Summary::array();
    for (const auto& file : checked_files_) {
        if (!file.check.damaged()) continue;
        Summary left_out = Summary::array();
        for (const auto& range : file.check.left_out)
            left_out.push_back({{"lines", describe_lines(range)}, {"reason", range.reason}});
        damaged.push_back({{"path", file.check.path.string()},
                           {"problems", file.check.problems},
                           {"left_out", left_out}});
    }
    s["damaged_files"] = damaged;
    if (drop_unknown_columns_)
        s["dropped_columns"] =
            std::vector<std::string>(unknown_columns_.begin(), unknown_columns_.end());
    Summary types = Summary::array();
    for (const auto& c : type_changes_)
        types.push_back(
            {{"path", c.file}, {"column", c.column}, {"archived", c.from}, {"table", c.to}});
    s["type_changes"] = types;
    Summary changed = Summary::array();
    for (const auto& c : changed_values_) {
        changed.push_back({{"path", c.file},
                           {"line", c.line},
                           {"column", c.column},
                           {"archived", c.from},
                           {"stored", c.to}});
    }
    s[dry_run_ ? "would_change_values" : "changed_values"] = changed_count_;
    s["changed_values_shown"] = changed;
    return s;
}

}  // namespace ops
