#include "quota_reconcile.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "ops/batch/sessions.hpp"
#include "ops/commands/quota_reconcile.hpp"
#include "ops/core/values.hpp"
#include "ops/db/clock.hpp"

namespace ops {
namespace {

constexpr std::int64_t kMaxBatchSize = 10000;

std::vector<RecordedUsage> recorded_usage(const std::vector<QuotaRow>& rows,
                                          const std::vector<std::int64_t>& inserted) {
    std::vector<RecordedUsage> recorded;
    recorded.reserve(rows.size());
    for (const auto& row : rows) {
        const bool ours = std::binary_search(inserted.begin(), inserted.end(), row.tenant_id);
        recorded.push_back(
            {row.tenant_id, ours ? std::nullopt : std::optional(row.used), row.quota_limit});
    }
    return recorded;
}

std::vector<std::pair<std::int64_t, std::int64_t>> as_pairs(
    const std::vector<TenantOrderCount>& counts) {
    std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
    pairs.reserve(counts.size());
    for (const auto& c : counts) pairs.emplace_back(c.tenant_id, c.orders);
    return pairs;
}

// One batch, one transaction; see quota_reconcile.hpp for why the order of steps makes it
// exact.
std::vector<UsageCheck> reconcile_batch(Session& session, const RunContext& run,
                                        const QuotaPeriod& period,
                                        const std::vector<std::int64_t>& tenants) {
    Work tx(session);
    const std::string now = Clock(tx, run.timezone).now();
    QuotaRepository quota(tx);
    const auto inserted = quota.insert_missing_rows(period, tenants, now);
    const auto rows = quota.lock_rows(period, tenants);
    std::vector<std::int64_t> locked;
    locked.reserve(rows.size());
    for (const auto& row : rows) locked.push_back(row.tenant_id);
    // A new statement, so a new snapshot: taken after every lock above was granted.
    const auto counts = quota.count_orders(period, locked);
    auto checks = check_usage(recorded_usage(rows, inserted), as_pairs(counts));
    std::vector<QuotaUpdate> updates;
    updates.reserve(checks.size());
    for (const auto& check : checks) {
        updates.push_back({check.tenant_id, check.actual, check.drifted()});
    }
    if (!updates.empty()) quota.apply(period, updates, now);
    tx.commit();
    return checks;
}

std::vector<UsageCheck> check_batch(Session& session, const QuotaPeriod& period,
                                    const std::vector<std::int64_t>& tenants) {
    ReadTransaction tx(session);
    QuotaRepository quota(tx);
    std::vector<RecordedUsage> recorded;
    for (const auto& row : quota.read_rows(period, tenants)) {
        recorded.push_back({row.tenant_id, row.used, row.quota_limit});
    }
    return check_usage(recorded, as_pairs(quota.count_orders(period, tenants)));
}

struct CheckedBatch {
    std::vector<UsageCheck> checks;
    std::chrono::milliseconds took{0};
    std::int64_t tenants = 0;  // visited, for the progress
};

// The plan's batches for the engine: position i is the plan's batch i (range (i-1, i]).
class ReconcileJob : public batch::Job<Session, std::vector<std::int64_t>, CheckedBatch> {
  public:
    ReconcileJob(const ReconcileRequest& request, const ReconcilePlan& plan, const RunContext& run,
                 ReconcileResult& result)
        : request_(request), plan_(plan), run_(run), result_(result) {}

    std::optional<batch::Planned<std::vector<std::int64_t>>> plan(
        Session& /*session*/, const batch::Next& next) override {
        const auto index = static_cast<std::size_t>(next.after);
        if (index >= plan_.batches.size()) return std::nullopt;
        const auto [begin, end] = plan_.batches[index];
        const auto first = plan_.candidates.begin();
        std::vector<std::int64_t> tenants(first + static_cast<std::ptrdiff_t>(begin),
                                          first + static_cast<std::ptrdiff_t>(end));
        const auto rows = static_cast<std::int64_t>(tenants.size());
        return batch::Planned<std::vector<std::int64_t>>{{next.after, next.after + 1, rows},
                                                         std::move(tenants)};
    }

