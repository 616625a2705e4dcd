// core/text's UTF-8 step: what the env file reader (phpdotenv's scrub) and the option checks
// (a queue name, a reason code, a channel) hold to be well-formed UTF-8.
#include <catch2/catch.hpp>
#include <string>

#include "ops/core/text.hpp"

using ops::is_utf8;
using ops::utf8_step;

TEST_CASE("utf8: valid sequences step over their whole length") {
    CHECK(utf8_step("a", 0) == 1);
    CHECK(utf8_step("\x7f", 0) == 1);
    CHECK(utf8_step(std::string("\0", 1), 0) == 1);
    CHECK(utf8_step("\xc2\x80", 0) == 2);          // U+0080, the first two-byte one
    CHECK(utf8_step("\xdf\xbf", 0) == 2);          // U+07FF
    CHECK(utf8_step("\xe0\xa0\x80", 0) == 3);      // U+0800
    CHECK(utf8_step("\xed\x9f\xbf", 0) == 3);      // U+D7FF, below the surrogates
    CHECK(utf8_step("\xee\x80\x80", 0) == 3);      // U+E000, above them
    CHECK(utf8_step("\xef\xbf\xbf", 0) == 3);      // U+FFFF
    CHECK(utf8_step("\xf0\x90\x80\x80", 0) == 4);  // U+10000
    CHECK(utf8_step("\xf4\x8f\xbf\xbf", 0) == 4);  // U+10FFFF, the last code point
    CHECK(utf8_step("x\xe2\x82\xac", 1) == 3);     // the euro sign, from an offset
}

TEST_CASE("utf8: an invalid sequence steps over its maximal valid prefix, negated") {
    CHECK(utf8_step("\x80", 0) == -1);      // a lone continuation byte
    CHECK(utf8_step("\xc0\xaf", 0) == -1);  // overlong lead bytes never start one
    CHECK(utf8_step("\xc1\xbf", 0) == -1);
    CHECK(utf8_step("\xf5\x80\x80\x80", 0) == -1);  // past U+10FFFF by its lead
    CHECK(utf8_step("\xff", 0) == -1);
    CHECK(utf8_step("\xe0\x80\x80", 0) == -1);      // overlong three-byte form
    CHECK(utf8_step("\xed\xa0\x80", 0) == -1);      // a surrogate, U+D800
    CHECK(utf8_step("\xf0\x80\x80\x80", 0) == -1);  // overlong four-byte form
    CHECK(utf8_step("\xf4\x90\x80\x80", 0) == -1);  // U+110000
    CHECK(utf8_step("\xc2", 0) == -1);              // cut short at the end
    CHECK(utf8_step("\xe2\x82", 0) == -2);
    CHECK(utf8_step("\xf0\x90\x80", 0) == -3);
    CHECK(utf8_step("\xe2\x82x", 0) == -2);  // a third byte that is not a continuation
    CHECK(utf8_step("\xf0\x90x\x80", 0) == -2);
}

TEST_CASE("utf8: whole texts") {
    CHECK(is_utf8(""));
    CHECK(is_utf8("timeout"));
    CHECK(is_utf8("Toko \xe2\x82\xac \xf0\x9f\x98\x80"));
    CHECK(!is_utf8("\xff"));
    CHECK(!is_utf8("bad\xff"));
    CHECK(!is_utf8("ok \xe2\x82"));
    CHECK(!is_utf8("\xed\xa0\x80\xed\xb0\x80"));  // a surrogate pair written as CESU-8
}
