#pragma once

#include <array>
#include <string>
#include <vector>

namespace ops {

// A five-field cron time as Debian's cron reads it: minute hour day-of-month month
// day-of-week. Each field is a comma list of '*', 'N' or 'N-M', each with an optional
// '/STEP'. Names (jan, mon) and '@daily' shorthands are refused: numbers say the same,
// and one form keeps the systemd translation exact.
class CronExpression {
  public:
    // Throws UsageError naming `source` (an option or a schedule-file key) and the accepted form,
    // also for an expression that never fires (such as '0 0 31 2 *').
    static CronExpression parse(const std::string& text, const std::string& source);

    // The expression as given, fields separated by one space.
    const std::string& text() const { return text_; }

    // The same times as a systemd OnCalendar= value, e.g. "*-*-* *:00/15:00".
    // Throws UsageError when both day fields are restricted: cron fires when EITHER
    // matches, systemd only when both do.
    std::string on_calendar() const;

  private:
    struct Item {
        int first = 0;
        int last = 0;
        int step = 1;
        bool any = false;  // '*'
    };
    using Field = std::vector<Item>;

    static Field parse_field(const std::string& text, int field, const std::string& source);
    void check_fires() const;
    std::string calendar_field(int field) const;
    std::string calendar_weekdays() const;

    std::string text_;
    std::string source_;
    std::array<Field, 5> fields_;
};

}  // namespace ops
