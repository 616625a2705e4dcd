#include "wa_redrive_failed.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <regex>
#include <set>

#include "ops/batch/sessions.hpp"
#include "ops/commands/wa_redrive_failed.hpp"
#include "ops/core/values.hpp"
#include "ops/db/clock.hpp"
#include "ops/db/retry.hpp"
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

// plan and lock the messages, requeue them, insert their jobs (ids reserved with
// nextval) and one audit event each (ids from the column default); read the application's
// newest job (in jobs or failed_jobs, when that exists) not redriven by ops
// (the queue table is configurable, DB_QUEUE_TABLE: this declares Laravel's default, jobs)
DatabaseNeeds redrive_needs() {
    DatabaseNeeds needs;
    needs.tables = {
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
        {.table = "jobs",
         .columns = {{"id", kIntegerTypes},
                     {"queue", kTextTypes},
                     {"payload", kTextTypes},
                     {"attempts", kIntegerTypes},
                     {"reserved_at", kIntegerTypes},
                     {"available_at", kIntegerTypes},
                     {"created_at", kIntegerTypes}},
         .privileges = {"SELECT", "INSERT"},
         .database_queue = true},
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
        {.table = "failed_jobs",
         .columns = {{"id", kIntegerTypes},
                     {"payload", kTextTypes},
                     {"failed_at", kTimestampTypes}},
         .privileges = {"SELECT"},
         .optional = true,
         .database_queue = true},
    };
    needs.sequences = {
        {.table = "jobs", .column = "id", .privileges = {"USAGE"}, .database_queue = true},
        {"audit_events", "id", {"USAGE"}}};
    return needs;
}

