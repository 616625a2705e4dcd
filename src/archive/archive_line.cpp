#include "ops/archive/archive_line.hpp"

#include <charconv>

namespace ops {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A cursor over JSON text that validates as it skips. Iterative, so nesting depth is
// bounded by memory only (PostgreSQL's json accepts deeper documents than a recursive
// parser on a small stack would).
class Scanner {
  public:
    explicit Scanner(std::string_view text) : s_(text) {}

    std::size_t pos() const { return i_; }
    bool done() const { return i_ >= s_.size(); }
    char peek() const { return done() ? '\0' : s_[i_]; }
    void skip_space() {
        while (!done() && is_space(s_[i_])) ++i_;
    }
    bool expect(char c, const char* what) {
        skip_space();
        if (peek() != c) return fail(what);
        ++i_;
        return true;
    }
    bool fail(const std::string& what) {
        if (error_.empty()) error_ = what + " at byte " + std::to_string(i_ + 1);
        return false;
    }
    const std::string& error() const { return error_; }

    bool string();
    bool value();

  private:
    bool escape();
    bool number();
    bool literal(std::string_view word);
    bool scalar();
    bool member_name();
    bool after_value(std::string& open);

    std::string_view s_;
    std::size_t i_ = 0;
    std::string error_;
};

bool Scanner::escape() {
    ++i_;  // the backslash
    const char c = peek();
    if (c == 'u') {
        for (int k = 1; k <= 4; ++k) {
            if (i_ + k >= s_.size() || hex_value(s_[i_ + k]) < 0) return fail("bad \\u escape");
        }
        i_ += 5;
        return true;
    }
    if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
        c == 't') {
        ++i_;
        return true;
    }
    return fail("bad escape");
}

bool Scanner::string() {
    if (peek() != '"') return fail("expected a string");
    ++i_;
    while (!done()) {
        const auto c = static_cast<unsigned char>(s_[i_]);
        if (c == '"') {
            ++i_;
            return true;
        }
        if (c < 0x20) return fail("control character in a string");
        if (c == '\\') {
            if (!escape()) return false;
        } else {
            ++i_;
        }
    }
    return fail("unterminated string");
}

// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? : any size, never converted.
bool Scanner::number() {
    if (peek() == '-') ++i_;
    if (peek() == '0') {
        ++i_;
    } else if (is_digit(peek())) {
        while (is_digit(peek())) ++i_;
    } else {
        return fail("expected a value");
    }
    if (peek() == '.') {
        ++i_;
        if (!is_digit(peek())) return fail("bad number");
        while (is_digit(peek())) ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
        ++i_;
        if (peek() == '+' || peek() == '-') ++i_;
        if (!is_digit(peek())) return fail("bad number");
        while (is_digit(peek())) ++i_;
    }
    return true;
}

bool Scanner::literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return fail("expected a value");
    i_ += word.size();
    return true;
}

bool Scanner::scalar() {
    switch (peek()) {
        case '"':
            return string();
        case 't':
            return literal("true");
        case 'f':
            return literal("false");
        case 'n':
            return literal("null");
        default:
            return number();
    }
}

bool Scanner::member_name() {
    skip_space();
    if (!string()) return false;
    return expect(':', "expected ':'");
}

