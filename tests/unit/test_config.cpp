#include <catch2/catch.hpp>

#include "ops/core/config.hpp"
#include "ops/core/errors.hpp"

using namespace ops;

TEST_CASE("env files: quotes, comments, export prefixes") {
    const auto env = parse_env_text(
        "# Laravel\n"
        "APP_NAME=\"My Shop\"\n"
        "export DB_HOST=db.internal\n"
        "DB_PORT=5432 # default port\n"
        "DB_PASSWORD='p#ss word'\n"
        "DB_USERNAME=\"quote\\\"d\"\n"
        "EMPTY=\n"
        "\n",
        ".env");
    CHECK(env.at("APP_NAME") == "My Shop");
    CHECK(env.at("DB_HOST") == "db.internal");
    CHECK(env.at("DB_PORT") == "5432");
    CHECK(env.at("DB_PASSWORD") == "p#ss word");
    CHECK(env.at("DB_USERNAME") == "quote\"d");
    CHECK(env.at("EMPTY").empty());
    CHECK_THROWS_AS(parse_env_text("NOT A LINE\n", ".env"), ConfigError);
    CHECK_THROWS_AS(parse_env_text("A='unterminated\n", ".env"), ConfigError);
    // phpdotenv drops a double-quoted value still open at the end of the file, silently.
    CHECK(parse_env_text("A=\"unterminated\n", ".env").count("A") == 0);
}

TEST_CASE("env DB_* settings become a quoted conninfo") {
    const EnvValues env = {{"DB_HOST", "h"},
                           {"DB_PORT", "5433"},
                           {"DB_DATABASE", "app db"},
                           {"DB_USERNAME", "u"},
                           {"DB_PASSWORD", "it's\\secret"}};
    const std::string conninfo = conninfo_from_env(env);
    CHECK(conninfo == "host='h' port='5433' dbname='app db' user='u' password='it\\'s\\\\secret'");
    CHECK(conninfo_has_password(conninfo));
    CHECK(redact_conninfo(conninfo).find("secret") == std::string::npos);
}

TEST_CASE("redaction hides passwords in URIs and key=value strings") {
    CHECK(redact_conninfo("postgresql://app:s3cret@db:5432/shop").find("s3cret") ==
          std::string::npos);
    CHECK(redact_conninfo("postgresql://app:s3cret@db:5432/shop").find("password=***") !=
          std::string::npos);
    CHECK(redact_conninfo("postgresql://db/shop?password=s3cret").find("s3cret") ==
          std::string::npos);
    CHECK(redact_conninfo("host=db password=s3cret").find("s3cret") == std::string::npos);
    CHECK(redact_conninfo("postgresql://app@db/shop").find("***") == std::string::npos);
    CHECK_FALSE(conninfo_has_password("postgresql://app@db/shop"));
    CHECK(conninfo_has_password("postgresql://app:x@db/shop"));
}

TEST_CASE("connection precedence: flag, DATABASE_URL, env file, libpq defaults") {
    const GetEnv with_url = [](const std::string& name) -> std::optional<std::string> {
        if (name == "DATABASE_URL") return "postgresql://env@db/shop";
        return std::nullopt;
    };
    const GetEnv empty = [](const std::string&) -> std::optional<std::string> {
        return std::nullopt;
    };
    GlobalOptions options;
    CHECK(resolve_config(options, empty).connection.source == "libpq defaults");
    CHECK(resolve_config(options, with_url).connection.source == "DATABASE_URL");
    options.database_url = "postgresql://flag@db/shop";
    CHECK(resolve_config(options, with_url).connection.conninfo == "postgresql://flag@db/shop");
    CHECK(resolve_config(options, with_url).timezone == "UTC");
    options.timezone = "Asia/Jakarta";
    CHECK(resolve_config(options, with_url).timezone == "Asia/Jakarta");
    options.timezone = "Nowhere/City";
    CHECK_THROWS_AS(resolve_config(options, with_url), UsageError);
}
