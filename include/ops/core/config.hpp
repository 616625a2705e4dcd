#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "ops/core/env_file.hpp"
#include "ops/core/laravel_version.hpp"

namespace ops {

enum class OutputFormat { kText, kJson };
enum class LogFormat { kText, kJson };

// Options every command accepts, as given on the command line.
struct GlobalOptions {
    std::string database_url;
    std::string env_file;
    std::string timezone;
    OutputFormat output = OutputFormat::kText;
    std::string log_level = "info";
    LogFormat log_format = LogFormat::kText;
    std::chrono::milliseconds statement_timeout{std::chrono::minutes(5)};
    std::chrono::milliseconds lock_timeout{std::chrono::seconds(5)};
    std::string metrics_dir;
    std::string laravel_version;  // --laravel-version X.Y; empty: OPS_LARAVEL_VERSION or unknown
};

// Where the connection settings came from, so the begin line can say it without secrets.
struct ConnectionSettings {
    std::string conninfo;  // never printed: use redact_conninfo()
    std::string
        source;  // "--database-url", "DATABASE_URL", "--env-file PATH", ... "libpq defaults"
};

struct ResolvedConfig {
    ConnectionSettings connection;
    std::string timezone;
    std::optional<LaravelVersion> laravel_version;  // --laravel-version, OPS_LARAVEL_VERSION
    std::string laravel_version_source;             // which of the two gave it
    std::optional<EnvValues> env;                   // the env file, when one was given
    GetEnv getenv = process_env;                    // what env_lookup() consults after it
};

// Precedence: --database-url, then $OPS_DATABASE_URL, then $DATABASE_URL, then the env
// file's OPS_DATABASE_URL (ops's own, docs/SCALE.md), then the rest of the env file
// (laravel_database()), then libpq's own defaults and PG* variables. Timezone: --timezone,
// then APP_TIMEZONE of the env file, then UTC.
ResolvedConfig resolve_config(const GlobalOptions& options, const GetEnv& getenv = process_env);

// Builds a key=value conninfo from the DB_* and URL settings of a Laravel env file
// (laravel_database()).
std::string conninfo_from_env(const EnvValues& env, const GetEnv& getenv = process_env,
                              const std::optional<LaravelVersion>& version = std::nullopt);

// True when a URI or key=value conninfo carries a password or another option libpq treats as
// secret (sslpassword, ...).
bool conninfo_has_secret(const std::string& conninfo);

// The conninfo as key='value' pairs with every secret option's value replaced by "***", fit for
// logs and errors.
std::string redact_conninfo(const std::string& conninfo);

// A timezone name known to the system's tz database (e.g. "Asia/Jakarta", "UTC").
bool is_known_timezone(const std::string& name);

}  // namespace ops
