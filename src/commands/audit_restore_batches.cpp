// The batches of `ops audit restore` on the batch engine: the plan's files read line by line
// into batches (the range source), each batch inserted in one transaction (the runner), its
// counts folded into the result on the command's thread.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <unordered_set>

#include "audit_restore.hpp"
#include "ops/archive/archive_reader.hpp"
#include "ops/batch/sessions.hpp"

namespace ops {
namespace {

constexpr std::size_t kReportedChanges = 100;

std::optional<std::int64_t> as_integer(const std::optional<std::string>& text) {
    std::int64_t value = 0;
    if (!text) return std::nullopt;
    const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || ptr != text->data() + text->size()) return std::nullopt;
    return value;
}

// The lines of one batch: all of one file.
struct RestoreTask {
    std::size_t file = 0;
    std::vector<RestoreRow> rows;
    std::int64_t skipped_cascade = 0;   // lines a cascading reference to a gone row drops
    std::int64_t skipped_repeated = 0;  // an id the batch holds already
};

struct RestoreBatch {
    std::int64_t rows = 0;
    std::int64_t inserted = 0;
    std::int64_t skipped_cascade = 0, skipped_repeated = 0;
    std::vector<RestoreChange> changes;
};

// Reads the plan's files in order, one whole line after another.
class LineSource {
  public:
    LineSource(const RestorePlan& plan, LineDecoder& decoder, std::int64_t batch_size)
        : plan_(plan), decoder_(decoder), batch_size_(static_cast<std::size_t>(batch_size)) {}

    // The next batch: up to batch_size rows of the current file; nullopt after the last.
    std::optional<RestoreTask> next();

  private:
    bool open_next_file();
    // A reference to a row that is gone gets what the database would have done to the line
    // had it still been in the table when that row was deleted. False: the line goes.
    bool apply_references(RestoreRow& row) const;

    const RestorePlan& plan_;
    LineDecoder& decoder_;
    std::size_t batch_size_;
    std::size_t file_ = 0;
    std::optional<ArchiveReader> reader_;
    bool tokens_ = false;
    ArchiveLine line_;
};

bool LineSource::open_next_file() {
    if (reader_) {
        reader_.reset();
        ++file_;
    }
    if (file_ >= plan_.files.size()) return false;
    const RestoreFile& file = plan_.files[file_];
    reader_.emplace(file.check.path);
    tokens_ = std::find(file.checked.begin(), file.checked.end(), true) != file.checked.end();
    return true;
}

std::optional<RestoreTask> LineSource::next() {
    if (!reader_ && !open_next_file()) return std::nullopt;
    RestoreTask task;
    task.file = file_;
    std::unordered_set<std::int64_t> ids;  // of this batch: a statement inserts an id once
    std::string error;
    while (task.rows.size() < batch_size_ && reader_->next(line_)) {
        if (!line_.whole) continue;  // reported by the checks before
        RestoreRow row;
        if (!decoder_.decode(line_, row, tokens_, error)) {
            throw RunFailure(fmt::format("{} line {}, {}; nothing of its batch was inserted",
                                         plan_.files[file_].check.path.string(), line_.number,
                                         error));
        }
        if (!apply_references(row)) {
            ++task.skipped_cascade;
        } else if (!ids.insert(row.id).second) {
            ++task.skipped_repeated;
        } else {
            task.rows.push_back(std::move(row));
        }
    }
    // The file ended (a batch never spans two files): the next call opens the next one.
    if (task.rows.size() < batch_size_ && !open_next_file() && task.rows.empty() &&
        task.skipped_cascade == 0 && task.skipped_repeated == 0) {
        return std::nullopt;
    }
    return task;
}

bool LineSource::apply_references(RestoreRow& row) const {
    for (const auto& key : plan_.keys) {
        if (key.missing.empty() || key.column < 0) continue;
        auto& value = row.values[static_cast<std::size_t>(key.column)];
        if (!value || !key.missing.count(*value)) continue;
        if (key.key.on_delete == 'c') return false;
        value.reset();
        if (key.key.on_delete == 'd') row.present[static_cast<std::size_t>(key.column)] = false;
    }
    return true;
}

// The restore's batches for the engine.
class RestoreJob : public batch::Job<Session, RestoreTask, RestoreBatch> {
  public:
    RestoreJob(const RestoreRequest& request, const RestorePlan& plan, LineDecoder& decoder,
               RestoreResult& result)
        : request_(request),
          plan_(plan),
          decoder_(decoder),
          result_(result),
          source_(plan, decoder, request.batch_size) {}

