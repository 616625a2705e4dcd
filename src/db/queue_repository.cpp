#include "ops/db/queue_repository.hpp"

#include <fmt/format.h>

#include "ops/db/statement.hpp"
#include "ops/db/wa_message_repository.hpp"
#include "sql_access.hpp"

namespace ops {
namespace {

// In a payload, JSON-escaped: the contract's class.
constexpr const char* kJobClassMarker = R"("commandName":"App\\Jobs\\SendWaMessageJob")";
constexpr const char* kUuidPattern = R"re("uuid":"([0-9a-f-]{36})")re";

}  // namespace

QueueRepository::QueueRepository(Transaction& tx, const std::string& jobs_table)
    : tx_(SqlAccess::of(tx)), jobs_(quoted_table(tx, jobs_table)) {}

bool QueueRepository::table_exists(const std::string& table) {
    static const Statement exists("SELECT to_regclass(:table) IS NOT NULL");
    return run1(tx_, Bindings(exists).set("table", quoted_table(tx_, table)))[0].as<bool>();
}

// The newest 200 of each table, as candidates; failed_jobs only when it exists ({failed_jobs}).
constexpr const char* kNewestApplicationJob = R"sql(
    WITH candidates AS (
      (SELECT 'jobs' AS source, id, payload, created_at::bigint AS at FROM {jobs}
       WHERE position(:job_class IN payload) > 0 ORDER BY id DESC LIMIT 200)
      {failed_jobs}),
    tagged AS (SELECT c.*, substring(payload FROM :uuid_pattern) AS uuid FROM candidates c)
    SELECT source, id, payload FROM tagged t
    WHERE NOT EXISTS (
      SELECT 1 FROM audit_events e WHERE e.channel = 'ops' AND e.event = :redriven_event
        AND e.metadata->>'job_uuid' = t.uuid)
    ORDER BY at DESC, id DESC LIMIT 1
)sql";

constexpr const char* kFailedJobs = R"sql(UNION ALL
      (SELECT 'failed_jobs', id, payload, floor(extract(epoch FROM failed_at))::bigint
       FROM failed_jobs WHERE position(:job_class IN payload) > 0 ORDER BY id DESC LIMIT 200))sql";

std::optional<ApplicationJob> QueueRepository::newest_application_job(
    const std::string& redriven_event) {
    const Statement newest(
        fmt::format(fmt::runtime(kNewestApplicationJob), fmt::arg("jobs", jobs_),
                    fmt::arg("failed_jobs", table_exists("failed_jobs") ? kFailedJobs : "")));
    const auto rows = run(tx_, Bindings(newest)
                                   .set("job_class", kJobClassMarker)
                                   .set("uuid_pattern", kUuidPattern)
                                   .set("redriven_event", redriven_event));
    if (rows.empty()) return std::nullopt;
    return ApplicationJob{rows[0][0].as<std::string>(), rows[0][1].as<std::int64_t>(),
                          rows[0][2].as<std::string>()};
}

WaitingJobs QueueRepository::waiting_jobs(const std::string& queue, std::int64_t retry_after) {
    const Statement waiting_sql(fmt::format(R"sql(
        SELECT count(*) FILTER (WHERE reserved_at IS NULL AND available_at < e.now - :retry_after),
               max(e.now - available_at) FILTER (WHERE reserved_at IS NULL
                                                 AND available_at < e.now - :retry_after),
               count(*)
        FROM {}, (SELECT floor(extract(epoch FROM now()))::bigint AS now) e
        WHERE queue = :queue
    )sql",
                                            jobs_));
    const auto row =
        run1(tx_, Bindings(waiting_sql).set("queue", queue).set("retry_after", retry_after));
    WaitingJobs waiting;
    waiting.count = row[0].as<std::int64_t>();
    if (!row[1].is_null()) waiting.oldest_s = row[1].as<std::int64_t>();
    waiting.total = row[2].as<std::int64_t>();
    return waiting;
}

}  // namespace ops
