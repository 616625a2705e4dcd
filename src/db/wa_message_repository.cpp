#include "ops/db/wa_message_repository.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <type_traits>

#include "ops/core/errors.hpp"
#include "ops/db/statement.hpp"
#include "sql_access.hpp"

namespace ops {
namespace {

// Which failed messages a selection matches, in three parts that statements name as
// {in_scope}, {reason_taken} and {not_excluded}; their parameters are bound by name, each in
// one function below. Lists travel as JSON-array parameters and times as timestamp
// parameters: no SQL text is ever built from a value.
constexpr const char* kInScope = R"sql(status = 'failed'
      AND (:tenants::json IS NULL
           OR tenant_id IN (SELECT json_array_elements_text(:tenants::json)::bigint))
      AND (:failed_after::timestamp IS NULL OR failed_at >= :failed_after::timestamp)
      AND (:failed_before::timestamp IS NULL OR failed_at < :failed_before::timestamp))sql";
constexpr const char* kReasonTaken =
    R"sql((error_code IN (SELECT json_array_elements_text(:codes::json))
       OR (:include_null::boolean AND error_code IS NULL)))sql";
constexpr const char* kNotExcluded = R"sql((:excluded::json IS NULL
       OR id NOT IN (SELECT json_array_elements_text(:excluded::json)::bigint)))sql";

// In jobs.payload, JSON-escaped: the contract's class and its serialized waMessageId.
constexpr const char* kJobClassMarker = R"("commandName":"App\\Jobs\\SendWaMessageJob")";
constexpr const char* kWaMessageIdPattern = R"(waMessageId\\";i:([0-9]{1,19});)";

// A statement's text with the selection's parts, the queue's table ({jobs}) and, for the
// tally, its {limit} clause filled in.
std::string expand(std::string_view sql, const std::string& jobs = {},
                   std::string_view limit = {}) {
    return fmt::format(
        fmt::runtime(sql), fmt::arg("in_scope", kInScope), fmt::arg("reason_taken", kReasonTaken),
        fmt::arg("not_excluded", kNotExcluded), fmt::arg("jobs", jobs), fmt::arg("limit", limit));
}

void bind_scope(Bindings& b, const RedriveSelection& selection) {
    b.set("tenants", json_filter(selection.tenants))
        .set("failed_after", selection.failed_after)
        .set("failed_before", selection.failed_before);
}

void bind_reasons(Bindings& b, const RedriveSelection& selection) {
    b.set("codes", json_array(selection.codes)).set("include_null", selection.include_null);
}

void bind_excluded(Bindings& b, std::span<const std::int64_t> excluded) {
    b.set("excluded", json_filter(excluded));
}

void bind_selection(Bindings& b, const RedriveSelection& selection) {
    bind_scope(b, selection);
    bind_reasons(b, selection);
    bind_excluded(b, selection.excluded);
}

// The excluded ids (ascending) with after_id < id <= upper: a batch's statement reads its
// own few, not the whole run's list, each time.
std::span<const std::int64_t> excluded_within(const RedriveSelection& selection,
                                              std::int64_t after_id, std::int64_t upper) {
    const auto& all = selection.excluded;
    const auto first = std::upper_bound(all.begin(), all.end(), after_id);
    const auto last = std::upper_bound(first, all.end(), std::max(after_id, upper));
    return {first, last};
}

// The selection's parameters for the ids after_id < id <= upper.
void bind_selection_within(Bindings& b, const RedriveSelection& selection, std::int64_t after_id,
                           std::int64_t upper) {
    bind_scope(b, selection);
    bind_reasons(b, selection);
    bind_excluded(b, excluded_within(selection, after_id, upper));
}

std::optional<std::string> optional_text(const pqxx::field& field) {
    if (field.is_null()) return std::nullopt;
    return std::string(field.c_str(), field.size());
}

// One scan of the selection, grouped two ways: grouping() tells the rows apart. Only a
// limit needs the order (sorting a large selection would spill to disk).
constexpr const char* kTally = R"sql(
    WITH chosen AS (
      SELECT id, tenant_id, error_code, failed_at FROM wa_messages
      WHERE {in_scope} AND {reason_taken} AND {not_excluded}
      {limit})
    SELECT grouping(error_code), error_code, tenant_id, count(*),
           to_char(min(failed_at), :wall_time), to_char(max(failed_at), :wall_time), max(id)
    FROM chosen GROUP BY GROUPING SETS ((error_code), (tenant_id))
    ORDER BY grouping(error_code), count(*) DESC, error_code NULLS LAST, tenant_id
)sql";

