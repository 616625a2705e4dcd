#include "ops/db/wa_message_repository.hpp"

#include <nlohmann/json.hpp>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

// Which failed messages match. Lists travel as JSON-array parameters and times as timestamp
// parameters: no SQL text is ever built from a value. $1 codes, $2 include NULL, $3 tenants
// (NULL: all), $4 failed_after, $5 failed_before, $6 excluded ids (NULL: none).
constexpr const char* kReasonMatches =
    "(error_code IN (SELECT json_array_elements_text($1::json)) "
    " OR ($2::boolean AND error_code IS NULL))";
constexpr const char* kScopeMatches =
    "status = 'failed' "
    "AND ($3::json IS NULL OR tenant_id IN (SELECT json_array_elements_text($3::json)::bigint)) "
    "AND ($4::timestamp IS NULL OR failed_at >= $4::timestamp) "
    "AND ($5::timestamp IS NULL OR failed_at < $5::timestamp)";
constexpr const char* kNotExcluded =
    "($6::json IS NULL OR id NOT IN (SELECT json_array_elements_text($6::json)::bigint))";
constexpr const char* kWallTime = "'YYYY-MM-DD HH24:MI:SS'";

// In jobs.payload, JSON-escaped: the contract's class and its serialized waMessageId.
constexpr const char* kJobClassMarker = R"("commandName":"App\\Jobs\\SendWaMessageJob")";
constexpr const char* kWaMessageIdPattern = R"(waMessageId\\";i:([0-9]{1,19});)";

std::string selection_where() { return std::string(kScopeMatches) + " AND " + kReasonMatches; }

// The bound values of a selection, alive as long as the statement that uses them.
class SelectionParams {
  public:
    explicit SelectionParams(const RedriveSelection& selection)
        : codes_(nlohmann::json(selection.codes).dump()),
          tenants_(selection.tenants.empty() ? "" : nlohmann::json(selection.tenants).dump()),
          excluded_(selection.excluded.empty() ? "" : nlohmann::json(selection.excluded).dump()),
          limit_(selection.limit ? std::to_string(*selection.limit) : ""),
          selection_(selection) {}
    const std::string& codes() const { return codes_; }
    bool include_null() const { return selection_.include_null; }
    const char* tenants() const { return nullable(tenants_); }
    const char* after() const { return optional(selection_.failed_after); }
    const char* before() const { return optional(selection_.failed_before); }
    const char* excluded() const { return nullable(excluded_); }
    const char* limit() const { return nullable(limit_); }

  private:
    static const char* nullable(const std::string& text) {
        return text.empty() ? nullptr : text.c_str();
    }
    static const char* optional(const std::optional<std::string>& text) {
        return text ? text->c_str() : nullptr;
    }
    std::string codes_, tenants_, excluded_, limit_;
    const RedriveSelection& selection_;
};

std::optional<std::string> optional_text(const pqxx::field& field) {
    if (field.is_null()) return std::nullopt;
    return std::string(field.c_str(), field.size());
}

}  // namespace

std::string quoted_table(pqxx::transaction_base& tx, const std::string& table) {
    const auto dot = table.find('.');
    if (dot == std::string::npos) return tx.quote_name(table);
    return tx.quote_name(table.substr(0, dot)) + "." + tx.quote_name(table.substr(dot + 1));
}

WaMessageRepository::WaMessageRepository(pqxx::transaction_base& tx, const std::string& jobs_table)
    : tx_(tx), jobs_(quoted_table(tx, jobs_table)) {}

std::vector<std::int64_t> WaMessageRepository::ids_with_pending_job(
    const RedriveSelection& selection) {
    const SelectionParams p(selection);
    const auto rows = tx_.exec_params(
        "WITH pending AS ("
        "  SELECT DISTINCT substring(payload FROM $7)::bigint AS id FROM " +
            jobs_ +
            " "
            "  WHERE position($6 IN payload) > 0) "
            "SELECT m.id FROM wa_messages m JOIN pending USING (id) WHERE " +
            selection_where() + " ORDER BY m.id",
        p.codes(), p.include_null(), p.tenants(), p.after(), p.before(), kJobClassMarker,
        kWaMessageIdPattern);
    std::vector<std::int64_t> ids;
    ids.reserve(rows.size());
    for (const auto& row : rows) ids.push_back(row[0].as<std::int64_t>());
    return ids;
}