    std::optional<batch::Planned<RestoreTask>> plan(Session& /*session*/,
                                                    const batch::Next& next) override {
        auto task = source_.next();
        if (!task) return std::nullopt;
        const auto rows = static_cast<std::int64_t>(task->rows.size());
        return batch::Planned<RestoreTask>{{next.after, next.after + 1, rows}, std::move(*task)};
    }
    RestoreBatch run(Session& session, const batch::Planned<RestoreTask>& batch,
                     batch::Serial& /*serial*/) override;
    std::int64_t fold(RestoreBatch&& batch) override;

  private:
    RestoreBatch apply(RestoreRepository& repo, const RestoreTask& task, std::size_t count,
                       bool probing) const;
    std::vector<RestoreChange> check_values(RestoreRepository& repo, const RestoreTask& task,
                                            const std::vector<std::size_t>& members,
                                            const ShapeRows& shape) const;
    void advance_sequences(RestoreRepository& repo, const std::vector<RestoreRow>& rows) const;
    [[noreturn]] void diagnose(Session& session, const RestoreTask& task,
                               const RowsRejected& error) const;
    [[noreturn]] void name_column(RestoreRepository& repo, const RestoreTask& task,
                                  const RestoreRow& row, const RowsRejected& error) const;
    std::string path_of(const RestoreTask& task) const {
        return plan_.files[task.file].check.path.string();
    }

