// OPS_DATABASE_URL: ops's own connection setting beside the application's, so that ops can
// reach PostgreSQL directly while the application goes through a pooler (docs/SCALE.md).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "ops/core/config.hpp"
#include "ops/core/errors.hpp"

using namespace ops;

namespace {

struct EnvFile {
    explicit EnvFile(const std::string& text)
        : path(std::filesystem::temp_directory_path() /
               ("ops-unit-" + std::to_string(getpid()) + ".env")) {
        std::ofstream(path) << text;
    }
    ~EnvFile() { std::filesystem::remove(path); }
    std::filesystem::path path;
};

GetEnv environment(std::map<std::string, std::string> values) {
    return [values](const std::string& name) -> std::optional<std::string> {
        const auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

const char* kPooledApp =
    "DB_HOST=pgbouncer\nDB_PORT=6432\nDB_DATABASE=app\nDB_USERNAME=web\n"
    "OPS_DATABASE_URL=postgresql://ops@db-primary:5432/app\n";

}  // namespace

TEST_CASE("OPS_DATABASE_URL in the env file wins over its DB_* settings") {
    const EnvFile file(kPooledApp);
    GlobalOptions options;
    options.env_file = file.path.string();
    const auto config = resolve_config(options, environment({}));
    CHECK(config.connection.conninfo == "postgresql://ops@db-primary:5432/app");
    CHECK(config.connection.source == "OPS_DATABASE_URL in " + file.path.string());
}

TEST_CASE("an empty OPS_DATABASE_URL in the env file leaves the DB_* settings in charge") {
    const EnvFile file("DB_HOST=pgbouncer\nDB_PORT=6432\nOPS_DATABASE_URL=\n");
    GlobalOptions options;
    options.env_file = file.path.string();
    const auto config = resolve_config(options, environment({}));
    CHECK(config.connection.conninfo == "host='pgbouncer' port='6432'");
    CHECK(config.connection.source == "--env-file " + file.path.string());
}

TEST_CASE(
    "OPS_DATABASE_URL precedence: flag, then its variable, then DATABASE_URL, then the file") {
    const EnvFile file(kPooledApp);
    GlobalOptions options;
    options.env_file = file.path.string();
    CHECK(resolve_config(options, environment({{"DATABASE_URL", "postgresql://u@h/d"}}))
              .connection.source == "DATABASE_URL");
    const auto both = environment(
        {{"DATABASE_URL", "postgresql://u@h/d"}, {"OPS_DATABASE_URL", "postgresql://o@direct/d"}});
    CHECK(resolve_config(options, both).connection.conninfo == "postgresql://o@direct/d");
    CHECK(resolve_config(options, both).connection.source == "OPS_DATABASE_URL");
    options.database_url = "postgresql://flag@db/shop";
    CHECK(resolve_config(options, both).connection.source == "--database-url");
}

TEST_CASE("a malformed OPS_DATABASE_URL is a usage error naming it") {
    const EnvFile file("OPS_DATABASE_URL=not-a-connection-string\n");
    GlobalOptions options;
    options.env_file = file.path.string();
    try {
        resolve_config(options, environment({}));
        FAIL("expected a UsageError");
    } catch (const UsageError& e) {
        CHECK(std::string(e.what()).find("OPS_DATABASE_URL in ") == 0);
    }
}