void bind_options(CLI::App& app, RedriveOptions& o) {
    app.add_option("--reason", o.reasons,
                   "only this error_code (repeatable; 'none' = NULL); default: the transient "
                   "codes");
    app.add_flag("--include-permanent", o.include_permanent,
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
    app.add_option("--batch-size", o.batch_size, "messages per transaction (default 2000)");
    app.add_option("--parallel", o.parallel,
                   "batches in flight at once, each on its own connection (default 2)");
    app.add_option("--tries", o.tries, "the job class declares $tries = N");
    app.add_option("--backoff", o.backoff, "the job class declares $backoff = N or [N, M, ...]");
    app.add_option("--timeout", o.timeout, "the job class declares $timeout = N");
    ReplicaLagGate::add_options(app, o.lag);
    add_redis_options(app, o.redis);
    app.add_flag("--serializes-models", o.serializes_models,
                 "the job class uses SerializesModels (as make:job's `use Queueable;` from "
                 "Laravel 11.15 does); with --laravel-version");
    app.add_flag("--allow-settings-mismatch", o.allow_settings_mismatch,
                 "run although the application's own jobs of this class have other "
                 "maxTries/backoff/timeout/... than ops writes");
    app.add_flag("--dry-run", o.dry_run, "report what would be redriven; change nothing");
}

RedriveWhen parse_when(const std::string& text, const std::string& option) {
    try {
        return {parse_local_datetime(text, option), std::nullopt};
    } catch (const UsageError&) {
    }
    try {
        return {std::nullopt, parse_duration(text, option, kMaxAgo)};
    } catch (const UsageError&) {
    }
    throw UsageError(option + ": expected a date-time 'YYYY-MM-DD[ HH:MM[:SS]]' or a duration " +
                     "such as 30m, 24h or 7d (meaning that long ago), got '" + text + "'");
}

std::optional<RedriveWhen> parse_optional_when(const std::string& text, const std::string& option) {
    if (text.empty()) return std::nullopt;
    return parse_when(text, option);
}

std::vector<std::int64_t> parse_tenants(const std::vector<std::string>& given) {
    std::vector<std::int64_t> tenants;
    for (const auto& tenant : given) {
        const auto id = parse_integer(tenant, "--tenant", 1, INT64_MAX);
        if (std::find(tenants.begin(), tenants.end(), id) == tenants.end()) tenants.push_back(id);
    }
    return tenants;
}

JobClassProperties parse_properties(const RedriveOptions& o) {
    JobClassProperties properties;
    if (!o.tries.empty()) properties.tries = parse_integer(o.tries, "--tries", 0, kMaxInt32);
    if (!o.backoff.empty()) properties.backoff = parse_backoff(o.backoff);
    if (!o.timeout.empty())
        properties.timeout = parse_integer(o.timeout, "--timeout", 0, kMaxInt32);
    return properties;
}

void widen(std::optional<std::string>& low, std::optional<std::string>& high,
           const std::string& value) {
    if (!low || value < *low) low = value;
    if (!high || value > *high) high = value;
}

// What one batch committed, as the worker hands it to the caller's thread.
struct RedriveBatch {
    std::vector<RequeuedGroup> requeued;  // the messages the batch requeued, grouped
    std::int64_t redriven = 0;
    std::int64_t jobs_inserted = 0;
    std::int64_t audit_events = 0;
    std::int64_t first_index = 0;  // the --rate index of the batch's first job
};

// The Redis path's locked messages as the database path reports them: the requeued ones,
// grouped by reason and tenant.
std::vector<RequeuedGroup> grouped(const std::vector<LockedMessage>& locked) {
    std::map<std::pair<std::optional<std::string>, std::int64_t>, RequeuedGroup> groups;
    for (const auto& message : locked) {
        if (!message.requeued) continue;
        RequeuedGroup& group = groups[{message.error_code, message.tenant_id}];
        group.error_code = message.error_code;
        group.tenant_id = message.tenant_id;
        ++group.messages;
        if (message.failed_at) {
            widen(group.oldest_failed_at, group.newest_failed_at, *message.failed_at);
        }
    }
    std::vector<RequeuedGroup> out;
    out.reserve(groups.size());
    for (auto& [key, group] : groups) out.push_back(std::move(group));
    return out;
}

// The jobs of one planned range: fresh uuids, the reserved ids, and the --rate indices from
// `first_index` (the messages planned before the range), so that no two batches share one.
JobBatch job_batch(const RedriveRequest& request, const RedrivePlan& plan, std::int64_t rows,
                   std::int64_t first_index, std::vector<std::int64_t> job_ids) {
    const LaravelJobPayload& payload = *plan.payload;
    JobBatch jobs;
    jobs.queue = queue_name(request, plan);
    jobs.payload = {payload.before_uuid(), payload.before_id(), payload.after_id(),
                    payload.has_created_at()
                        ? std::optional<std::string>(payload.after_created_at())
                        : std::nullopt};
    // One random draw for the batch: a draw per uuid cost most of the client's CPU.
    if (!plan.redis) jobs.uuids = new_uuids_v4(static_cast<std::size_t>(rows));
    jobs.job_ids = std::move(job_ids);
    jobs.rate = request.rate;
    jobs.rate_start = plan.rate_start.value_or(0);
    jobs.first_index = first_index;
    return jobs;
}

// Batches planned ahead: one read plans up to this many (and this many messages at most)
// and reserves their job ids, so a batch rarely waits for a planning transaction. A message
// that fails during the run inside a range already planned, beyond the range's planned
// rows, is left for the next run (as it would be for a range planned just before its batch).
constexpr std::int64_t kPlanAheadBatches = 8;
constexpr std::int64_t kPlanAheadMessages = 10000;

// A range planned ahead, with its jobs' ids.
struct RangeAhead {
    RedriveRange range;
    std::vector<std::int64_t> job_ids;
};

// The redrive's batches for the engine: ranges of the selected messages' ids, each locked,
// requeued and audited in one transaction.
class RedriveJob : public batch::Job<Session, JobBatch, RedriveBatch> {
  public:
    RedriveJob(const RedriveRequest& request, const RedrivePlan& plan, const RunContext& run,
               ReplicaLagGate& gate, RedriveResult& result)
        : request_(request), plan_(plan), run_(run), gate_(gate), result_(result) {}

    // The engine calls this one at a time, in range order: the ranges ahead need no lock.
    std::optional<batch::Planned<JobBatch>> plan(Session& session,
                                                 const batch::Next& next) override {
        if (!ahead_fits(next)) plan_ahead(session, next);
        if (ahead_.empty()) return std::nullopt;
        RangeAhead front = std::move(ahead_.front());
        ahead_.pop_front();
        const RedriveRange& range = front.range;
        // Built here, while the other sessions' batches run, not in the batch's transaction.
        return batch::Planned<JobBatch>{
            {range.after_id, range.upper, range.rows},
            job_batch(request_, plan_, range.rows, next.planned, std::move(front.job_ids))};
    }
    bool admit(Session& session) override { return gate_.admit(session); }
    RedriveBatch run(Session& session, const batch::Planned<JobBatch>& batch,
                     batch::Serial& /*serial*/) override;
    std::int64_t fold(RedriveBatch&& batch) override;

  private:
    bool ahead_fits(const batch::Next& next) const {
        return !ahead_.empty() && ahead_.front().range.after_id == next.after &&
               ahead_.front().range.rows <= next.wanted;
    }
    void plan_ahead(Session& session, const batch::Next& next);

    const RedriveRequest& request_;
    const RedrivePlan& plan_;
    const RunContext& run_;
    ReplicaLagGate& gate_;
    RedriveResult& result_;
    std::deque<RangeAhead> ahead_;
};

// One short transaction, so that it too runs with the run's timeouts through a pooler.
void RedriveJob::plan_ahead(Session& session, const batch::Next& next) {
    const std::int64_t size = request_.batch_size;
    std::int64_t rows =
        size * std::clamp<std::int64_t>(kPlanAheadMessages / size, 1, kPlanAheadBatches);
    if (plan_.selection.limit) rows = std::min(rows, *plan_.selection.limit - next.planned);
    rows = std::max(rows, next.wanted);
    Work tx(session);
    WaMessageRepository messages(tx, plan_.queue.table);
    const auto ranges = messages.next_ranges(plan_.selection, next.after, *plan_.tally.last_id,
                                             std::min(size, next.wanted), rows);
    std::int64_t total = 0;
    for (const auto& range : ranges) total += range.rows;
    std::vector<std::int64_t> ids;
    if (!plan_.redis && total > 0) ids = messages.reserve_job_ids(plan_.jobs_id_sequence, total);
    tx.commit();
    ahead_.clear();
    auto id = ids.begin();
    for (const auto& range : ranges) {
        RangeAhead planned{range, {}};
        if (!plan_.redis) {
            planned.job_ids.assign(id, id + range.rows);
            id += range.rows;
        }
        ahead_.push_back(std::move(planned));
    }
}

// Locks, requeues and audits one planned range in one transaction, and commits it.
RedriveBatch RedriveJob::run(Session& session, const batch::Planned<JobBatch>& batch,
                             batch::Serial& /*serial*/) {
    Work tx(session);
    WaMessageRepository messages(tx, plan_.queue.table);
    const batch::Range& range = batch.range;
    // The requeue statement also writes the history it clears: one audit event per message.
    const RedriveAudit audit{kRedrivenEvent, kSubjectType, run_.run_id};
    RequeuedBatch requeued;
    std::vector<RedisPush> pushes;  // the Redis driver's, pushed once the batch has committed
    if (plan_.redis) {
        pushes = plan_.redis->requeue(tx, plan_.selection, {range.after, range.upper, range.rows},
                                      *plan_.payload, batch.task, audit, run_.timezone, requeued);
        requeued.groups = grouped(requeued.locked);
    } else {
        requeued = messages.requeue_batch(plan_.selection, {range.after, range.upper, range.rows},
                                          batch.task, audit, run_.timezone);
    }
    RedriveBatch done;
    done.first_index = batch.task.first_index;
    done.jobs_inserted = requeued.jobs_inserted;
    done.audit_events = requeued.audit_events;
    done.requeued = std::move(requeued.groups);
    for (const auto& group : done.requeued) done.redriven += group.messages;
    const std::int64_t count = done.redriven;
    if (done.jobs_inserted != count || done.audit_events != count) {
        throw RunFailure("the batch after id " + std::to_string(range.after) + " requeued " +
                         std::to_string(count) + " messages but inserted " +
                         std::to_string(done.jobs_inserted) + " jobs and " +
                         std::to_string(done.audit_events) + " audit events; rolled back");
    }
    tx.commit();
    if (plan_.redis) plan_.redis->push(pushes);
    return done;
}

std::int64_t RedriveJob::fold(RedriveBatch&& batch) {
    RedriveResult& r = result_;
    if (batch.jobs_inserted > 0) {
        r.rate_last_index =
            std::max(r.rate_last_index, batch.first_index + batch.jobs_inserted - 1);
    }
    r.redriven += batch.redriven;
    r.jobs_inserted += batch.jobs_inserted;
    r.audit_events += batch.audit_events;
    for (const auto& group : batch.requeued) {
        r.by_reason[reason_key(group.error_code)] += group.messages;
        r.by_tenant[group.tenant_id] += group.messages;
        for (const auto& at : {group.oldest_failed_at, group.newest_failed_at}) {
            if (at) widen(r.oldest_failed_at, r.newest_failed_at, *at);
        }
    }
    return batch.redriven;
}

// Which release's payload to write: --laravel-version / OPS_LARAVEL_VERSION, else the form of
// the application's newest own job, else Laravel 8's, which every release 8 to 13 runs.
std::string form_from_config(RedrivePlan& plan, const RedriveRequest& request,
                             const ResolvedConfig& config,
                             const std::optional<PayloadForm>& detected) {
    plan.form = {*config.laravel_version, request.serializes_models};
    std::string reason = config.laravel_version_source + " " + config.laravel_version->text();
    if (detected && (detected->first_release().text() != plan.form.first_release().text() ||
                     detected->models_form() != plan.form.models_form())) {
        const ApplicationJob& job = *plan.application_job;
        reason += "; the application's newest own job (" + job.source + " id " +
                  std::to_string(job.id) + ") has the " + detected->describe() + " form";
        spdlog::warn(
            "the application's newest own SendWaMessageJob ({} id {}) has the {} form, not the "
            "{} form {} asks for",
            job.source, job.id, detected->describe(), plan.form.describe(),
            config.laravel_version_source);
    }
    return reason;
}

void choose_payload(RedrivePlan& plan, const RedriveRequest& request,
                    const ResolvedConfig* config) {
    const auto detected =
        plan.application_job ? detect_payload_form(plan.application_job->payload) : std::nullopt;
    if (config != nullptr && config->laravel_version) {
        plan.form_reason = form_from_config(plan, request, *config, detected);
    } else if (detected) {
        plan.form = *detected;
        plan.form_reason = "the form of the application's newest own job (" +
                           plan.application_job->source + " id " +
                           std::to_string(plan.application_job->id) + ")";
    } else {
        plan.form = {};
        plan.form.serializes_models = request.serializes_models;
        plan.form_reason =
            "the default: no Laravel version given and no job of the application's "
            "found; every release 8 to 13 runs this form";
    }
    plan.payload.emplace(request.queue, request.properties, plan.form);
    plan.mismatches.clear();
    if (plan.application_job) {
        plan.mismatches =
            job_settings_mismatches(plan.application_job->payload, request.properties);
    }
}

}  // namespace