// A row of the tally grouped by error_code: the selection's totals come from these.
void add_reason_row(const pqxx::row& row, RedriveTally& tally) {
    const std::int64_t messages = row[3].as<std::int64_t>();
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
}

// The requeue of one range, in one statement, so that a message, its job and its audit event
// commit together. Timestamps: jobs take whole epoch seconds, truncated (never ahead of a
// worker's time()); wa_messages and audit_events the wall time in the application's zone,
// as Laravel stamps them. Each requeued message is read once more (`numbered`: its history,
// its place k in the batch, its job's uuid), and both inserts and the result read only that.
// The job ids and uuids travel as arrays of fixed-size elements, so the k-th is found without
// a join or a scan of the array.
constexpr const char* kRequeue = R"sql(
    WITH locked AS (
      -- The row locks; SKIP LOCKED: rows others hold stay as they are.
      SELECT ctid AS locked_ctid, id, tenant_id, error_code, error_message, attempts, failed_at
      FROM wa_messages
      WHERE {in_scope} AND {reason_taken} AND {not_excluded}
        AND id > :after_id AND id <= :upper
      ORDER BY id LIMIT :limit FOR NO KEY UPDATE SKIP LOCKED),
    clock AS (
      SELECT (now() AT TIME ZONE :zone)::timestamp(0) AS wall,
             floor(extract(epoch FROM now()))::bigint AS epoch),
    requeued AS (
      -- The locked row versions themselves, by ctid (the lock keeps each the current one): a
      -- TID scan whatever the batch size, never a join the planner could turn into a scan of
      -- every failed message. status = 'failed' leaves alone a row that changed before we
      -- locked it; only rows this returns get a job.
      UPDATE wa_messages m SET status = 'queued', attempts = 0, error_code = NULL,
        error_message = NULL, failed_at = NULL, updated_at = (SELECT wall FROM clock)
      WHERE m.ctid = ANY (ARRAY(SELECT locked_ctid FROM locked)) AND m.status = 'failed'
      RETURNING m.id),
    numbered AS (
      -- Each requeued message with the history the update cleared, its place k in the batch
      -- and its job's uuid.
      SELECT n.*, (:uuids::uuid[])[n.k]::text AS uuid FROM (
        SELECT l.*, row_number() OVER (ORDER BY l.id) AS k
        FROM locked l JOIN requeued USING (id)) AS n),
    jobs_inserted AS (
      -- In k order (sorted before the payloads are built, not after).
      INSERT INTO {jobs} (id, queue, payload, attempts, reserved_at, available_at, created_at)
      SELECT (:job_ids::bigint[])[n.k], :queue,
             :before_uuid || n.uuid || :before_id || n.id || :after_id_text ||
               CASE WHEN :after_created_at::text IS NULL THEN ''
                    ELSE clock.epoch::text || :after_created_at END,
             0, NULL,
             (CASE WHEN :rate::bigint IS NULL THEN clock.epoch
                   ELSE :rate_start::bigint + (:first_index::bigint + n.k - 1) / :rate::bigint
              END)::integer,
             clock.epoch::integer
      FROM (SELECT * FROM numbered ORDER BY k) AS n, clock
      RETURNING 1),
    events_inserted AS (
      INSERT INTO audit_events (channel, event, actor_type, subject_type, subject_id,
                                metadata, created_at, updated_at)
      SELECT 'ops', :event, 'cli', :subject_type, n.id,
             json_build_object('error_code', n.error_code, 'error_message', n.error_message,
               'attempts', n.attempts, 'failed_at', to_char(n.failed_at, :wall_time),
               'run_id', :run_id::text, 'job_uuid', n.uuid),
             clock.wall, clock.wall
      FROM (SELECT * FROM numbered ORDER BY k) AS n, clock
      RETURNING 1)
    SELECT error_code, tenant_id, count(*),
           to_char(min(failed_at), :wall_time), to_char(max(failed_at), :wall_time),
           (SELECT count(*) FROM jobs_inserted), (SELECT count(*) FROM events_inserted)
    FROM numbered GROUP BY error_code, tenant_id
)sql";

// A PostgreSQL array literal ("{1,2,3}") of integers or of uuids, bound as a bigint[] or
// uuid[] parameter: neither needs quoting.
std::string array_literal(const auto& values) {
    std::string out = "{";
    for (const auto& value : values) {
        if (out.size() > 1) out += ',';
        if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) {
            out += value;
        } else {
            out += std::to_string(value);
        }
    }
    out += '}';
    return out;
}

