// The archive line scanner: JSON as PostgreSQL's json accepts it, never converted.
#include <catch2/catch.hpp>

#include "ops/archive/archive_line.hpp"

using namespace ops;

namespace {

bool parses(const std::string& text) {
    std::vector<LineField> fields;
    std::string error;
    return parse_archive_line(text, fields, error);
}

std::string raw(const std::string& text, const LineField& f) {
    return text.substr(f.raw_begin, f.raw_end - f.raw_begin);
}

std::string literal(const std::string& array, bool elements_json = false) {
    std::string out, error;
    REQUIRE(json_array_to_pg_literal(array, elements_json, out, error));
    return out;
}

}  // namespace

TEST_CASE("archive line: members keep their exact text, numbers of any size included") {
    const std::string text =
        R"({"id":9007199254740993,"n":12345678901234567890.1234567891,"m": {"k":1,"k":2} ,)"
        R"("e":1e400,"z":-0,"s":"a\u0000b","t":true,"x":null})";
    std::vector<LineField> fields;
    std::string error;
    REQUIRE(parse_archive_line(text, fields, error));
    REQUIRE(fields.size() == 8);
    CHECK(line_id(text, fields) == 9007199254740993);
    CHECK(raw(text, fields[1]) == "12345678901234567890.1234567891");
    CHECK(raw(text, fields[2]) == R"( {"k":1,"k":2} )");  // whitespace around a json value kept
    CHECK(fields[2].kind == JsonKind::kObject);
    CHECK(raw(text, fields[3]) == "1e400");
    CHECK(fields[5].kind == JsonKind::kString);
    CHECK(fields[6].kind == JsonKind::kTrue);
    CHECK(fields[7].kind == JsonKind::kNull);
}

TEST_CASE("archive line: nesting depth is bounded by memory, not the stack") {
    const std::string deep =
        R"({"id":1,"m":)" + std::string(200000, '[') + std::string(200000, ']') + "}";
    CHECK(parses(deep));
    CHECK_FALSE(parses(R"({"id":1,"m":)" + std::string(1000, '[') + std::string(999, ']') + "}"));
}

TEST_CASE("archive line: what is not one JSON object is refused, with a reason") {
    for (const std::string bad :
         {"", "[]", "{", R"({"id":1)", R"({"id":1} x)", R"({"id":01})", R"({"id":1.})",
          R"({"id":-})", R"({"id" 1})", R"({"id":1,})", R"({"s":"tab	in string"})",
          R"({"s":"\x"})", R"({"s":"\u12G4"})", R"({"s":"open})", R"({"a":tru})", R"({"a":[1,]})",
          R"({"a":{"b"}})", R"({id:1})"}) {
        INFO(bad);
        std::vector<LineField> fields;
        std::string error;
        CHECK_FALSE(parse_archive_line(bad, fields, error));
        CHECK_FALSE(error.empty());
    }
    CHECK(parses("{}"));
    CHECK(parses(" { \"id\" : 1 } "));
}

TEST_CASE("archive line: an id must be an integer that fits") {
    for (const auto& [text, id] : std::vector<std::pair<std::string, std::optional<std::int64_t>>>{
             {R"({"id":42})", 42},
             {R"({"id":-7})", -7},
             {R"({"id":1.5})", std::nullopt},
             {R"({"id":1e3})", std::nullopt},
             {R"({"id":"42"})", std::nullopt},
             {R"({"id":99999999999999999999})", std::nullopt},
             {R"({"x":1})", std::nullopt}}) {
        INFO(text);
        std::vector<LineField> fields;
        std::string error;
        REQUIRE(parse_archive_line(text, fields, error));
        CHECK(line_id(text, fields) == id);
    }
}

TEST_CASE(
    "archive line: strings unescape to UTF-8, the NUL escape and lone surrogates are no text") {
    std::string out, error;
    REQUIRE(unescape_json_string(R"("a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00")", out, error));
    CHECK(out == "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    CHECK_FALSE(unescape_json_string(R"("a\u0000b")", out, error));
    CHECK(error.find("\\u0000") != std::string::npos);
    CHECK_FALSE(unescape_json_string(R"("\ud83d")", out, error));
    CHECK_FALSE(unescape_json_string(R"("\ude00x")", out, error));
}

TEST_CASE("archive line: JSON arrays become PostgreSQL array literals") {
    CHECK(literal("[]") == "{}");
    CHECK(literal("[1,null,-2]") == R"({"1",NULL,"-2"})");
    CHECK(literal("[[1,2],[3,4]]") == R"({{"1","2"},{"3","4"}})");
    CHECK(literal(R"(["a\"b","c\\d","NULL","x,y"])") == R"({"a\"b","c\\d","NULL","x,y"})");
    CHECK(literal(R"(["x",{"k": 1}])", true) == R"({"\"x\"","{\"k\": 1}"})");
}
