#include "ops/queue/redis_settings.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include "ops/core/text.hpp"

namespace ops {
namespace {

constexpr int kMaxPort = 65535;
constexpr std::int64_t kMaxDatabase = 1000000;

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// rawurldecode, as Laravel's ConfigurationUrlParser applies to every part.
std::string percent_decoded(std::string_view text, const std::string& what) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size()) {
            throw ConfigError(what + ": a '%' not followed by two hex digits");
        }
        const int high = hex_digit(text[i + 1]);
        const int low = hex_digit(text[i + 2]);
        if (high < 0 || low < 0) throw ConfigError(what + ": a '%' not followed by two hex digits");
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

std::int64_t whole_number(std::string_view text, std::int64_t max, const std::string& what) {
    if (text.empty() || text.size() > 9 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw ConfigError(what + ": expected a whole number 0 to " + std::to_string(max) +
                          ", got '" + std::string(text) + "'");
    }
    const std::int64_t value = std::stoll(std::string(text));
    if (value > max) {
        throw ConfigError(what + ": expected a whole number 0 to " + std::to_string(max) +
                          ", got " + std::string(text));
    }
    return value;
}

int port_number(std::string_view text, const std::string& what) {
    const auto port = whole_number(text, kMaxPort, what + " (port)");
    if (port == 0) throw ConfigError(what + ": port 0 is not a port");
    return static_cast<int>(port);
}

bool host_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

// An IPv6 address: hex digits, ':' and '.' (an IPv4 tail), then an optional %zone.
bool ipv6_address(std::string_view host) {
    const auto zone = host.find('%');
    const std::string_view address = host.substr(0, zone);
    const bool digits = std::all_of(address.begin(), address.end(), [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    });
    const std::string_view name = zone == std::string_view::npos ? "" : host.substr(zone + 1);
    return digits && (zone == std::string_view::npos ||
                      (!name.empty() && std::all_of(name.begin(), name.end(), host_name_char)));
}

}  // namespace

// What hiredis can resolve, and nothing a log line or the shown URL could be forged with.
void check_redis_host(const std::string& host, const std::string& what) {
    const bool name = host.size() <= 253 && std::all_of(host.begin(), host.end(), host_name_char);
    if (host.empty() || (!name && (host.find(':') == std::string::npos || !ipv6_address(host)))) {
        throw ConfigError(what + ": the host is not a host name or an IP address (letters, " +
                          "digits, '.', '-' and '_'; an IPv6 address in brackets)");
    }
}

namespace {

// host[:port] or [ipv6][:port]
void parse_host_port(std::string_view text, RedisEndpoint& endpoint, const std::string& what) {
    std::string_view host = text;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) throw ConfigError(what + ": '[' without ']'");
        host = text.substr(1, close - 1);
        const auto rest = text.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') throw ConfigError(what + ": junk after ']'");
        if (!rest.empty()) port = rest.substr(1);
    } else if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    if (host.empty()) throw ConfigError(what + ": no host");
    endpoint.host = percent_decoded(host, what);
    check_redis_host(endpoint.host, what);
    if (!port.empty()) endpoint.port = port_number(port, what);
}

void parse_user_info(std::string_view text, RedisEndpoint& endpoint, const std::string& what) {
    const auto colon = text.find(':');
    endpoint.username = percent_decoded(text.substr(0, colon), what);
    if (colon != std::string_view::npos) {
        endpoint.password = percent_decoded(text.substr(colon + 1), what);
    }
}

}  // namespace

namespace {

// The user name as a URL carries it: its bytes other than letters, digits and "-._~" as %XX,
// so that the shown URL has one ':' and one '@' in its user part and no control character.
std::string url_user(const std::string& user) {
    std::string out;
    for (const char c : user) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += c;
        } else {
            out += '%';
            append_hex(out, byte, true);
        }
    }
    return out;
}

}  // namespace

std::string RedisEndpoint::url() const {
    std::string auth;
    if (!username.empty() || !password.empty()) {
        auth = url_user(username) + (password.empty() ? "" : ":***") + "@";
    }
    const bool ipv6 = host.find(':') != std::string::npos;
    return "redis://" + auth + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/" +
           std::to_string(database);
}

std::string redact_redis_url(const std::string& url) {
    try {
        return parse_redis_url(url, "--redis-url").url();
    } catch (const ConfigError&) {
        return "(redacted)";
    }
}

RedisEndpoint parse_redis_url(std::string_view url, const std::string& what) {
    const std::string form = "expected redis://[[user]:password@]host[:port][/database]";
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) throw ConfigError(what + ": " + form);
    std::string scheme(url.substr(0, scheme_end));
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (scheme == "rediss" || scheme == "tls") {
        throw ConfigError(what + ": " + scheme + ":// is Redis over TLS, which ops cannot speak " +
                              "(Debian 12's hiredis 0.14 has no TLS)",
                          "reach Redis without TLS (a local stunnel or a private network)");
    }
    if (scheme != "redis" && scheme != "tcp") {
        throw ConfigError(what + ": unknown scheme '" + scheme + "://'; " + form);
    }
    std::string_view rest = url.substr(scheme_end + 3);
    if (rest.find_first_of("?#") != std::string_view::npos) {
        throw ConfigError(what + ": query options (?...) are not read by ops; " + form);
    }
    RedisEndpoint endpoint;
    endpoint.source = what;
    const auto slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    if (slash != std::string_view::npos && slash + 1 < rest.size()) {
        endpoint.database =
            whole_number(rest.substr(slash + 1), kMaxDatabase, what + " (database)");
    }
    const auto at = authority.rfind('@');
    if (at != std::string_view::npos) parse_user_info(authority.substr(0, at), endpoint, what);
    parse_host_port(at == std::string_view::npos ? authority : authority.substr(at + 1), endpoint,
                    what);
    return endpoint;
}

std::optional<std::string> laravel_slug(std::string_view text, char separator) {
    if (std::any_of(text.begin(), text.end(),
                    [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
        return std::nullopt;
    }
    const char flip = separator == '-' ? '_' : '-';
    const auto is_space = [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    };
    std::string kept;
    for (const char raw : text) {
        const char c = raw == flip ? separator : raw;
        if (c == '@') {
            kept += std::string(1, separator) + "at" + separator;
        } else if (c == separator || is_space(c) || std::isalnum(static_cast<unsigned char>(c))) {
            kept += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    // Runs of separators and white space become one separator, trimmed at both ends.
    std::string out;
    for (const char c : kept) {
        const bool gap = c == separator || is_space(c);
        if (!gap) {
            out += c;
        } else if (!out.empty() && out.back() != separator) {
            out += separator;
        }
    }
    while (!out.empty() && out.back() == separator) out.pop_back();
    return out;
}

}  // namespace ops
