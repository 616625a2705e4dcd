// The summary of `ops wa redrive-failed`: a pure function of request, plan, result and how
// planning stopped (unit-tested in tests/unit/test_command_summaries.cpp).
#include <algorithm>

#include "ops/queue/reason_codes.hpp"
#include "wa_redrive_failed.hpp"

namespace ops {
namespace {

std::string reason_key(const std::optional<std::string>& code) {
    return code ? *code : std::string(kNoReason);
}

Summary nullable(const std::optional<std::string>& text) {
    return text ? Summary(*text) : Summary(nullptr);
}

Summary payload_summary(const RedrivePlan& plan) {
    Summary form;
    form["form"] = plan.form.describe();
    form["laravel"] = std::to_string(plan.form.first_release().major) + "." +
                      std::to_string(plan.form.first_release().minor);
    form["serializes_models"] = plan.form.models_form();
    form["why"] = plan.form_reason;
    Summary settings;
    const auto& job = plan.application_job;
    settings["compared_with"] =
        job ? Summary(job->source + " id " + std::to_string(job->id)) : Summary(nullptr);
    Summary mismatches = Summary::array();
    for (const auto& m : plan.mismatches) {
        mismatches.push_back({{"setting", m.setting},
                              {"application", m.application},
                              {"ops", m.ops},
                              {"fix", m.fix.empty() ? Summary(nullptr) : Summary(m.fix)}});
    }
    settings["mismatches"] = mismatches;
    form["job_settings"] = settings;
    return form;
}

template <class Key>
std::vector<std::pair<Key, std::int64_t>> largest_first(const std::map<Key, std::int64_t>& counts) {
    std::vector<std::pair<Key, std::int64_t>> sorted(counts.begin(), counts.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    return sorted;
}

// Dry run: what the selection holds; a run: what it requeued. Returns by_tenant, which
// the summary lists after the rate.
Summary breakdown(bool dry, const RedrivePlan& plan, const RedriveResult& result, Summary& s) {
    Summary by_reason = Summary::object();
    Summary by_tenant = Summary::array();
    if (dry) {
        for (const auto& r : plan.tally.by_reason) by_reason[reason_key(r.code)] = r.messages;
        for (const auto& t : plan.tally.by_tenant)
            by_tenant.push_back({{"tenant_id", t.tenant_id}, {"messages", t.messages}});
    } else {
        for (const auto& [code, n] : largest_first(result.by_reason)) by_reason[code] = n;
        for (const auto& [tenant, n] : largest_first(result.by_tenant))
            by_tenant.push_back({{"tenant_id", tenant}, {"messages", n}});
    }
    s["by_reason"] = by_reason;
    Summary left_alone = Summary::object();
    for (const auto& r : plan.left_alone) left_alone[reason_key(r.code)] = r.messages;
    s["left_alone"] = left_alone;
    s["oldest_failed_at"] = nullable(dry ? plan.tally.oldest_failed_at : result.oldest_failed_at);
    s["newest_failed_at"] = nullable(dry ? plan.tally.newest_failed_at : result.newest_failed_at);
    return by_tenant;
}

Summary rate_summary(const RedriveRequest& request, const RedrivePlan& plan,
                     const RedriveResult& result) {
    if (!request.rate) return nullptr;
    const bool dry = request.dry_run;
    const std::int64_t jobs = dry ? plan.tally.messages : result.jobs_inserted;
    // A run's batches that requeued fewer than planned leave gaps in the indices.
    const std::int64_t last = dry ? jobs - 1 : result.rate_last_index;
    const std::int64_t spread = last > 0 ? last / *request.rate : 0;
    Summary rate;
    rate["per_second"] = *request.rate;
    rate["jobs"] = jobs;
    rate["last_available_after_s"] = spread;
    if (plan.rate_start) {
        rate["first_available_at"] = *plan.rate_start;
        rate["last_available_at"] = *plan.rate_start + spread;
    }
    return rate;
}

// Every message of the selection was visited (planning ran out, or took --limit), so what
// was not redriven was skipped: gone, locked by others, or no longer failed.
bool visited_all(const RedriveRequest& request, const RedrivePlan& plan,
                 const RedriveResult& result, std::optional<batch::Stop> stop) {
    if (request.dry_run || stop == batch::Stop::kSignal) return false;
    const auto& limit = plan.selection.limit;
    return stop == batch::Stop::kExhausted || stop == batch::Stop::kLimit ||
           plan.tally.messages == 0 || (limit && result.redriven >= *limit);
}

}  // namespace

Summary redrive_summary(const RedriveRequest& request, const RedrivePlan& plan,
                        const RedriveResult& result, std::optional<batch::Stop> stop) {
    Summary s;
    s["queue_connection"] = plan.queue.connection;
    s["table"] = on_redis(plan.queue) ? Summary() : Summary(plan.queue.table);
    s["queue"] = queue_name(request, plan);
    s["payload"] = payload_summary(plan);
    Summary reasons = Summary::array();
    for (const auto& code : request.selection.codes) reasons.push_back(code);
    if (request.selection.include_null) reasons.push_back(kNoReason);
    s["reasons"] = reasons;
    const auto& tenants = request.selection.tenants;
    s["tenants"] = tenants.empty() ? Summary("all") : Summary(tenants);
    s["failed_after"] = nullable(plan.selection.failed_after);
    s["failed_before"] = nullable(plan.selection.failed_before);
    s["selected"] = plan.tally.messages;
    s["already_queued"] = plan.already_queued;
    s["redriven"] = result.redriven;
    s["jobs_inserted"] = result.jobs_inserted;
    s["audit_events"] = result.audit_events;
    if (visited_all(request, plan, result, stop))
        s["skipped"] = std::max<std::int64_t>(0, plan.tally.messages - result.redriven);
    Summary by_tenant = breakdown(request.dry_run, plan, result, s);
    s["rate"] = rate_summary(request, plan, result);
    s["by_tenant"] = by_tenant;
    if (stop == batch::Stop::kRefused) s["stopped_by"] = "replica-lag";
    if (request.lag.enabled()) s["replica_lag"] = result.replica_lag;
    if (plan.redis) s["redis"] = plan.redis->summary();
    return s;
}

}  // namespace ops
