#include <catch2/catch.hpp>

#include "ops/core/errors.hpp"
#include "ops/core/text.hpp"
#include "ops/schedule/cron_expression.hpp"

using namespace ops;

TEST_CASE("control characters are escaped so that a value stays on its line") {
    CHECK(escape_control("web\n2026-12-01 info: forged") == "web\\n2026-12-01 info: forged");
    CHECK(escape_control("a\tb\r\x1b[2J\x7f") == "a\\tb\\r\\x1b[2J\\x7f");
    CHECK(escape_control("back\\slash") == "back\\\\slash");
    CHECK(escape_control("caf\xc3\xa9") == "caf\xc3\xa9");  // UTF-8 is not a control character
    CHECK_FALSE(has_control_character("plain text / path"));
    CHECK_THROWS_WITH(refuse_control_characters("/var/log\nExecStartPre=x", "--log-dir"),
                      Catch::Contains("--log-dir") && Catch::Contains("control character"));
}

TEST_CASE("cron expressions that never fire are refused") {
    for (const char* never : {"0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30-31 2 *"}) {
        INFO(never);
        CHECK_THROWS_WITH(CronExpression::parse(never, "--cron x"),
                          Catch::Contains("never fires") && Catch::Contains("--cron x"));
    }
    // February 29th fires in leap years; with a weekday cron fires on either day field.
    for (const char* fires :
         {"0 0 29 2 *", "0 0 31 2 1", "0 0 31 1-2 *", "0 0 * 2 *", "0 0 */31 * *"}) {
        INFO(fires);
        CHECK_NOTHROW(CronExpression::parse(fires, "--cron x"));
    }
}

TEST_CASE("hex: two digits per byte, lowercase unless a URL's uppercase is asked for") {
    const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
    CHECK(hex_of(bytes, sizeof bytes) == "000fa5ff");
    CHECK(hex_of(bytes, 0).empty());
    std::string url = "%";
    append_hex(url, 0xab, true);
    CHECK(url == "%AB");
}