    CheckedBatch run(Session& session, const batch::Planned<std::vector<std::int64_t>>& batch,
                     batch::Serial& /*serial*/) override {
        const auto& tenants = batch.task;
        const auto started = std::chrono::steady_clock::now();
        CheckedBatch done;
        done.tenants = batch.range.rows;
        done.checks = request_.dry_run ? check_batch(session, plan_.period, tenants)
                                       : reconcile_batch(session, run_, plan_.period, tenants);
        done.took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        spdlog::debug("tenants {}..{}: {} in scope, {} ms", tenants.front(), tenants.back(),
                      done.checks.size(), done.took.count());
        return done;
    }

    std::int64_t fold(CheckedBatch&& batch) override {
        result_.longest_batch = std::max(result_.longest_batch, batch.took);
        result_.tally.add(batch.checks);
        if (!request_.dry_run && !batch.checks.empty()) result_.committed = true;
        return batch.tenants;
    }

  private:
    const ReconcileRequest& request_;
    const ReconcilePlan& plan_;
    const RunContext& run_;
    ReconcileResult& result_;
};

void bind_options(CLI::App& app, ReconcileOptions& options) {
    ReconcileOptions* o = &options;
    app.add_option_function<std::string>(
        "PERIOD",
        [o](const std::string& value) {
            o->period = value;
            o->period_given = true;
        },
        "month YYYY-MM, 'current' or 'previous' in the application's timezone (default "
        "current)");
    app.add_option("--tenant", o->tenants, "only this tenant id (repeatable)")
        ->allow_extra_args(false);
    app.add_option("--batch-size", o->batch_size,
                   "at most N tenants per transaction (default 500)");
    app.add_option("--batch-orders", o->batch_orders,
                   "close a batch once its tenants' recorded usage reaches N orders "
                   "(default 10000): bounds how long the application may wait");
    app.add_flag("--dry-run", o->dry_run, "report the drift; change nothing");
    app.add_flag("--fail-on-drift", o->fail_on_drift, "exit 3 when any drift was found");
}

DatabaseNeeds reconcile_needs() {
    DatabaseNeeds needs;
    // every tenant, their orders counted, quota rows locked, inserted and updated
    needs.tables = {
        {"tenants", {{"id", kIntegerTypes}}, {"SELECT"}},
        {"orders",
         {{"id", kIntegerTypes},
          {"tenant_id", kIntegerTypes},
          {"status", kTextTypes},
          {"created_at", kTimestampTypes},
          {"deleted_at", kTimestampTypes}},
         {"SELECT"}},
        {"quota_usages",
         {{"tenant_id", kIntegerTypes},
          {"period", kTextTypes},
          {"used", kIntegerTypes},
          {"quota_limit", kIntegerTypes},
          {"reconciled_at", kTimestampTypes},
          {"created_at", kTimestampTypes},
          {"updated_at", kTimestampTypes}},
         {"SELECT", "INSERT", "UPDATE"}},
    };
    needs.sequences = {{"quota_usages", "id", {"USAGE"}}};
    return needs;
}

}  // namespace

CommandSpec quota_reconcile_spec() {
    CommandSpec spec;
    spec.group = "quota";
    spec.name = "reconcile";
    spec.needs = reconcile_needs();
    spec.description =
        "Recompute one month of quota_usages.used from the orders, exactly, while traffic goes on";
    spec.examples =
        "  ops quota reconcile --dry-run\n"
        "  ops quota reconcile previous --fail-on-drift --dry-run --output json\n"
        "  ops quota reconcile 2026-01 --tenant 42 --tenant 77";
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<QuotaReconcileCommand>();
        bind_options(app, command->options());
        return command;
    };
    return spec;
}

