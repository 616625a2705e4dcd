#pragma once

#include <optional>
#include <string>

#include "ops/core/env_file.hpp"
#include "ops/core/laravel_version.hpp"

namespace ops {

// The database settings of a Laravel application's env, as its stock config/database.php
// reads them: DB_CONNECTION (unset means pgsql; anything else is refused), DB_HOST, DB_PORT,
// DB_DATABASE, DB_USERNAME, DB_PASSWORD, and the URL (DB_URL from Laravel 11, DATABASE_URL
// before) whose parts override those, as Illuminate\Support\ConfigurationUrlParser does.
struct LaravelDatabase {
    std::string conninfo;  // key=value, quoted; empty when the env sets nothing
    std::string url_key;   // "DB_URL" or "DATABASE_URL" when a URL was used
};

// DB_CONNECTION must be pgsql or unset: another value is a ConfigError naming it.
void check_db_connection(const EnvValues& env, const GetEnv& getenv);

// Throws ConfigError naming the setting (never its value: it may hold a password).
LaravelDatabase laravel_database(const EnvValues& env, const GetEnv& getenv,
                                 const std::optional<LaravelVersion>& version);

// A key=value conninfo value in single quotes, with ' and \ escaped.
std::string quote_conninfo_value(const std::string& value);

}  // namespace ops
