#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "ops/db/session.hpp"

namespace ops {

// Which failed messages a redrive selects: status 'failed', error_code one of `codes` (or
// NULL when `include_null`), in one of `tenants` (all when empty), failed_at within
// [failed_after, failed_before) (naive wall time in the application's zone), not one of
// `excluded` (ascending), and at most the first `limit` of those by id.
struct RedriveSelection {
    std::vector<std::string> codes;
    bool include_null = false;
    std::vector<std::int64_t> tenants;
    std::optional<std::string> failed_after;
    std::optional<std::string> failed_before;
    std::vector<std::int64_t> excluded;
    std::optional<std::int64_t> limit;
};

struct ReasonMessageCount {
    std::optional<std::string> code;  // nullopt: NULL error_code
    std::int64_t messages = 0;
};

struct TenantMessageCount {
    std::int64_t tenant_id = 0;
    std::int64_t messages = 0;
};

// What a selection holds right now (the dry run's report and the run's plan).
struct RedriveTally {
    std::int64_t messages = 0;
    std::vector<ReasonMessageCount> by_reason;  // largest first
    std::vector<TenantMessageCount> by_tenant;  // largest first
    std::optional<std::string> oldest_failed_at;
    std::optional<std::string> newest_failed_at;
    std::optional<std::int64_t> last_id;  // the run goes no further than this id
};

// A failed message as it was when this transaction locked it, and whether it was requeued.
struct LockedMessage {
    std::int64_t id = 0;
    std::int64_t tenant_id = 0;
    std::optional<std::string> error_code;
    std::optional<std::string> error_message;
    std::int64_t attempts = 0;
    std::optional<std::string> failed_at;  // "YYYY-MM-DD HH:MM:SS"
    bool requeued = false;
};

// The jobs.payload of a message is before_uuid + uuid + before_id + id + after_id: every
// byte but the uuid and the id comes from the caller (LaravelJobPayload), already escaped.
// For a payload with `createdAt` (Laravel 12.11+), the job's epoch seconds and
// after_created_at follow.
struct PayloadTemplate {
    std::string before_uuid;
    std::string before_id;
    std::string after_id;
    std::optional<std::string> after_created_at;
};

// What one batch puts on the queue: which jobs, and when they become available: now, or
// spread at `rate` per second from `rate_start` (whole epoch seconds), the batch's first job
// being the run's `first_index`-th.
struct JobBatch {
    std::string queue;
    PayloadTemplate payload;
    std::vector<std::string> uuids;     // fresh uuids (v4, lowercase), at least one per message
    std::vector<std::int64_t> job_ids;  // ascending jobs.id values, at least one per message
    std::optional<std::int64_t> rate;
    std::int64_t rate_start = 0;
    std::int64_t first_index = 0;
};

// The audit event each requeued message gets (audit_events: channel 'ops', actor 'cli'),
// with metadata {error_code, error_message, attempts, failed_at, run_id}: the values the
// requeue clears.
struct RedriveAudit {
    std::string event;
    std::string subject_type;
    std::string run_id;
};

// The next batch of a run: the selected messages with after_id < id <= upper, `rows` of them
// when planned (some may be gone or locked by the time the batch runs).
struct RedriveRange {
    std::int64_t after_id = 0;  // exclusive
    std::int64_t upper = 0;     // inclusive
    std::int64_t rows = 0;
};

// The messages of one batch that were requeued, counted per reason and tenant.
struct RequeuedGroup {
    std::optional<std::string> error_code;  // nullopt: NULL error_code
    std::int64_t tenant_id = 0;
    std::int64_t messages = 0;
    std::optional<std::string> oldest_failed_at;  // "YYYY-MM-DD HH:MM:SS"
    std::optional<std::string> newest_failed_at;
};

struct RequeuedBatch {
    std::vector<LockedMessage> locked;  // the Redis path's: ascending id, `requeued` marked
    std::vector<RequeuedGroup> groups;  // requeue_batch's: the requeued messages, grouped
    std::int64_t jobs_inserted = 0;
    std::int64_t audit_events = 0;
};

// All SQL on wa_messages, and the jobs rows that requeue them.
class WaMessageRepository {
  public:
    // `jobs_table`: the queue's table, "jobs" or "schema.table" (QueueSettings::table).
    explicit WaMessageRepository(Transaction& tx, const std::string& jobs_table = "jobs");

    // Ids of selected messages (ignoring `excluded` and `limit`) that already have a
    // SendWaMessageJob waiting or running in `jobs`: redriving them would send twice.
    std::vector<std::int64_t> ids_with_pending_job(const RedriveSelection& selection);

    // Counts of the selection per reason and per tenant, oldest/newest failed_at, last id.
    RedriveTally tally(const RedriveSelection& selection);

    // Failed messages in the selection's tenant and time scope whose reason the selection
    // does not take and that is not one of `transient_codes`: what the run leaves alone.
    std::vector<ReasonMessageCount> count_left_alone(
        const RedriveSelection& selection, const std::vector<std::string>& transient_codes);

    // The database clock in whole epoch seconds, truncated (never ahead of a worker's time()).
    std::int64_t epoch_now();

    // Where a run's --rate spacing starts: now, or the second after the latest available_at
    // among the SendWaMessageJob jobs still waiting (not reserved) on `queue`, so that a rerun
    // or an overlapping run adds to the earlier run's spacing instead of doubling the rate.
    // Jobs of other classes do not delay it.
    std::int64_t rate_start(const std::string& queue);

    // Read-only: the next at most `limit` selected messages (without `excluded`) with
    // after_id < id <= up_to_id, cut in id order into ranges of `batch_rows` (the last one may
    // hold fewer); empty when there are none.
    std::vector<RedriveRange> next_ranges(const RedriveSelection& selection, std::int64_t after_id,
                                          std::int64_t up_to_id, std::int64_t batch_rows,
                                          std::int64_t limit);

    // The sequence behind jobs.id (bigserial), e.g. "public.jobs_id_seq".
    std::string jobs_id_sequence();

    // Takes `count` values from `sequence` (jobs_id_sequence()), ascending: jobs.id then
    // follows message order even when batches insert in another order. Not read-only.
    std::vector<std::int64_t> reserve_job_ids(const std::string& sequence, std::int64_t count);

    // In one statement: locks the next `range.rows` selected messages with range.after_id <
    // id <= range.upper in id order, skipping rows another transaction holds; sets those still
    // 'failed' to 'queued' (attempts 0, error fields NULL, updated_at now in `zone`); and
    // inserts one `jobs` row for each of those, in id order, with the ids of `jobs.job_ids` in
    // that order, and one `audit` event each (created at the wall time in `zone`). A message,
    // its job and its audit event commit together. Returns the requeued ones as `groups`.
    RequeuedBatch requeue_batch(const RedriveSelection& selection, const RedriveRange& range,
                                const JobBatch& jobs, const RedriveAudit& audit,
                                const std::string& zone);

  private:
    pqxx::transaction_base& tx_;
    std::string jobs_;  // the queue's table, quoted
};

// A table name ("jobs", "schema.jobs") as a quoted SQL identifier.
std::string quoted_table(pqxx::transaction_base& tx, const std::string& table);
std::string quoted_table(Transaction& tx, const std::string& table);

}  // namespace ops
