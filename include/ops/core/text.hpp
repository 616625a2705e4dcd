#pragma once

#include <cstddef>
#include <string>
#include <string_view>

// Text that came from outside (option values, file contents, database rows) on its way into
// a log line, an error message or a generated file.
namespace ops {

// True if `text` holds an ASCII control character (0x00-0x1f or 0x7f): a newline, a carriage
// return, a tab, an escape sequence.
bool has_control_character(std::string_view text);

// `text` with every control character and backslash written as a C escape ("\n", "\t",
// "\x1b", "\\"), so one value can never start a new line or forge another one.
std::string escape_control(std::string_view text);

// One step of a UTF-8 decoder at text[i] (i < text.size()): the length (1-4) of the valid
// sequence that starts there, or, when it is invalid, the length of its maximal valid prefix
// (at least 1) negated: Unicode's "maximal subpart" rule, as PHP 8.2 and phpdotenv apply it.
// Overlong forms, surrogates and code points past U+10FFFF are invalid.
int utf8_step(std::string_view text, std::size_t i);

// True when all of `text` is well-formed UTF-8 (utf8_step never negative).
bool is_utf8(std::string_view text);

// `byte` as two hex digits appended to `out`: lowercase, or uppercase as a URL's %XX has them.
void append_hex(std::string& out, unsigned char byte, bool upper = false);
// `size` bytes as lowercase hex (a digest, a random name).
std::string hex_of(const unsigned char* bytes, std::size_t size);

// Throws UsageError "<option>: contains a control character ..." when `value` has one.
void refuse_control_characters(std::string_view value, const std::string& option);

}  // namespace ops