// After a value inside containers: closes what ends here; true when the next thing to read
// is a value (after a ',') or when every container is closed.
bool Scanner::after_value(std::string& open) {
    while (!open.empty()) {
        skip_space();
        const char c = peek();
        if (c == ',') {
            ++i_;
            return open.back() != '}' || member_name();
        }
        if (c != open.back())
            return fail(open.back() == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
        ++i_;
        open.pop_back();
    }
    return true;
}

bool Scanner::value() {
    std::string open;  // the closers still expected, innermost last
    do {
        skip_space();
        const char c = peek();
        if (c == '{' || c == '[') {
            ++i_;
            skip_space();
            const char close = c == '{' ? '}' : ']';
            if (peek() == close) {
                ++i_;
            } else {
                open.push_back(close);
                if (close == '}' && !member_name()) return false;
                continue;
            }
        } else if (!scalar()) {
            return false;
        }
        if (!after_value(open)) return false;
    } while (!open.empty());
    return true;
}

JsonKind kind_of(char c) {
    switch (c) {
        case '{':
            return JsonKind::kObject;
        case '[':
            return JsonKind::kArray;
        case '"':
            return JsonKind::kString;
        case 't':
            return JsonKind::kTrue;
        case 'f':
            return JsonKind::kFalse;
        case 'n':
            return JsonKind::kNull;
        default:
            return JsonKind::kNumber;
    }
}

bool read_member(Scanner& scan, std::string_view text, LineField& field, std::string& error) {
    scan.skip_space();
    const std::size_t key_begin = scan.pos();
    if (!scan.string()) return false;
    if (!unescape_json_string(text.substr(key_begin, scan.pos() - key_begin), field.key, error))
        return false;
    if (!scan.expect(':', "expected ':'")) return false;
    field.raw_begin = scan.pos();
    scan.skip_space();
    field.begin = scan.pos();
    field.kind = kind_of(scan.peek());
    if (!scan.value()) return false;
    field.end = scan.pos();
    scan.skip_space();
    field.raw_end = scan.pos();
    return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::uint32_t hex4(std::string_view s, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k)
        v = v * 16 + static_cast<std::uint32_t>(hex_value(s[at + k]));
    return v;
}

// The code point of the \u escape at `at` (and of its low surrogate); advances `at`.
bool unicode_escape(std::string_view s, std::size_t& at, std::uint32_t& cp, std::string& error) {
    cp = hex4(s, at + 2);
    at += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (at + 6 > s.size() || s[at] != '\\' || s[at + 1] != 'u') {
            error = "unpaired surrogate in a string";
            return false;
        }
        const std::uint32_t low = hex4(s, at + 2);
        if (low < 0xDC00 || low > 0xDFFF) {
            error = "unpaired surrogate in a string";
            return false;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        at += 6;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        error = "unpaired surrogate in a string";
        return false;
    }
    if (cp == 0) {
        error = "\\u0000 in a string (no PostgreSQL text can hold it)";
        return false;
    }
    return true;
}

char simple_escape(char c) {
    switch (c) {
        case 'b':
            return '\b';
        case 'f':
            return '\f';
        case 'n':
            return '\n';
        case 'r':
            return '\r';
        case 't':
            return '\t';
        default:
            return c;  // " \ /
    }
}

void append_pg_element(std::string& out, std::string_view element) {
    out += '"';
    for (const char c : element) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

}  // namespace

bool parse_archive_line(std::string_view text, std::vector<LineField>& fields, std::string& error) {
    fields.clear();
    Scanner scan(text);
    if (!scan.expect('{', "expected a JSON object")) return error = scan.error(), false;
    scan.skip_space();
    if (scan.peek() == '}') {
        scan.expect('}', "");
    } else {
        while (true) {
            LineField field;
            if (!read_member(scan, text, field, error)) {
                if (error.empty()) error = scan.error();
                return false;
            }
            fields.push_back(std::move(field));
            if (scan.peek() == '}') break;
            if (!scan.expect(',', "expected ',' or '}'")) return error = scan.error(), false;
        }
        scan.expect('}', "");
    }
    scan.skip_space();
    if (!scan.done())
        return error = "text after the object at byte " + std::to_string(scan.pos() + 1), false;
    return true;
}

std::optional<std::int64_t> line_id(std::string_view text, const std::vector<LineField>& fields) {
    for (const auto& field : fields) {
        if (field.key != "id" || field.kind != JsonKind::kNumber) continue;
        std::int64_t id = 0;
        const char* first = text.data() + field.begin;
        const char* last = text.data() + field.end;
        const auto [ptr, ec] = std::from_chars(first, last, id);
        if (ec == std::errc() && ptr == last) return id;
        return std::nullopt;
    }
    return std::nullopt;
}

bool unescape_json_string(std::string_view token, std::string& out, std::string& error) {
    out.clear();
    const std::string_view s = token.substr(1, token.size() - 2);
    for (std::size_t at = 0; at < s.size();) {
        if (s[at] != '\\') {
            out += s[at++];
            continue;
        }
        if (s[at + 1] != 'u') {
            out += simple_escape(s[at + 1]);
            at += 2;
            continue;
        }
        std::uint32_t cp = 0;
        if (!unicode_escape(s, at, cp, error)) return false;
        append_utf8(out, cp);
    }
    return true;
}

bool json_array_to_pg_literal(std::string_view array, bool elements_json, std::string& out,
                              std::string& error) {
    out.clear();
    Scanner scan(array);
    std::string element;
    while (true) {
        scan.skip_space();
        if (scan.done()) return true;
        const char c = scan.peek();
        if (c == '[' || c == ']' || c == ',') {
            out += c == '[' ? '{' : c == ']' ? '}' : ',';
            scan.expect(c, "");
            continue;
        }
        const std::size_t begin = scan.pos();
        if (!scan.value()) return error = scan.error(), false;
        const std::string_view token = array.substr(begin, scan.pos() - begin);
        if (token == "null") {
            out += "NULL";
        } else if (c == '"' && !elements_json) {
            if (!unescape_json_string(token, element, error)) return false;
            append_pg_element(out, element);
        } else {
            append_pg_element(out, token);
        }
    }
}

}  // namespace ops
