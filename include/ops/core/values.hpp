#pragma once

#include <chrono>
#include <cstdint>
#include <string>

// Parsers for option values. Each throws UsageError naming the option and the accepted form.
namespace ops {

// "500ms", "90s", "30m", "24h", "7d"; a bare "0" means zero.
std::chrono::milliseconds parse_duration(const std::string& text, const std::string& option);

// "YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DD HH:MM:SS" (or with a 'T'), a real calendar
// date. Returns the canonical "YYYY-MM-DD HH:MM:SS", ready to bind as a timestamp.
std::string parse_local_datetime(const std::string& text, const std::string& option);

// "1048576", "512kB", "64MB", "2GB", "1TB" (1024-based, as PostgreSQL's units; the unit's
// case does not matter), at least 1 byte and at most 1 PB.
std::int64_t parse_size(const std::string& text, const std::string& option);

// A whole number within [min, max].
std::int64_t parse_integer(const std::string& text, const std::string& option, std::int64_t min,
                           std::int64_t max);

}  // namespace ops
