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
    std::string connection_source = "default";  // "QUEUE_CONNECTION" when the env set it
    std::string table = "jobs";                 // as given: "jobs" or "schema.jobs"
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

}  // namespace ops
