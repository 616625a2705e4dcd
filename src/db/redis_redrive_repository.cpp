#include "ops/db/redis_redrive_repository.hpp"

#include <nlohmann/json.hpp>

#include "sql_access.hpp"

namespace ops {

namespace {

// The selection, as WaMessageRepository matches it ($1 codes, $2 include NULL, $3 tenants,
// $4 failed_after, $5 failed_before, $6 excluded ids), every value a bound parameter.
constexpr const char* kSelected =
    "status = 'failed' "
    "AND ($3::json IS NULL OR tenant_id IN (SELECT json_array_elements_text($3::json)::bigint)) "
    "AND ($4::timestamp IS NULL OR failed_at >= $4::timestamp) "
    "AND ($5::timestamp IS NULL OR failed_at < $5::timestamp) "
    "AND (error_code IN (SELECT json_array_elements_text($1::json)) "
    "     OR ($2::boolean AND error_code IS NULL)) "
    "AND ($6::json IS NULL OR id NOT IN (SELECT json_array_elements_text($6::json)::bigint))";
constexpr const char* kWallTime = "'YYYY-MM-DD HH24:MI:SS'";

struct Bound {
    std::string codes, tenants, excluded;
    explicit Bound(const RedriveSelection& s)
        : codes(nlohmann::json(s.codes).dump()),
          tenants(s.tenants.empty() ? "" : nlohmann::json(s.tenants).dump()),
          excluded(s.excluded.empty() ? "" : nlohmann::json(s.excluded).dump()) {}
    static const char* nullable(const std::string& text) {
        return text.empty() ? nullptr : text.c_str();
    }
    static const char* nullable(const std::optional<std::string>& text) {
        return text ? text->c_str() : nullptr;
    }
};

std::optional<std::string> optional_text(const pqxx::field& field) {
    if (field.is_null()) return std::nullopt;
    return std::string(field.c_str(), field.size());
}

nlohmann::json nullable_json(const std::optional<std::string>& text) {
    return text ? nlohmann::json(*text) : nlohmann::json();
}

}  // namespace

RedisRedriveRepository::RedisRedriveRepository(Transaction& tx) : tx_(SqlAccess::of(tx)) {}

RequeuedForRedis RedisRedriveRepository::requeue(const RedriveSelection& selection,
                                                 std::int64_t after_id, std::int64_t up_to_id,
                                                 std::int64_t limit, const std::string& zone) {
    const Bound p(selection);
    // The guard `m.status = 'failed'` leaves alone a row that changed before we locked it.
    const auto rows = tx_.exec_params(
        std::string("WITH locked AS ("
                    "  SELECT id, tenant_id, error_code, error_message, attempts, failed_at "
                    "  FROM wa_messages WHERE ") +
            kSelected +
            "  AND id > $7 AND id <= $8 ORDER BY id LIMIT $9 FOR NO KEY UPDATE SKIP LOCKED), "
            "requeued AS ("
            "  UPDATE wa_messages m SET status = 'queued', attempts = 0, error_code = NULL, "
            "    error_message = NULL, failed_at = NULL, "
            "    updated_at = (now() AT TIME ZONE $10)::timestamp(0) "
            "  FROM locked WHERE m.id = locked.id AND m.status = 'failed' RETURNING m.id) "
            "SELECT l.id, l.tenant_id, l.error_code, l.error_message, l.attempts, "
            "  to_char(l.failed_at, " +
            kWallTime +
            "), r.id IS NOT NULL, floor(extract(epoch FROM now()))::bigint "
            "FROM locked l LEFT JOIN requeued r USING (id) ORDER BY l.id",
        p.codes, selection.include_null, Bound::nullable(p.tenants),
        Bound::nullable(selection.failed_after), Bound::nullable(selection.failed_before),
        Bound::nullable(p.excluded), after_id, up_to_id, limit, zone);
    RequeuedForRedis out;
    out.epoch = rows.empty() ? epoch_now() : rows[0][7].as<std::int64_t>();
    for (const auto& row : rows) {
        out.locked.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>(),
                              optional_text(row[2]), optional_text(row[3]),
                              row[4].as<std::int64_t>(), optional_text(row[5]), row[6].as<bool>()});
    }
    return out;
}

