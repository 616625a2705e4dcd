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

namespace {

// The env file's own database settings, when no URL came before them.
ConnectionSettings env_file_connection(const GlobalOptions& options, const EnvValues& env_file,
                                       const std::optional<LaravelVersion>& version,
                                       const GetEnv& getenv) {
    const auto file_ops_url = env_file.find("OPS_DATABASE_URL");
    if (file_ops_url != env_file.end() && !file_ops_url->second.empty()) {
        return {file_ops_url->second, "OPS_DATABASE_URL in " + options.env_file};
    }
    const LaravelDatabase database = laravel_database(env_file, getenv, version);
    if (database.conninfo.empty()) {
        throw ConfigError("--env-file: '" + options.env_file +
                          "' sets none of OPS_DATABASE_URL, DB_URL, DATABASE_URL, DB_HOST, "
                          "DB_PORT, DB_DATABASE, DB_USERNAME, DB_PASSWORD");
    }
    return {database.conninfo, "--env-file " + options.env_file +
                                   (database.url_key.empty() ? "" : " (" + database.url_key + ")")};
}

// The first of the precedence chain that is set (the header says the order). OPS_DATABASE_URL
// is ops's own, beside the application's settings: a direct connection when the application's
// goes through a pooler ops should not use (docs/SCALE.md).
ConnectionSettings choose_connection(const GlobalOptions& options,
                                     const std::optional<EnvValues>& env_file,
                                     const std::optional<LaravelVersion>& version,
                                     const GetEnv& getenv) {
    if (!options.database_url.empty()) return {options.database_url, "--database-url"};
    if (const auto url = getenv("OPS_DATABASE_URL"); url && !url->empty()) {
        return {*url, "OPS_DATABASE_URL"};
    }
    if (const auto url = getenv("DATABASE_URL"); url && !url->empty()) {
        return {*url, "DATABASE_URL"};
    }
    if (env_file) return env_file_connection(options, *env_file, version, getenv);
    return {"", "libpq defaults"};
}

ConnectionSettings resolve_connection(const GlobalOptions& options,
                                      const std::optional<EnvValues>& env_file,
                                      const std::optional<LaravelVersion>& version,
                                      const GetEnv& getenv) {
    ConnectionSettings connection = choose_connection(options, env_file, version, getenv);
    if (!connection.conninfo.empty() && !parse_conninfo(connection.conninfo)) {
        throw UsageError(connection.source +
                         ": not a valid connection string; expected a URI "
                         "(postgresql://user@host:5432/db) or key=value pairs (host=... dbname=...)");
    }
    return connection;
}

// --timezone, else APP_TIMEZONE of the env file, else UTC; a name the tz database knows.
std::string resolve_timezone(const GlobalOptions& options,
                             const std::optional<EnvValues>& env_file, const GetEnv& getenv) {
    std::string timezone = "UTC";
    if (!options.timezone.empty()) {
        timezone = options.timezone;
    } else if (env_file) {
        const auto tz = env_lookup(*env_file, "APP_TIMEZONE", getenv);
        if (tz && !tz->empty()) timezone = *tz;
    }
    if (!is_known_timezone(timezone)) {
        const std::string origin = options.timezone.empty() ? "APP_TIMEZONE" : "--timezone";
        throw UsageError(origin + ": unknown time zone '" + timezone +
                         "'; expected a tz database name such as UTC or Asia/Jakarta");
    }
    return timezone;
}

std::optional<EnvValues> application_env(const GlobalOptions& options, const GetEnv& getenv) {
    if (options.env_file.empty()) return std::nullopt;
    EnvValues env_file = load_env_file(options.env_file, getenv);
    // Whichever connection wins, the env file is the application's: a MySQL one is not ours
    // to serve.
    check_db_connection(env_file, getenv);
    return env_file;
}

}  // namespace

ResolvedConfig resolve_config(const GlobalOptions& options, const GetEnv& getenv) {
    ResolvedConfig config;
    std::optional<EnvValues> env_file = application_env(options, getenv);
    config.laravel_version = resolve_laravel_version(options, env_file, getenv);
    if (config.laravel_version) {
        config.laravel_version_source =
            options.laravel_version.empty() ? "OPS_LARAVEL_VERSION" : "--laravel-version";
    }
    config.connection = resolve_connection(options, env_file, config.laravel_version, getenv);
    config.timezone = resolve_timezone(options, env_file, getenv);
    config.env = std::move(env_file);
    config.getenv = getenv;
    return config;
}

// libpq marks the options it treats as secret (password, sslpassword, and any it adds later)
// with dispchar '*', the flag its own connection dialogs use to hide them.
bool is_secret_option(const PQconninfoOption& option) {
    return option.dispchar != nullptr && std::string_view(option.dispchar) == "*";
}

bool conninfo_has_secret(const std::string& conninfo) {
    const auto options = parse_conninfo(conninfo);
    if (!options) return false;
    for (auto* o = options.get(); o->keyword != nullptr; ++o) {
        if (is_secret_option(*o) && o->val != nullptr && *o->val != '\0') return true;
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
        if (!out.empty()) out += ' ';
        out += std::string(o->keyword) + "=" +
               (is_secret_option(*o) ? std::string("***") : std::string(o->val));
    }
    return out;
}

bool is_known_timezone(const std::string& name) {
    static const std::regex kName("^[A-Za-z][A-Za-z0-9_+\\-]*(/[A-Za-z0-9_+\\-]+)*$");
    if (!std::regex_match(name, kName)) return false;
    const std::filesystem::path file = "/usr/share/zoneinfo/" + name;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return false;
    // The folder also holds text files (leapseconds, zone.tab, tzdata.zi) and the right/
    // zones, whose leap seconds PostgreSQL refuses: a zone is a TZif file without leap
    // seconds (the 32-bit header's leapcnt, big-endian at offset 28).
    std::ifstream in(file, std::ios::binary);
    unsigned char header[44] = {};
    if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return false;
    if (std::string_view(reinterpret_cast<const char*>(header), 4) != "TZif") return false;
    return header[28] == 0 && header[29] == 0 && header[30] == 0 && header[31] == 0;
}

}  // namespace ops
