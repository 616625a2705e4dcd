// CronExpression: the five-field form Debian's cron reads, refused forms named with the
// source and the accepted form, and the exact systemd OnCalendar= translation.
#include <catch2/catch.hpp>
#include <string>

#include "ops/core/errors.hpp"
#include "ops/schedule/cron_expression.hpp"

using namespace ops;

namespace {

std::string calendar(const std::string& text) {
    return CronExpression::parse(text, "--cron job").on_calendar();
}

}  // namespace

TEST_CASE("cron: accepted forms keep their text, fields separated by one space") {
    CHECK(CronExpression::parse("30 2 * * *", "x").text() == "30 2 * * *");
    CHECK(CronExpression::parse("  */15   *  * * * ", "x").text() == "*/15 * * * *");
    CHECK(CronExpression::parse("0,30 8-18/2 1-7 1,4,7,10 1-5", "x").text() ==
          "0,30 8-18/2 1-7 1,4,7,10 1-5");
    // Day of week 7 is Sunday again, as in cron.
    CHECK(CronExpression::parse("0 0 * * 7", "x").text() == "0 0 * * 7");
    CHECK(CronExpression::parse("59 23 31 12 0", "x").text() == "59 23 31 12 0");
}

TEST_CASE("cron: refused forms name the source, the field and the accepted form") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"* * * *", "expected five fields"},
        {"* * * * * *", "expected five fields"},
        {"", "expected five fields"},
        {"@daily", "expected five fields"},
        {"60 * * * *", "minute field '60' is outside 0-59"},
        {"* 24 * * *", "hour field '24' is outside 0-23"},
        {"* * 0 * *", "day of month field '0' is outside 1-31"},
        {"* * * 13 *", "month field '13' is outside 1-12"},
        {"* * * * 8", "day of week field '8' is outside 0-7"},
        {"* * * jan *", "month field 'jan' is not '*', a number or a range N-M"},
        {"* * * * mon", "day of week field 'mon' is not '*'"},
        {"*/0 * * * *", "has a step that is not a whole number of at least 1"},
        {"*/x * * * *", "has a step that is not a whole number"},
        {"5/10 * * * *", "steps a single number"},
        {"30-10 * * * *", "is a range that runs backwards"},
        {"1,,2 * * * *", "is not '*', a number or a range N-M"},
        {"1, * * * *", "is not '*', a number or a range N-M"},
        {"+1 * * * *", "is not '*', a number or a range N-M"},
        {"-1 * * * *", "is not '*', a number or a range N-M"},
        {"0 0 31 2 *", "never fires"},
        {"0 0 30,31 2 *", "never fires"},
        {"0 0 31 4,6,9,11 *", "never fires"},
    };
    for (const auto& [text, message] : cases) {
        INFO("'" << text << "'");
        CHECK_THROWS_AS(CronExpression::parse(text, "--cron audit-archive"), UsageError);
        CHECK_THROWS_WITH(CronExpression::parse(text, "--cron audit-archive"),
                          Catch::StartsWith("--cron audit-archive: ") && Catch::Contains(message));
    }
    CHECK_THROWS_WITH(CronExpression::parse("61 * * * *", "x"),
                      Catch::Contains("MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK"));
}

TEST_CASE("cron: a day that exists in some month named, or any weekday, fires") {
    CHECK_NOTHROW(CronExpression::parse("0 0 29 2 *", "x"));    // leap years
    CHECK_NOTHROW(CronExpression::parse("0 0 31 2,3 *", "x"));  // March has it
    CHECK_NOTHROW(CronExpression::parse("0 0 31 2 1", "x"));    // OR: every Monday in Feb
    CHECK_NOTHROW(CronExpression::parse("0 0 31 */2 *", "x"));  // Jan, Mar, ...
    CHECK_NOTHROW(CronExpression::parse("0 0 30-31 2-3 *", "x"));
}

TEST_CASE("cron: the systemd OnCalendar= translation fires at the same times") {
    CHECK(calendar("30 2 * * *") == "*-*-* 02:30:00");
    CHECK(calendar("*/15 * * * *") == "*-*-* *:00/15:00");
    CHECK(calendar("15 3 * * *") == "*-*-* 03:15:00");
    CHECK(calendar("45 3 1 * *") == "*-*-01 03:45:00");
    CHECK(calendar("0 9 * * 1-5") == "Mon,Tue,Wed,Thu,Fri *-*-* 09:00:00");
    CHECK(calendar("0 0 * * 0,7") == "Sun *-*-* 00:00:00");
    CHECK(calendar("0 0 * * 7") == "Sun *-*-* 00:00:00");
    CHECK(calendar("0 0 * * */2") == "Sun,Tue,Thu,Sat *-*-* 00:00:00");
    CHECK(calendar("0 8-18 * * *") == "*-*-* 08..18:00:00");
    CHECK(calendar("5 */6 * * *") == "*-*-* 00/6:05:00");
    CHECK(calendar("0 10-23/4 * * *") == "*-*-* 10/4:00:00");     // to the end of the field
    CHECK(calendar("0 8-18/5 * * *") == "*-*-* 08,13,18:00:00");  // a stepped range: its values
    CHECK(calendar("0,30 * * 1,7 *") == "*-01,07-* *:00,30:00");
    CHECK(calendar("0 0 1-7 */3 *") == "*-01/3-01..07 00:00:00");
}

TEST_CASE("cron: both day fields restricted cannot be translated (OR in cron, AND in systemd)") {
    const auto both = CronExpression::parse("0 1 1 * 1", "--cron audit-archive");
    CHECK_THROWS_AS(both.on_calendar(), UsageError);
    CHECK_THROWS_WITH(both.on_calendar(), Catch::StartsWith("--cron audit-archive: '0 1 1 * 1'") &&
                                              Catch::Contains("keep one of them '*'"));
    // A stepped '*' restricts too.
    CHECK_THROWS_AS(calendar("0 1 */2 * 1"), UsageError);
    CHECK_NOTHROW(calendar("0 1 */2 * *"));
}
