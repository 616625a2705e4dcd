// REDIS_URL / --redis-url: any text either parses into an endpoint (a port in range, a
// database number, a non-empty host) or is refused with ConfigError; nothing else escapes, and
// the redacted form never holds the password. Str::slug (the prefix from APP_NAME) never starts
// or ends with its separator.
#include "fuzz_input.hpp"
#include "ops/queue/redis_settings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string url = ops_fuzz::text_of(data, size);
    try {
        const ops::RedisEndpoint endpoint = ops::parse_redis_url(url, "REDIS_URL");
        ops_fuzz::require(endpoint.port >= 1 && endpoint.port <= 65535);
        ops_fuzz::require(endpoint.database >= 0);
        ops_fuzz::require(!endpoint.host.empty());
        const std::string shown = ops::redact_redis_url(url);
        // The password never shows: the user information is "user:***@" or absent.
        if (!endpoint.password.empty() && endpoint.password != "***") {
            ops_fuzz::require(shown.find(":" + endpoint.password + "@") == std::string::npos);
        }
    } catch (const ops::ConfigError&) {
        ops_fuzz::require(ops::redact_redis_url(url) == "(redacted)");
    }
    for (const char separator : {'_', '-'}) {
        const auto slug = ops::laravel_slug(url, separator);
        if (!slug) continue;
        ops_fuzz::require(slug->empty() ||
                          (slug->front() != separator && slug->back() != separator));
    }
    return 0;
}
