#include <catch2/catch.hpp>

#include "ops/core/errors.hpp"
#include "ops/core/period.hpp"

using namespace ops;

TEST_CASE("quota period: PERIOD accepts YYYY-MM, current and previous") {
    const auto month = parse_period_argument("2026-01");
    CHECK(month.kind == PeriodArgument::Kind::kMonth);
    CHECK(month.year == 2026);
    CHECK(month.month == 1u);
    CHECK(parse_period_argument("1999-12").month == 12u);
    CHECK(parse_period_argument("current").kind == PeriodArgument::Kind::kCurrent);
    CHECK(parse_period_argument("previous").kind == PeriodArgument::Kind::kPrevious);
}

TEST_CASE("quota period: PERIOD rejects anything else, naming PERIOD and the accepted form") {
    for (const char* bad : {"", "2026-13", "2026-00", "2026-1", "26-01", "2026/01", "2026-01-01",
                            "0000-01", "202601", " 2026-01", "2026-01 ", "-2026-01", "2026-0a",
                            "Current", "CURRENT", "prev", "next", "2026-01'; --", "２０２６-01"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_period_argument(bad), UsageError);
    }
    CHECK_THROWS_WITH(parse_period_argument("2026-13"), Catch::Contains("PERIOD") &&
                                                            Catch::Contains("YYYY-MM") &&
                                                            Catch::Contains("'2026-13'"));
}

TEST_CASE("quota period: a period is a half-open range of wall times") {
    const Period jan(2026, 1);
    CHECK(jan.text() == "2026-01");
    CHECK(jan.first_moment() == "2026-01-01 00:00:00");
    CHECK(jan.end_moment() == "2026-02-01 00:00:00");
    const Period dec(2025, 12);
    CHECK(dec.end_moment() == "2026-01-01 00:00:00");
    CHECK(dec.next() == jan);
    CHECK(jan.previous() == dec);
    CHECK(Period(2024, 2).end_moment() == "2024-03-01 00:00:00");
    CHECK(Period(1, 1).text() == "0001-01");
    CHECK(Period(9999, 12).end_moment() == "10000-01-01 00:00:00");
    CHECK_THROWS(Period(2026, 13));
    CHECK_THROWS(Period(0, 1));
}

TEST_CASE("quota period: current and previous resolve from the local clock") {
    const auto current = parse_period_argument("current");
    const auto previous = parse_period_argument("previous");
    CHECK(resolve_period(current, "2026-03-31 23:59:59").text() == "2026-03");
    CHECK(resolve_period(previous, "2026-03-31 23:59:59").text() == "2026-02");
    CHECK(resolve_period(current, "2026-01-01 00:00:00").text() == "2026-01");
    CHECK(resolve_period(previous, "2026-01-01 00:00:00").text() == "2025-12");
    CHECK(resolve_period(parse_period_argument("2024-07"), "2026-01-01 00:00:00").text() ==
          "2024-07");
    CHECK(period_of("2026-11-27").text() == "2026-11");
    CHECK_THROWS(period_of("yesterday"));
}
