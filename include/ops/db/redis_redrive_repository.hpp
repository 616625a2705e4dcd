#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "ops/db/wa_message_repository.hpp"

// The SQL of `wa redrive-failed` onto a Redis queue (docs/REDIS_QUEUE.md): the database half of
// the two-store design. A batch's transaction requeues its messages and writes, per message, the
// audit row that records the job (uuid, Redis key, marker, payload, when it becomes available);
// the push to Redis follows the commit, and any later run finds and pushes what a crashed run
// committed but did not push.
namespace ops {

// A message one batch requeued, as it was before, and the database clock of the batch.
struct RequeuedForRedis {
    std::vector<LockedMessage> locked;  // ascending id; `requeued` marks those requeued
    std::int64_t epoch = 0;             // now(), whole epoch seconds (the payload's createdAt)
};

// One job as the audit row records it, to be pushed once.
struct RecordedRedisJob {
    std::int64_t message_id = 0;
    std::string uuid;
    std::string key;     // the queue's list, prefix included: "<prefix>queues:<queue>"
    std::string marker;  // "<prefix>ops:redriven:<uuid>"
    std::string payload;
    std::optional<std::int64_t> available_at;  // --rate: when it becomes due (delayed set)
};

// One requeued message and its job, for the audit row.
struct RedrivenForRedis {
    const LockedMessage* message = nullptr;
    RecordedRedisJob job;
};

class RedisRedriveRepository {
  public:
    explicit RedisRedriveRepository(Transaction& tx);

    // Locks the next `limit` selected messages with after_id < id <= up_to_id (SKIP LOCKED) and
    // sets those still 'failed' to 'queued' (as WaMessageRepository::requeue_batch does),
    // without inserting anything.
    RequeuedForRedis requeue(const RedriveSelection& selection, std::int64_t after_id,
                             std::int64_t up_to_id, std::int64_t limit, const std::string& zone);

    // One audit event per job (metadata: the cleared values, run_id, job_uuid, queue_driver
    // 'redis' and the job itself); returns how many it inserted.
    std::int64_t record(const std::vector<RedrivenForRedis>& jobs, const RedriveAudit& audit,
                        const std::string& zone);

    // The jobs that may still wait for their push: for each message still 'queued', its newest
    // redrive event of the last `window_seconds` when that one went to Redis. Uses the
    // (channel, created_at) index; cost: the window's ops audit rows.
    std::vector<RecordedRedisJob> recent_redis_jobs(const std::string& event,
                                                    std::int64_t window_seconds,
                                                    const std::string& zone);

    // Which of `ids` the selection holds (failed, matching), ascending.
    std::vector<std::int64_t> selected_among(const RedriveSelection& selection,
                                             const std::vector<std::int64_t>& ids);

    // The database clock in whole epoch seconds.
    std::int64_t epoch_now();

  private:
    pqxx::transaction_base& tx_;
};

}  // namespace ops
