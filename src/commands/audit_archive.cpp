#include "audit_archive.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "archive_tally.hpp"
#include "ops/archive/archive_writer.hpp"
#include "ops/batch/sessions.hpp"
#include "ops/commands/audit_archive.hpp"
#include "ops/core/files.hpp"
#include "ops/core/values.hpp"
#include "ops/db/clock.hpp"
#include "ops/queue/laravel_job_payload.hpp"

namespace ops {
namespace {

constexpr std::filesystem::perms kFolderPerms = std::filesystem::perms::owner_all |
                                                std::filesystem::perms::group_read |
                                                std::filesystem::perms::group_exec;

void bind_options(CLI::App& app, ArchiveOptions& o) {
    auto* days = app.add_option("--days", o.days, "archive rows older than N days (default 90)");
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
}

void check_channels(const std::vector<std::string>& channels) {
    for (const auto& channel : channels) {
        if (channel.empty()) throw UsageError("--channel: expected a channel name, got ''");
        // The channel travels as a JSON parameter, and the database holds only UTF-8.
        if (!is_valid_utf8(channel)) {
            throw UsageError("--channel: expected a channel name in UTF-8, got bytes that are not");
        }
    }
}

std::optional<std::chrono::milliseconds> parse_max_runtime(const std::string& text) {
    if (text.empty()) return std::nullopt;
    const auto runtime = parse_duration(text, "--max-runtime", std::chrono::hours(24 * 365));
    // 0 would stop before the first batch, leaving an empty file and manifest.
    if (runtime.count() == 0) {
        throw UsageError(
            "--max-runtime: expected a duration above zero such as 90s, 30m or 2h, got '" + text +
            "'");
    }
    return runtime;
}

// A folder that is a file, is not writable or cannot be created fails in the resolve step,
// before the lock and before any row is read; only a real run creates it, after the lock.
void check_folder(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
        throw UsageError("--dir: '" + dir.string() + "' exists and is not a folder");
    }
    if (fs::exists(dir, ec)) {
        if (::access(dir.c_str(), W_OK | X_OK) != 0)
            throw UsageError("--dir: folder '" + dir.string() + "' is not writable");
        return;
    }
    // The nearest folder that exists must take the new ones.
    fs::path parent = fs::absolute(dir, ec).parent_path();
    while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.parent_path())
        parent = parent.parent_path();
    const char* why = !fs::is_directory(parent, ec)                ? "Not a directory"
                      : ::access(parent.c_str(), W_OK | X_OK) != 0 ? "Permission denied"
                                                                   : nullptr;
    if (why != nullptr) throw UsageError("--dir: cannot create '" + dir.string() + "': " + why);
}

void create_folder(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::exists(dir, ec)) return;
    fs::create_directories(dir, ec);
    if (ec) throw RunFailure("--dir: cannot create '" + dir.string() + "': " + ec.message());
    fs::permissions(dir, kFolderPerms, ec);
}

template <class T>
void widen(std::optional<T>& low, std::optional<T>& high, const T& value) {
    if (!low || value < *low) low = value;
    if (!high || value > *high) high = value;
}

// The archive's batches for the engine: ranges of ids the selection holds, each deleted in
// a transaction that commits once its lines are durable in the file. On a partitioned table
// the ranges go one partition at a time (its created_at range in the statements, so a batch
// locks only its partition), oldest first; ids restart at each, as a row's id says nothing of
// its partition. The last pass is unbounded: the DEFAULT partition and any row left behind.
// It overlaps the others, so it is planned once their batches ended, in a snapshot of its
// own: two batches taking the same rows would wait on each other, or deadlock.
class ArchiveJob : public batch::Job<Session, CreatedRange, ArchiveTally> {
  public:
    ArchiveJob(const ArchivePlan& plan, std::vector<CreatedRange> passes, ArchiveWriter& writer,
               ReplicaLagGate& gate, ArchiveResult& result)
        : plan_(plan), passes_(std::move(passes)), writer_(writer), gate_(gate), result_(result) {}

