#pragma once

#include <string>

// Quota periods: calendar months named "YYYY-MM", the key of quota_usages.period.
namespace ops {

class Period {
  public:
    Period(int year, unsigned month);  // year 1..9999, month 1..12; else std::invalid_argument

    int year() const { return year_; }
    unsigned month() const { return month_; }

    std::string text() const;          // "2026-01"
    std::string first_moment() const;  // "2026-01-01 00:00:00": the first counted created_at
    std::string end_moment() const;    // "2026-02-01 00:00:00": the first one no longer counted
    Period previous() const;
    Period next() const;

    friend bool operator==(const Period&, const Period&) = default;

  private:
    int year_;
    unsigned month_;
};

// What the PERIOD argument names before the clock is read.
struct PeriodArgument {
    enum class Kind { kMonth, kCurrent, kPrevious };
    Kind kind = Kind::kCurrent;
    int year = 0;        // kMonth only
    unsigned month = 0;  // kMonth only
};

// "YYYY-MM" (four-digit year 0001-9999, two-digit month 01-12), "current" or "previous".
// Throws UsageError naming `name` and the accepted forms.
PeriodArgument parse_period_argument(const std::string& text, const std::string& name = "PERIOD");

// The period of a local wall-clock time "YYYY-MM-DD[ HH:MM:SS]".
Period period_of(const std::string& local_timestamp);

// The month the argument names, given "now" in the application's timezone.
Period resolve_period(const PeriodArgument& argument, const std::string& local_now);

}  // namespace ops
