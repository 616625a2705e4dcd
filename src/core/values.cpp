#include "ops/core/values.hpp"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <regex>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

std::int64_t to_int(const std::string& digits) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) return -1;
    return value;
}

}  // namespace

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& option,
                                         std::chrono::milliseconds max) {
    static const std::regex kDuration("^([0-9]{1,9})(ms|s|m|h|d)$");
    const UsageError error(option + ": expected a duration such as 500ms, 90s, 30m, 24h or 7d" +
                           " of at most " + describe_duration(max) + ", got '" + text + "'");
    if (text == "0") return std::chrono::milliseconds(0);
    std::smatch match;
    if (!std::regex_match(text, match, kDuration)) throw error;
    const std::int64_t amount = to_int(match[1]);
    const std::string unit = match[2];
    // At most 999999999 days, which is far inside milliseconds' int64 range.
    std::chrono::milliseconds value = std::chrono::hours(24 * amount);
    if (unit == "ms") value = std::chrono::milliseconds(amount);
    if (unit == "s") value = std::chrono::seconds(amount);
    if (unit == "m") value = std::chrono::minutes(amount);
    if (unit == "h") value = std::chrono::hours(amount);
    if (value > max) throw error;
    return value;
}

std::string describe_duration(std::chrono::milliseconds duration) {
    const std::int64_t ms = duration.count();
    if (ms % 86400000 == 0) return std::to_string(ms / 86400000) + "d";
    if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
    if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::string parse_local_datetime(const std::string& text, const std::string& option) {
    static const std::regex kDateTime(
        "^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?$");
    const UsageError error(
        option + ": expected a date or date-time 'YYYY-MM-DD[ HH:MM[:SS]]', got '" + text + "'");
    std::smatch m;
    if (!std::regex_match(text, m, kDateTime)) throw error;
    const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(to_int(m[1]))),
                                           std::chrono::month(static_cast<unsigned>(to_int(m[2]))),
                                           std::chrono::day(static_cast<unsigned>(to_int(m[3])))};
    const auto field = [&](int i) { return m[i].matched ? to_int(m[i]) : 0; };
    // Year 0 does not exist in PostgreSQL's calendar (1 BC comes before 1 AD).
    if (!date.ok() || to_int(m[1]) < 1 || field(4) > 23 || field(5) > 59 || field(6) > 59)
        throw error;
    char out[20];
    std::snprintf(out, sizeof out, "%s-%s-%s %02d:%02d:%02d", m[1].str().c_str(),
                  m[2].str().c_str(), m[3].str().c_str(), static_cast<int>(field(4)),
                  static_cast<int>(field(5)), static_cast<int>(field(6)));
    return out;
}

std::int64_t parse_size(const std::string& text, const std::string& option) {
    static const std::regex kSize("^([0-9]{1,16})(b|kb|mb|gb|tb)?$", std::regex::icase);
    const UsageError error(option + ": expected a size such as 1048576, 512kB, 64MB or 2GB, got '" +
                           text + "'");
    std::smatch match;
    if (!std::regex_match(text, match, kSize)) throw error;
    std::string unit = match[2];
    for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    int shift = 0;
    if (unit == "kb") shift = 10;
    if (unit == "mb") shift = 20;
    if (unit == "gb") shift = 30;
    if (unit == "tb") shift = 40;
    const std::int64_t amount = to_int(match[1]);
    if (amount < 1 || amount > (std::int64_t{1} << (50 - shift))) throw error;
    return amount << shift;
}

std::int64_t parse_integer(const std::string& text, const std::string& option, std::int64_t min,
                           std::int64_t max) {
    static const std::regex kInteger("^-?[0-9]{1,19}$");
    const std::string range =
        "an integer from " + std::to_string(min) + " to " + std::to_string(max);
    if (!std::regex_match(text, kInteger)) {
        throw UsageError(option + ": expected " + range + ", got '" + text + "'");
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        throw UsageError(option + ": expected " + range + ", got '" + text + "'");
    }
    return value;
}

}  // namespace ops