    // The engine's next.after is the last range's upper, whatever its pass: the position
    // within the current pass is kept here (plan() is called one at a time).
    std::optional<batch::Planned<CreatedRange>> plan(Session& session,
                                                     const batch::Next& next) override {
        for (; pass_ < passes_.size(); ++pass_, after_ = 0) {
            if (after_ == 0 && pass_ > 0 && pass_ + 1 == passes_.size()) next.await_in_flight();
            ReadTransaction tx(session);
            const auto range =
                AuditRepository(tx).next_range(within(passes_[pass_]), after_, next.wanted);
            if (!range) continue;
            after_ = range->upper;
            return batch::Planned<CreatedRange>{{range->after_id, range->upper, range->rows},
                                                passes_[pass_]};
        }
        return std::nullopt;
    }
    bool admit(Session& session) override { return gate_.admit(session); }

    ArchiveTally run(Session& session, const batch::Planned<CreatedRange>& batch,
                     batch::Serial& serial) override {
        Work tx(session);
        const ArchivedBatch rows = AuditRepository(tx).take_range(
            within(batch.task), {batch.range.after, batch.range.upper, batch.range.rows});
        serial.run([&] {
            for (std::size_t i = 0; i < rows.size(); ++i) writer_.append_line(rows.json(i));
            writer_.sync();
        });
        tx.commit_once("a batch's commit failed after its lines were written to " +
                       writer_.path().filename().string() +
                       " (its rows are still in the table; the next run archives them again)");
        ArchiveTally tally;  // on the worker: the caller's thread only folds
        tally.add(rows);
        return tally;
    }

    std::int64_t fold(ArchiveTally&& tally) override {
        result_.deleted += tally.rows;
        for (const auto& [channel, rows] : tally.by_channel) result_.by_channel[channel] += rows;
        if (tally.rows == 0) return 0;
        widen(result_.first_id, result_.last_id, *tally.first_id);
        widen(result_.first_id, result_.last_id, *tally.last_id);
        widen(result_.oldest_created_at, result_.newest_created_at, *tally.oldest);
        widen(result_.oldest_created_at, result_.newest_created_at, *tally.newest);
        return tally.rows;
    }

  private:
    AuditSelection within(const CreatedRange& range) const {
        AuditSelection s = plan_.selection;
        s.within = range;
        return s;
    }

    const ArchivePlan& plan_;
    const std::vector<CreatedRange> passes_;
    std::size_t pass_ = 0;
    std::int64_t after_ = 0;
    ArchiveWriter& writer_;
    ReplicaLagGate& gate_;
    ArchiveResult& result_;
};

Manifest manifest_of(const ArchiveRequest& request, const ArchivePlan& plan,
                     const ArchiveResult& result, const ArchiveWriter& writer,
                     const RunContext& run) {
    Manifest manifest;
    manifest.data_file = writer.path().filename().string();
    manifest.run_id = run.run_id;
    manifest.compression = request.gzip ? "gzip" : "none";
    manifest.cutoff = plan.selection.cutoff;
    manifest.channels = plan.selection.channels;
    manifest.timezone = run.timezone;
    manifest.rows = static_cast<std::int64_t>(writer.lines());
    manifest.first_id = result.first_id;
    manifest.last_id = result.last_id;
    manifest.oldest_created_at = result.oldest_created_at;
    manifest.newest_created_at = result.newest_created_at;
    manifest.bytes = writer.bytes_on_disk();
    manifest.sha256 = writer.sha256();
    manifest.columns = plan.columns;
    return manifest;
}

}  // namespace

CommandSpec audit_archive_spec() {
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
        bind_options(app, command->options());
        return command;
    };
    return spec;
}

