#include "ops/core/period.hpp"

#include <cstdio>
#include <stdexcept>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

bool is_digits(const std::string& text, std::size_t from, std::size_t count) {
    if (text.size() < from + count) return false;
    for (std::size_t i = from; i < from + count; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
    }
    return true;
}

int digits_value(const std::string& text, std::size_t from, std::size_t count) {
    int value = 0;
    for (std::size_t i = from; i < from + count; ++i) value = value * 10 + (text[i] - '0');
    return value;
}

std::string format_moment(int year, unsigned month) {
    char out[32];
    std::snprintf(out, sizeof out, "%04d-%02u-01 00:00:00", year, month);
    return out;
}

}  // namespace

Period::Period(int year, unsigned month) : year_(year), month_(month) {
    if (year < 1 || year > 9999 || month < 1 || month > 12) {
        throw std::invalid_argument("not a period: year " + std::to_string(year) + ", month " +
                                    std::to_string(month));
    }
}

std::string Period::text() const {
    char out[16];
    std::snprintf(out, sizeof out, "%04d-%02u", year_, month_);
    return out;
}

std::string Period::first_moment() const { return format_moment(year_, month_); }

// December 9999 ends at 10000-01-01, which PostgreSQL timestamps still represent.
std::string Period::end_moment() const {
    return month_ == 12 ? format_moment(year_ + 1, 1) : format_moment(year_, month_ + 1);
}

Period Period::previous() const {
    return month_ == 1 ? Period(year_ - 1, 12) : Period(year_, month_ - 1);
}

Period Period::next() const {
    return month_ == 12 ? Period(year_ + 1, 1) : Period(year_, month_ + 1);
}

PeriodArgument parse_period_argument(const std::string& text, const std::string& name) {
    if (text == "current") return {PeriodArgument::Kind::kCurrent};
    if (text == "previous") return {PeriodArgument::Kind::kPrevious};
    const bool shaped =
        text.size() == 7 && is_digits(text, 0, 4) && text[4] == '-' && is_digits(text, 5, 2);
    const int year = shaped ? digits_value(text, 0, 4) : 0;
    const int month = shaped ? digits_value(text, 5, 2) : 0;
    if (!shaped || year < 1 || month < 1 || month > 12) {
        throw UsageError(name +
                         ": expected a month 'YYYY-MM' (such as 2026-01), 'current' or "
                         "'previous', got '" +
                         text + "'");
    }
    return {PeriodArgument::Kind::kMonth, year, static_cast<unsigned>(month)};
}

Period period_of(const std::string& local_timestamp) {
    if (local_timestamp.size() < 7 || !is_digits(local_timestamp, 0, 4) ||
        local_timestamp[4] != '-' || !is_digits(local_timestamp, 5, 2)) {
        throw std::invalid_argument("not a local timestamp: '" + local_timestamp + "'");
    }
    return Period(digits_value(local_timestamp, 0, 4),
                  static_cast<unsigned>(digits_value(local_timestamp, 5, 2)));
}

Period resolve_period(const PeriodArgument& argument, const std::string& local_now) {
    switch (argument.kind) {
        case PeriodArgument::Kind::kMonth:
            return Period(argument.year, argument.month);
        case PeriodArgument::Kind::kPrevious:
            return period_of(local_now).previous();
        case PeriodArgument::Kind::kCurrent:
            break;
    }
    return period_of(local_now);
}

}  // namespace ops
