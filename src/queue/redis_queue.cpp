#include "ops/queue/redis_queue.hpp"

#include <charconv>

namespace ops {
namespace {

// Sets the marker and pushes in one script, so that Redis applies both or neither (and an AOF
// holds both or neither). KEYS: marker, list, notify, delayed. ARGV: payload, due time or
// "" (now), marker lifetime in seconds.
constexpr const char* kPushOnce = R"lua(
if not redis.call('set', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then
  return 0
end
if ARGV[2] ~= '' then
  redis.call('zadd', KEYS[4], ARGV[2], ARGV[1])
else
  redis.call('rpush', KEYS[2], ARGV[1])
  redis.call('rpush', KEYS[3], 1)
end
return 1
)lua";

constexpr std::size_t kChunk = 1000;

// Reads one list (LRANGE) or sorted set (ZRANGE) in chunks.
void collect(RedisClient& client, const std::string& command, const std::string& key,
             std::size_t max_entries, std::size_t& seen, std::vector<std::int64_t>& ids) {
    for (std::size_t start = 0;; start += kChunk) {
        const RedisValue reply = checked(client.command({command, key, std::to_string(start),
                                                         std::to_string(start + kChunk - 1)}),
                                         command);
        for (const auto& entry : reply.elements) {
            if (const auto id = payload_message_id(entry.text)) ids.push_back(*id);
        }
        seen += reply.elements.size();
        if (seen > max_entries) {
            throw RunFailure("the queue holds more than " + std::to_string(max_entries) +
                                 " jobs in " + key +
                                 " and its delayed and reserved sets; ops "
                                 "reads at most that many to find the messages already queued",
                             "let the workers drain the queue first");
        }
        if (reply.elements.size() < kChunk) return;
    }
}

}  // namespace

std::vector<bool> push_once(RedisClient& client, const std::vector<RedisPush>& jobs,
                            std::chrono::seconds marker_lifetime) {
    std::vector<RedisCommand> commands;
    commands.reserve(jobs.size());
    const std::string lifetime = std::to_string(marker_lifetime.count());
    for (const auto& job : jobs) {
        commands.push_back({"EVAL", kPushOnce, "4", job.marker, job.list, job.list + ":notify",
                            job.list + ":delayed", job.payload,
                            job.available_at ? std::to_string(*job.available_at) : "", lifetime});
    }
    std::vector<bool> pushed;
    pushed.reserve(jobs.size());
    for (const auto& reply : client.pipeline(commands)) {
        pushed.push_back(checked(reply, "the push script").integer == 1);
    }
    return pushed;
}

std::vector<bool> markers_exist(RedisClient& client, const std::vector<std::string>& markers) {
    std::vector<RedisCommand> commands;
    commands.reserve(markers.size());
    for (const auto& marker : markers) commands.push_back({"EXISTS", marker});
    std::vector<bool> exist;
    for (const auto& reply : client.pipeline(commands)) {
        exist.push_back(checked(reply, "EXISTS").integer == 1);
    }
    return exist;
}

std::vector<std::int64_t> queued_message_ids(RedisClient& client, const RedisQueueKeys& keys,
                                             std::size_t max_entries) {
    std::vector<std::int64_t> ids;
    std::size_t seen = 0;
    collect(client, "LRANGE", keys.list(), max_entries, seen, ids);
    collect(client, "ZRANGE", keys.delayed(), max_entries, seen, ids);
    collect(client, "ZRANGE", keys.reserved(), max_entries, seen, ids);
    return ids;
}

// From the latest due time down, in chunks: the first SendWaMessageJob's (jobs of other classes
// do not delay ours, as on the database driver).
std::optional<std::int64_t> latest_delayed(RedisClient& client, const RedisQueueKeys& keys,
                                           std::size_t max_entries) {
    for (std::size_t start = 0; start < max_entries; start += kChunk) {
        const RedisValue reply =
            checked(client.command({"ZREVRANGE", keys.delayed(), std::to_string(start),
                                    std::to_string(start + kChunk - 1), "WITHSCORES"}),
                    "ZREVRANGE");
        for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
            if (!payload_message_id(reply.elements[i].text)) continue;
            const std::string& score = reply.elements[i + 1].text;
            double value = 0;
            const auto [end, ec] =
                std::from_chars(score.data(), score.data() + score.size(), value);
            if (ec == std::errc() && end == score.data() + score.size()) {
                return static_cast<std::int64_t>(value);
            }
        }
        if (reply.elements.size() < 2 * kChunk) break;
    }
    return std::nullopt;
}

std::optional<std::int64_t> payload_message_id(const std::string& payload) {
    constexpr std::string_view kClass = R"("commandName":"App\\Jobs\\SendWaMessageJob")";
    constexpr std::string_view kId = R"(s:11:\"waMessageId\";i:)";
    if (payload.find(kClass) == std::string::npos) return std::nullopt;
    const auto at = payload.find(kId);
    if (at == std::string::npos) return std::nullopt;
    const char* begin = payload.data() + at + kId.size();
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(begin, payload.data() + payload.size(), id);
    if (ec != std::errc() || end == begin || *end != ';') return std::nullopt;
    return id;
}

}  // namespace ops
