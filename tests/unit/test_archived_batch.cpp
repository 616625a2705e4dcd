// parse_row_id: how ArchivedBatch reads a row's id from its text (the id column of the archive
// statements); anything but a decimal integer is refused, never read as a different id.
#include <catch2/catch.hpp>
#include <limits>

#include "ops/core/errors.hpp"
#include "ops/db/archived_batch.hpp"

using ops::parse_row_id;
using ops::RunFailure;

TEST_CASE("archived batch: a row's id is its decimal text") {
    CHECK(parse_row_id("1") == 1);
    CHECK(parse_row_id("0") == 0);
    CHECK(parse_row_id("-42") == -42);
    CHECK(parse_row_id("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
    CHECK(parse_row_id("-9223372036854775808") == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("archived batch: an id that is not a whole int64 is refused") {
    for (const char* bad : {"", " 1", "1 ", "1.0", "12a", "+1", "0x10", "9223372036854775808"}) {
        INFO("id text '" << bad << "'");
        CHECK_THROWS_AS(parse_row_id(bad), RunFailure);
    }
    CHECK_THROWS_WITH(parse_row_id("12a"), Catch::Contains("'12a'"));
}
