#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ops/core/config.hpp"
#include "ops/core/errors.hpp"

// Where the application's `redis` queue connection keeps its jobs, read from its env as Laravel
// 8 to 13's stock config/database.php and config/queue.php do (docs/REDIS_QUEUE.md).
namespace ops {

// Redis could not be reached or refused us: exit 69, like an unreachable database.
class RedisUnavailable : public Error {
  public:
    explicit RedisUnavailable(const std::string& what, std::string hint = {})
        : Error(ExitCode::kDatabaseUnavailable, what, std::move(hint)) {}
};

// A server to connect to: redis://[[user]:password@]host[:port][/db] or its REDIS_* parts.
struct RedisEndpoint {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string username;  // empty: AUTH with the password only (the default user)
    std::string password;  // never printed: use describe()
    std::int64_t database = 0;
    std::string source = "default";  // "--redis-url", "REDIS_URL", "REDIS_HOST/REDIS_PORT/..."

    // "redis://user:***@host:port/db": the password redacted.
    std::string url() const;
    // url() and where it came from: "redis://...:6379/0 (REDIS_URL)".
    std::string describe() const { return url() + " (" + source + ")"; }
};

struct RedisQueueSettings {
    RedisEndpoint endpoint;
    std::string connection = "default";  // REDIS_QUEUE_CONNECTION (11+): config/database.php's
    std::string queue = "default";       // REDIS_QUEUE
    std::string queue_source = "default";
    std::string prefix;  // REDIS_PREFIX, else derived from APP_NAME
    std::string prefix_source;
};

// Parses a redis:// URL as Laravel's ConfigurationUrlParser does for the forms it documents;
// `what` names the setting in errors. rediss:// (TLS) and unix sockets are refused with
// ConfigError (exit 78): Debian's hiredis 0.14 has no TLS. Untrusted text (fuzzed).
RedisEndpoint parse_redis_url(std::string_view url, const std::string& what);

// Throws ConfigError naming `what` unless `host` is a host name (letters, digits, '.', '-',
// '_') or an IPv6 address: never echoing it, as it may be a garbled URL holding a password.
void check_redis_host(const std::string& host, const std::string& what);

// A --redis-url value fit for the begin line: url(), or "(redacted)" when it does not parse.
std::string redact_redis_url(const std::string& url);

// Laravel's Str::slug($text, $separator) for ASCII text; std::nullopt for text with non-ASCII
// bytes (Laravel transliterates those first, which ops does not reproduce).
std::optional<std::string> laravel_slug(std::string_view text, char separator);

// The settings of the application's env (config.env), `url_override` (--redis-url) winning
// over REDIS_URL and REDIS_HOST...; throws ConfigError for a value of the wrong form.
RedisQueueSettings redis_queue_settings(const ResolvedConfig& config,
                                        const std::string& url_override);
// The same without an env file (nullptr): the process environment alone.
RedisQueueSettings redis_queue_settings(const ResolvedConfig* config,
                                        const std::string& url_override);

}  // namespace ops
