#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ops/core/config.hpp"

namespace ops {

// Where the application's `database` queue keeps its jobs, as its stock config/queue.php reads
// the env: QUEUE_CONNECTION (unset: database), and from Laravel 11 DB_QUEUE_CONNECTION,
// DB_QUEUE_TABLE (jobs), DB_QUEUE (default) and DB_QUEUE_RETRY_AFTER (90).
struct QueueSettings {
    std::string connection = "database";
    std::string connection_source = "default";  // "QUEUE_CONNECTION" or "--redis-url"
    std::string table = "jobs";                 // as given: "jobs" or "schema.jobs"; database only
    std::string queue = "default";              // the connection's default queue
    std::string queue_source = "default";       // "DB_QUEUE" when the env set it
    std::int64_t retry_after = 90;
};

// For QUEUE_CONNECTION=redis: connection "redis" and REDIS_QUEUE (the server and prefix come
// from redis_queue_settings()).
// Throws ConfigError (exit 78) for a connection that is neither the database nor the redis driver
// (named, with its driver), a DB_QUEUE_CONNECTION other than the application's database connection,
// or a setting that is not of the accepted form.
QueueSettings queue_settings(const ResolvedConfig& config);

// The queue `wa redrive-failed` writes to: the env's (no env: the defaults), or the redis
// connection and REDIS_QUEUE when `redis_url` (--redis-url) names a server, which implies the
// redis driver whatever QUEUE_CONNECTION says. Throws as queue_settings() does.
QueueSettings queue_settings(const ResolvedConfig* config, const std::string& redis_url);

// A setting of the application as its config files read it: the env file (env_lookup(), the
// process environment behind it), or the process environment alone when no env file was given.
std::optional<std::string> app_setting(const ResolvedConfig& config, const char* name);

// Whether the jobs go to Redis rather than to the database's queue table.
inline bool on_redis(const QueueSettings& queue) { return queue.connection == "redis"; }

}  // namespace ops