RedriveTally WaMessageRepository::tally(const RedriveSelection& selection) {
    const SelectionParams p(selection);
    // One scan of the selection, grouped two ways: grouping() tells the rows apart.
    const auto rows = tx_.exec_params(
        "WITH chosen AS ("
        "  SELECT id, tenant_id, error_code, failed_at FROM wa_messages WHERE " +
            selection_where() + " AND " + kNotExcluded +
            // Only a limit needs the order (sorting a large selection would spill to disk).
            (selection.limit ? " ORDER BY id LIMIT $7::bigint) " : " AND $7::bigint IS NULL) ") +
            "SELECT grouping(error_code), error_code, tenant_id, count(*), "
            "  to_char(min(failed_at), " +
            kWallTime + "), to_char(max(failed_at), " + kWallTime +
            "), max(id) "
            "FROM chosen GROUP BY GROUPING SETS ((error_code), (tenant_id)) "
            "ORDER BY grouping(error_code), count(*) DESC, error_code NULLS LAST, tenant_id",
        p.codes(), p.include_null(), p.tenants(), p.after(), p.before(), p.excluded(), p.limit());
    RedriveTally tally;
    for (const auto& row : rows) {
        const std::int64_t messages = row[3].as<std::int64_t>();
        if (row[0].as<int>() == 0) {  // grouped by error_code
            tally.by_reason.push_back({optional_text(row[1]), messages});
            tally.messages += messages;
            const auto oldest = optional_text(row[4]);
            const auto newest = optional_text(row[5]);
            if (oldest && (!tally.oldest_failed_at || *oldest < *tally.oldest_failed_at)) {
                tally.oldest_failed_at = oldest;
            }
            if (newest && (!tally.newest_failed_at || *newest > *tally.newest_failed_at)) {
                tally.newest_failed_at = newest;
            }
            const auto last = row[6].as<std::int64_t>();
            if (!tally.last_id || last > *tally.last_id) tally.last_id = last;
        } else {
            tally.by_tenant.push_back({row[2].as<std::int64_t>(), messages});
        }
    }
    return tally;
}

std::vector<ReasonMessageCount> WaMessageRepository::count_left_alone(
    const RedriveSelection& selection, const std::vector<std::string>& transient_codes) {
    const SelectionParams p(selection);
    const auto rows = tx_.exec_params(
        std::string("SELECT error_code, count(*) FROM wa_messages WHERE ") + kScopeMatches +
            " AND " + kReasonMatches +
            " IS NOT TRUE "
            "AND (error_code IS NULL "
            "     OR error_code NOT IN (SELECT json_array_elements_text($6::json))) "
            "GROUP BY error_code ORDER BY count(*) DESC, error_code NULLS LAST",
        p.codes(), p.include_null(), p.tenants(), p.after(), p.before(),
        nlohmann::json(transient_codes).dump());
    std::vector<ReasonMessageCount> counts;
    for (const auto& row : rows)
        counts.push_back({optional_text(row[0]), row[1].as<std::int64_t>()});
    return counts;
}

std::int64_t WaMessageRepository::epoch_now() {
    return tx_.exec1("SELECT floor(extract(epoch FROM now()))::bigint")[0].as<std::int64_t>();
}