std::int64_t RedisRedriveRepository::record(const std::vector<RedrivenForRedis>& jobs,
                                            const RedriveAudit& audit, const std::string& zone) {
    if (jobs.empty()) return 0;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [message, job] : jobs) {
        rows.push_back({{"id", message->id},
                        {"error_code", nullable_json(message->error_code)},
                        {"error_message", nullable_json(message->error_message)},
                        {"attempts", message->attempts},
                        {"failed_at", nullable_json(message->failed_at)},
                        {"job_uuid", job.uuid},
                        {"redis",
                         {{"key", job.key},
                          {"marker", job.marker},
                          {"available_at",
                           job.available_at ? nlohmann::json(*job.available_at) : nlohmann::json()},
                          {"payload", job.payload}}}});
    }
    return tx_
        .exec_params1(
            "WITH inserted AS ("
            "  INSERT INTO audit_events (channel, event, actor_type, subject_type, subject_id, "
            "    metadata, created_at, updated_at) "
            "  SELECT 'ops', $2, 'cli', $3, (r->>'id')::bigint, "
            "    json_build_object('error_code', r->'error_code', 'error_message', "
            "      r->'error_message', 'attempts', r->'attempts', 'failed_at', r->'failed_at', "
            "      'run_id', $4::text, 'job_uuid', r->'job_uuid', 'queue_driver', 'redis', "
            "      'redis', r->'redis'), "
            "    (now() AT TIME ZONE $5)::timestamp(0), (now() AT TIME ZONE $5)::timestamp(0) "
            "  FROM json_array_elements($1::json) AS r RETURNING 1) "
            "SELECT count(*) FROM inserted",
            rows.dump(), audit.event, audit.subject_type, audit.run_id, zone)[0]
        .as<std::int64_t>();
}

std::vector<RecordedRedisJob> RedisRedriveRepository::recent_redis_jobs(const std::string& event,
                                                                        std::int64_t window_seconds,
                                                                        const std::string& zone) {
    const auto rows = tx_.exec_params(
        "WITH latest AS ("
        "  SELECT DISTINCT ON (subject_id) subject_id, metadata::jsonb AS metadata "
        "  FROM audit_events WHERE channel = 'ops' AND event = $1 AND subject_type = $2 "
        "    AND created_at >= (now() AT TIME ZONE $3)::timestamp - make_interval(secs => $4) "
        "  ORDER BY subject_id, created_at DESC, id DESC) "
        "SELECT l.subject_id, l.metadata->>'job_uuid', l.metadata->'redis'->>'key', "
        "  l.metadata->'redis'->>'marker', l.metadata->'redis'->>'payload', "
        "  (l.metadata->'redis'->>'available_at')::bigint "
        "FROM latest l JOIN wa_messages m ON m.id = l.subject_id "
        "WHERE m.status = 'queued' AND l.metadata->>'queue_driver' = 'redis' "
        "ORDER BY l.subject_id",
        event, "wa_message", zone, window_seconds);
    std::vector<RecordedRedisJob> jobs;
    jobs.reserve(rows.size());
    for (const auto& row : rows) {
        RecordedRedisJob job;
        job.message_id = row[0].as<std::int64_t>();
        job.uuid = row[1].c_str();
        job.key = row[2].c_str();
        job.marker = row[3].c_str();
        job.payload = row[4].as<std::string>();
        if (!row[5].is_null()) job.available_at = row[5].as<std::int64_t>();
        jobs.push_back(std::move(job));
    }
    return jobs;
}

std::vector<std::int64_t> RedisRedriveRepository::selected_among(
    const RedriveSelection& selection, const std::vector<std::int64_t>& ids) {
    if (ids.empty()) return {};
    RedriveSelection unexcluded = selection;
    unexcluded.excluded.clear();
    const Bound p(unexcluded);
    const auto rows = tx_.exec_params(
        std::string("SELECT id FROM wa_messages WHERE ") + kSelected +
            " AND id IN (SELECT json_array_elements_text($7::json)::bigint) ORDER BY id",
        p.codes, selection.include_null, Bound::nullable(p.tenants),
        Bound::nullable(selection.failed_after), Bound::nullable(selection.failed_before),
        static_cast<const char*>(nullptr), nlohmann::json(ids).dump());
    std::vector<std::int64_t> out;
    for (const auto& row : rows) out.push_back(row[0].as<std::int64_t>());
    return out;
}

std::int64_t RedisRedriveRepository::epoch_now() {
    return tx_.exec1("SELECT floor(extract(epoch FROM now()))::bigint")[0].as<std::int64_t>();
}

}  // namespace ops
