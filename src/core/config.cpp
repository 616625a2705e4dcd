#include "ops/core/config.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include "ops/core/errors.hpp"
#include "ops/core/laravel_database.hpp"

namespace ops {
namespace {

struct ConninfoOptionsDeleter {
    void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using ConninfoOptions = std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter>;

ConninfoOptions parse_conninfo(const std::string& conninfo) {
    char* error = nullptr;
    ConninfoOptions options(PQconninfoParse(conninfo.c_str(), &error));
    // libpq's message can quote the input, password included: it is not passed on.
    if (error != nullptr) PQfreemem(error);
    return options;
}

// --laravel-version, else OPS_LARAVEL_VERSION of the env file; unset: not known.
std::optional<LaravelVersion> resolve_laravel_version(const GlobalOptions& options,
                                                      const std::optional<EnvValues>& env_file,
                                                      const GetEnv& getenv) {
    if (!options.laravel_version.empty()) {
        return parse_laravel_version(options.laravel_version, "--laravel-version");
    }
    if (!env_file) return std::nullopt;
    const auto text = env_lookup(*env_file, "OPS_LARAVEL_VERSION", getenv);
    if (!text || text->empty()) return std::nullopt;
    return parse_laravel_version(*text, "OPS_LARAVEL_VERSION", true);
}

}  // namespace

std::string conninfo_from_env(const EnvValues& env, const GetEnv& getenv,
                              const std::optional<LaravelVersion>& version) {
    return laravel_database(env, getenv, version).conninfo;
}

ResolvedConfig resolve_config(const GlobalOptions& options, const GetEnv& getenv) {
    ResolvedConfig config;
    std::optional<EnvValues> env_file;
    if (!options.env_file.empty()) {
        env_file = load_env_file(options.env_file, getenv);
        // Whichever connection wins below, the env file is the application's: a MySQL one is not
        // ours to serve.
        check_db_connection(*env_file, getenv);
    }
    config.laravel_version = resolve_laravel_version(options, env_file, getenv);
    if (config.laravel_version) {
        config.laravel_version_source =
            options.laravel_version.empty() ? "OPS_LARAVEL_VERSION" : "--laravel-version";
    }

    // OPS_DATABASE_URL is ops's own, beside the application's settings: a direct connection
    // when the application's goes through a pooler ops should not use (docs/SCALE.md).
    const auto ops_url = getenv("OPS_DATABASE_URL");
    const auto file_ops_url = env_file ? env_file->find("OPS_DATABASE_URL") : EnvValues::iterator();
    if (!options.database_url.empty()) {
        config.connection = {options.database_url, "--database-url"};
    } else if (ops_url && !ops_url->empty()) {
        config.connection = {*ops_url, "OPS_DATABASE_URL"};
    } else if (const auto url = getenv("DATABASE_URL"); url && !url->empty()) {
        config.connection = {*url, "DATABASE_URL"};
    } else if (env_file && file_ops_url != env_file->end() && !file_ops_url->second.empty()) {
        config.connection = {file_ops_url->second, "OPS_DATABASE_URL in " + options.env_file};
    } else if (env_file) {
        const LaravelDatabase database =
            laravel_database(*env_file, getenv, config.laravel_version);
        if (database.conninfo.empty()) {
            throw ConfigError("--env-file: '" + options.env_file +
                              "' sets none of OPS_DATABASE_URL, DB_URL, DATABASE_URL, DB_HOST, "
                              "DB_PORT, DB_DATABASE, DB_USERNAME, DB_PASSWORD");
        }
        config.connection = {database.conninfo,
                             "--env-file " + options.env_file +
                                 (database.url_key.empty() ? "" : " (" + database.url_key + ")")};
    } else {
        config.connection = {"", "libpq defaults"};
    }
    if (!config.connection.conninfo.empty() && !parse_conninfo(config.connection.conninfo)) {
        throw UsageError(
            config.connection.source +
            ": not a valid connection string; expected a URI "
            "(postgresql://user@host:5432/db) or key=value pairs (host=... dbname=...)");
    }

    config.timezone = "UTC";
    if (!options.timezone.empty()) {
        config.timezone = options.timezone;
    } else if (env_file) {
        const auto tz = env_lookup(*env_file, "APP_TIMEZONE", getenv);
        if (tz && !tz->empty()) config.timezone = *tz;
    }
    if (!is_known_timezone(config.timezone)) {
        const std::string origin = options.timezone.empty() ? "APP_TIMEZONE" : "--timezone";
        throw UsageError(origin + ": unknown time zone '" + config.timezone +
                         "'; expected a tz database name such as UTC or Asia/Jakarta");
    }
    config.env = std::move(env_file);
    config.getenv = getenv;
    return config;
}

bool conninfo_has_password(const std::string& conninfo) {
    const auto options = parse_conninfo(conninfo);
    if (!options) return false;
    for (auto* o = options.get(); o->keyword != nullptr; ++o) {
        if (std::string_view(o->keyword) == "password" && o->val != nullptr && *o->val != '\0') {
            return true;
        }
    }
    return false;
}

std::string redact_conninfo(const std::string& conninfo) {
    if (conninfo.empty()) return "(libpq defaults)";
    const auto options = parse_conninfo(conninfo);
    if (!options) return "(unparsable connection string)";
    std::string out;
    for (auto* o = options.get(); o->keyword != nullptr; ++o) {
        if (o->val == nullptr || *o->val == '\0') continue;
        const std::string_view keyword(o->keyword);
        if (!out.empty()) out += ' ';
        out += std::string(keyword) + "=" + (keyword == "password" ? "***" : o->val);
    }
    return out;
}

bool is_known_timezone(const std::string& name) {
    static const std::regex kName("^[A-Za-z][A-Za-z0-9_+\\-]*(/[A-Za-z0-9_+\\-]+)*$");
    if (!std::regex_match(name, kName)) return false;
    std::error_code ec;
    return std::filesystem::is_regular_file("/usr/share/zoneinfo/" + name, ec);
}

}  // namespace ops