// The jobs' rows: payload pieces around each uuid and id, and their available_at spacing.
void bind_jobs(Bindings& b, const JobBatch& jobs) {
    b.set("uuids", array_literal(jobs.uuids))
        .set("job_ids", array_literal(jobs.job_ids))
        .set("queue", jobs.queue)
        .set("before_uuid", jobs.payload.before_uuid)
        .set("before_id", jobs.payload.before_id)
        .set("after_id_text", jobs.payload.after_id)
        .set("after_created_at", jobs.payload.after_created_at)
        .set("rate", jobs.rate)
        .set("rate_start", jobs.rate_start)
        .set("first_index", jobs.first_index);
}

void bind_audit(Bindings& b, const RedriveAudit& audit) {
    b.set("event", audit.event).set("subject_type", audit.subject_type).set("run_id", audit.run_id);
}

// No rows: nothing was requeued, so nothing was inserted either.
RequeuedBatch requeued_batch(const pqxx::result& rows) {
    RequeuedBatch batch;
    batch.groups.reserve(rows.size());
    for (const auto& row : rows) {
        batch.groups.push_back({optional_text(row[0]), row[1].as<std::int64_t>(),
                                row[2].as<std::int64_t>(), optional_text(row[3]),
                                optional_text(row[4])});
    }
    if (!rows.empty()) {
        batch.jobs_inserted = rows[0][5].as<std::int64_t>();
        batch.audit_events = rows[0][6].as<std::int64_t>();
    }
    return batch;
}

}  // namespace

std::string quoted_table(pqxx::transaction_base& tx, const std::string& table) {
    const auto dot = table.find('.');
    if (dot == std::string::npos) return tx.quote_name(table);
    return tx.quote_name(table.substr(0, dot)) + "." + tx.quote_name(table.substr(dot + 1));
}

std::string quoted_table(Transaction& tx, const std::string& table) {
    return quoted_table(SqlAccess::of(tx), table);
}

WaMessageRepository::WaMessageRepository(Transaction& tx, const std::string& jobs_table)
    : tx_(SqlAccess::of(tx)), jobs_(quoted_table(tx, jobs_table)) {}

std::vector<std::int64_t> WaMessageRepository::ids_with_pending_job(
    const RedriveSelection& selection) {
    // The queue's table is the repository's, so this one is translated per repository.
    const Statement pending(expand(R"sql(
        WITH pending AS (
          SELECT DISTINCT substring(payload FROM :id_pattern)::bigint AS id FROM {jobs}
          WHERE position(:job_class IN payload) > 0)
        SELECT m.id FROM wa_messages m JOIN pending USING (id)
        WHERE {in_scope} AND {reason_taken}
        ORDER BY m.id
    )sql",
                                   jobs_));
    Bindings b(pending);
    bind_scope(b, selection);
    bind_reasons(b, selection);
    b.set("id_pattern", kWaMessageIdPattern).set("job_class", kJobClassMarker);
    const auto rows = run(tx_, b);
    std::vector<std::int64_t> ids;
    ids.reserve(rows.size());
    for (const auto& row : rows) ids.push_back(row[0].as<std::int64_t>());
    return ids;
}

RedriveTally WaMessageRepository::tally(const RedriveSelection& selection) {
    static const Statement all(expand(kTally));
    static const Statement limited(expand(kTally, {}, "ORDER BY id LIMIT :limit"));
    Bindings b(selection.limit ? limited : all);
    bind_selection(b, selection);
    b.set("wall_time", kWallTimeFormat);
    if (selection.limit) b.set("limit", *selection.limit);
    RedriveTally tally;
    for (const auto& row : run(tx_, b)) {
        if (row[0].as<int>() == 0) {
            add_reason_row(row, tally);
        } else {
            tally.by_tenant.push_back({row[2].as<std::int64_t>(), row[3].as<std::int64_t>()});
        }
    }
    return tally;
}

