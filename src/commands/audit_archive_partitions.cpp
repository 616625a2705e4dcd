#include "audit_archive_partitions.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "ops/archive/archive_writer.hpp"
#include "ops/core/files.hpp"

namespace ops {
namespace {

// A plain DETACH takes ACCESS EXCLUSIVE on audit_events, and while it waits for that lock
// every application statement on the table queues behind it: so it waits at most this long
// per try, and tries again after a pause in which the application runs.
constexpr std::chrono::milliseconds kLockTimeout{100};
constexpr int kLockTries = 30;
constexpr std::chrono::milliseconds kRetryPause{300};
constexpr std::int64_t kFetchRows = 10000;
// Partitions detached in one transaction: each transaction is one ACCESS EXCLUSIVE wait and
// one commit during which the application waits, so fewer of them stall it less often; a
// group short enough that the lock is held for milliseconds.
constexpr std::size_t kDetachGroup = 8;

// A table name as a file name part: letters, digits and '_' (a quoted name may hold anything).
std::string file_part(const std::string& table) {
    std::string part = table;
    std::replace_if(
        part.begin(), part.end(),
        [](char c) { return !(std::isalnum(static_cast<unsigned char>(c)) || c == '_'); }, '_');
    return part;
}

template <typename T>
std::vector<T> slice(const std::vector<T>& all, std::size_t first, std::size_t count) {
    const auto begin = all.begin() + static_cast<std::ptrdiff_t>(first);
    return {begin, all.begin() + static_cast<std::ptrdiff_t>(std::min(first + count, all.size()))};
}

Summary partition_row(const AuditPartition& p, const std::string& reason) {
    Summary row = {{"partition", p.name}, {"bound", p.bound}, {"rows", p.rows}};
    row["how"] = reason.empty() ? "whole" : "row by row";
    row["reason"] = reason.empty() ? Summary(nullptr) : Summary(reason);
    return row;
}

}  // namespace

void PartitionStep::add_options(CLI::App& app, Options& options) {
    app.add_flag("--row-by-row", options.row_by_row,
                 "on a partitioned table, archive old partitions row by row too (no DETACH/DROP)");
}

void PartitionStep::plan(Session& session, const PartitionRequest& request) {
    request_ = request;
    ReadTransaction tx(session);
    PartitionRepository repo(tx);
    layout_ = repo.layout(request_.selection.cutoff);
    if (!layout_.partitioned) return;
    leftovers_ = repo.detached_leftovers();
    decide(layout_);
    for (const auto& p : planned_) {
        spdlog::info("partition {} ({}): {} rows before the cutoff, {}", p.partition.name,
                     p.partition.bound, p.partition.rows,
                     p.reason.empty() ? "archived whole" : "row by row: " + p.reason);
    }
    for (const auto& table : leftovers_)
        spdlog::warn("{} was detached by an earlier run that did not finish: archiving it", table);
}

void PartitionStep::decide(const PartitionLayout& layout) {
    if (request_.options.row_by_row) {
        reason_ = "--row-by-row";
    } else if (!layout.by_created_at_range) {
        reason_ = "audit_events is not partitioned by range on created_at";
    } else if (!layout.parent_owned) {
        reason_ = "this role does not own audit_events (DETACH needs its owner)";
    } else if (!request_.selection.channels.empty()) {
        reason_ = "--channel (a partition holds every channel)";
    }
    std::int64_t taken = 0;
    for (const auto& partition : layout.partitions) {
        std::string reason = reason_.empty() ? reason_for(partition, taken) : reason_;
        // Partitions with nothing to archive are not listed (the current and future ones).
        if (!reason.empty() && partition.rows == 0) continue;
        if (reason.empty()) whole_.push_back(partition);
        planned_.push_back({partition, std::move(reason)});
    }
}

// Why `partition` goes row by row, or "" when it goes whole (then `taken` grows by its rows).
std::string PartitionStep::reason_for(const AuditPartition& partition, std::int64_t& taken) const {
    if (partition.is_default) return "DEFAULT partition";
    if (partition.sub_partitioned) return "sub-partitioned";
    if (!partition.older) return "straddles the cutoff";
    if (!partition.owned) return "this role does not own it (DROP needs its owner)";
    if (request_.max_rows && taken + partition.rows > *request_.max_rows) {
        // Once one does not fit, none after it goes whole: the row-by-row batches take the
        // oldest rows first, so whole partitions stay the oldest ones.
        taken = *request_.max_rows;
        return "--limit would cut it short";
    }
    taken += partition.rows;
    return "";
}

std::int64_t PartitionStep::archive(CommandEnv& env, const std::function<bool()>& stop) {
    for (std::size_t first = 0; first < leftovers_.size(); first += kDetachGroup) {
        if (stop()) return 0;
        finish_detached(env, slice(leftovers_, first, kDetachGroup));
    }
    // Leftover rows were out of the table when the run planned: not part of what it selected.
    const std::int64_t before = whole_tally_.rows;
    for (std::size_t first = 0; first < whole_.size(); first += kDetachGroup) {
        if (stop()) break;
        const auto group = slice(whole_, first, kDetachGroup);
        std::vector<std::string> tables;
        tables.reserve(group.size());
        for (const auto& p : group) tables.push_back(p.name);
        if (!detach(*env.session, group)) {
            // Still attached: the row-by-row batches take their rows.
            not_detached_.insert(not_detached_.end(), tables.begin(), tables.end());
            continue;
        }
        // Detached partitions are finished even when a stop comes meanwhile: their rows are
        // out of the table already.
        finish_detached(env, tables);
    }
    return whole_tally_.rows - before;
}

std::vector<CreatedRange> PartitionStep::row_by_row_passes() const {
    std::vector<CreatedRange> passes;
    if (layout_.by_created_at_range) {
        for (const auto& [partition, reason] : planned_) {
            const bool dropped =
                std::find(dropped_.begin(), dropped_.end(), partition.name) != dropped_.end();
            if (!partition.is_default && !dropped) passes.push_back(partition.range);
        }
    }
    passes.emplace_back();
    return passes;
}

bool PartitionStep::detach(Session& session, const std::vector<AuditPartition>& group) {
    const std::string what =
        "DETACH " + group.front().name +
        (group.size() > 1 ? " and " + std::to_string(group.size() - 1) + " more" : std::string());
    return with_lock_retries(session, what, [&](PartitionRepository& repo) {
        for (const auto& p : group) repo.detach(layout_, p);
    });
}

// Copies, then durable files and manifests, then one DROP transaction for the tables
// copied: a kill before it commits leaves them detached with their rows, and the next run
// archives them again into files of their own. The files are made durable after the whole
// group was copied, so that each one's writeback went on while the next ones were copied
// (one copy at a time otherwise waits on the disk at every file's end). A failed copy still
// drops the tables copied before it failed, then reports the failure.
void PartitionStep::finish_detached(CommandEnv& env, const std::vector<std::string>& tables) {
    std::exception_ptr failure;
    std::vector<Copied> copies = copy_tables(env, tables, failure);
    for (auto& copied : copies) make_durable(env.run, copied);
    if (!copies.empty() && !with_lock_retries(*env.session, "DROP " + copies.front().table,
                                              [&](PartitionRepository& repo) {
                                                  for (const auto& c : copies) repo.drop(c.table);
                                              })) {
        throw RunFailure("could not lock " + copies.front().table + " to drop it (" +
                             std::to_string(kLockTries) + " tries of " +
                             std::to_string(kLockTimeout.count()) +
                             " ms); its rows are archived, and it is still detached",
                         "run again: the next run archives it again and drops it");
    }
    for (const auto& c : copies) record(c);
    if (failure) std::rethrow_exception(failure);
}

// Up to --parallel tables at once, each on its own session (the run's own one included);
// `failure` holds the first copy that failed, and the tables not started are left out.
std::vector<PartitionStep::Copied> PartitionStep::copy_tables(
    CommandEnv& env, const std::vector<std::string>& tables, std::exception_ptr& failure) {
    std::vector<Copied> copies(tables.size());
    const std::size_t workers =
        std::max<std::size_t>(1, std::min(request_.parallel, tables.size()));
    while (sessions_.size() + 1 < workers) sessions_.push_back(env.open_session());
    std::atomic<std::size_t> next{0};
    std::vector<std::exception_ptr> errors(workers);
    const auto work = [&](std::size_t worker, Session& session) {
        try {
            for (std::size_t i = next++; i < tables.size(); i = next++)
                copies[i] = copy_table(session, tables[i]);
        } catch (...) {
            errors[worker] = std::current_exception();
            next = tables.size();  // the others stop after the table in hand
        }
    };
    {
        std::vector<std::jthread> threads;
        for (std::size_t w = 1; w < workers; ++w)
            threads.emplace_back(work, w, std::ref(*sessions_[w - 1]));
        work(0, *env.session);
    }
    for (const auto& e : errors)
        if (e && !failure) failure = e;
    std::erase_if(copies, [](const Copied& c) { return c.table.empty(); });
    return copies;
}

// The server renders the next rows while this thread writes the last ones, as COPY streams:
// one connection keeps the server busy. Each fetch's lines are written back as they come and
// made durable once, by make_durable() (the copy counts only then), so that the application's WAL
// fsyncs do not queue behind a device flush every 10,000 rows.
PartitionStep::Copied PartitionStep::copy_table(Session& session, const std::string& table) const {
    Copied copied;
    copied.table = table;
    std::unique_ptr<ArchiveWriter>& writer = copied.writer;
    ReadTransaction tx(session);
    PartitionRepository repo(tx);
    repo.open_copy(table);
    // The fetch in flight is the transaction's only user; declared after it, so that a
    // failure here waits for the fetch before the transaction ends.
    const auto fetch = [&repo] { return repo.fetch(kFetchRows); };
    std::future<ArchivedBatch> next = std::async(std::launch::async, fetch);
    for (;;) {
        const ArchivedBatch batch = next.get();
        if (batch.size() == 0) break;
        next = std::async(std::launch::async, fetch);
        if (!writer) {
            copied.file = file_for(table);
            writer = std::make_unique<ArchiveWriter>(
                *copied.file, request_.gzip ? Compression::kGzip : Compression::kNone);
        }
        for (std::size_t i = 0; i < batch.size(); ++i) writer->append_line(batch.json(i));
        writer->write_back();
        copied.tally.add(batch);
    }
    return copied;
}

// The file fdatasync'd (finish), then its manifest (an empty table has neither).
void PartitionStep::make_durable(const RunContext& run, Copied& copied) const {
    if (!copied.writer) return;
    copied.writer->finish();
    write_manifest(run, copied, *copied.writer);
    copied.writer.reset();
}

void PartitionStep::write_manifest(const RunContext& run, Copied& copied,
                                   const ArchiveWriter& writer) const {
    Manifest& m = copied.manifest;
    m.first_id = copied.tally.first_id;
    m.last_id = copied.tally.last_id;
    m.oldest_created_at = copied.tally.oldest;
    m.newest_created_at = copied.tally.newest;
    m.data_file = writer.path().filename().string();
    m.run_id = run.run_id;
    m.compression = request_.gzip ? "gzip" : "none";
    m.cutoff = request_.selection.cutoff;
    m.timezone = run.timezone;
    m.rows = static_cast<std::int64_t>(writer.lines());
    m.bytes = writer.bytes_on_disk();
    m.sha256 = writer.sha256();
    m.columns = request_.columns;
    write_file_atomically(manifest_path_for(writer.path()), manifest_to_json(m).dump(2) + "\n",
                          kPrivateFileMode);
}

// A dropped table's rows, channels, dates and file, in this step's totals.
void PartitionStep::record(const Copied& copied) {
    const Manifest& m = copied.manifest;
    if (copied.file) {
        files_.push_back({{"path", copied.file->string()},
                          {"rows", m.rows},
                          {"bytes", m.bytes},
                          {"sha256", m.sha256}});
    }
    whole_tally_.add(copied.tally);
    dropped_.push_back(copied.table);
    spdlog::info("{}: {} rows archived whole, table dropped", copied.table, copied.tally.rows);
}

// Runs `action` in its own transaction under kLockTimeout; when a lock was not granted in
// time (55P03) or a deadlock rolled it back (40P01), waits kRetryPause and tries again, up to
// kLockTries times. False when no try committed or a stop was requested meanwhile.
bool PartitionStep::with_lock_retries(Session& session, const std::string& what,
                                      const std::function<void(PartitionRepository&)>& action) {
    for (int attempt = 1; attempt <= kLockTries; ++attempt) {
        const auto started = std::chrono::steady_clock::now();
        const LockedCommit outcome = commit_within_lock_timeout(session, kLockTimeout, action);
        if (outcome == LockedCommit::kCommitted) return true;
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        longest_lock_wait_ = std::max(longest_lock_wait_, waited);
        const bool deadlocked = outcome == LockedCommit::kDeadlocked;
        ++(deadlocked ? deadlocks_ : lock_timeouts_);
        spdlog::info(
            "{}: {} (try {} of {}), trying again", what,
            deadlocked ? "deadlock with another session, rolled back"
                       : "lock not granted within " + std::to_string(kLockTimeout.count()) + " ms",
            attempt, kLockTries);
        if (stop_requested()) return false;
        interruptible_sleep(kRetryPause);
    }
    spdlog::warn("{}: lock not granted in {} tries; left as it is", what, kLockTries);
    return false;
}

// <run's file stem>-<table>.jsonl[.gz], beside the run's row-by-row file.
std::filesystem::path PartitionStep::file_for(const std::string& table) const {
    std::string name = request_.data_file.filename().string();
    const std::string suffix = request_.gzip ? ".jsonl.gz" : ".jsonl";
    name.insert(name.size() - suffix.size(), "-" + file_part(table));
    return request_.data_file.parent_path() / name;
}

std::int64_t PartitionStep::planned_whole_rows() const {
    std::int64_t rows = 0;
    for (const auto& p : whole_) rows += p.rows;
    return rows;
}

Summary PartitionStep::plan_summary() const {
    Summary p;
    p["mode"] = whole_.empty() && leftovers_.empty() ? "row by row" : "partition-aware";
    p["row_by_row_reason"] = reason_.empty() ? Summary(nullptr) : Summary(reason_);
    Summary rows = Summary::array();
    for (const auto& planned : planned_)
        rows.push_back(partition_row(planned.partition, planned.reason));
    p["plan"] = rows;
    p["detached_leftovers"] = leftovers_;
    return p;
}

void PartitionStep::add_to(Summary& summary, DryRun dry_run) const {
    if (!layout_.partitioned) return;
    Summary p = plan_summary();
    if (dry_run == DryRun::kNo) {
        p["archived_whole"] = whole_tally_.rows;
        p["dropped"] = dropped_;
        p["not_detached"] = not_detached_;
        p["lock_timeouts"] = lock_timeouts_;
        p["deadlocks"] = deadlocks_;
        p["longest_lock_wait_ms"] = longest_lock_wait_.count();
        add_totals(summary);
    } else {
        add_planned_files(summary);
    }
    summary["partitions"] = p;
}

// A dry run's would_write: a file and manifest per partition that goes whole or was left
// detached, and the row-by-row pair only when rows are left for the batches.
void PartitionStep::add_planned_files(Summary& summary) const {
    Summary files = Summary::array();
    const auto add = [&](const std::string& table) {
        const auto file = file_for(table);
        files.push_back(file.string());
        files.push_back(manifest_path_for(file).string());
    };
    for (const auto& table : leftovers_) add(table);
    for (const auto& partition : whole_) add(partition.name);
    if (summary.value("selected", std::int64_t{0}) > planned_whole_rows()) {
        for (const auto& file : summary["would_write"]) files.push_back(file);
    }
    summary["would_write"] = files;
}

// This step's rows, channels, dates and files, added to the row-by-row path's.
void PartitionStep::add_totals(Summary& summary) const {
    if (whole_tally_.rows == 0 && files_.empty()) return;
    for (const char* key : {"archived", "deleted"})
        summary[key] = summary.value(key, std::int64_t{0}) + whole_tally_.rows;
    for (const auto& [channel, rows] : whole_tally_.by_channel)
        summary["by_channel"][channel] =
            summary["by_channel"].value(channel, std::int64_t{0}) + rows;
    const auto widen = [&](const char* key, const std::optional<std::string>& mine, bool lower) {
        if (!mine) return;
        const auto& current = summary[key];
        if (current.is_null() ||
            (lower ? *mine < current.get<std::string>() : *mine > current.get<std::string>()))
            summary[key] = *mine;
    };
    widen("oldest_created_at", whole_tally_.oldest, true);
    widen("newest_created_at", whole_tally_.newest, false);
    for (const auto& file : files_) summary["files"].push_back(file);
}

}  // namespace ops
