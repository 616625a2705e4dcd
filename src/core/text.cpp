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

void append_hex(std::string& out, unsigned char byte, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    out += digits[byte >> 4];
    out += digits[byte & 0xf];
}

std::string hex_of(const unsigned char* bytes, std::size_t size) {
    std::string out;
    out.reserve(2 * size);
    for (std::size_t i = 0; i < size; ++i) append_hex(out, bytes[i]);
    return out;
}

std::string escape_control(std::string_view text) {
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
            out += "\\x";
            append_hex(out, static_cast<unsigned char>(c));
        } else {
            out += c;
        }
    }
    return out;
}

int utf8_step(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) return 1;
    int length = 0;
    unsigned char low = 0x80, high = 0xbf;  // the allowed range of the second byte
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0) low = 0xa0;   // overlong
        if (lead == 0xed) high = 0x9f;  // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0) low = 0x90;   // overlong
        if (lead == 0xf4) high = 0x8f;  // past U+10FFFF
    } else {
        return -1;  // a continuation byte, or a lead byte no valid sequence has
    }
    for (int k = 1; k < length; ++k) {
        const std::size_t at = i + static_cast<std::size_t>(k);
        if (at >= text.size()) return -k;
        const unsigned char b = byte(at);
        const bool ok = k == 1 ? (b >= low && b <= high) : (b >= 0x80 && b <= 0xbf);
        if (!ok) return -k;
    }
    return length;
}

bool is_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const int step = utf8_step(text, i);
        if (step < 0) return false;
        i += static_cast<std::size_t>(step);
    }
    return true;
}

void refuse_control_characters(std::string_view value, const std::string& option) {
    if (!has_control_character(value)) return;
    // The value is quoted as it is: whatever prints the message escapes it.
    throw UsageError(option + ": '" + std::string(value) +
                     "' contains a control character (such as a newline), which would split "
                     "the line it is written into; expected printable text");
}

}  // namespace ops
