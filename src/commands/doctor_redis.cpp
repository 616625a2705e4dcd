#include "ops/commands/doctor_redis.hpp"

#include <set>

#include "ops/queue/queue_settings.hpp"
#include "ops/queue/redis_queue.hpp"

namespace ops {
namespace {

constexpr int kScanRounds = 20;  // SCAN ... COUNT 1000: at most ~20000 keys looked at

Summary row(const std::string& check, const std::string& problem, const std::string& ok) {
    return {{"check", check},
            {"status", problem.empty() ? "ok" : "problem"},
            {"detail", problem.empty() ? ok : problem}};
}

std::string info_field(const std::string& info, const std::string& name) {
    const auto at = info.find(name + ":");
    if (at == std::string::npos) return "";
    const auto start = at + name.size() + 1;
    return info.substr(start, info.find_first_of("\r\n", start) - start);
}

Summary connection_row(RedisClient& client) {
    const std::string server = checked(client.command({"INFO", "server"}), "INFO").text;
    const std::string persistence = checked(client.command({"INFO", "persistence"}), "INFO").text;
    const std::string aof = info_field(persistence, "aof_enabled");
    const std::string version = "Redis " + info_field(server, "redis_version");
    const std::string problem =
        aof == "1" ? ""
                   : version +
                         " without appendonly: a restart can lose pushed jobs and their "
                         "markers, and redrive's exactly-once no longer holds";
    return row("redis connection " + client.endpoint().describe(), problem,
               version + ", appendonly yes");
}

// The keys under `pattern`, SCAN'd in bounded rounds.
std::set<std::string> scan(RedisClient& client, const std::string& pattern) {
    std::set<std::string> keys;
    std::string cursor = "0";
    for (int round = 0; round < kScanRounds; ++round) {
        const RedisValue reply =
            checked(client.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}), "SCAN");
        if (reply.elements.size() != 2) break;
        cursor = reply.elements[0].text;
        for (const auto& key : reply.elements[1].elements) keys.insert(key.text);
        if (cursor == "0") break;
    }
    return keys;
}

Summary prefix_row(RedisClient& client, const RedisQueueSettings& settings) {
    const auto ours = scan(client, settings.prefix + "queues:*");
    const std::string check =
        "redis prefix '" + settings.prefix + "' (" + settings.prefix_source + ")";
    if (!ours.empty()) {
        std::string found;
        for (const auto& key : ours) found += (found.empty() ? "" : ", ") + key;
        return row(check, "", "queue keys found: " + found);
    }
    std::string others;
    for (const auto& key : scan(client, "*queues:*")) {
        others += (others.empty() ? "" : ", ") + key;
        if (others.size() > 300) break;
    }
    return row(check,
               "no queue keys under this prefix (none is pushed yet, or the prefix is not the "
               "application's)" +
                   (others.empty() ? std::string() : "; queue keys found: " + others),
               "");
}

// A Laravel worker pops with a script (EVAL); one that blocks (block_for) with BLPOP.
Summary worker_row(RedisClient& client, const RedisQueueSettings& settings) {
    const RedisQueueKeys keys{settings.prefix, settings.queue};
    const long long waiting = checked(client.command({"LLEN", keys.list()}), "LLEN").integer;
    const long long reserved = checked(client.command({"ZCARD", keys.reserved()}), "ZCARD").integer;
    const long long delayed = checked(client.command({"ZCARD", keys.delayed()}), "ZCARD").integer;
    const std::string clients = checked(client.command({"CLIENT", "LIST"}), "CLIENT LIST").text;
    int poppers = 0;
    for (const std::string cmd : {"cmd=eval ", "cmd=evalsha ", "cmd=blpop "}) {
        for (auto at = clients.find(cmd); at != std::string::npos; at = clients.find(cmd, at + 1)) {
            ++poppers;
        }
    }
    const std::string state = std::to_string(waiting) + " waiting, " + std::to_string(delayed) +
                              " delayed, " + std::to_string(reserved) + " reserved; " +
                              std::to_string(poppers) +
                              " clients whose last command was a pop (EVAL/BLPOP)";
    const bool stuck = waiting > 0 && reserved == 0 && poppers == 0;
    return row("redis worker on queue '" + settings.queue + "'",
               stuck ? state + ": no worker seems to consume the queue" : "", state);
}

}  // namespace

std::vector<Summary> redis_checks(const QueueChoice& queue, const ResolvedConfig* config,
                                  const std::string& redis_url) {
    // A refused choice is the queue report's to name.
    if (!queue.settings || !on_redis(*queue.settings)) return {};
    RedisQueueSettings settings;
    try {
        settings = redis_queue_settings(config, redis_url);
    } catch (const ConfigError& e) {
        return {row("redis settings", e.what(), "")};
    }
    settings.queue = queue.settings->queue;
    try {
        RedisClient client(settings.endpoint, std::chrono::seconds(5));
        return {connection_row(client), prefix_row(client, settings), worker_row(client, settings)};
    } catch (const Error& e) {
        return {row("redis connection " + settings.endpoint.describe(), e.what(), "")};
    }
}

}  // namespace ops