std::optional<RedriveRange> WaMessageRepository::next_range(const RedriveSelection& selection,
                                                            std::int64_t after_id,
                                                            std::int64_t up_to_id,
                                                            std::int64_t limit) {
    const SelectionParams p(selection);
    const auto row = tx_.exec_params1(
        "SELECT max(id), count(*) FROM (SELECT id FROM wa_messages WHERE " + selection_where() +
            " AND " + kNotExcluded + " AND id > $7 AND id <= $8 ORDER BY id LIMIT $9) AS batch",
        p.codes(), p.include_null(), p.tenants(), p.after(), p.before(), p.excluded(), after_id,
        up_to_id, limit);
    if (row[0].is_null()) return std::nullopt;
    return RedriveRange{after_id, row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
}

std::string WaMessageRepository::jobs_id_sequence() {
    const auto row = tx_.exec_params1("SELECT pg_get_serial_sequence($1, 'id')", jobs_);
    if (row[0].is_null()) throw RunFailure(jobs_ + ".id has no sequence (expected bigserial)");
    return row[0].as<std::string>();
}

// The sequence travels as a parameter that is a regclass constant: nextval() of an expression
// looks the relation up again for every row, about ten times slower.
std::string WaMessageRepository::reserve_job_ids(const std::string& sequence, std::int64_t count) {
    return tx_
        .exec_params1(
            "SELECT coalesce(json_agg(id ORDER BY id), '[]')::text FROM ("
            "  SELECT nextval($1) AS id FROM generate_series(1, $2::bigint)) AS reserved",
            sequence, count)[0]
        .as<std::string>();
}

RequeuedBatch WaMessageRepository::requeue_batch(const RedriveSelection& selection,
                                                 std::int64_t after_id, std::int64_t up_to_id,
                                                 std::int64_t limit, const JobBatch& jobs,
                                                 const RedriveAudit& audit,
                                                 const std::string& zone) {
    const SelectionParams p(selection);
    const std::string rate = jobs.rate ? std::to_string(*jobs.rate) : "";
    // `locked` takes the row locks (SKIP LOCKED: rows others hold stay as they are). The guard
    // `status = 'failed'` in the UPDATE leaves alone a row that changed before we locked it;
    // only rows the UPDATE returns get a job. Timestamps: jobs take whole epoch seconds,
    // truncated (never ahead of a worker's time()); wa_messages the wall time in the
    // application's zone, as Laravel stamps them.
    const auto rows = tx_.exec_params(
        "WITH locked AS ("
        "  SELECT id, tenant_id, error_code, error_message, attempts, failed_at FROM wa_messages "
        "  WHERE " +
            selection_where() + " AND " + kNotExcluded +
            "    AND id > $7 AND id <= $8 "
            "  ORDER BY id LIMIT $9 FOR NO KEY UPDATE SKIP LOCKED), "
            "clock AS ("
            "  SELECT (now() AT TIME ZONE $10)::timestamp(0) AS wall, "
            "         floor(extract(epoch FROM now()))::bigint AS epoch), "
            "requeued AS ("
            "  UPDATE wa_messages m SET status = 'queued', attempts = 0, error_code = NULL, "
            "    error_message = NULL, failed_at = NULL, updated_at = clock.wall "
            "  FROM locked, clock WHERE m.id = locked.id AND m.status = 'failed' "
            "  RETURNING m.id), "
            "numbered AS ("
            "  SELECT id, row_number() OVER (ORDER BY id) AS k FROM requeued), "
            "uuids AS ("
            "  SELECT uuid, k FROM json_array_elements_text($11::json) WITH ORDINALITY AS u(uuid, "
            "k)), "
            "job_ids AS ("
            "  SELECT job_id::bigint, k FROM json_array_elements_text($19::json) "
            "  WITH ORDINALITY AS j(job_id, k)), "
            "jobs_inserted AS ("
            "  INSERT INTO " +
            jobs_ +
            " (id, queue, payload, attempts, reserved_at, available_at, "
            "    created_at) "
            "  SELECT job_ids.job_id, $12, $13 || uuids.uuid || $14 || n.id || $15 || "
            "    CASE WHEN $23::text IS NULL THEN '' ELSE clock.epoch::text || $23 END, 0, NULL, "
            "    (CASE WHEN $16::bigint IS NULL THEN clock.epoch "
            "          ELSE $17::bigint + ($18::bigint + n.k - 1) / $16::bigint END)::integer, "
            "    clock.epoch::integer "
            "  FROM numbered n JOIN uuids USING (k) JOIN job_ids USING (k), clock ORDER BY n.id "
            "  RETURNING 1), "
            "events_inserted AS ("
            "  INSERT INTO audit_events (channel, event, actor_type, subject_type, subject_id, "
            "    metadata, created_at, updated_at) "
            "  SELECT 'ops', $20, 'cli', $21, l.id, "
            "    json_build_object('error_code', l.error_code, 'error_message', l.error_message, "
            "      'attempts', l.attempts, 'failed_at', to_char(l.failed_at, " +
            kWallTime +
            "), 'run_id', $22::text, 'job_uuid', uuids.uuid), clock.wall, clock.wall "
            "  FROM locked l JOIN numbered n USING (id) JOIN uuids USING (k), clock ORDER BY l.id "
            "  RETURNING 1) "
            "SELECT l.id, l.tenant_id, l.error_code, l.error_message, l.attempts, "
            "  to_char(l.failed_at, " +
            kWallTime +
            "), n.id IS NOT NULL, (SELECT count(*) FROM jobs_inserted), "
            "  (SELECT count(*) FROM events_inserted) "
            "FROM locked l LEFT JOIN numbered n USING (id) ORDER BY l.id",
        p.codes(), p.include_null(), p.tenants(), p.after(), p.before(), p.excluded(), after_id,
        up_to_id, limit, zone, jobs.uuids_json, jobs.queue, jobs.payload.before_uuid,
        jobs.payload.before_id, jobs.payload.after_id, rate.empty() ? nullptr : rate.c_str(),
        jobs.rate_start, jobs.first_index, jobs.ids_json, audit.event, audit.subject_type,
        audit.run_id,
        jobs.payload.after_created_at ? jobs.payload.after_created_at->c_str() : nullptr);
    RequeuedBatch batch;
    batch.locked.reserve(rows.size());
    for (const auto& row : rows) {
        batch.locked.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>(),
                                optional_text(row[2]), optional_text(row[3]),
                                row[4].as<std::int64_t>(), optional_text(row[5]),
                                row[6].as<bool>()});
    }
    if (!rows.empty()) {
        batch.jobs_inserted = rows[0][7].as<std::int64_t>();
        batch.audit_events = rows[0][8].as<std::int64_t>();
    }
    return batch;
}

}  // namespace ops
