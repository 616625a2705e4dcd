// The Redis path's pure parts: the payload of every Laravel version profile with the redis
// driver's `id` and `attempts` in their place, REDIS_URL parsing (the password never shown),
// the prefix's Str::slug (against Laravel's own, through php), the env settings.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "ops/queue/laravel_job_payload.hpp"
#include "ops/queue/redis_queue.hpp"
#include "ops/queue/redis_settings.hpp"

using namespace ops;

namespace {

std::string read_reference(const std::string& file) {
    std::ifstream in(std::string(OPS_SOURCE_DIR) + "/tests/laravel/payloads/" + file);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    std::string payload = text.str();
    REQUIRE(payload.back() == '\n');
    payload.pop_back();
    return payload;
}

std::string match(const std::string& text, const std::string& pattern) {
    std::smatch m;
    if (!std::regex_search(text, m, std::regex(pattern))) return "";
    return m[1].str();
}

std::vector<std::string> top_level_keys(const std::string& payload) {
    // nlohmann's ordered_json keeps the order json_encode wrote.
    std::vector<std::string> keys;
    const auto json = nlohmann::ordered_json::parse(payload);
    for (const auto& item : json.items()) {
        keys.push_back(item.key());
    }
    return keys;
}

ResolvedConfig config_of(const EnvValues& env, std::optional<LaravelVersion> version = {}) {
    ResolvedConfig config;
    config.env = env;
    config.laravel_version = version;
    config.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    return config;
}

}  // namespace

TEST_CASE(
    "redis payload: every Laravel profile carries id and attempts where its driver puts them") {
    const std::vector<std::pair<std::string, LaravelVersion>> profiles = {
        {"v8.83.26.json", {8, 83, 26}},   {"v9.52.16.json", {9, 52, 16}},
        {"v10.48.29.json", {10, 48, 29}}, {"v11.1.1.json", {11, 1, 1}},
        {"v11.56.0.json", {11, 56, 0}},   {"v12.10.2.json", {12, 10, 2}},
        {"v12.50.0.json", {12, 50, 0}},   {"v12.67.0.json", {12, 67, 0}},
        {"v13.0.0.json", {13, 0, 0}},     {"v13.26.1.json", {13, 26, 1}}};
    for (const auto& [file, version] : profiles) {
        for (const bool models : {false, true}) {
            INFO(file << (models ? " SerializesModels" : ""));
            const std::string reference = read_reference(file);
            const std::string uuid = match(reference, R"re("uuid":"([0-9a-f-]{36})")re");
            const std::string created = match(reference, R"re("createdAt":([0-9]+))re");
            const std::int64_t created_at = created.empty() ? 0 : std::stoll(created);
            const LaravelJobPayload payload(std::nullopt, {}, PayloadForm{version, models});
            const std::string redis_id = new_redis_job_id();
            const std::string pushed = payload.build_redis(uuid, 42, created_at, redis_id);
            const auto json = nlohmann::json::parse(pushed);
            CHECK(json["attempts"] == 0);  // without it the worker's pop script loses the job
            CHECK(json["id"] == redis_id);
            auto keys = top_level_keys(pushed);
            const auto at = std::find(keys.begin(), keys.end(), "id") - keys.begin();
            REQUIRE(at > 0);
            CHECK(keys[at + 1] == "attempts");
            CHECK(keys[at - 1] == (version.at_least(12, 11) ? "createdAt" : "data"));
            if (version.at_least(12, 11)) CHECK(keys.back() == "delay");
            // Without the two keys it is the database payload, byte for byte.
            std::string database = pushed;
            const std::string added = ",\"id\":\"" + redis_id + "\",\"attempts\":0";
            database.erase(database.find(added), added.size());
            CHECK(database == payload.build(uuid, 42, created_at));
            if (!models) CHECK(database == reference);
        }
    }
}

TEST_CASE("redis payload: the job id is 32 letters and digits, fresh each time") {
    const std::string a = new_redis_job_id();
    CHECK(std::regex_match(a, std::regex("[A-Za-z0-9]{32}")));
    CHECK(a != new_redis_job_id());
    CHECK(payload_message_id(read_reference("v13.26.1.json")) == 42);
    CHECK_FALSE(payload_message_id(R"({"displayName":"App\\Jobs\\Other"})").has_value());
}

