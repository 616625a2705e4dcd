// The application's database and queue settings from its env, as Laravel's stock
// config/database.php and config/queue.php read them.
#include <catch2/catch.hpp>

#include "ops/core/errors.hpp"
#include "ops/core/laravel_database.hpp"
#include "ops/queue/queue_settings.hpp"

using namespace ops;

namespace {

LaravelDatabase database(const EnvValues& env,
                         std::optional<LaravelVersion> version = std::nullopt) {
    return laravel_database(env, no_env, version);
}

ResolvedConfig config_with(const EnvValues& env,
                           std::optional<LaravelVersion> version = std::nullopt) {
    ResolvedConfig config;
    config.env = env;
    config.getenv = no_env;
    config.laravel_version = version;
    return config;
}

}  // namespace

TEST_CASE("laravel database: a URL's parts override DB_*, decoded as Laravel decodes them") {
    const auto db = database(
        {{"DB_HOST", "ignored"},
         {"DB_PORT", "6543"},
         {"DB_USERNAME", "base"},
         {"DB_URL", "postgres://app:p%40ss%27w@db.internal/shop?sslmode=require&charset=utf8"}});
    CHECK(db.url_key == "DB_URL");
    CHECK(db.conninfo ==
          "host='db.internal' port='6543' dbname='shop' user='app' password='p@ss\\'w' "
          "sslmode='require'");
    // Laravel 8 to 10 read DATABASE_URL only.
    const auto old = database({{"DB_URL", "pgsql://a@h1/x"}, {"DATABASE_URL", "pgsql://b@h2:5/y"}},
                              LaravelVersion{10, 48, 0});
    CHECK(old.conninfo == "host='h2' port='5' dbname='y' user='b'");
    CHECK(database({{"DB_DATABASE", "app"}}).conninfo == "dbname='app'");
}

TEST_CASE("laravel database: other drivers and malformed URLs are configuration errors") {
    CHECK_THROWS_AS(database({{"DB_CONNECTION", "mysql"}}), ConfigError);
    CHECK_THROWS_AS(database({{"DB_CONNECTION", "sqlite"}}), ConfigError);
    CHECK_NOTHROW(database({{"DB_CONNECTION", "pgsql"}}));
    CHECK_THROWS_AS(database({{"DB_URL", "mysql2://u@h/db"}}), ConfigError);
    CHECK_THROWS_AS(database({{"DB_URL", "not a url"}}), ConfigError);
    CHECK_THROWS_AS(database({{"DB_URL", "pgsql://h:port/db"}}), ConfigError);
    CHECK_THROWS_AS(database({{"DB_URL", "pgsql://a@h/x"}, {"DATABASE_URL", "pgsql://b@h/y"}}),
                    ConfigError);
    // Found by the database_url fuzz target: a decoded NUL used to reach libpq, which cut the
    // conninfo short at it.
    CHECK_THROWS_WITH(
        database({{"DB_URL", "pgsql://u:p%00ss@h/db"}}),
        Catch::Contains("DB_URL") && Catch::Contains("password") && !Catch::Contains("p%00ss"));
    CHECK_THROWS_AS(database({{"DB_URL", "pgsql://h/db?sslmode=re%00quire"}}), ConfigError);
    // The same from the env file's own keys (a raw NUL byte in .env), never with the value.
    CHECK_THROWS_WITH(database({{"DB_PASSWORD", std::string("se\0cret", 7)}}),
                      Catch::Contains("DB_PASSWORD holds a NUL byte") && !Catch::Contains("cret"));
    CHECK_THROWS_AS(database({{"DB_HOST", std::string("h\0", 2)}}), ConfigError);
    try {
        database({{"DB_URL", "mysql://root:s3cret@h/db"}});
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()).find("s3cret") == std::string::npos);
    }
}

TEST_CASE("laravel queue: defaults, Laravel 11's DB_QUEUE_*, and refusals") {
    const QueueSettings plain = queue_settings(config_with({}));
    CHECK(plain.connection == "database");
    CHECK(plain.table == "jobs");
    CHECK(plain.queue == "default");
    CHECK(plain.retry_after == 90);
    const EnvValues eleven = {{"QUEUE_CONNECTION", "database"},
                              {"DB_QUEUE_TABLE", "queue.jobs"},
                              {"DB_QUEUE", "wa"},
                              {"DB_QUEUE_RETRY_AFTER", "300"},
                              {"DB_QUEUE_CONNECTION", "pgsql"}};
    const QueueSettings settings = queue_settings(config_with(eleven));
    CHECK(settings.table == "queue.jobs");
    CHECK(settings.queue == "wa");
    CHECK(settings.retry_after == 300);
    CHECK(queue_settings(config_with(eleven, LaravelVersion{9, 52, 0})).queue == "default");
    // The redis driver (#18): its queue is REDIS_QUEUE; its server comes from redis_settings.
    const QueueSettings redis =
        queue_settings(config_with({{"QUEUE_CONNECTION", "redis"}, {"REDIS_QUEUE", "wa"}}));
    CHECK(redis.connection == "redis");
    CHECK(redis.queue == "wa");
    for (const std::string name : {"sync", "sqs", "beanstalkd", "custom"}) {
        INFO(name);
        CHECK_THROWS_AS(queue_settings(config_with({{"QUEUE_CONNECTION", name}})), ConfigError);
    }
    CHECK_THROWS_AS(queue_settings(config_with({{"DB_QUEUE_RETRY_AFTER", "90s"}})), ConfigError);
    CHECK_THROWS_AS(queue_settings(config_with({{"DB_QUEUE_TABLE", "jobs; drop"}})), ConfigError);
    CHECK_THROWS_AS(queue_settings(config_with({{"DB_QUEUE_CONNECTION", "mysql"}})), ConfigError);
}

TEST_CASE("laravel queue: --redis-url puts the queue on Redis, under REDIS_QUEUE") {
    const std::string url = "redis://127.0.0.1:6380";
    const ResolvedConfig database =
        config_with({{"QUEUE_CONNECTION", "database"}, {"DB_QUEUE", "db"}, {"REDIS_QUEUE", "wa"}});
    const QueueSettings switched = queue_settings(&database, url);
    CHECK(on_redis(switched));
    CHECK(switched.connection_source == "--redis-url");
    CHECK(switched.queue == "wa");
    CHECK(switched.queue_source == "REDIS_QUEUE");
    // Without it, the env's own; with the env already on Redis, the env's source stays.
    CHECK(queue_settings(&database, "").queue == "db");
    const ResolvedConfig redis = config_with({{"QUEUE_CONNECTION", "redis"}});
    CHECK(queue_settings(&redis, url).connection_source == "QUEUE_CONNECTION");
    // No env file at all: the defaults, or the redis connection's.
    CHECK(!on_redis(queue_settings(nullptr, "")));
    CHECK(queue_settings(nullptr, url).queue == "default");
    // The database queue's settings do not apply, so they cannot refuse the run.
    const ResolvedConfig mysql_queue = config_with({{"QUEUE_CONNECTION", "database"},
                                                    {"DB_QUEUE_CONNECTION", "mysql"},
                                                    {"REDIS_QUEUE", "wa"}});
    CHECK_THROWS_AS(queue_settings(&mysql_queue, ""), ConfigError);
    CHECK(queue_settings(&mysql_queue, url).queue == "wa");
    // A refused QUEUE_CONNECTION stays refused: its workers would never read Redis.
    const ResolvedConfig sqs = config_with({{"QUEUE_CONNECTION", "sqs"}});
    CHECK_THROWS_AS(queue_settings(&sqs, url), ConfigError);
}
