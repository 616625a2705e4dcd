#include "ops/core/config.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

std::string trim(const std::string& s) {
    const auto begin = s.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return {};
    const auto end = s.find_last_not_of(" \t\r");
    return s.substr(begin, end - begin + 1);
}

// Unquotes a `.env` value the way Laravel's phpdotenv reads it.
std::string env_value(const std::string& raw, const std::string& where) {
    const std::string value = trim(raw);
    if (value.empty()) return {};
    const char quote = value.front();
    if (quote == '"' || quote == '\'') {
        std::string out;
        for (std::size_t i = 1; i < value.size(); ++i) {
            const char c = value[i];
            if (c == quote) return out;
            if (quote == '"' && c == '\\' && i + 1 < value.size()) {
                const char next = value[++i];
                out += next == 'n' ? '\n' : next;
                continue;
            }
            out += c;
        }
        throw ConfigError(where + ": unterminated quoted value");
    }
    const auto comment = value.find(" #");
    return trim(comment == std::string::npos ? value : value.substr(0, comment));
}

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

std::string quote_conninfo_value(const std::string& value) {
    std::string out = "'";
    for (const char c : value) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

}  // namespace

EnvValues parse_env_text(const std::string& text, const std::string& origin) {
    static const std::regex kKey("^[A-Za-z_][A-Za-z0-9_.]*$");
    EnvValues values;
    std::istringstream lines(text);
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        std::string content = trim(line);
        if (content.empty() || content.front() == '#') continue;
        if (content.rfind("export ", 0) == 0) content = trim(content.substr(7));
        const auto eq = content.find('=');
        const std::string where = origin + ":" + std::to_string(number);
        if (eq == std::string::npos) throw ConfigError(where + ": expected KEY=value");
        const std::string key = trim(content.substr(0, eq));
        if (!std::regex_match(key, kKey)) throw ConfigError(where + ": invalid variable name");
        values[key] = env_value(content.substr(eq + 1), where);
    }
    return values;
}

EnvValues load_env_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("--env-file: cannot read '" + path.string() + "'",
                          "give the path of the application's .env file");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_env_text(text.str(), path.string());
}

std::optional<std::string> process_env(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

std::string conninfo_from_env(const EnvValues& env) {
    static const std::pair<const char*, const char*> kMapping[] = {{"DB_HOST", "host"},
                                                                   {"DB_PORT", "port"},
                                                                   {"DB_DATABASE", "dbname"},
                                                                   {"DB_USERNAME", "user"},
                                                                   {"DB_PASSWORD", "password"}};
    std::string conninfo;
    for (const auto& [env_key, libpq_key] : kMapping) {
        const auto it = env.find(env_key);
        if (it == env.end() || it->second.empty()) continue;
        if (!conninfo.empty()) conninfo += ' ';
        conninfo += std::string(libpq_key) + "=" + quote_conninfo_value(it->second);
    }
    return conninfo;
}

ResolvedConfig resolve_config(const GlobalOptions& options, const GetEnv& getenv) {
    ResolvedConfig config;
    std::optional<EnvValues> env_file;
    if (!options.env_file.empty()) env_file = load_env_file(options.env_file);

    if (!options.database_url.empty()) {
        config.connection = {options.database_url, "--database-url"};
    } else if (const auto url = getenv("DATABASE_URL"); url && !url->empty()) {
        config.connection = {*url, "DATABASE_URL"};
    } else if (env_file) {
        const std::string conninfo = conninfo_from_env(*env_file);
        if (conninfo.empty()) {
            throw ConfigError("--env-file: '" + options.env_file +
                              "' sets none of DB_HOST, "
                              "DB_PORT, DB_DATABASE, DB_USERNAME, DB_PASSWORD");
        }
        config.connection = {conninfo, "--env-file " + options.env_file};
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
        const auto tz = env_file->find("APP_TIMEZONE");
        if (tz != env_file->end() && !tz->second.empty()) config.timezone = tz->second;
    }
    if (!is_known_timezone(config.timezone)) {
        const std::string origin = options.timezone.empty() ? "APP_TIMEZONE" : "--timezone";
        throw UsageError(origin + ": unknown time zone '" + config.timezone +
                         "'; expected a tz database name such as UTC or Asia/Jakarta");
    }
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
