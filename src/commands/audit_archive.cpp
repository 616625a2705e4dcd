#include "ops/commands/audit_archive.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "ops/archive/archive_writer.hpp"
#include "ops/commands/batch_pool.hpp"
#include "ops/core/files.hpp"
#include "ops/core/values.hpp"
#include "ops/db/clock.hpp"
#include "ops/db/retry.hpp"
#include "ops/output/progress.hpp"
#include "ops/queue/laravel_job_payload.hpp"

namespace ops {
namespace {

constexpr std::filesystem::perms kFolderPerms = std::filesystem::perms::owner_all |
                                                std::filesystem::perms::group_read |
                                                std::filesystem::perms::group_exec;

}  // namespace

CommandSpec AuditArchiveCommand::spec() {
    CommandSpec spec;
    spec.group = "audit";
    spec.name = "archive";
    // count, plan id ranges, DELETE ... RETURNING the whole row
    spec.needs.tables = {{"audit_events", audit_event_columns(), {"SELECT", "DELETE"}}};
    spec.description = "Move old audit events into JSONL files and delete them from the table";
    spec.examples =
        "  ops audit archive --days 90 --dry-run\n"
        "  ops audit archive --days 90 --dir /var/lib/app/audit-archives --gzip\n"
        "  ops audit archive --before 2026-01-01 --channel web --channel api --max-runtime 2h\n"
        "  ops audit archive --days 90 --max-lag-bytes 256MB --max-lag 30s --max-pause 10m";
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<AuditArchiveCommand>();
        Options& o = command->options_;
        auto* days =
            app.add_option("--days", o.days, "archive rows older than N days (default 90)");
        app.add_option("--before", o.before, "archive rows created before DATE[ HH:MM[:SS]]")
            ->excludes(days);
        app.add_option("--channel", o.channels, "only this channel (repeatable)");
        app.add_option("--dir", o.dir, "archive folder (default storage/app/audit-archives)");
        app.add_option("--batch-size", o.batch_size, "rows per transaction (default 10000)");
        app.add_option("--limit", o.limit, "at most N rows this run");
        app.add_option("--sleep", o.sleep_ms, "pause MS milliseconds between batches");
        app.add_option("--max-runtime", o.max_runtime, "stop after the batch that passes DURATION");
        app.add_option("--parallel", o.parallel,
                       "batches in flight at once, each on its own connection (default 2)");
        app.add_flag("--gzip", o.gzip, "write .jsonl.gz");
        ReplicaLagGate::add_options(app, o.lag);
        PartitionStep::add_options(app, o.partitions);
        app.add_flag("--allow-slot-loss", o.allow_slot_loss,
                     "run even if a replication slot's safe_wal_size is below the WAL it writes");
        app.add_flag("--dry-run", o.dry_run, "report what would be archived; change nothing");
        return command;
    };
    return spec;
}

void AuditArchiveCommand::validate() {
    limits_.days = parse_integer(options_.days, "--days", 1, 365000);
    if (!options_.before.empty())
        limits_.before = parse_local_datetime(options_.before, "--before");
    limits_.batch_size = parse_integer(options_.batch_size, "--batch-size", 1, 1000000);
    if (!options_.limit.empty()) {
        limits_.max_rows = parse_integer(options_.limit, "--limit", 1, INT64_MAX / 2);
    }
    limits_.sleep =
        std::chrono::milliseconds(parse_integer(options_.sleep_ms, "--sleep", 0, 3600000));
    if (!options_.max_runtime.empty()) {
        limits_.max_runtime =
            parse_duration(options_.max_runtime, "--max-runtime", std::chrono::hours(24 * 365));
        // 0 would stop before the first batch, leaving an empty file and manifest.
        if (limits_.max_runtime->count() == 0) {
            throw UsageError(
                "--max-runtime: expected a duration above zero such as 90s, 30m or "
                "2h, got '" +
                options_.max_runtime + "'");
        }
    }
    limits_.parallel =
        static_cast<std::size_t>(parse_integer(options_.parallel, "--parallel", 1, 8));
    for (const auto& channel : options_.channels) {
        if (channel.empty()) throw UsageError("--channel: expected a channel name, got ''");
        // The channel travels as a JSON parameter, and the database holds only UTF-8.
        if (!is_valid_utf8(channel)) {
            throw UsageError("--channel: expected a channel name in UTF-8, got bytes that are not");
        }
    }
    if (options_.dir.empty()) throw UsageError("--dir: expected a folder path, got ''");
    selection_.channels = options_.channels;
    gate_ = ReplicaLagGate(ReplicaLagGate::parse(options_.lag));
}