ReconcileRequest make_reconcile_request(const ReconcileOptions& o) {
    ReconcileRequest r;
    r.period = parse_period_argument(o.period_given ? o.period : "current", "PERIOD");
    for (const auto& tenant : o.tenants) {
        try {
            r.tenants.push_back(parse_integer(tenant, "--tenant", 1, INT64_MAX));
        } catch (const UsageError&) {
            throw UsageError("--tenant: expected a tenant id (a whole number from 1), got '" +
                             tenant + "'");
        }
    }
    std::sort(r.tenants.begin(), r.tenants.end());
    r.tenants.erase(std::unique(r.tenants.begin(), r.tenants.end()), r.tenants.end());
    r.batch_size = parse_integer(o.batch_size, "--batch-size", 1, kMaxBatchSize);
    r.batch_orders = parse_integer(o.batch_orders, "--batch-orders", 1, INT32_MAX);
    r.dry_run = o.dry_run;
    r.fail_on_drift = o.fail_on_drift;
    return r;
}

void QuotaReconcileCommand::execute(CommandEnv& env) {
    make_plan(*env.session, env.run);
    ReconcileJob job(request_, plan_, env.run, result_);
    batch::Config config;
    config.what = request_.dry_run ? "quota reconcile check" : "quota reconcile";
    config.parallel = 1;  // one batch at a time: each locks its tenants' rows in tenant order
    config.limits.batch_size = INT64_MAX;  // the plan sized the batches
    config.progress_total = static_cast<std::int64_t>(plan_.candidates.size());
    batch::run_on_sessions(job, config, *env.session, env.open_session);
    const bool dry = request_.dry_run;
    const ReconcileTally& tally = result_.tally;
    spdlog::info("period {}: {} tenants checked, {} drifted ({} {}, {} {}), {} over quota",
                 plan_.period.period, tally.checked(), tally.drifted(),
                 dry ? "to insert" : "inserted", tally.inserted(), dry ? "to update" : "updated",
                 tally.updated(), tally.over_quota_count());
}

// Resolves the month on the database clock in the application's timezone, lists the tenants
// to visit (all, or those of --tenant) and splits them into batches: at most --batch-size
// tenants, and about --batch-orders orders to count (judged by the recorded usage).
void QuotaReconcileCommand::make_plan(Session& session, const RunContext& run) {
    ReadTransaction tx(session);
    const Period period = resolve_period(request_.period, Clock(tx, run.timezone).now());
    plan_.period = {period.text(), period.first_moment(), period.end_moment()};
    std::vector<std::int64_t> expected;
    for (const auto& candidate :
         QuotaRepository(tx).candidate_tenants(plan_.period, request_.tenants)) {
        plan_.candidates.push_back(candidate.tenant_id);
        expected.push_back(candidate.recorded);
    }
    plan_.batches = split_batches(expected, request_.batch_size, request_.batch_orders);
    spdlog::info(
        "period {} ({}): orders created from {} until before {}; {} tenants to visit in {} "
        "batches",
        plan_.period.period, run.timezone, plan_.period.from, plan_.period.until,
        plan_.candidates.size(), plan_.batches.size());
}

Summary reconcile_summary(const ReconcileRequest& request, const ReconcilePlan& plan,
                          const ReconcileResult& result) {
    const auto& period = plan.period;
    const ReconcileTally& tally = result.tally;
    Summary s;
    s["period"] = period.period.empty() ? nullptr : Summary(period.period);
    s["counted_from"] = period.from.empty() ? nullptr : Summary(period.from);
    s["counted_until"] = period.until.empty() ? nullptr : Summary(period.until);
    s["tenants"] = request.tenants.empty() ? Summary("all") : Summary(request.tenants);
    s["tenants_checked"] = tally.checked();
    s["drifted"] = tally.drifted();
    s["inserted"] = tally.inserted();
    s["updated"] = tally.updated();
    s["unchanged"] = tally.unchanged();
    s["drift"] = tally.drift();
    s["over_quota"] = tally.over_quota();
    if (!request.dry_run) s["changes"] = tally.changes();
    s["longest_batch_ms"] = result.longest_batch.count();
    return s;
}

ExitCode QuotaReconcileCommand::outcome() const {
    return request_.fail_on_drift && result_.tally.drifted() > 0 ? ExitCode::kDriftFound
                                                                 : ExitCode::kSuccess;
}

}  // namespace ops
