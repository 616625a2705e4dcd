#include "ops/queue/queue_settings.hpp"
#include "ops/queue/redis_settings.hpp"

// The application's env read as Laravel's stock config/database.php ('redis' section) and
// config/queue.php ('redis' connection) read it.
namespace ops {
namespace {

using Lookup = std::function<std::optional<std::string>(const char*)>;

std::optional<std::string> non_empty(const Lookup& get, const char* name) {
    auto value = get(name);
    if (value && value->empty()) return std::nullopt;
    return value;
}

// REDIS_PORT, REDIS_DB: digits only, read with the URL's rules for a port and a database.
std::int64_t whole(const std::string& text, const char* name) {
    const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
    if (!digits) {
        throw ConfigError(std::string(name) + ": expected a whole number, got '" + text + "'");
    }
    const auto endpoint = parse_redis_url(
        std::string("redis://h") + (std::string_view(name) == "REDIS_PORT" ? ":" : "/") + text,
        name);
    return std::string_view(name) == "REDIS_PORT" ? endpoint.port : endpoint.database;
}

// config/database.php's 'default' connection (REDIS_URL, REDIS_HOST, ...) or, for
// REDIS_QUEUE_CONNECTION=cache, its 'cache' one (REDIS_CACHE_DB, default 1).
RedisEndpoint endpoint_from_env(const Lookup& get, const std::string& connection) {
    if (const auto url = non_empty(get, "REDIS_URL")) {
        RedisEndpoint endpoint = parse_redis_url(*url, "REDIS_URL");
        if (connection == "cache" && url->find('/', url->find("://") + 3) == std::string::npos) {
            endpoint.database = 1;
        }
        return endpoint;
    }
    RedisEndpoint endpoint;
    endpoint.source = "REDIS_HOST/REDIS_PORT/REDIS_DB";
    if (const auto host = non_empty(get, "REDIS_HOST")) {
        check_redis_host(*host, "REDIS_HOST");
        endpoint.host = *host;
    }
    if (const auto port = non_empty(get, "REDIS_PORT")) {
        endpoint.port = static_cast<int>(whole(*port, "REDIS_PORT"));
    }
    if (const auto user = non_empty(get, "REDIS_USERNAME")) endpoint.username = *user;
    // phpdotenv reads REDIS_PASSWORD=null as null: no password.
    if (const auto password = non_empty(get, "REDIS_PASSWORD"); password && *password != "null") {
        endpoint.password = *password;
    }
    const char* db_name = connection == "cache" ? "REDIS_CACHE_DB" : "REDIS_DB";
    if (const auto db = non_empty(get, db_name)) {
        endpoint.database = whole(*db, db_name);
    } else if (connection == "cache") {
        endpoint.database = 1;
    }
    return endpoint;
}

// REDIS_PREFIX, else the skeleton's default from APP_NAME: Str::slug(APP_NAME, '_') .
// '_database_' up to Laravel 11, Str::slug(APP_NAME) . '-database-' from 12.
void choose_prefix(const Lookup& get, const std::optional<LaravelVersion>& version,
                   RedisQueueSettings& settings) {
    if (const auto prefix = get("REDIS_PREFIX")) {
        settings.prefix = *prefix;
        settings.prefix_source = "REDIS_PREFIX";
        return;
    }
    const std::string app = get("APP_NAME").value_or("laravel");
    const bool dashes = version && version->at_least(12);
    const auto slug = laravel_slug(app, dashes ? '-' : '_');
    if (!slug) {
        throw ConfigError(
            "APP_NAME has characters outside ASCII, whose Str::slug() ops does not "
            "reproduce, and REDIS_PREFIX is not set",
            "set REDIS_PREFIX to the prefix the application's keys carry (doctor "
            "lists the keys it finds)");
    }
    settings.prefix = *slug + (dashes ? "-database-" : "_database_");
    settings.prefix_source = std::string("APP_NAME (the Laravel ") + (dashes ? "12+" : "8 to 11") +
                             " skeleton's default" +
                             (version ? ")" : "; give --laravel-version for 12+)");
}

}  // namespace

RedisQueueSettings redis_queue_settings(const ResolvedConfig& config,
                                        const std::string& url_override) {
    const Lookup get = [&](const char* name) { return app_setting(config, name); };
    RedisQueueSettings settings;
    const auto& version = config.laravel_version;
    // config/queue.php reads REDIS_QUEUE_CONNECTION from Laravel 11 on.
    if (const auto connection = non_empty(get, "REDIS_QUEUE_CONNECTION");
        connection && (!version || version->at_least(11))) {
        if (*connection != "default" && *connection != "cache") {
            throw ConfigError("REDIS_QUEUE_CONNECTION is '" + *connection +
                                  "': ops reads the stock config/database.php's 'default' and "
                                  "'cache' Redis connections only",
                              "give the connection's server with --redis-url");
        }
        settings.connection = *connection;
    }
    if (const auto queue = non_empty(get, "REDIS_QUEUE")) {
        settings.queue = *queue;
        settings.queue_source = "REDIS_QUEUE";
    }
    if (!url_override.empty()) {
        settings.endpoint = parse_redis_url(url_override, "--redis-url");
    } else {
        settings.endpoint = endpoint_from_env(get, settings.connection);
    }
    choose_prefix(get, version, settings);
    return settings;
}

RedisQueueSettings redis_queue_settings(const ResolvedConfig* config,
                                        const std::string& url_override) {
    const ResolvedConfig no_env_file;
    return redis_queue_settings(config != nullptr ? *config : no_env_file, url_override);
}

}  // namespace ops
