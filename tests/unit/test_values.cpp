#include <catch2/catch.hpp>

#include "ops/core/errors.hpp"
#include "ops/core/values.hpp"

using namespace ops;

TEST_CASE("durations accept ms, s, m, h, d and nothing else") {
    CHECK(parse_duration("500ms", "--x", kMaxAgo).count() == 500);
    CHECK(parse_duration("90s", "--x", kMaxAgo).count() == 90000);
    CHECK(parse_duration("30m", "--x", kMaxAgo).count() == 1800000);
    CHECK(parse_duration("24h", "--x", kMaxAgo).count() == 86400000);
    CHECK(parse_duration("7d", "--x", kMaxAgo).count() == 604800000);
    CHECK(parse_duration("0", "--x", kMaxAgo).count() == 0);
    for (const char* bad : {"", "5", "-1s", "1.5h", "h", "10 m", "3w", "1s2"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_duration(bad, "--max-runtime", kMaxAgo), UsageError);
    }
    CHECK_THROWS_WITH(parse_duration("soon", "--max-runtime", kMaxAgo),
                      Catch::Contains("--max-runtime") && Catch::Contains("30m"));
}

TEST_CASE("durations above the option's maximum are refused, naming the maximum") {
    CHECK(parse_duration("24d", "--lock-timeout", kMaxTimeout).count() == 24LL * 86400000);
    CHECK_THROWS_WITH(parse_duration("25d", "--lock-timeout", kMaxTimeout),
                      Catch::Contains("--lock-timeout") && Catch::Contains("at most 24d"));
    CHECK_THROWS_AS(parse_duration("999999999d", "--failed-after", kMaxAgo), UsageError);
    CHECK(parse_duration("730000d", "--failed-after", kMaxAgo) == kMaxAgo);
}

TEST_CASE("date-times are real calendar dates in a few accepted forms") {
    CHECK(parse_local_datetime("2026-01-31", "--before") == "2026-01-31 00:00:00");
    CHECK(parse_local_datetime("2026-01-31 12:30", "--before") == "2026-01-31 12:30:00");
    CHECK(parse_local_datetime("2026-01-31T12:30:45", "--before") == "2026-01-31 12:30:45");
    CHECK(parse_local_datetime("2024-02-29", "--before") == "2024-02-29 00:00:00");
    for (const char* bad :
         {"2026-02-30", "2025-02-29", "2026-13-01", "2026-1-5", "26-01-01", "2026-01-01 24:00",
          "2026-01-01 12:60", "yesterday", "", "2026-01-01'; --", "0000-01-01"}) {
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
    // The whole int64 range is accepted where the range says so, and nothing beyond it.
    CHECK(parse_integer("9223372036854775807", "--tenant", 1, INT64_MAX) == INT64_MAX);
    CHECK_THROWS_AS(parse_integer("9223372036854775808", "--tenant", 1, INT64_MAX), UsageError);
    CHECK(parse_integer("4611686018427387903", "--limit", 1, INT64_MAX / 2) == INT64_MAX / 2);
    CHECK_THROWS_WITH(parse_integer("0", "--days", 1, 100),
                      Catch::Contains("--days") && Catch::Contains("from 1 to 100"));
}
