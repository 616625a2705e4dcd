#include "ops/queue/queue_settings.hpp"

#include <map>
#include <regex>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

// The connections of Laravel's stock config/queue.php (8 to 13) and their drivers.
const std::map<std::string, std::string>& stock_connections() {
    static const std::map<std::string, std::string> kConnections = {{"sync", "sync"},
                                                                    {"database", "database"},
                                                                    {"beanstalkd", "beanstalkd"},
                                                                    {"sqs", "sqs"},
                                                                    {"redis", "redis"},
                                                                    {"deferred", "deferred"},
                                                                    {"background", "background"},
                                                                    {"failover", "failover"},
                                                                    {"null", "null"}};
    return kConnections;
}

void check_connection(const std::string& name) {
    const auto& connections = stock_connections();
    const auto it = connections.find(name);
    const std::string what = "QUEUE_CONNECTION is '" + name + "'";
    if (it == connections.end()) {
        throw ConfigError(what + ", not a connection of Laravel's stock config/queue.php; ops " +
                          "writes jobs for the 'database' and 'redis' connections only");
    }
    if (it->second != "database" && it->second != "redis") {
        throw ConfigError(what + " (the " + it->second + " driver): ops writes jobs for the " +
                          "'database' and 'redis' drivers only, and a job would never be run");
    }
}

std::string table_name(const std::string& value) {
    static const std::regex kTable(
        "^[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?$");
    if (!std::regex_match(value, kTable)) {
        throw ConfigError("DB_QUEUE_TABLE is '" + value +
                          "': expected a table name, letters, digits and '_' (or schema.table)");
    }
    return value;
}

std::int64_t retry_after(const std::string& value) {
    static const std::regex kSeconds("^[0-9]{1,9}$");
    if (!std::regex_match(value, kSeconds)) {
        throw ConfigError("DB_QUEUE_RETRY_AFTER is '" + value +
                          "': expected whole seconds, e.g. 90");
    }
    return std::stoll(value);
}

// The redis connection's queue (config/queue.php); its server: redis_queue_settings().
template <class Lookup>
QueueSettings redis_queue(QueueSettings settings, const Lookup& get) {
    settings.connection = "redis";
    if (const auto queue = get("REDIS_QUEUE"); queue && !queue->empty()) {
        settings.queue = *queue;
        settings.queue_source = "REDIS_QUEUE";
    }
    return settings;
}

}  // namespace

std::optional<std::string> app_setting(const ResolvedConfig& config, const char* name) {
    if (!config.env) return config.getenv(name);
    return env_lookup(*config.env, name, config.getenv);
}

QueueSettings queue_settings(const ResolvedConfig* config, const std::string& redis_url) {
    if (redis_url.empty()) return config != nullptr ? queue_settings(*config) : QueueSettings{};
    // As redis_queue_settings() reads the rest.
    const auto get = [&](const char* name) -> std::optional<std::string> {
        if (config == nullptr) return std::nullopt;
        return app_setting(*config, name);
    };
    // The database queue's own settings (DB_QUEUE_*) are not read: they do not apply. A
    // connection ops refuses stays refused: that application's workers never read Redis.
    QueueSettings redis;
    redis.connection_source = "--redis-url";
    if (const auto connection = get("QUEUE_CONNECTION")) {
        check_connection(*connection);
        if (*connection == "redis") redis.connection_source = "QUEUE_CONNECTION";
    }
    return redis_queue(redis, get);
}

QueueSettings queue_settings(const ResolvedConfig& config) {
    QueueSettings settings;
    if (!config.env) return settings;
    const auto get = [&](const char* name) { return env_lookup(*config.env, name, config.getenv); };
    if (const auto connection = get("QUEUE_CONNECTION")) {
        settings.connection = *connection;
        settings.connection_source = "QUEUE_CONNECTION";
    }
    check_connection(settings.connection);
    if (on_redis(settings)) return redis_queue(settings, get);
    // Laravel 8 to 10's stock config/queue.php does not read DB_QUEUE_*.
    if (config.laravel_version && !config.laravel_version->at_least(11)) return settings;
    if (const auto db = get("DB_QUEUE_CONNECTION"); db && !db->empty()) {
        const std::string app_db = get("DB_CONNECTION").value_or("pgsql");
        if (*db != app_db) {
            throw ConfigError("DB_QUEUE_CONNECTION is '" + *db + "': the jobs table is on the '" +
                              *db + "' database connection, not on '" + app_db +
                              "' (DB_CONNECTION), which is the one ops connects to");
        }
    }
    if (const auto table = get("DB_QUEUE_TABLE"); table && !table->empty()) {
        settings.table = table_name(*table);
    }
    if (const auto queue = get("DB_QUEUE"); queue && !queue->empty()) {
        settings.queue = *queue;
        settings.queue_source = "DB_QUEUE";
    }
    if (const auto seconds = get("DB_QUEUE_RETRY_AFTER"); seconds && !seconds->empty()) {
        settings.retry_after = retry_after(*seconds);
    }
    return settings;
}

}  // namespace ops