TEST_CASE("redis url: the forms Laravel reads, and the ones refused") {
    const auto e = parse_redis_url("redis://user:p%40ss@cache.internal:6380/3", "REDIS_URL");
    CHECK(e.host == "cache.internal");
    CHECK(e.port == 6380);
    CHECK(e.username == "user");
    CHECK(e.password == "p@ss");
    CHECK(e.database == 3);
    CHECK(e.describe() == "redis://user:***@cache.internal:6380/3 (REDIS_URL)");
    const auto plain = parse_redis_url("redis://:secret@[::1]", "--redis-url");
    CHECK(plain.host == "::1");
    CHECK(plain.port == 6379);
    CHECK(plain.describe().find("secret") == std::string::npos);
    CHECK(parse_redis_url("tcp://10.0.0.5:6379", "x").host == "10.0.0.5");
    // A user name shows %-encoded: one ':' and one '@' in the shown user part, no control byte.
    CHECK(parse_redis_url("redis://x%3Ap%40%1B:p@h", "x").url() ==
          "redis://x%3Ap%40%1B:***@h:6379/0");
    CHECK(parse_redis_url("redis://[fe80::1%25eth0]:7000", "x").host == "fe80::1%eth0");
    CHECK(parse_redis_url("redis://redis_cache-1.internal", "x").host == "redis_cache-1.internal");
    // Hosts hiredis cannot resolve, which could forge the shown URL or a log line (found by
    // fuzz_redis_url: a %40 in the host put ":<password>@" into the shown form).
    for (const std::string bad :
         {"rediss://h", "http://h", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x",
          "redis://h?timeout=1", "redis://h:6379/1/2", "h:6379", "redis://[::1", "redis://h%zz",
          "redis://u:p@a%40b:p::", "redis://h%1B[2J", "redis://h%0Ax", "redis://[::1%]",
          "redis://[::g]", "redis://h\x99", "redis://a<b"}) {
        INFO(bad);
        try {
            parse_redis_url(bad, "REDIS_URL");
            FAIL("accepted");
        } catch (const ConfigError& error) {
            CHECK(std::string(error.what()).rfind("REDIS_URL", 0) == 0);
        }
    }
}

TEST_CASE("redis settings: REDIS_* of the env, the version's prefix, --redis-url first") {
    const EnvValues env = {{"REDIS_HOST", "10.1.2.3"}, {"REDIS_PORT", "6390"},
                           {"REDIS_PASSWORD", "pw"},   {"REDIS_DB", "2"},
                           {"REDIS_QUEUE", "wa"},      {"APP_NAME", "Toko Online"}};
    auto s = redis_queue_settings(config_of(env), "");
    CHECK(s.endpoint.host == "10.1.2.3");
    CHECK(s.endpoint.port == 6390);
    CHECK(s.endpoint.database == 2);
    CHECK(s.endpoint.password == "pw");
    CHECK(s.queue == "wa");
    CHECK(s.prefix == "toko_online_database_");
    CHECK(redis_queue_settings(config_of(env, LaravelVersion{12, 0, 0}), "").prefix ==
          "toko-online-database-");
    CHECK(redis_queue_settings(config_of(env), "redis://127.0.0.1:7000").endpoint.port == 7000);
    EnvValues cache = env;
    cache["REDIS_QUEUE_CONNECTION"] = "cache";
    CHECK(redis_queue_settings(config_of(cache, LaravelVersion{11, 0, 0}), "").endpoint.database ==
          1);
    cache["REDIS_QUEUE_CONNECTION"] = "queues";
    CHECK_THROWS_AS(redis_queue_settings(config_of(cache, LaravelVersion{11, 0, 0}), ""),
                    ConfigError);
    EnvValues bad = env;
    bad["REDIS_PORT"] = "63x";
    CHECK_THROWS_AS(redis_queue_settings(config_of(bad), ""), ConfigError);
    EnvValues socket = env;  // a Unix socket path: ops speaks TCP only
    socket["REDIS_HOST"] = "/var/run/redis/redis.sock";
    CHECK_THROWS_WITH(redis_queue_settings(config_of(socket), ""),
                      Catch::StartsWith("REDIS_HOST: the host is not a host name"));
    EnvValues prefixed = env;
    prefixed["REDIS_PREFIX"] = "";
    CHECK(redis_queue_settings(config_of(prefixed), "").prefix.empty());
    CHECK(redis_queue_settings(config_of({}), "").prefix == "laravel_database_");
}

TEST_CASE("redis prefix: Str::slug as Laravel 8's own (php) computes it") {
    const std::vector<std::string> names = {
        "Laravel", "Toko Online", "  my--App__name  ", "A@B", "shop.id 2024!", "x_y-z", "", "---"};
    for (const char separator : {'_', '-'}) {
        for (const auto& name : names) {
            INFO("'" << name << "' with '" << separator << "'");
            const std::string command =
                "php -r 'require \"Illuminate/autoload.php\"; echo "
                "Illuminate\\Support\\Str::slug(getenv(\"N\"), getenv(\"S\"));' 2>&1";
            setenv("N", name.c_str(), 1);
            setenv("S", std::string(1, separator).c_str(), 1);
            std::string out;
            FILE* pipe = popen(command.c_str(), "r");
            REQUIRE(pipe != nullptr);
            char buffer[256];
            while (fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
            REQUIRE(pclose(pipe) == 0);
            CHECK(laravel_slug(name, separator) == out);
        }
    }
    CHECK_FALSE(laravel_slug("Tökö", '_').has_value());
}
