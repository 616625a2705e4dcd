#include "ops/db/queue_repository.hpp"

#include "ops/db/wa_message_repository.hpp"

namespace ops {
namespace {

// In a payload, JSON-escaped: the contract's class.
constexpr const char* kJobClassMarker = R"("commandName":"App\\Jobs\\SendWaMessageJob")";
constexpr const char* kUuidPattern = R"re("uuid":"([0-9a-f-]{36})")re";

}  // namespace

QueueRepository::QueueRepository(pqxx::transaction_base& tx, const std::string& jobs_table)
    : tx_(tx), jobs_(quoted_table(tx, jobs_table)) {}

bool QueueRepository::table_exists(const std::string& table) {
    return tx_.exec_params1("SELECT to_regclass($1) IS NOT NULL", quoted_table(tx_, table))[0]
        .as<bool>();
}

std::optional<ApplicationJob> QueueRepository::newest_application_job(
    const std::string& redriven_event) {
    const std::string failed_jobs =
        table_exists("failed_jobs")
            ? "  UNION ALL "
              "  (SELECT 'failed_jobs', id, payload, floor(extract(epoch FROM failed_at))::bigint "
              "   FROM failed_jobs WHERE position($1 IN payload) > 0 ORDER BY id DESC LIMIT 200)"
            : "";
    const auto rows = tx_.exec_params(
        "WITH candidates AS ("
        "  (SELECT 'jobs' AS source, id, payload, created_at::bigint AS at FROM " +
            jobs_ + "   WHERE position($1 IN payload) > 0 ORDER BY id DESC LIMIT 200) " +
            failed_jobs +
            "), "
            "tagged AS (SELECT c.*, substring(payload FROM $2) AS uuid FROM candidates c) "
            "SELECT source, id, payload FROM tagged t WHERE NOT EXISTS ("
            "  SELECT 1 FROM audit_events e WHERE e.channel = 'ops' AND e.event = $3 "
            "  AND e.metadata->>'job_uuid' = t.uuid) "
            "ORDER BY at DESC, id DESC LIMIT 1",
        kJobClassMarker, kUuidPattern, redriven_event);
    if (rows.empty()) return std::nullopt;
    return ApplicationJob{rows[0][0].as<std::string>(), rows[0][1].as<std::int64_t>(),
                          rows[0][2].as<std::string>()};
}

WaitingJobs QueueRepository::waiting_jobs(const std::string& queue, std::int64_t retry_after) {
    const auto row = tx_.exec_params1(
        "SELECT count(*) FILTER (WHERE reserved_at IS NULL AND available_at < e.now - $2), "
        "  max(e.now - available_at) FILTER (WHERE reserved_at IS NULL AND available_at < "
        "    e.now - $2), count(*) "
        "FROM " +
            jobs_ +
            ", (SELECT floor(extract(epoch FROM now()))::bigint AS now) e "
            "WHERE queue = $1",
        queue, retry_after);
    WaitingJobs waiting;
    waiting.count = row[0].as<std::int64_t>();
    if (!row[1].is_null()) waiting.oldest_s = row[1].as<std::int64_t>();
    waiting.total = row[2].as<std::int64_t>();
    return waiting;
}

}  // namespace ops
