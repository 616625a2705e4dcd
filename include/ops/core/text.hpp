#pragma once

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

// Throws UsageError "<option>: contains a control character ..." when `value` has one.
void refuse_control_characters(std::string_view value, const std::string& option);

}  // namespace ops
