#include <catch2/catch.hpp>

#include "ops/core/errors.hpp"
#include "ops/core/values.hpp"

using namespace ops;

TEST_CASE("durations accept ms, s, m, h, d and nothing else") {
    CHECK(parse_duration("500ms", "--x").count() == 500);
    CHECK(parse_duration("90s", "--x").count() == 90000);
    CHECK(parse_duration("30m", "--x").count() == 1800000);
    CHECK(parse_duration("24h", "--x").count() == 86400000);
    CHECK(parse_duration("7d", "--x").count() == 604800000);
    CHECK(parse_duration("0", "--x").count() == 0);
    for (const char* bad : {"", "5", "-1s", "1.5h", "h", "10 m", "3w", "1s2"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_duration(bad, "--max-runtime"), UsageError);
    }
    CHECK_THROWS_WITH(parse_duration("soon", "--max-runtime"),
                      Catch::Contains("--max-runtime") && Catch::Contains("30m"));
}

TEST_CASE("date-times are real calendar dates in a few accepted forms") {
    CHECK(parse_local_datetime("2026-01-31", "--before") == "2026-01-31 00:00:00");
    CHECK(parse_local_datetime("2026-01-31 12:30", "--before") == "2026-01-31 12:30:00");
    CHECK(parse_local_datetime("2026-01-31T12:30:45", "--before") == "2026-01-31 12:30:45");
    CHECK(parse_local_datetime("2024-02-29", "--before") == "2024-02-29 00:00:00");
    for (const char* bad :
         {"2026-02-30", "2025-02-29", "2026-13-01", "2026-1-5", "26-01-01", "2026-01-01 24:00",
          "2026-01-01 12:60", "yesterday", "", "2026-01-01'; --"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_local_datetime(bad, "--before"), UsageError);
    }
}

TEST_CASE("integers are whole numbers within range") {
    CHECK(parse_integer("10", "--days", 1, 100) == 10);
    for (const char* bad :
         {"0", "101", "-5", "1e3", "ten", "", " 5", "5 ", "99999999999999999999"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_integer(bad, "--days", 1, 100), UsageError);
    }
    CHECK_THROWS_WITH(parse_integer("0", "--days", 1, 100),
                      Catch::Contains("--days") && Catch::Contains("from 1 to 100"));
}