CommandSpec wa_redrive_failed_spec() {
    CommandSpec spec;
    spec.group = "wa";
    spec.name = "redrive-failed";
    spec.needs = redrive_needs();
    spec.description =
        "Queue failed WhatsApp messages with a transient reason again as SendWaMessageJob";
    spec.examples =
        "  ops wa redrive-failed --dry-run\n"
        "  ops wa redrive-failed --failed-after 24h --rate 50\n"
        "  ops wa redrive-failed --reason rate_limited --tenant 12 --tenant 40 --queue wa-retry\n"
        "  ops wa redrive-failed --reason not_on_whatsapp --include-permanent --limit 100";
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<WaRedriveFailedCommand>();
        bind_options(app, command->options());
        return command;
    };
    return spec;
}

RedriveRequest make_redrive_request(const RedriveOptions& o) {
    RedriveRequest r;
    choose_reasons(o.reasons, o.include_permanent, r.selection);
    r.selection.tenants = parse_tenants(o.tenants);
    r.failed_after = parse_optional_when(o.failed_after, "--failed-after");
    r.failed_before = parse_optional_when(o.failed_before, "--failed-before");
    if (!o.limit.empty()) r.selection.limit = parse_integer(o.limit, "--limit", 1, INT64_MAX / 2);
    if (!o.rate.empty()) r.rate = parse_integer(o.rate, "--rate", 1, 1000000);
    r.batch_size = parse_integer(o.batch_size, "--batch-size", 1, 100000);
    r.parallel = static_cast<std::size_t>(parse_integer(o.parallel, "--parallel", 1, 8));
    if (o.queue) check_queue_name(*o.queue);
    r.queue = o.queue;
    r.properties = parse_properties(o);
    r.serializes_models = o.serializes_models;
    r.allow_settings_mismatch = o.allow_settings_mismatch;
    r.dry_run = o.dry_run;
    r.lag = ReplicaLagGate::parse(o.lag);
    return r;
}