std::vector<ReasonMessageCount> WaMessageRepository::count_left_alone(
    const RedriveSelection& selection, const std::vector<std::string>& transient_codes) {
    static const Statement left_alone(expand(R"sql(
        SELECT error_code, count(*) FROM wa_messages
        WHERE {in_scope} AND {reason_taken} IS NOT TRUE
          AND (error_code IS NULL
               OR error_code NOT IN (SELECT json_array_elements_text(:transient_codes::json)))
        GROUP BY error_code ORDER BY count(*) DESC, error_code NULLS LAST
    )sql"));
    Bindings b(left_alone);
    bind_scope(b, selection);
    bind_reasons(b, selection);
    b.set("transient_codes", json_array(transient_codes));
    std::vector<ReasonMessageCount> counts;
    for (const auto& row : run(tx_, b))
        counts.push_back({optional_text(row[0]), row[1].as<std::int64_t>()});
    return counts;
}

std::int64_t WaMessageRepository::rate_start(const std::string& queue) {
    const Statement start(expand(R"sql(
        SELECT greatest(floor(extract(epoch FROM now()))::bigint,
                        coalesce(max(available_at)::bigint + 1, 0))
        FROM {jobs}
        WHERE queue = :queue AND reserved_at IS NULL AND position(:job_class IN payload) > 0
    )sql",
                                 jobs_));
    return run1(tx_, Bindings(start).set("queue", queue).set("job_class", kJobClassMarker))[0]
        .as<std::int64_t>();
}

std::int64_t WaMessageRepository::epoch_now() {
    return tx_.exec1("SELECT floor(extract(epoch FROM now()))::bigint")[0].as<std::int64_t>();
}

// One read for several batches: the engine then plans the next ones from memory.
std::vector<RedriveRange> WaMessageRepository::next_ranges(const RedriveSelection& selection,
                                                           std::int64_t after_id,
                                                           std::int64_t up_to_id,
                                                           std::int64_t batch_rows,
                                                           std::int64_t limit) {
    static const Statement next(expand(R"sql(
        WITH chosen AS (
          SELECT id FROM wa_messages
          WHERE {in_scope} AND {reason_taken} AND {not_excluded}
            AND id > :after_id AND id <= :up_to_id
          ORDER BY id LIMIT :limit),
        cut AS (
          SELECT id, (row_number() OVER (ORDER BY id) - 1) / :batch_rows AS batch FROM chosen)
        SELECT max(id), count(*) FROM cut GROUP BY batch ORDER BY batch
    )sql"));
    Bindings b(next);
    bind_selection_within(b, selection, after_id, up_to_id);
    b.set("after_id", after_id).set("up_to_id", up_to_id).set("limit", limit);
    b.set("batch_rows", batch_rows);
    std::vector<RedriveRange> ranges;
    std::int64_t after = after_id;
    for (const auto& row : run(tx_, b)) {
        ranges.push_back({after, row[0].as<std::int64_t>(), row[1].as<std::int64_t>()});
        after = ranges.back().upper;
    }
    return ranges;
}

std::string WaMessageRepository::jobs_id_sequence() {
    static const Statement sequence("SELECT pg_get_serial_sequence(:table, 'id')");
    const auto row = run1(tx_, Bindings(sequence).set("table", jobs_));
    if (row[0].is_null()) throw RunFailure(jobs_ + ".id has no sequence (expected bigserial)");
    return row[0].as<std::string>();
}

// The sequence travels as a parameter that is a regclass constant: nextval() of an expression
// looks the relation up again for every row, about ten times slower.
std::vector<std::int64_t> WaMessageRepository::reserve_job_ids(const std::string& sequence,
                                                               std::int64_t count) {
    static const Statement reserve(R"sql(
        SELECT nextval(:sequence) AS id FROM generate_series(1, :count::bigint) ORDER BY id
    )sql");
    const auto rows = run(tx_, Bindings(reserve).set("sequence", sequence).set("count", count));
    std::vector<std::int64_t> ids;
    ids.reserve(rows.size());
    for (const auto& row : rows) ids.push_back(row[0].as<std::int64_t>());
    return ids;
}

RequeuedBatch WaMessageRepository::requeue_batch(const RedriveSelection& selection,
                                                 const RedriveRange& range, const JobBatch& jobs,
                                                 const RedriveAudit& audit,
                                                 const std::string& zone) {
    const Statement requeue(expand(kRequeue, jobs_));
    Bindings b(requeue);
    bind_selection_within(b, selection, range.after_id, range.upper);
    b.set("after_id", range.after_id).set("upper", range.upper).set("limit", range.rows);
    b.set("zone", zone).set("wall_time", kWallTimeFormat);
    bind_jobs(b, jobs);
    bind_audit(b, audit);
    return requeued_batch(run(tx_, b));
}

}  // namespace ops
