#include "ops/core/text.hpp"

#include <algorithm>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

bool is_control(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

}  // namespace

bool has_control_character(std::string_view text) {
    return std::any_of(text.begin(), text.end(), is_control);
}

std::string escape_control(std::string_view text) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (is_control(c)) {
            const auto byte = static_cast<unsigned char>(c);
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        } else {
            out += c;
        }
    }
    return out;
}

void refuse_control_characters(std::string_view value, const std::string& option) {
    if (!has_control_character(value)) return;
    // The value is quoted as it is: whatever prints the message escapes it.
    throw UsageError(option + ": '" + std::string(value) +
                     "' contains a control character (such as a newline), which would split "
                     "the line it is written into; expected printable text");
}

}  // namespace ops