std::string queue_name(const RedriveRequest& request, const RedrivePlan& plan) {
    return request.queue.value_or(plan.queue.queue);
}

// Before the lock: the application's queue connection (which decides the table) and the
// --failed-after/--failed-before times on the database clock, in the application's zone.
void WaRedriveFailedCommand::resolve(CommandEnv& env) {
    gate_ = ReplicaLagGate(request_.lag);
    plan_.queue = queue_settings(env.config, options_.redis.url);
    plan_.redis = RedisRedriveTarget::open(plan_.queue, env.config, options_.redis);  // 69: down
    plan_.selection = request_.selection;
    ReadTransaction tx(*env.session);
    Clock clock(tx, env.run.timezone);
    const auto resolved =
        [&](const std::optional<RedriveWhen>& when) -> std::optional<std::string> {
        if (!when) return std::nullopt;
        return when->at ? *when->at : clock.ago(when->ago->count());
    };
    auto& selection = plan_.selection;
    selection.failed_after = resolved(request_.failed_after);
    selection.failed_before = resolved(request_.failed_before);
    if (selection.failed_after && selection.failed_before &&
        *selection.failed_after >= *selection.failed_before) {
        throw UsageError("--failed-after: " + *selection.failed_after +
                         " is not before --failed-before " + *selection.failed_before + " (" +
                         env.run.timezone + ")");
    }
}

