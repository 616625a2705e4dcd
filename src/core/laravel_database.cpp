#include "ops/core/laravel_database.hpp"

#include <fmt/format.h>

#include <map>
#include <vector>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// rawurldecode(), or urldecode() (which also reads '+' as a space) for query values.
std::string url_decode(const std::string& text, bool plus_is_space) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
            hex_digit(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
            i += 2;
        } else {
            out += plus_is_space && text[i] == '+' ? ' ' : text[i];
        }
    }
    return out;
}

// The parts of a database URL, as PHP's parse_url() splits it.
struct UrlParts {
    std::string scheme;
    std::optional<std::string> user, pass, host, port, path, query;
};

UrlParts split_url(const std::string& url, const std::string& key) {
    const auto malformed = [&] {
        return ConfigError(key + ": the database configuration URL is malformed; expected " +
                           "pgsql://user:password@host:5432/database (as Laravel reads it)");
    };
    UrlParts parts;
    const auto colon = url.find("://");
    if (colon == std::string::npos || colon == 0) throw malformed();
    parts.scheme = url.substr(0, colon);
    std::string rest = url.substr(colon + 3);
    const auto fragment = rest.find('#');
    if (fragment != std::string::npos) rest.erase(fragment);
    if (const auto q = rest.find('?'); q != std::string::npos) {
        parts.query = rest.substr(q + 1);
        rest.erase(q);
    }
    const auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    if (slash != std::string::npos) parts.path = rest.substr(slash);
    if (const auto at = authority.rfind('@'); at != std::string::npos) {
        const std::string userinfo = authority.substr(0, at);
        authority.erase(0, at + 1);
        const auto c = userinfo.find(':');
        parts.user = userinfo.substr(0, c);
        if (c != std::string::npos) parts.pass = userinfo.substr(c + 1);
    }
    const auto port_colon = authority.rfind(':');
    if (port_colon != std::string::npos && authority.find(']', port_colon) == std::string::npos) {
        const std::string port = authority.substr(port_colon + 1);
        if (port.find_first_not_of("0123456789") != std::string::npos) throw malformed();
        if (!port.empty()) parts.port = port;
        authority.erase(port_colon);
    }
    if (!authority.empty()) parts.host = authority;
    return parts;
}

// ConfigurationUrlParser::getDriver's aliases.
std::string url_driver(const std::string& scheme) {
    static const std::map<std::string, std::string> kAliases = {
        {"mssql", "sqlsrv"},   {"mysql2", "mysql"}, {"postgres", "pgsql"}, {"postgresql", "pgsql"},
        {"sqlite3", "sqlite"}, {"redis", "tcp"},    {"rediss", "tls"}};
    const auto it = kAliases.find(scheme);
    return it == kAliases.end() ? scheme : it->second;
}

// parseStringsToNativeTypes: a part that is JSON true/false/null becomes that value.
std::optional<std::string> native(const std::string& text) {
    if (text == "true") return "1";
    if (text == "false") return "";
    if (text == "null") return std::nullopt;
    return text;
}

// The libpq keys Laravel's PostgresConnector puts into its DSN from the merged config.
void merge_url(std::map<std::string, std::string>& config, const UrlParts& url) {
    const auto put = [&](const char* key, const std::optional<std::string>& raw) {
        if (!raw) return;
        if (const auto value = native(url_decode(*raw, false))) config[key] = *value;
    };
    put("host", url.host);
    put("port", url.port);
    put("user", url.user);
    put("password", url.pass);
    if (url.path && url.path->size() > 1) put("dbname", url.path->substr(1));
    if (!url.query) return;
    std::size_t start = 0;
    while (start <= url.query->size()) {
        const std::size_t end = std::min(url.query->find('&', start), url.query->size());
        const std::string pair = url.query->substr(start, end - start);
        const auto eq = pair.find('=');
        const std::string key = url_decode(pair.substr(0, eq), true);
        const std::string value =
            eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1), true);
        if (key == "sslmode" || key == "sslcert" || key == "sslkey" || key == "sslrootcert") {
            if (const auto v = native(value)) config[key] = *v;
        }
        start = end + 1;
    }
}

