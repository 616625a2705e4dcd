#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ops/queue/redis_client.hpp"

// The Redis side of Laravel's redis queue driver, and ops's idempotent push onto it
// (docs/REDIS_QUEUE.md).
namespace ops {

// The keys of one queue, as Laravel's RedisQueue names them (the connection's prefix first).
struct RedisQueueKeys {
    std::string prefix;
    std::string queue;
    std::string list() const { return prefix + "queues:" + queue; }
    std::string notify() const { return list() + ":notify"; }
    std::string delayed() const { return list() + ":delayed"; }
    std::string reserved() const { return list() + ":reserved"; }
    // The marker of one redriven job: present once the job was pushed.
    std::string marker(const std::string& uuid) const { return prefix + "ops:redriven:" + uuid; }
};

// One job to push at most once: `marker` is set (NX, with a lifetime) in the same script that
// pushes `payload` onto `list` and its notify list, or, with `available_at`, adds it to the
// delayed set, as Laravel's push and later do.
struct RedisPush {
    std::string list;
    std::string marker;
    std::string payload;
    std::optional<std::int64_t> available_at;
};

// How long a marker lives: it must outlive every rerun that could find its job again.
inline constexpr std::chrono::seconds kMarkerLifetime{14 * 24 * 3600};

// Pushes each job whose marker does not exist yet (one script per job, pipelined); returns,
// in order, whether each was pushed now (false: pushed before).
std::vector<bool> push_once(RedisClient& client, const std::vector<RedisPush>& jobs,
                            std::chrono::seconds marker_lifetime = kMarkerLifetime);

// Whether each marker exists (read only).
std::vector<bool> markers_exist(RedisClient& client, const std::vector<std::string>& markers);

// The waMessageId of every SendWaMessageJob in the queue's list, delayed and reserved sets,
// read 1000 entries a call; throws RunFailure past `max_entries` entries in all.
std::vector<std::int64_t> queued_message_ids(RedisClient& client, const RedisQueueKeys& keys,
                                             std::size_t max_entries);

// The latest due time of a SendWaMessageJob in the delayed set, if any (where a --rate run
// continues); looks at most `max_entries` entries down from the latest.
std::optional<std::int64_t> latest_delayed(RedisClient& client, const RedisQueueKeys& keys,
                                           std::size_t max_entries);

// The waMessageId in a payload of the contract's class, or nullopt.
std::optional<std::int64_t> payload_message_id(const std::string& payload);

}  // namespace ops