ArchiveRequest make_archive_request(const ArchiveOptions& o) {
    ArchiveRequest r;
    r.days = parse_integer(o.days, "--days", 1, 365000);
    if (!o.before.empty()) r.before = parse_local_datetime(o.before, "--before");
    r.batch_size = parse_integer(o.batch_size, "--batch-size", 1, 1000000);
    if (!o.limit.empty()) r.max_rows = parse_integer(o.limit, "--limit", 1, INT64_MAX / 2);
    r.sleep = std::chrono::milliseconds(parse_integer(o.sleep_ms, "--sleep", 0, 3600000));
    r.max_runtime = parse_max_runtime(o.max_runtime);
    r.parallel = static_cast<std::size_t>(parse_integer(o.parallel, "--parallel", 1, 8));
    check_channels(o.channels);
    r.channels = o.channels;
    if (o.dir.empty()) throw UsageError("--dir: expected a folder path, got ''");
    r.dir = o.dir;
    r.gzip = o.gzip;
    r.dry_run = o.dry_run;
    r.lag = ReplicaLagGate::parse(o.lag);
    r.allow_slot_loss = o.allow_slot_loss;
    r.partitions = o.partitions;
    return r;
}

// Before the lock: the cutoff on the database clock (a --before in the future is a usage
// error) and the folder.
void AuditArchiveCommand::resolve(CommandEnv& env) {
    gate_ = ReplicaLagGate(request_.lag);
    plan_.selection.channels = request_.channels;
    {
        ReadTransaction tx(*env.session);
        Clock clock(tx, env.run.timezone);
        if (request_.before && clock.is_future(*request_.before)) {
            throw UsageError("--before: '" + options_.before + "' is in the future (now is " +
                             clock.now() + " in " + env.run.timezone + ")");
        }
        plan_.selection.cutoff = request_.before ? *request_.before : clock.days_ago(request_.days);
    }
    check_folder(request_.dir);
}

void AuditArchiveCommand::execute(CommandEnv& env) {
    // --max-runtime counts from here: connecting and taking the lock are not work.
    work_started_ = std::chrono::steady_clock::now();
    if (!env.run.is_dry_run()) create_folder(request_.dir);
    make_plan(*env.session, env.run);
    partitions_.plan(*env.session,
                     {plan_.selection, request_.max_rows, plan_.data_file, request_.gzip,
                      request_.partitions, request_.parallel, plan_.columns});
    check_replication(*env.session, env.run.is_dry_run());
    if (env.run.is_dry_run() || (plan_.selected == 0 && !partitions_.has_work())) return;
    const std::int64_t whole = archive_partitions(env);
    if (plan_.selected > whole && !stop_) archive(env, whole);
}

// Whole partitions first (docs/SCALE.md); the batches then take what is left. --max-runtime
// and signals are checked between partition groups.
std::int64_t AuditArchiveCommand::archive_partitions(CommandEnv& env) {
    return partitions_.archive(env, [&] {
        if (stop_requested()) stop_ = batch::Stop::kSignal;
        if (request_.max_runtime &&
            std::chrono::steady_clock::now() - work_started_ >= *request_.max_runtime)
            stop_ = batch::Stop::kDeadline;
        return stop_.has_value();
    });
}

void AuditArchiveCommand::make_plan(Session& session, const RunContext& run) {
    ReadTransaction tx(session);
    plan_.channels = AuditRepository(tx).count_by_channel(plan_.selection);
    // The types rows had when archived, so that a restore can tell when they changed.
    for (auto& [name, type] : AuditRepository(tx).column_types())
        plan_.columns.push_back({std::move(name), std::move(type)});
    for (const auto& channel : plan_.channels) plan_.selected += channel.rows;
    if (request_.max_rows) plan_.selected = std::min(plan_.selected, *request_.max_rows);
    plan_.data_file = request_.dir / archive_file_name(run.short_run_id(), request_.gzip);
    spdlog::info("cutoff {} ({}): {} rows to archive into {}", plan_.selection.cutoff, run.timezone,
                 plan_.selected, plan_.data_file.string());
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
    if (plan_.selected == 0) return;
    plan_.preflight = run_archive_preflight(
        session, {plan_.selected - partitions_.planned_whole_rows(), request_.lag,
                  request_.batch_size * static_cast<std::int64_t>(request_.parallel),
                  request_.allow_slot_loss});
    enforce_preflight(*plan_.preflight, dry_run);
}