void AuditArchiveCommand::execute(CommandEnv& env) {
    // --max-runtime counts from here: connecting and taking the lock are not work.
    work_started_ = std::chrono::steady_clock::now();
    resolve_cutoff(*env.session, env.run);
    check_folder(!env.run.is_dry_run());
    plan(*env.session, env.run);
    partitions_.plan(*env.session, {selection_, limits_.max_rows, options_.dir, options_.gzip,
                                    options_.partitions, limits_.parallel});
    check_replication(*env.session, env.run.is_dry_run());
    if (env.run.is_dry_run() || (selected_ == 0 && !partitions_.has_work())) return;
    planned_rows_ = partitions_.archive(env, [&] { return should_stop(env.run); });
    if (selected_ > planned_rows_ && !should_stop(env.run)) archive(env);
}

// Before any row goes: the role can read the lags the gate needs, and no slot, publication or
// synchronous standby makes this much WAL harmful. A dry run reports what a real run refuses.
void AuditArchiveCommand::check_replication(Session& session, bool dry_run) {
    try {
        gate_.check_access(session);
    } catch (const ConfigError& e) {
        if (!dry_run) throw;
        spdlog::warn("{} (a real run would refuse)", e.what());
    }
    if (selected_ == 0) return;
    preflight_ = run_archive_preflight(
        session, {selected_, gate_.limits(),
                  limits_.batch_size * static_cast<std::int64_t>(limits_.parallel),
                  options_.allow_slot_loss});
    preflight_ran_ = true;
    enforce_preflight(preflight_, dry_run);
}

// A folder that is a file or not writable fails here, before any row is read.
void AuditArchiveCommand::check_folder(bool create) const {
    namespace fs = std::filesystem;
    const fs::path dir = options_.dir;
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
        throw UsageError("--dir: '" + dir.string() + "' exists and is not a folder");
    }
    if (!fs::exists(dir, ec)) {
        if (!create) return;
        fs::create_directories(dir, ec);
        if (ec) throw UsageError("--dir: cannot create '" + dir.string() + "': " + ec.message());
        fs::permissions(dir, kFolderPerms, ec);
    }
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
        throw UsageError("--dir: folder '" + dir.string() + "' is not writable");
    }
}

void AuditArchiveCommand::resolve_cutoff(Session& session, const RunContext& run) {
    ReadTransaction tx(session);
    Clock clock(tx, run.timezone);
    if (limits_.before) {
        if (clock.is_future(*limits_.before)) {
            throw UsageError("--before: '" + options_.before + "' is in the future (now is " +
                             clock.now() + " in " + run.timezone + ")");
        }
        selection_.cutoff = *limits_.before;
    } else {
        selection_.cutoff = clock.days_ago(limits_.days);
    }
}

void AuditArchiveCommand::plan(Session& session, const RunContext& run) {
    ReadTransaction tx(session);
    planned_ = AuditRepository(tx).count_by_channel(selection_);
    // The types rows had when archived, so that a restore can tell when they changed.
    for (auto& [name, type] : AuditRepository(tx).column_types())
        manifest_.columns.push_back({std::move(name), std::move(type)});
    for (const auto& channel : planned_) selected_ += channel.rows;
    if (limits_.max_rows) selected_ = std::min(selected_, *limits_.max_rows);
    data_file_ =
        std::filesystem::path(options_.dir) / archive_file_name(run.short_run_id(), options_.gzip);
    spdlog::info("cutoff {} ({}): {} rows to archive into {}", selection_.cutoff, run.timezone,
                 selected_, data_file_.string());
}

// Plans id ranges one after another, each on the first free session of the pool, which then
// runs that batch. Stopping (signal, --limit, --max-runtime) only stops planning: batches in
// flight finish or roll back, and the first failure is reported once all ended.
void AuditArchiveCommand::archive(CommandEnv& env) {
    ArchiveWriter writer(data_file_, options_.gzip ? Compression::kGzip : Compression::kNone);
    ProgressReporter progress("audit archive", selected_);
    BatchPool pool(env, limits_.parallel);
    std::int64_t after_id = 0;
    while (!should_stop(env.run)) {
        Session* session = pool.acquire();
        if (session == nullptr) break;
        const std::int64_t wanted = std::min(
            limits_.batch_size, limits_.max_rows ? *limits_.max_rows - planned_rows_ : INT64_MAX);
        const auto range = retry_transient("audit archive plan", [&] {
            ReadTransaction tx(*session);
            return AuditRepository(tx).next_range(selection_, after_id, wanted);
        });
        if (!range || !gate_.admit(*session)) {
            pool.release(*session);
            break;
        }
        after_id = range->upper;
        planned_rows_ += range->rows;
        pool.launch(*session,
                    [this, session, r = *range, &writer] { archive_range(*session, r, writer); });
        {
            const std::lock_guard lock(progress_mutex_);
            progress.update(deleted_);
        }
        if (limits_.sleep.count() > 0 && !should_stop(env.run)) interruptible_sleep(pause());
    }
    pool.wait_all();
    writer.finish();
    write_manifest(writer, env.run);
}

void AuditArchiveCommand::archive_range(Session& session, const IdRange& range,
                                        ArchiveWriter& writer) {
    retry_transient("audit archive batch", [&] {
        Work tx(session);
        const ArchivedBatch batch = AuditRepository(tx).take_range(selection_, range);
        {
            const std::lock_guard lock(file_mutex_);
            for (std::size_t i = 0; i < batch.size(); ++i) writer.append_line(batch.json(i));
            writer.sync();
        }
        tx.commit();
        count_batch(batch);
    });
}