void WaRedriveFailedCommand::execute(CommandEnv& env) {
    const bool dry = env.run.is_dry_run();
    if (!dry) gate_.check_access(*env.session);
    if (plan_.redis) plan_.redis->recover(*env.session, env.run);  // what a crash did not push
    make_plan(*env.session);
    choose_payload(plan_, request_, env.config);
    check_settings(dry);
    if (dry || plan_.tally.messages == 0) return;
    start(*env.session);
    redrive(env);
}

// One consistent snapshot: what the selection holds, what it leaves alone, and which
// messages already have a job waiting (redriving those would send them twice).
void WaRedriveFailedCommand::make_plan(Session& session) {
    SnapshotTransaction tx(session);
    WaMessageRepository messages(tx, plan_.queue.table);
    if (!plan_.redis) {
        plan_.application_job =
            QueueRepository(tx, plan_.queue.table).newest_application_job(kRedrivenEvent);
    }
    plan_.selection.excluded =
        plan_.redis ? plan_.redis->queued_ids(tx, plan_.selection, queue_name(request_, plan_))
                    : messages.ids_with_pending_job(plan_.selection);
    // Ascending, so that each batch binds only those in its own range.
    std::sort(plan_.selection.excluded.begin(), plan_.selection.excluded.end());
    plan_.already_queued = static_cast<std::int64_t>(plan_.selection.excluded.size());
    plan_.tally = messages.tally(plan_.selection);
    plan_.left_alone = messages.count_left_alone(plan_.selection, transient_codes());
    tx.commit();

    std::int64_t left = 0;
    for (const auto& reason : plan_.left_alone) left += reason.messages;
    spdlog::info(
        "{} failed messages to queue on '{}' (reasons {}{}); {} left alone for their "
        "reason; {} skipped because a job for them is already queued",
        plan_.tally.messages, queue_name(request_, plan_), joined(plan_.selection.codes),
        plan_.selection.include_null ? ", none" : "", left, plan_.already_queued);
}

void WaRedriveFailedCommand::check_settings(bool dry_run) const {
    if (plan_.mismatches.empty() || dry_run || request_.allow_settings_mismatch) return;
    std::string settings;
    for (const auto& m : plan_.mismatches) settings += (settings.empty() ? "" : ", ") + m.setting;
    throw ConfigError("the application's own SendWaMessageJob rows (" +
                          plan_.application_job->source + " id " +
                          std::to_string(plan_.application_job->id) + ") have other " + settings +
                          " than ops would write; workers would retry these jobs differently",
                      "give the job class's settings (--tries, --backoff, --timeout; see "
                      "job_settings in the dry run's summary) or --allow-settings-mismatch");
}

void WaRedriveFailedCommand::start(Session& session) {
    retry_transient("wa redrive-failed start", [&] {
        ReadTransaction tx(session);
        WaMessageRepository messages(tx, plan_.queue.table);
        if (!plan_.redis) plan_.jobs_id_sequence = messages.jobs_id_sequence();
        // One start for every batch's --rate indices, fixed before the first batch, after the
        // jobs earlier runs left waiting on the queue.
        if (request_.rate) {
            const std::string queue = queue_name(request_, plan_);
            plan_.rate_start =
                plan_.redis ? plan_.redis->rate_start(tx, queue) : messages.rate_start(queue);
        }
    });
}

void WaRedriveFailedCommand::redrive(CommandEnv& env) {
    RedriveJob job(request_, plan_, env.run, gate_, result_);
    batch::Config config;
    config.what = "wa redrive-failed";
    config.parallel = request_.parallel;
    config.limits.batch_size = request_.batch_size;
    config.limits.max_rows = plan_.selection.limit;
    config.progress_total = plan_.tally.messages;
    stop_ = batch::run_on_sessions(job, config, *env.session, env.open_session).stop;
}

Summary WaRedriveFailedCommand::summary() const {
    RedriveResult result = result_;
    result.replica_lag = gate_.summary();
    return redrive_summary(request_, plan_, result, stop_);
}

}  // namespace ops