// The batches run on the engine; the file is complete and its manifest written only when
// every batch ended well.
void AuditArchiveCommand::archive(CommandEnv& env, std::int64_t taken_whole) {
    ArchiveWriter writer(plan_.data_file, request_.gzip ? Compression::kGzip : Compression::kNone);
    ArchiveJob job(plan_, partitions_.row_by_row_passes(), writer, gate_, result_);
    batch::Config config;
    config.what = "audit archive";
    config.parallel = request_.parallel;
    const auto max_rows = request_.max_rows
                              ? std::optional<std::int64_t>(*request_.max_rows - taken_whole)
                              : std::nullopt;
    config.limits = {request_.batch_size, max_rows,      request_.max_runtime,
                     request_.sleep,      work_started_, 0};
    config.progress_total = plan_.selected;
    stop_ = batch::run_on_sessions(job, config, *env.session, env.open_session).stop;
    writer.finish();
    const Manifest manifest = manifest_of(request_, plan_, result_, writer, env.run);
    write_file_atomically(manifest_path_for(writer.path()),
                          manifest_to_json(manifest).dump(2) + "\n", kPrivateFileMode);
    result_.manifest = manifest;
}

namespace {

Summary nullable(const std::optional<std::string>& text) {
    return text ? Summary(*text) : Summary(nullptr);
}

// A dry run: what the selection holds.
void planned_part(const ArchivePlan& plan, Summary& s) {
    Summary by_channel = Summary::object();
    std::optional<std::string> oldest, newest;
    for (const auto& c : plan.channels) {
        by_channel[c.channel] = c.rows;
        if (!c.oldest.empty()) widen(oldest, newest, c.oldest);
        if (!c.newest.empty()) widen(oldest, newest, c.newest);
    }
    s["by_channel"] = by_channel;
    s["oldest_created_at"] = nullable(oldest);
    s["newest_created_at"] = nullable(newest);
    s["would_write"] =
        plan.selected > 0
            ? Summary::array({plan.data_file.string(), manifest_path_for(plan.data_file).string()})
            : Summary::array();
}

// A run: what it took.
void done_part(const ArchivePlan& plan, const ArchiveResult& result, Summary& s) {
    Summary by_channel = Summary::object();
    for (const auto& [channel, rows] : result.by_channel) by_channel[channel] = rows;
    s["by_channel"] = by_channel;
    s["oldest_created_at"] = nullable(result.oldest_created_at);
    s["newest_created_at"] = nullable(result.newest_created_at);
    Summary files = Summary::array();
    if (result.manifest) {
        files.push_back({{"path", plan.data_file.string()},
                         {"rows", result.manifest->rows},
                         {"bytes", result.manifest->bytes},
                         {"sha256", result.manifest->sha256}});
    }
    s["files"] = files;
}

}  // namespace

Summary archive_summary(const ArchiveRequest& request, const ArchivePlan& plan,
                        const ArchiveResult& result, std::optional<batch::Stop> stop) {
    Summary s;
    s["cutoff"] = plan.selection.cutoff.empty() ? nullptr : Summary(plan.selection.cutoff);
    s["channels"] = request.channels.empty() ? Summary("all") : Summary(request.channels);
    s["selected"] = plan.selected;
    s["archived"] = result.deleted;
    s["deleted"] = result.deleted;
    if (request.dry_run) {
        planned_part(plan, s);
    } else {
        done_part(plan, result, s);
    }
    if (stop == batch::Stop::kDeadline) s["stopped_by"] = "max-runtime";
    if (stop == batch::Stop::kRefused) s["stopped_by"] = "replica-lag";
    if (request.lag.enabled()) s["replica_lag"] = result.replica_lag;
    if (plan.preflight) {
        s["expected_wal_bytes"] = plan.preflight->expected_wal;
        if (!plan.preflight->findings.empty())
            s["replication_preflight"] = plan.preflight->to_summary();
    }
    return s;
}

Summary AuditArchiveCommand::summary() const {
    ArchiveResult result = result_;
    result.replica_lag = gate_.summary();
    Summary s = archive_summary(request_, plan_, result, stop_);
    partitions_.add_to(s, dry_run());
    return s;
}

}  // namespace ops
