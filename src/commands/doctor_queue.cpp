#include "ops/commands/doctor_queue.hpp"

#include "ops/core/errors.hpp"
#include "ops/db/queue_repository.hpp"
#include "ops/db/schema_repository.hpp"
#include "ops/queue/job_settings.hpp"
#include "ops/queue/queue_settings.hpp"

namespace ops {
namespace {

constexpr const char* kRedrivenEvent = "wa.message.redriven";  // as wa redrive-failed writes

std::string worker_problem(const QueueSettings& queue, const WaitingJobs& waiting) {
    if (waiting.count == 0) return {};
    return std::to_string(waiting.count) + " job(s) on queue '" + queue.queue +
           "' have been due for longer than retry_after (" + std::to_string(queue.retry_after) +
           " s), the oldest for " + std::to_string(waiting.oldest_s.value_or(0)) +
           " s, and no worker took them: is `queue:work` running for this queue?";
}

// A read the role may not make would abort doctor's transaction and every check after it;
// the privilege itself is reported by the checks of what each command needs.
bool can_read(Transaction& tx, const std::vector<std::string>& tables) {
    SchemaRepository schema(tx);
    for (const auto& table : tables) {
        if (schema.table_exists(table) && !schema.missing_privileges(table, {"SELECT"}).empty())
            return false;
    }
    return true;
}

void report_application_job(QueueRepository& repository, Summary& report,
                            const AddCheck& add_check) {
    const auto job = repository.newest_application_job(kRedrivenEvent);
    if (!job) {
        report["application_job"] = nullptr;
        return;
    }
    const auto form = detect_payload_form(job->payload);
    report["application_job"] = {
        {"row", job->source + " id " + std::to_string(job->id)},
        {"form", form ? Summary(form->describe()) : Summary("not a known form")}};
    std::string problem;
    for (const auto& m : job_settings_mismatches(job->payload, {})) {
        problem += (problem.empty() ? "" : "; ") + m.setting + " is " + m.application +
                   " there, ops writes " + m.ops + (m.fix.empty() ? "" : " (give " + m.fix + ")");
    }
    if (!problem.empty()) problem = job->source + " id " + std::to_string(job->id) + ": " + problem;
    add_check("job settings of the application's SendWaMessageJob", problem);
}

}  // namespace

QueueChoice choose_queue(const ResolvedConfig* config, const std::string& redis_url) {
    try {
        return {queue_settings(config, redis_url), {}};
    } catch (const ConfigError& e) {
        return {std::nullopt, e.what()};
    }
}

Summary doctor_queue_report(Transaction& tx, const QueueChoice& choice, const AddCheck& add_check) {
    Summary report;
    if (!choice.settings) {
        add_check("queue connection", choice.refused);
        report["refused"] = choice.refused;
        return report;
    }
    const QueueSettings& queue = *choice.settings;
    report["connection"] = queue.connection;
    report["queue"] = queue.queue;
    if (on_redis(queue)) {  // its rows: redis_checks (doctor_redis)
        report["table"] = nullptr;
        add_check(
            "queue connection redis (" + queue.connection_source + ", queue " + queue.queue + ")",
            "");
        return report;
    }
    report["table"] = queue.table;
    report["retry_after_s"] = queue.retry_after;
    add_check("queue connection " + queue.connection + " (table " + queue.table + ", queue " +
                  queue.queue + ")",
              "");
    QueueRepository repository(tx, queue.table);
    if (!repository.table_exists(queue.table)) {
        add_check("table " + queue.table + " of the queue", "it does not exist");
        return report;
    }
    if (!can_read(tx, {queue.table})) {
        add_check(
            "table " + queue.table + " of the queue",
            "the role cannot read it (SELECT): the worker and job-settings checks are skipped");
        return report;
    }
    const WaitingJobs waiting = repository.waiting_jobs(queue.queue, queue.retry_after);
    report["jobs"] = waiting.total;
    report["waiting_past_retry_after"] = waiting.count;
    add_check("a worker takes jobs from queue " + queue.queue, worker_problem(queue, waiting));
    if (can_read(tx, {"failed_jobs", "audit_events"})) {
        report_application_job(repository, report, add_check);
    } else {
        add_check("job settings of the application's SendWaMessageJob",
                  "the role cannot read failed_jobs or audit_events (SELECT): not compared");
    }
    return report;
}

}  // namespace ops