    const RestoreRequest& request_;
    const RestorePlan& plan_;
    LineDecoder& decoder_;  // only its column lookup here (the source decodes)
    RestoreResult& result_;
    LineSource source_;
};

RestoreBatch RestoreJob::run(Session& session, const batch::Planned<RestoreTask>& batch,
                             batch::Serial& /*serial*/) {
    const RestoreTask& task = batch.task;
    RestoreBatch done;
    if (!task.rows.empty() && request_.dry_run) {
        RestoreRepository::read_batch(session, [&](RestoreRepository& repo) {
            done = apply(repo, task, task.rows.size(), true);
            std::string ids = "{";
            for (const auto& row : task.rows) append_array_element(ids, std::to_string(row.id));
            done.inserted =
                static_cast<std::int64_t>(task.rows.size()) - repo.count_existing(ids + "}");
        });
    } else if (!task.rows.empty()) {
        try {
            RestoreRepository::write_batch(session, [&](RestoreRepository& repo) {
                done = apply(repo, task, task.rows.size(), false);
            });
        } catch (const RowsRejected& e) {
            diagnose(session, task, e);
        }
    }
    done.rows = static_cast<std::int64_t>(task.rows.size());
    done.skipped_cascade = task.skipped_cascade;
    done.skipped_repeated = task.skipped_repeated;
    return done;
}

std::int64_t RestoreJob::fold(RestoreBatch&& batch) {
    result_.inserted += batch.inserted;
    result_.skipped_existing += batch.rows - batch.inserted + batch.skipped_repeated;
    result_.skipped_cascade += batch.skipped_cascade;
    for (auto& change : batch.changes) {
        ++result_.changed_count;
        spdlog::warn("{} line {}, column {}: {} is stored as {}", change.file, change.line,
                     change.column, change.from, change.to);
        if (result_.changed_values.size() < kReportedChanges)
            result_.changed_values.push_back(std::move(change));
    }
    return batch.rows;
}

// The first `count` rows of the task. `probing`: a dry run or a diagnosis, which inserts
// nothing it keeps (a dry run: nothing).
RestoreBatch RestoreJob::apply(RestoreRepository& repo, const RestoreTask& task, std::size_t count,
                               bool probing) const {
    std::vector<std::size_t> which(count);
    for (std::size_t i = 0; i < count; ++i) which[i] = i;
    RestoreBatch result;
    const auto groups = group_rows(plan_.columns, task.rows, which);
    for (const auto& [shape, members] : groups) {
        auto changes = check_values(repo, task, members, shape);
        result.changes.insert(result.changes.end(), changes.begin(), changes.end());
    }
    if (!result.changes.empty() && !request_.allow_type_change && !probing) {
        const RestoreChange& c = result.changes.front();
        throw RunFailure(
            fmt::format("{} line {}, column {}: {} would be stored as {} ({} values of this "
                        "batch would change); nothing of its batch was inserted",
                        c.file, c.line, c.column, c.from, c.to, result.changes.size()),
            "--allow-type-change restores anyway and reports every value that changes");
    }
    if (!repo.writes()) return result;
    for (const auto& [shape, members] : groups) result.inserted += repo.insert_missing(shape);
    if (!probing) advance_sequences(repo, task.rows);
    return result;
}

std::vector<RestoreChange> RestoreJob::check_values(RestoreRepository& repo,
                                                    const RestoreTask& task,
                                                    const std::vector<std::size_t>& members,
                                                    const ShapeRows& shape) const {
    const RestoreFile& file = plan_.files[task.file];
    ShapeRows checked;
    std::vector<std::string> tokens;
    for (std::size_t i = 0; i < shape.columns.size(); ++i) {
        const auto c = static_cast<std::size_t>(shape.columns[i] - plan_.columns.data());
        if (!file.checked[c]) continue;
        checked.columns.push_back(shape.columns[i]);
        checked.arrays.push_back(shape.arrays[i]);
        std::string array = "{";
        for (const std::size_t r : members) {
            const RestoreRow& row = task.rows[r];
            append_array_element(array, row.values[c] ? std::optional(row.tokens[c])
                                                      : std::optional<std::string>("null"));
        }
        tokens.push_back(array + "}");
    }
    std::vector<RestoreChange> changes;
    if (checked.columns.empty()) return changes;
    for (const auto& change : repo.changed_values(checked, tokens)) {
        const RestoreRow& row = task.rows[members[static_cast<std::size_t>(change.row - 1)]];
        const auto c = static_cast<std::size_t>(decoder_.column_of(change.column));
        changes.push_back({path_of(task), row.line, change.column,
                           row.values[c] ? row.tokens[c] : "null", change.to});
    }
    return changes;
}

// In the batch's transaction, so that a committed batch never leaves a sequence behind it.
void RestoreJob::advance_sequences(RestoreRepository& repo,
                                   const std::vector<RestoreRow>& rows) const {
    for (const auto& sequence : plan_.sequences) {
        const int c = decoder_.column_of(sequence.column);
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
void RestoreJob::diagnose(Session& session, const RestoreTask& task,
                          const RowsRejected& error) const {
    const auto& rows = task.rows;
    RestoreRepository::probe_batch(session, [&](RestoreRepository& repo) {
        const auto fails = [&](std::size_t count) {
            return !repo.attempt([&] { apply(repo, task, count, true); }).empty();
        };
        if (!fails(rows.size())) {
            throw RunFailure(fmt::format("{} lines {}-{}: {}; nothing of this batch was inserted",
                                         path_of(task), rows.front().line, rows.back().line,
                                         error.what()));
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
        name_column(repo, task, rows[low - 1], error);
    });
    throw RunFailure(error.what());  // not reached: name_column throws
}

void RestoreJob::name_column(RestoreRepository& repo, const RestoreTask& task,
                             const RestoreRow& row, const RowsRejected& error) const {
    const auto& rows = task.rows;
    repo.create_probe();
    for (std::size_t c = 0; c < plan_.columns.size(); ++c) {
        if (!row.present[c]) continue;
        const std::string failure =
            repo.attempt([&] { repo.probe(plan_.columns[c], row.values[c]); });
        if (!failure.empty()) {
            throw RunFailure(fmt::format("{} line {}, column {}: {}; nothing of its batch (lines "
                                         "{}-{}) was inserted",
                                         path_of(task), row.line, plan_.columns[c].name, failure,
                                         rows.front().line, rows.back().line),
                             "fix the table (or the value) and run the restore again");
        }
    }
    throw RunFailure(
        fmt::format("{} line {}: {}; nothing of its batch (lines {}-{}) was inserted",
                    path_of(task), row.line, error.what(), rows.front().line, rows.back().line),
        "fix the table (or the value) and run the restore again");
}

}  // namespace

void restore_batches(const RestoreRequest& request, const RestorePlan& plan, LineDecoder& decoder,
                     RestoreResult& result, CommandEnv& env) {
    RestoreJob job(request, plan, decoder, result);
    batch::Config config;
    config.what = "audit restore";
    // One at a time, in the files' order: a later batch must see the ids an earlier one
    // inserted (ids repeat across files, and a partitioned table has nothing unique on id).
    config.parallel = 1;
    config.limits.batch_size = request.batch_size;
    batch::run_on_sessions(job, config, *env.session, env.open_session);
}

}  // namespace ops
