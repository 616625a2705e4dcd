#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ops {

// Format 2: row_to_json writes SQL NULL and a json value `null` alike, so archive appends
// this member, listing the json/jsonb columns whose value is JSON null, to the lines that
// have one: {"id":1,...,"metadata":null,"$json_null":["metadata"]}. Not a column.
constexpr std::string_view kJsonNullKey = "$json_null";

enum class JsonKind : std::uint8_t { kNull, kTrue, kFalse, kNumber, kString, kArray, kObject };

// One top-level member of an archive line, as positions into the line's text: nothing is
// converted, so a number, a json value's key order, duplicate keys and whitespace stay
// exactly as archived (a double or a JSON library would change them).
struct LineField {
    std::string key;                         // unescaped member name (a column name)
    std::size_t raw_begin = 0, raw_end = 0;  // after ':' up to ',' or '}' (whitespace kept)
    std::size_t begin = 0, end = 0;          // the value's token(s), whitespace trimmed
    JsonKind kind = JsonKind::kNull;
};

// Checks that `text` is one JSON object (RFC 8259, any nesting depth, any number such as
// 1e400, escapes such as \u0000) and lists its members. False with `error` set otherwise.
// Never throws; this is what reads untrusted archive text.
bool parse_archive_line(std::string_view text, std::vector<LineField>& fields, std::string& error);

// The integer `id` member of a parsed line, if it has one that fits an int64.
std::optional<std::int64_t> line_id(std::string_view text, const std::vector<LineField>& fields);

// A JSON string token (with its quotes) as the text it encodes, in UTF-8. False for \u0000
// (no PostgreSQL text can hold it) and unpaired surrogates.
bool unescape_json_string(std::string_view token, std::string& out, std::string& error);

// A JSON array (as row_to_json renders a PostgreSQL array, nested for more dimensions) as a
// PostgreSQL array literal: '[1,null,"a\"b"]' -> '{"1",NULL,"a\"b"}'. With `elements_json`
// (json[] and jsonb[]) each element's JSON text is the element.
bool json_array_to_pg_literal(std::string_view array, bool elements_json, std::string& out,
                              std::string& error);

}  // namespace ops
