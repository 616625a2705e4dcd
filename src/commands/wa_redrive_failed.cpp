#include "ops/commands/wa_redrive_failed.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <regex>
#include <set>

#include "ops/commands/batch_pool.hpp"
#include "ops/core/values.hpp"
#include "ops/db/clock.hpp"
#include "ops/db/retry.hpp"
#include "ops/output/progress.hpp"
#include "ops/queue/reason_codes.hpp"

namespace ops {
namespace {

constexpr const char* kRedrivenEvent = "wa.message.redriven";
constexpr const char* kSubjectType = "wa_message";
constexpr std::int64_t kMaxInt32 = 2147483647;
constexpr std::size_t kMaxQueueBytes = 255;  // jobs.queue varchar(255)

std::string joined(const auto& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

std::string reason_key(const std::optional<std::string>& code) {
    return code ? *code : std::string(kNoReason);
}

std::vector<std::string> transient_codes() {
    return {kTransientReasons.begin(), kTransientReasons.end()};
}

// Which reason codes a run takes, from --reason and --include-permanent.
void choose_reasons(const std::vector<std::string>& given, bool include_permanent,
                    RedriveSelection& selection) {
    const std::string known = "transient: " + joined(kTransientReasons) +
                              "; permanent: " + joined(kPermanentReasons) + "; '" +
                              std::string(kNoReason) + "' for a NULL error_code";
    if (given.empty()) {
        selection.codes = transient_codes();
        if (include_permanent) {
            selection.codes.insert(selection.codes.end(), kPermanentReasons.begin(),
                                   kPermanentReasons.end());
        }
        return;
    }
    std::set<std::string> seen;
    for (const auto& code : given) {
        if (code.empty()) throw UsageError("--reason: expected a reason code, got ''", known);
        if (!is_valid_utf8(code)) {
            throw UsageError("--reason: expected a reason code in UTF-8, got bytes that are not",
                             known);
        }
        if (!seen.insert(code).second) continue;
        const ReasonKind kind = code == kNoReason ? ReasonKind::kUnknown : classify_reason(code);
        if (kind != ReasonKind::kTransient && !include_permanent) {
            const std::string what =
                code == kNoReason ? "'none' (a NULL error_code) is an unknown reason"
                : kind == ReasonKind::kPermanent
                    ? "'" + code + "' is a permanent reason: retrying repeats the failure"
                    : "'" + code + "' is not a known reason code (codes match exactly)";
            throw UsageError("--reason: " + what + "; add --include-permanent to redrive it anyway",
                             known);
        }
        if (code == kNoReason) {
            selection.include_null = true;
        } else {
            selection.codes.push_back(code);
        }
    }
}

// A queue name Laravel could dispatch to (valid UTF-8) and a worker could take from
// (`queue:work --queue=a,b` splits on commas).
void check_queue_name(const std::string& name) {
    const std::string prefix = "--queue: ";
    if (name.empty()) throw UsageError(prefix + "expected a queue name, got ''");
    if (name.size() > kMaxQueueBytes) {
        throw UsageError(prefix + "a queue name has at most " + std::to_string(kMaxQueueBytes) +
                         " bytes (jobs.queue), got " + std::to_string(name.size()));
    }
    if (!is_valid_utf8(name)) throw UsageError(prefix + "the queue name is not valid UTF-8");
    if (std::any_of(name.begin(), name.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
        throw UsageError(prefix + "the queue name contains a control character");
    }
    if (name.find(',') != std::string::npos) {
        throw UsageError(prefix + "'" + name + "' contains ',', which queue:work --queue reads " +
                         "as a list of queues, so no worker could take these jobs");
    }
}

std::vector<std::int64_t> parse_backoff(const std::string& text) {
    static const std::regex kList("^[0-9]{1,10}(,[0-9]{1,10}){0,49}$");
    const std::string error =
        "--backoff: expected seconds N or a list N,N,... (as the job class's " +
        std::string("$backoff), got '") + text + "'";
    if (!std::regex_match(text, kList)) throw UsageError(error);
    std::vector<std::int64_t> values;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string item = text.substr(start, comma - start);
        if (std::stoll(item) > kMaxInt32) throw UsageError(error);
        values.push_back(std::stoll(item));
        start = comma + 1;
    }
    return values;
}

}  // namespace

struct WaRedriveFailedCommand::Batch {
    std::size_t locked = 0;
    std::vector<LockedMessage> requeued;  // the locked messages the batch requeued
    std::int64_t jobs_inserted = 0;
    std::int64_t audit_events = 0;
    std::int64_t first_index = 0;  // the --rate index of the batch's first job
};

CommandSpec WaRedriveFailedCommand::spec() {
    CommandSpec spec;
    spec.group = "wa";
    spec.name = "redrive-failed";
    // plan and lock the messages, requeue them, insert their jobs (ids reserved with
    // nextval) and one audit event each (ids from the column default); read the application's
    // newest job (in jobs or failed_jobs, when that exists) not redriven by ops
    // (the queue table is configurable, DB_QUEUE_TABLE: this declares Laravel's default, jobs)
    spec.needs.tables = {
        {"wa_messages",
         {{"id", kIntegerTypes},
          {"tenant_id", kIntegerTypes},
          {"status", kTextTypes},
          {"attempts", kIntegerTypes},
          {"error_code", kTextTypes},
          {"error_message", kTextTypes},
          {"failed_at", kTimestampTypes},
          {"updated_at", kTimestampTypes}},
         {"SELECT", "UPDATE"}},
        {"jobs",
         {{"id", kIntegerTypes},
          {"queue", kTextTypes},
          {"payload", kTextTypes},
          {"attempts", kIntegerTypes},
          {"reserved_at", kIntegerTypes},
          {"available_at", kIntegerTypes},
          {"created_at", kIntegerTypes}},
         {"SELECT", "INSERT"}},
        {"audit_events",
         {{"channel", kTextTypes},
          {"event", kTextTypes},
          {"actor_type", kTextTypes},
          {"subject_type", kTextTypes},
          {"subject_id", kIntegerTypes},
          {"metadata", kJsonTypes},
          {"created_at", kTimestampTypes},
          {"updated_at", kTimestampTypes}},
         {"SELECT", "INSERT"}},  // SELECT: which jobs ops itself redrove (the payload form)
        {"failed_jobs",
         {{"id", kIntegerTypes}, {"payload", kTextTypes}, {"failed_at", kTimestampTypes}},
         {"SELECT"},
         false,
         true},
    };
    spec.needs.sequences = {{"jobs", "id", {"USAGE"}}, {"audit_events", "id", {"USAGE"}}};
    spec.description =
        "Queue failed WhatsApp messages with a transient reason again as SendWaMessageJob";
    spec.examples =
        "  ops wa redrive-failed --dry-run\n"
        "  ops wa redrive-failed --failed-after 24h --rate 50\n"
        "  ops wa redrive-failed --reason rate_limited --tenant 12 --tenant 40 --queue wa-retry\n"
        "  ops wa redrive-failed --reason not_on_whatsapp --include-permanent --limit 100";
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<WaRedriveFailedCommand>();
        Options& o = command->options_;
        app.add_option("--reason", o.reasons,
                       "only this error_code (repeatable; 'none' = NULL); default: the transient "
                       "codes");
        app.add_flag(
            "--include-permanent", o.include_permanent,
            "allow permanent and unknown codes; without --reason: add the permanent codes");
        app.add_option("--tenant", o.tenants, "only this tenant id (repeatable)");
        app.add_option("--failed-after", o.failed_after,
                       "failed at or after WHEN: YYYY-MM-DD[ HH:MM[:SS]] or a duration ago (24h)");
        app.add_option("--failed-before", o.failed_before,
                       "failed before WHEN: YYYY-MM-DD[ HH:MM[:SS]] or a duration ago (30m)");
        app.add_option("--limit", o.limit, "at most N messages this run");
        app.add_option_function<std::string>(
            "--queue", [&o](const std::string& name) { o.queue = name; },
            "dispatch ->onQueue(NAME) (default: a plain dispatch onto 'default')");
        app.add_option("--rate", o.rate, "let at most N jobs per second become available");
        app.add_option("--batch-size", o.batch_size, "messages per transaction (default 1000)");
        app.add_option("--parallel", o.parallel,
                       "batches in flight at once, each on its own connection (default 2)");
        app.add_option("--tries", o.tries, "the job class declares $tries = N");
        app.add_option("--backoff", o.backoff,
                       "the job class declares $backoff = N or [N, M, ...]");
        app.add_option("--timeout", o.timeout, "the job class declares $timeout = N");
        ReplicaLagGate::add_options(app, o.lag);
        app.add_flag("--serializes-models", o.serializes_models,
                     "the job class uses SerializesModels (as make:job's `use Queueable;` from "
                     "Laravel 11.15 does); with --laravel-version");
        app.add_flag("--allow-settings-mismatch", o.allow_settings_mismatch,
                     "run although the application's own jobs of this class have other "
                     "maxTries/backoff/timeout/... than ops writes");
        app.add_flag("--dry-run", o.dry_run, "report what would be redriven; change nothing");
        return command;
    };
    return spec;
}

void WaRedriveFailedCommand::validate() {
    choose_reasons(options_.reasons, options_.include_permanent, selection_);
    for (const auto& tenant : options_.tenants) {
        const auto id = parse_integer(tenant, "--tenant", 1, INT64_MAX);
        if (std::find(selection_.tenants.begin(), selection_.tenants.end(), id) ==
            selection_.tenants.end()) {
            selection_.tenants.push_back(id);
        }
    }
    const auto parse_when = [](const std::string& text, const std::string& option) -> When {
        try {
            return {parse_local_datetime(text, option), std::nullopt};
        } catch (const UsageError&) {
        }
        try {
            return {std::nullopt, parse_duration(text, option, kMaxAgo)};
        } catch (const UsageError&) {
        }
        throw UsageError(option +
                         ": expected a date-time 'YYYY-MM-DD[ HH:MM[:SS]]' or a duration " +
                         "such as 30m, 24h or 7d (meaning that long ago), got '" + text + "'");
    };
    if (!options_.failed_after.empty()) {
        limits_.failed_after = parse_when(options_.failed_after, "--failed-after");
    }
    if (!options_.failed_before.empty()) {
        limits_.failed_before = parse_when(options_.failed_before, "--failed-before");
    }
    if (!options_.limit.empty()) {
        selection_.limit = parse_integer(options_.limit, "--limit", 1, INT64_MAX / 2);
    }
    if (!options_.rate.empty()) limits_.rate = parse_integer(options_.rate, "--rate", 1, 1000000);
    limits_.batch_size = parse_integer(options_.batch_size, "--batch-size", 1, 100000);
    limits_.parallel =
        static_cast<std::size_t>(parse_integer(options_.parallel, "--parallel", 1, 8));
    if (options_.queue) check_queue_name(*options_.queue);

    if (!options_.tries.empty())
        properties_.tries = parse_integer(options_.tries, "--tries", 0, kMaxInt32);
    if (!options_.backoff.empty()) properties_.backoff = parse_backoff(options_.backoff);
    if (!options_.timeout.empty()) {
        properties_.timeout = parse_integer(options_.timeout, "--timeout", 0, kMaxInt32);
    }
    gate_ = ReplicaLagGate(ReplicaLagGate::parse(options_.lag));
}

void WaRedriveFailedCommand::execute(CommandEnv& env) {
    // The application's queue connection decides the table; one ops cannot write is refused
    // before anything is read.
    if (env.config != nullptr) queue_ = queue_settings(*env.config);
    if (!env.run.is_dry_run()) gate_.check_access(*env.session);
    plan(*env.session, env.run);
    choose_payload(env.config);
    if (!mismatches_.empty() && !env.run.is_dry_run() && !options_.allow_settings_mismatch) {
        std::string settings;
        for (const auto& m : mismatches_) settings += (settings.empty() ? "" : ", ") + m.setting;
        throw ConfigError("the application's own SendWaMessageJob rows (" +
                              application_job_->source + " id " +
                              std::to_string(application_job_->id) + ") have other " + settings +
                              " than ops would write; workers would retry these jobs differently",
                          "give the job class's settings (--tries, --backoff, --timeout; see "
                          "job_settings in the dry run's summary) or --allow-settings-mismatch");
    }
    if (env.run.is_dry_run() || tally_.messages == 0) return;
    redrive(env);
}

// Which release's payload to write: --laravel-version / OPS_LARAVEL_VERSION, else the form of
// the application's newest own job, else Laravel 8's, which every release 8 to 13 runs.
void WaRedriveFailedCommand::choose_payload(const ResolvedConfig* config) {
    const auto detected =
        application_job_ ? detect_payload_form(application_job_->payload) : std::nullopt;
    if (config != nullptr && config->laravel_version) {
        form_ = {*config->laravel_version, options_.serializes_models};
        form_reason_ = config->laravel_version_source + " " + config->laravel_version->text();
        if (detected && (detected->first_release().text() != form_.first_release().text() ||
                         detected->models_form() != form_.models_form())) {
            form_reason_ += "; the application's newest own job (" + application_job_->source +
                            " id " + std::to_string(application_job_->id) + ") has the " +
                            detected->describe() + " form";
            spdlog::warn(
                "the application's newest own SendWaMessageJob ({} id {}) has the {} "
                "form, not the {} form {} asks for",
                application_job_->source, application_job_->id, detected->describe(),
                form_.describe(), config->laravel_version_source);
        }
    } else if (detected) {
        form_ = *detected;
        form_reason_ = "the form of the application's newest own job (" + application_job_->source +
                       " id " + std::to_string(application_job_->id) + ")";
    } else {
        form_ = {};
        form_.serializes_models = options_.serializes_models;
        form_reason_ =
            "the default: no Laravel version given and no job of the application's "
            "found; every release 8 to 13 runs this form";
    }
    payload_.emplace(options_.queue, properties_, form_);
    mismatches_.clear();
    if (application_job_) {
        mismatches_ = job_settings_mismatches(application_job_->payload, properties_);
    }
}

Summary WaRedriveFailedCommand::payload_summary() const {
    Summary form;
    form["form"] = form_.describe();
    form["laravel"] = std::to_string(form_.first_release().major) + "." +
                      std::to_string(form_.first_release().minor);
    form["serializes_models"] = form_.models_form();
    form["why"] = form_reason_;
    Summary settings;
    settings["compared_with"] =
        application_job_
            ? Summary(application_job_->source + " id " + std::to_string(application_job_->id))
            : Summary(nullptr);
    Summary mismatches = Summary::array();
    for (const auto& m : mismatches_) {
        mismatches.push_back({{"setting", m.setting},
                              {"application", m.application},
                              {"ops", m.ops},
                              {"fix", m.fix.empty() ? Summary(nullptr) : Summary(m.fix)}});
    }
    settings["mismatches"] = mismatches;
    form["job_settings"] = settings;
    return form;
}

// One consistent snapshot: what the selection holds, what it leaves alone, and which
// messages already have a job waiting (redriving those would send them twice).
void WaRedriveFailedCommand::plan(Session& session, const RunContext& run) {
    SnapshotTransaction tx(session);
    Clock clock(tx, run.timezone);
    const auto resolve = [&](const std::optional<When>& when) -> std::optional<std::string> {
        if (!when) return std::nullopt;
        return when->at ? *when->at : clock.ago(when->ago->count());
    };
    selection_.failed_after = resolve(limits_.failed_after);
    selection_.failed_before = resolve(limits_.failed_before);
    if (selection_.failed_after && selection_.failed_before &&
        *selection_.failed_after >= *selection_.failed_before) {
        throw UsageError("--failed-after: " + *selection_.failed_after +
                         " is not before --failed-before " + *selection_.failed_before + " (" +
                         run.timezone + ")");
    }
    WaMessageRepository messages(tx, queue_.table);
    application_job_ = QueueRepository(tx, queue_.table).newest_application_job(kRedrivenEvent);
    selection_.excluded = messages.ids_with_pending_job(selection_);
    already_queued_ = static_cast<std::int64_t>(selection_.excluded.size());
    tally_ = messages.tally(selection_);
    left_alone_ = messages.count_left_alone(selection_, transient_codes());
    tx.commit();

    std::int64_t left = 0;
    for (const auto& reason : left_alone_) left += reason.messages;
    spdlog::info(
        "{} failed messages to queue on '{}' (reasons {}{}); {} left alone for their "
        "reason; {} skipped because a job for them is already queued",
        tally_.messages, queue_name(), joined(selection_.codes),
        selection_.include_null ? ", none" : "", left, already_queued_);
}

// Plans id ranges one after another, each on the first free session of the pool, which then
// runs that batch. Stopping (signal, --limit) only stops planning: batches in flight commit
// or roll back, and the first failure is reported once all of them ended.
void WaRedriveFailedCommand::redrive(CommandEnv& env) {
    ProgressReporter progress("wa redrive-failed", tally_.messages);
    retry_transient("wa redrive-failed start", [&] {
        ReadTransaction tx(*env.session);
        WaMessageRepository messages(tx, queue_.table);
        jobs_id_sequence_ = messages.jobs_id_sequence();
        // One start for every batch's --rate indices, fixed before the first batch, after the
        // jobs earlier runs left waiting on the queue.
        if (limits_.rate) rate_start_ = messages.rate_start(queue_name());
    });
    BatchPool pool(env, limits_.parallel);
    std::int64_t after_id = 0;
    std::int64_t planned = 0;
    bool planned_all = false;
    while (!stop_requested()) {
        if (selection_.limit && planned >= *selection_.limit) {
            planned_all = true;
            break;
        }
        Session* session = pool.acquire();
        if (session == nullptr) break;
        const std::int64_t wanted =
            std::min(limits_.batch_size,
                     selection_.limit ? *selection_.limit - planned : limits_.batch_size);
        // One short transaction, so that it too runs with the run's timeouts through a pooler.
        const auto [range, job_ids] = retry_transient("wa redrive-failed plan", [&] {
            Work tx(*session);
            WaMessageRepository messages(tx, queue_.table);
            auto next = messages.next_range(selection_, after_id, *tally_.last_id, wanted);
            std::vector<std::int64_t> ids;
            if (next) ids = messages.reserve_job_ids(jobs_id_sequence_, next->rows);
            tx.commit();
            return std::make_pair(std::move(next), std::move(ids));
        });
        if (!range) {
            pool.release(*session);
            planned_all = true;
            break;
        }
        if (!gate_.admit(*session)) {
            pool.release(*session);
            break;
        }
        // Built here, while the other sessions' batches run, not in the batch's transaction.
        JobBatch jobs = job_batch(*range, planned, job_ids);
        after_id = range->upper;
        planned += range->rows;
        pool.launch(*session, [this, &env, session, r = *range, jobs = std::move(jobs)] {
            const Batch batch = retry_transient(
                "wa redrive-failed batch", [&] { return run_batch(*session, env.run, r, jobs); });
            account(batch);
        });
        const std::lock_guard lock(progress_mutex_);
        progress.update(redriven_);
    }
    pool.wait_all();
    exhausted_ = planned_all;
}

// The jobs of one planned range: fresh uuids, the reserved ids, and the --rate indices from
// `first_index` (the messages planned before the range), so that no two batches share one.
JobBatch WaRedriveFailedCommand::job_batch(const RedriveRange& range, std::int64_t first_index,
                                           std::vector<std::int64_t> job_ids) const {
    JobBatch jobs;
    jobs.queue = queue_name();
    jobs.payload = {payload_->before_uuid(), payload_->before_id(), payload_->after_id(),
                    payload_->has_created_at()
                        ? std::optional<std::string>(payload_->after_created_at())
                        : std::nullopt};
    jobs.uuids.reserve(static_cast<std::size_t>(range.rows));
    for (std::int64_t i = 0; i < range.rows; ++i) jobs.uuids.push_back(new_uuid_v4());
    jobs.job_ids = std::move(job_ids);
    jobs.rate = limits_.rate;
    jobs.rate_start = rate_start_.value_or(0);
    jobs.first_index = first_index;
    return jobs;
}

// Locks, requeues and audits one planned range in one transaction, and commits it.
WaRedriveFailedCommand::Batch WaRedriveFailedCommand::run_batch(Session& session,
                                                                const RunContext& run,
                                                                const RedriveRange& range,
                                                                const JobBatch& jobs) {
    Work tx(session);
    WaMessageRepository messages(tx, queue_.table);
    const std::int64_t after_id = range.after_id;
    // The requeue statement also writes the history it clears: one audit event per message.
    const RedriveAudit audit{kRedrivenEvent, kSubjectType, run.run_id};
    RequeuedBatch requeued = messages.requeue_batch(selection_, range, jobs, audit, run.timezone);

    Batch batch;
    batch.first_index = jobs.first_index;
    batch.locked = requeued.locked.size();
    batch.jobs_inserted = requeued.jobs_inserted;
    batch.audit_events = requeued.audit_events;
    for (auto& message : requeued.locked) {
        if (message.requeued) batch.requeued.push_back(std::move(message));
    }
    const auto count = static_cast<std::int64_t>(batch.requeued.size());
    if (batch.jobs_inserted != count || batch.audit_events != count) {
        throw RunFailure("the batch after id " + std::to_string(after_id) + " requeued " +
                         std::to_string(count) + " messages but inserted " +
                         std::to_string(batch.jobs_inserted) + " jobs and " +
                         std::to_string(batch.audit_events) + " audit events; rolled back");
    }
    tx.commit();
    return batch;
}

void WaRedriveFailedCommand::account(const Batch& batch) {
    const std::lock_guard lock(progress_mutex_);
    if (batch.jobs_inserted > 0) {
        rate_last_index_ = std::max(rate_last_index_, batch.first_index + batch.jobs_inserted - 1);
    }
    redriven_ += static_cast<std::int64_t>(batch.requeued.size());
    jobs_inserted_ += batch.jobs_inserted;
    audit_events_ += batch.audit_events;
    for (const auto& message : batch.requeued) {
        ++redriven_by_reason_[reason_key(message.error_code)];
        ++redriven_by_tenant_[message.tenant_id];
        if (message.failed_at) {
            if (!oldest_failed_at_ || *message.failed_at < *oldest_failed_at_) {
                oldest_failed_at_ = message.failed_at;
            }
            if (!newest_failed_at_ || *message.failed_at > *newest_failed_at_) {
                newest_failed_at_ = message.failed_at;
            }
        }
    }
}

Summary WaRedriveFailedCommand::summary() const {
    const bool dry = dry_run() == DryRun::kYes;
    const auto nullable = [](const std::optional<std::string>& text) {
        return text ? Summary(*text) : Summary(nullptr);
    };
    Summary s;
    s["queue_connection"] = queue_.connection;
    s["table"] = queue_.table;
    s["queue"] = queue_name();
    s["payload"] = payload_summary();
    Summary reasons = Summary::array();
    for (const auto& code : selection_.codes) reasons.push_back(code);
    if (selection_.include_null) reasons.push_back(kNoReason);
    s["reasons"] = reasons;
    s["tenants"] = selection_.tenants.empty() ? Summary("all") : Summary(selection_.tenants);
    s["failed_after"] = nullable(selection_.failed_after);
    s["failed_before"] = nullable(selection_.failed_before);
    s["selected"] = tally_.messages;
    s["already_queued"] = already_queued_;
    s["redriven"] = redriven_;
    s["jobs_inserted"] = jobs_inserted_;
    s["audit_events"] = audit_events_;
    if (!dry && !stop_requested() &&
        (exhausted_ || tally_.messages == 0 ||
         (selection_.limit && redriven_ >= *selection_.limit))) {
        s["skipped"] = std::max<std::int64_t>(0, tally_.messages - redriven_);
    }

    // Dry run: what the selection holds; a run: what it requeued.
    Summary by_reason = Summary::object();
    Summary by_tenant = Summary::array();
    if (dry) {
        for (const auto& r : tally_.by_reason) by_reason[reason_key(r.code)] = r.messages;
        for (const auto& t : tally_.by_tenant) {
            by_tenant.push_back({{"tenant_id", t.tenant_id}, {"messages", t.messages}});
        }
    } else {
        std::vector<std::pair<std::string, std::int64_t>> reasons_done(redriven_by_reason_.begin(),
                                                                       redriven_by_reason_.end());
        std::vector<std::pair<std::int64_t, std::int64_t>> tenants_done(redriven_by_tenant_.begin(),
                                                                        redriven_by_tenant_.end());
        const auto largest_first = [](const auto& a, const auto& b) {
            return a.second != b.second ? a.second > b.second : a.first < b.first;
        };
        std::stable_sort(reasons_done.begin(), reasons_done.end(), largest_first);
        std::stable_sort(tenants_done.begin(), tenants_done.end(), largest_first);
        for (const auto& [code, n] : reasons_done) by_reason[code] = n;
        for (const auto& [tenant, n] : tenants_done) {
            by_tenant.push_back({{"tenant_id", tenant}, {"messages", n}});
        }
    }
    s["by_reason"] = by_reason;
    Summary left_alone = Summary::object();
    for (const auto& r : left_alone_) left_alone[reason_key(r.code)] = r.messages;
    s["left_alone"] = left_alone;
    s["oldest_failed_at"] = nullable(dry ? tally_.oldest_failed_at : oldest_failed_at_);
    s["newest_failed_at"] = nullable(dry ? tally_.newest_failed_at : newest_failed_at_);

    if (!limits_.rate) {
        s["rate"] = nullptr;
    } else {
        const std::int64_t jobs = dry ? tally_.messages : jobs_inserted_;
        // A run's batches that requeued fewer than planned leave gaps in the indices.
        const std::int64_t last = dry ? jobs - 1 : rate_last_index_;
        const std::int64_t spread = last > 0 ? last / *limits_.rate : 0;
        Summary rate;
        rate["per_second"] = *limits_.rate;
        rate["jobs"] = jobs;
        rate["last_available_after_s"] = spread;
        if (rate_start_) {
            rate["first_available_at"] = *rate_start_;
            rate["last_available_at"] = *rate_start_ + spread;
        }
        s["rate"] = rate;
    }
    s["by_tenant"] = by_tenant;
    if (gate_.gave_up()) s["stopped_by"] = "replica-lag";
    if (gate_.enabled()) s["replica_lag"] = gate_.summary();
    return s;
}

}  // namespace ops