// A percent-encoded NUL (%00) decodes to a byte no C string, so no libpq connection, can hold.
void refuse_nul(const std::map<std::string, std::string>& config, const std::string& url_key) {
    for (const auto& [key, value] : config) {
        if (value.find('\0') == std::string::npos) continue;
        throw ConfigError(
            fmt::format("{}: the URL's {} decodes to a NUL byte (%00), which a "
                        "PostgreSQL connection cannot carry; expected "
                        "pgsql://user:password@host:5432/database",
                        url_key, key));
    }
}

// Which URL setting the application's config/database.php reads.
std::optional<std::pair<std::string, std::string>> database_url(
    const EnvValues& env, const GetEnv& getenv, const std::optional<LaravelVersion>& version) {
    const auto db_url = env_lookup(env, "DB_URL", getenv);
    const auto database_url = env_lookup(env, "DATABASE_URL", getenv);
    std::optional<std::pair<std::string, std::string>> chosen;
    if (version) {
        const bool eleven = version->at_least(11);
        const auto& value = eleven ? db_url : database_url;
        if (value && !value->empty()) chosen = {eleven ? "DB_URL" : "DATABASE_URL", *value};
        return chosen;
    }
    if (db_url && database_url && !db_url->empty() && !database_url->empty() &&
        *db_url != *database_url) {
        throw ConfigError(
            "DB_URL (read by Laravel 11+) and DATABASE_URL (read by Laravel 8 to 10) are both "
            "set and differ",
            "say which Laravel the application runs: --laravel-version X.Y or "
            "OPS_LARAVEL_VERSION in the env file");
    }
    if (db_url && !db_url->empty()) return std::make_pair(std::string("DB_URL"), *db_url);
    if (database_url && !database_url->empty()) {
        return std::make_pair(std::string("DATABASE_URL"), *database_url);
    }
    return chosen;
}

}  // namespace

std::string quote_conninfo_value(const std::string& value) {
    std::string out = "'";
    for (const char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

void check_db_connection(const EnvValues& env, const GetEnv& getenv) {
    const auto connection = env_lookup(env, "DB_CONNECTION", getenv);
    if (connection && *connection != "pgsql") {
        throw ConfigError("DB_CONNECTION is '" + *connection +
                          "': ops works on a PostgreSQL application only (DB_CONNECTION=pgsql, "
                          "or unset)");
    }
}

LaravelDatabase laravel_database(const EnvValues& env, const GetEnv& getenv,
                                 const std::optional<LaravelVersion>& version) {
    check_db_connection(env, getenv);
    std::map<std::string, std::string> config;
    static const std::pair<const char*, const char*> kMapping[] = {{"DB_HOST", "host"},
                                                                   {"DB_PORT", "port"},
                                                                   {"DB_DATABASE", "dbname"},
                                                                   {"DB_USERNAME", "user"},
                                                                   {"DB_PASSWORD", "password"}};
    for (const auto& [env_key, libpq_key] : kMapping) {
        const auto value = env_lookup(env, env_key, getenv);
        if (!value) continue;
        if (value->find('\0') != std::string::npos) {
            throw ConfigError(fmt::format(
                "{} holds a NUL byte, which a PostgreSQL connection cannot carry; expected "
                "text without one",
                env_key));
        }
        config[libpq_key] = *value;
    }
    LaravelDatabase out;
    if (const auto url = database_url(env, getenv, version)) {
        const UrlParts parts = split_url(url->second, url->first);
        const std::string driver = url_driver(parts.scheme);
        if (driver != "pgsql") {
            throw ConfigError(url->first + " is a '" + parts.scheme + "' URL (Laravel's driver '" +
                              driver +
                              "'): ops works on a PostgreSQL application only (pgsql://, "
                              "postgres:// or postgresql://)");
        }
        merge_url(config, parts);
        refuse_nul(config, url->first);
        out.url_key = url->first;
    }
    static const char* kOrder[] = {"host",    "port",    "dbname", "user",       "password",
                                   "sslmode", "sslcert", "sslkey", "sslrootcert"};
    for (const char* key : kOrder) {
        const auto it = config.find(key);
        if (it == config.end() || it->second.empty()) continue;
        if (!out.conninfo.empty()) out.conninfo += ' ';
        out.conninfo += std::string(key) + "=" + quote_conninfo_value(it->second);
    }
    return out;
}

}  // namespace ops
