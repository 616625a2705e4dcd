#pragma once

#include <chrono>
#include <cstdint>
#include <string>

// Parsers for option values. Each throws UsageError naming the option and the accepted form.
namespace ops {

// "500ms", "90s", "30m", "24h", "7d"; a bare "0" means zero. Longer than `max` is refused, so
// that what PostgreSQL is given stays in its range (its timeouts are int32 milliseconds, a
// timestamp "that long ago" must still be one).
std::chrono::milliseconds parse_duration(const std::string& text, const std::string& option,
                                         std::chrono::milliseconds max);

// The longest duration given as "N ago" (--failed-after 30d): 2000 years keeps now() minus it a
// valid timestamp.
constexpr std::chrono::milliseconds kMaxAgo = std::chrono::hours(24 * 730000);
// PostgreSQL's statement_timeout and lock_timeout are int32 milliseconds: 24 days fit.
constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::hours(24 * 24);

// "30d", "90s", "500ms": the largest unit that states it exactly.
std::string describe_duration(std::chrono::milliseconds duration);

// "YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DD HH:MM:SS" (or with a 'T'), a real calendar
// date from year 1 on. Returns the canonical "YYYY-MM-DD HH:MM:SS", ready to bind as a timestamp.
std::string parse_local_datetime(const std::string& text, const std::string& option);

// "1048576", "512kB", "64MB", "2GB", "1TB" (1024-based, as PostgreSQL's units; the unit's
// case does not matter), at least 1 byte and at most 1 PB.
std::int64_t parse_size(const std::string& text, const std::string& option);

// A whole number within [min, max].
std::int64_t parse_integer(const std::string& text, const std::string& option, std::int64_t min,
                           std::int64_t max);

}  // namespace ops