void AuditArchiveCommand::count_batch(const ArchivedBatch& batch) {
    const std::lock_guard lock(progress_mutex_);
    deleted_ += static_cast<std::int64_t>(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        ++deleted_by_channel_[std::string(batch.channel(i))];
        const std::int64_t id = batch.id(i);
        if (!manifest_.first_id || id < *manifest_.first_id) manifest_.first_id = id;
        if (!manifest_.last_id || id > *manifest_.last_id) manifest_.last_id = id;
        const std::string created(batch.created_at(i));
        if (!manifest_.oldest_created_at || created < *manifest_.oldest_created_at) {
            manifest_.oldest_created_at = created;
        }
        if (!manifest_.newest_created_at || created > *manifest_.newest_created_at) {
            manifest_.newest_created_at = created;
        }
    }
}

std::chrono::milliseconds AuditArchiveCommand::work_elapsed() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 work_started_);
}

// The --sleep between batches, cut short where --max-runtime ends.
std::chrono::milliseconds AuditArchiveCommand::pause() const {
    if (!limits_.max_runtime) return limits_.sleep;
    return std::clamp(*limits_.max_runtime - work_elapsed(), std::chrono::milliseconds(0),
                      limits_.sleep);
}

bool AuditArchiveCommand::should_stop(const RunContext& /*run*/) {
    if (stop_requested()) return true;
    if (limits_.max_rows && planned_rows_ >= *limits_.max_rows) return true;
    if (limits_.max_runtime && work_elapsed() >= *limits_.max_runtime) {
        stopped_by_runtime_ = true;
        return true;
    }
    return false;
}

void AuditArchiveCommand::write_manifest(const ArchiveWriter& writer, const RunContext& run) {
    manifest_.data_file = writer.path().filename().string();
    manifest_.run_id = run.run_id;
    manifest_.compression = options_.gzip ? "gzip" : "none";
    manifest_.cutoff = selection_.cutoff;
    manifest_.channels = selection_.channels;
    manifest_.timezone = run.timezone;
    manifest_.rows = static_cast<std::int64_t>(writer.lines());
    manifest_.bytes = writer.bytes_on_disk();
    manifest_.sha256 = writer.sha256();
    write_file_atomically(manifest_path_for(writer.path()),
                          manifest_to_json(manifest_).dump(2) + "\n", kPrivateFileMode);
}

Summary AuditArchiveCommand::summary() const {
    Summary s;
    s["cutoff"] = selection_.cutoff.empty() ? nullptr : Summary(selection_.cutoff);
    s["channels"] = selection_.channels.empty() ? Summary("all") : Summary(selection_.channels);
    s["selected"] = selected_;
    s["archived"] = deleted_;
    s["deleted"] = deleted_;
    Summary by_channel = Summary::object();
    if (dry_run() == DryRun::kYes) {
        for (const auto& c : planned_) by_channel[c.channel] = c.rows;
    } else {
        for (const auto& [channel, rows] : deleted_by_channel_) by_channel[channel] = rows;
    }
    s["by_channel"] = by_channel;
    if (dry_run() == DryRun::kYes) {
        std::string oldest, newest;
        for (const auto& c : planned_) {
            if (oldest.empty() || c.oldest < oldest) oldest = c.oldest;
            if (newest.empty() || c.newest > newest) newest = c.newest;
        }
        s["oldest_created_at"] = oldest.empty() ? nullptr : Summary(oldest);
        s["newest_created_at"] = newest.empty() ? nullptr : Summary(newest);
        s["would_write"] =
            selected_ > 0
                ? Summary::array({data_file_.string(), manifest_path_for(data_file_).string()})
                : Summary::array();
    } else {
        s["oldest_created_at"] =
            manifest_.oldest_created_at ? Summary(*manifest_.oldest_created_at) : nullptr;
        s["newest_created_at"] =
            manifest_.newest_created_at ? Summary(*manifest_.newest_created_at) : nullptr;
        Summary files = Summary::array();
        if (!manifest_.sha256.empty()) {
            files.push_back({{"path", data_file_.string()},
                             {"rows", manifest_.rows},
                             {"bytes", manifest_.bytes},
                             {"sha256", manifest_.sha256}});
        }
        s["files"] = files;
    }
    if (stopped_by_runtime_) s["stopped_by"] = "max-runtime";
    if (gate_.gave_up()) s["stopped_by"] = "replica-lag";
    if (gate_.enabled()) s["replica_lag"] = gate_.summary();
    if (preflight_ran_) {
        s["expected_wal_bytes"] = preflight_.expected_wal;
        if (!preflight_.findings.empty()) s["replication_preflight"] = preflight_.to_summary();
    }
    partitions_.add_to(s, dry_run());
    return s;
}

}  // namespace ops
