#include "ops/commands/quota_reconcile.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "ops/core/values.hpp"
#include "ops/db/clock.hpp"
#include "ops/db/retry.hpp"
#include "ops/output/progress.hpp"

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

}  // namespace

CommandSpec QuotaReconcileCommand::spec() {
    CommandSpec spec;
    spec.group = "quota";
    spec.name = "reconcile";
    spec.description =
        "Recompute one month of quota_usages.used from the orders, exactly, while traffic goes on";
    spec.examples =
        "  ops quota reconcile --dry-run\n"
        "  ops quota reconcile previous --fail-on-drift --dry-run --output json\n"
        "  ops quota reconcile 2026-01 --tenant 42 --tenant 77";
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<QuotaReconcileCommand>();
        Options* o = &command->options_;
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
        return command;
    };
    return spec;
}

void QuotaReconcileCommand::validate() {
    period_argument_ =
        parse_period_argument(options_.period_given ? options_.period : "current", "PERIOD");
    for (const auto& tenant : options_.tenants) {
        try {
            tenant_filter_.push_back(parse_integer(tenant, "--tenant", 1, INT64_MAX));
        } catch (const UsageError&) {
            throw UsageError("--tenant: expected a tenant id (a whole number from 1), got '" +
                             tenant + "'");
        }
    }
    std::sort(tenant_filter_.begin(), tenant_filter_.end());
    tenant_filter_.erase(std::unique(tenant_filter_.begin(), tenant_filter_.end()),
                         tenant_filter_.end());
    batch_size_ = parse_integer(options_.batch_size, "--batch-size", 1, kMaxBatchSize);
    batch_orders_ = parse_integer(options_.batch_orders, "--batch-orders", 1, INT32_MAX);
}

void QuotaReconcileCommand::execute(CommandEnv& env) {
    plan(*env.session, env.run);
    const bool dry = env.run.is_dry_run();
    ProgressReporter progress("quota reconcile", static_cast<std::int64_t>(candidates_.size()));
    for (const auto& [begin, end] : batches_) {
        if (stop_requested()) break;
        const std::vector<std::int64_t> tenants(
            candidates_.begin() + static_cast<std::ptrdiff_t>(begin),
            candidates_.begin() + static_cast<std::ptrdiff_t>(end));
        const auto started = std::chrono::steady_clock::now();
        const auto checks = dry ? check_batch(*env.session, tenants)
                                : reconcile_batch(*env.session, env.run, tenants);
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        longest_batch_ = std::max(longest_batch_, took);
        spdlog::debug("tenants {}..{}: {} in scope, {} ms", tenants.front(), tenants.back(),
                      checks.size(), took.count());
        tally_.add(checks);
        if (!dry && !checks.empty()) committed_ = true;
        progress.update(static_cast<std::int64_t>(end));
    }
    spdlog::info("period {}: {} tenants checked, {} drifted ({} {}, {} {}), {} over quota",
                 period_.period, tally_.checked(), tally_.drifted(), dry ? "to insert" : "inserted",
                 tally_.inserted(), dry ? "to update" : "updated", tally_.updated(),
                 tally_.over_quota_count());
}

// Resolves the month on the database clock in the application's timezone, lists the tenants
// to visit (all, or those of --tenant) and splits them into batches: at most --batch-size
// tenants, and about --batch-orders orders to count (judged by the recorded usage).
void QuotaReconcileCommand::plan(Session& session, const RunContext& run) {
    ReadTransaction tx(session);
    const Period period = resolve_period(period_argument_, Clock(tx, run.timezone).now());
    period_ = {period.text(), period.first_moment(), period.end_moment()};
    std::vector<std::int64_t> expected;
    for (const auto& candidate : QuotaRepository(tx).candidate_tenants(period_, tenant_filter_)) {
        candidates_.push_back(candidate.tenant_id);
        expected.push_back(candidate.recorded);
    }
    batches_ = split_batches(expected, batch_size_, batch_orders_);
    spdlog::info(
        "period {} ({}): orders created from {} until before {}; {} tenants to visit in {} "
        "batches",
        period_.period, run.timezone, period_.from, period_.until, candidates_.size(),
        batches_.size());
}

// One batch, one transaction; see the class comment for why the order of steps makes it exact.
std::vector<UsageCheck> QuotaReconcileCommand::reconcile_batch(
    Session& session, const RunContext& run, const std::vector<std::int64_t>& tenants) {
    return retry_transient("quota reconcile batch", [&] {
        Work tx(session);
        const std::string now = Clock(tx, run.timezone).now();
        QuotaRepository quota(tx);
        const auto inserted = quota.insert_missing_rows(period_, tenants, now);
        const auto rows = quota.lock_rows(period_, tenants);
        std::vector<std::int64_t> locked;
        locked.reserve(rows.size());
        for (const auto& row : rows) locked.push_back(row.tenant_id);
        // A new statement, so a new snapshot: taken after every lock above was granted.
        const auto counts = quota.count_orders(period_, locked);
        auto checks = check_usage(recorded_usage(rows, inserted), as_pairs(counts));
        std::vector<QuotaUpdate> updates;
        updates.reserve(checks.size());
        for (const auto& check : checks) {
            updates.push_back({check.tenant_id, check.actual, check.drifted()});
        }
        if (!updates.empty()) quota.apply(period_, updates, now);
        tx.commit();
        return checks;
    });
}

std::vector<UsageCheck> QuotaReconcileCommand::check_batch(
    Session& session, const std::vector<std::int64_t>& tenants) {
    return retry_transient("quota reconcile check", [&] {
        ReadTransaction tx(session);
        QuotaRepository quota(tx);
        std::vector<RecordedUsage> recorded;
        for (const auto& row : quota.read_rows(period_, tenants)) {
            recorded.push_back({row.tenant_id, row.used, row.quota_limit});
        }
        return check_usage(recorded, as_pairs(quota.count_orders(period_, tenants)));
    });
}

Summary QuotaReconcileCommand::summary() const {
    Summary s;
    s["period"] = period_.period.empty() ? nullptr : Summary(period_.period);
    s["counted_from"] = period_.from.empty() ? nullptr : Summary(period_.from);
    s["counted_until"] = period_.until.empty() ? nullptr : Summary(period_.until);
    s["tenants"] = tenant_filter_.empty() ? Summary("all") : Summary(tenant_filter_);
    s["tenants_checked"] = tally_.checked();
    s["drifted"] = tally_.drifted();
    s["inserted"] = tally_.inserted();
    s["updated"] = tally_.updated();
    s["unchanged"] = tally_.unchanged();
    s["drift"] = tally_.drift();
    s["over_quota"] = tally_.over_quota();
    if (dry_run() == DryRun::kNo) s["changes"] = tally_.changes();
    s["longest_batch_ms"] = longest_batch_.count();
    return s;
}

ExitCode QuotaReconcileCommand::outcome() const {
    return options_.fail_on_drift && tally_.drifted() > 0 ? ExitCode::kDriftFound
                                                          : ExitCode::kSuccess;
}

}  // namespace ops
