#include "ops/core/env_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

#include "ops/core/errors.hpp"
#include "ops/core/text.hpp"

// Every step below mirrors one phpdotenv 5.4 function (Dotenv\Parser\Lines, EntryParser, Lexer,
// Loader\Resolver, Repository\Adapter\ImmutableWriter) or Illuminate\Support\Env::get, so that
// a value is what the application sees; tests/laravel/env_oracle.php compares them on a corpus.
namespace ops {
namespace {

// PHP's trim()/ltrim() default set; note that it has \0 and \v but not \f.
constexpr const char* kPhpTrim = " \t\n\r\0\x0B";
constexpr std::size_t kPhpTrimLength = 6;

std::string php_trim(const std::string& s) {
    const std::string_view set(kPhpTrim, kPhpTrimLength);
    const auto begin = s.find_first_not_of(set);
    if (begin == std::string::npos) return {};
    return s.substr(begin, s.find_last_not_of(set) - begin + 1);
}

std::string php_ltrim(const std::string& s) {
    const auto begin = s.find_first_not_of(std::string_view(kPhpTrim, kPhpTrimLength));
    return begin == std::string::npos ? std::string() : s.substr(begin);
}

// ctype_space() and PCRE's \s in the C locale.
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::size_t utf8_length(const std::string& text) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++count) i += std::abs(utf8_step(text, i));
    return count;
}

// preg_split("/(\r\n|\n|\r)/", $content)
std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines(1);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '\r' && c != '\n') {
            lines.back() += c;
            continue;
        }
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        lines.emplace_back();
    }
    return lines;
}

// Lines::looksLikeMultilineStop: counts '"' preceded by a character other than a backslash,
// after removing every "\\" pair.
bool looks_like_multiline_stop(const std::string& line, bool started) {
    if (line == "\"") return true;
    std::string stripped;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\\') {
            ++i;
            continue;
        }
        stripped += line[i];
    }
    int count = 0;
    for (std::size_t i = 1; i < stripped.size(); ++i) {
        if (stripped[i] == '"' && stripped[i - 1] != '\\') ++count;
    }
    return started ? count > 1 : count >= 1;
}

bool looks_like_multiline_start(const std::string& line) {
    return line.find("=\"") != std::string::npos && !looks_like_multiline_stop(line, true);
}

bool is_comment_or_whitespace(const std::string& line) {
    const std::string trimmed = php_trim(line);
    return trimmed.empty() || trimmed.front() == '#';
}

// A raw entry (one line, or the lines of a multi-line value joined with "\n") and the line
// it starts on.
struct RawEntry {
    std::string text;
    int line = 0;
};

// Lines::process. An unterminated multi-line value at the end of the file is dropped, as there.
std::vector<RawEntry> raw_entries(const std::vector<std::string>& lines) {
    std::vector<RawEntry> out;
    bool multiline = false;
    std::vector<std::string> buffer;
    int buffer_start = 0;
    for (std::size_t n = 0; n < lines.size(); ++n) {
        std::string line = lines[n];
        int start = static_cast<int>(n) + 1;
        const bool started = looks_like_multiline_start(line);
        if (started) multiline = true;
        if (multiline) {
            if (buffer.empty()) buffer_start = start;
            buffer.push_back(line);
            if (looks_like_multiline_stop(line, started)) {
                multiline = false;
                line.clear();
                for (std::size_t k = 0; k < buffer.size(); ++k) line += (k ? "\n" : "") + buffer[k];
                buffer.clear();
                start = buffer_start;
            }
        }
        if (!multiline && !is_comment_or_whitespace(line)) out.push_back({line, start});
    }
    return out;
}

enum class TokenKind { kNewlines, kBlanks, kBackslash, kSingle, kDouble, kHash, kDollar, kOther };

struct Token {
    TokenKind kind;
    std::string text;
};

TokenKind kind_of(char c) {
    switch (c) {
        case '\r':
        case '\n':
            return TokenKind::kNewlines;
        case '\\':
            return TokenKind::kBackslash;
        case '\'':
            return TokenKind::kSingle;
        case '"':
            return TokenKind::kDouble;
        case '#':
            return TokenKind::kHash;
        case '$':
            return TokenKind::kDollar;
        default:
            return is_space(c) ? TokenKind::kBlanks : TokenKind::kOther;
    }
}

// Lexer::lex: runs of newlines, of other blanks, of other characters; the rest one by one.
// (Its 1000-byte cap on a run changes no parse.)
std::vector<Token> lex(const std::string& value) {
    std::vector<Token> tokens;
    for (const char c : value) {
        const TokenKind kind = kind_of(c);
        const bool run =
            kind == TokenKind::kNewlines || kind == TokenKind::kBlanks || kind == TokenKind::kOther;
        if (run && !tokens.empty() && tokens.back().kind == kind) {
            tokens.back().text += c;
        } else {
            tokens.push_back({kind, std::string(1, c)});
        }
    }
    return tokens;
}

bool all_space(const Token& token) {
    return token.kind == TokenKind::kNewlines || token.kind == TokenKind::kBlanks;
}

// A parsed value: its characters and where a '$' that may start ${NAME} sits.
struct Value {
    std::string chars;
    std::vector<std::size_t> vars;  // byte offsets
};

enum class State { kInitial, kUnquoted, kSingle, kDouble, kEscape, kWhitespace, kComment };

void append(Value& value, const std::string& text, bool var) {
    if (var) value.vars.push_back(value.chars.size());
    value.chars += text;
}

// EntryParser::processToken for the escape state: \" \\ \$ and \f \n \r \t \v.
State escape(Value& value, const Token& token, const char*& error) {
    if (token.kind == TokenKind::kDouble || token.kind == TokenKind::kBackslash ||
        token.kind == TokenKind::kDollar) {
        append(value, token.text, false);
        return State::kDouble;
    }
    static const std::string kLetters = "fnrtv";
    static const std::string kCodes = "\f\n\r\t\v";
    const auto at = kLetters.find(token.text.front());
    if (token.kind != TokenKind::kOther || at == std::string::npos) {
        error = "an unexpected escape sequence";
        return State::kEscape;
    }
    append(value, kCodes.substr(at, 1) + token.text.substr(1), false);
    return State::kDouble;
}

State step(State state, const Token& token, Value& value, const char*& error) {
    const TokenKind k = token.kind;
    switch (state) {
        case State::kInitial:
            if (k == TokenKind::kSingle) return State::kSingle;
            if (k == TokenKind::kDouble) return State::kDouble;
            if (k == TokenKind::kHash) return State::kComment;
            append(value, token.text, k == TokenKind::kDollar);
            return State::kUnquoted;
        case State::kUnquoted:
            if (k == TokenKind::kHash) return State::kComment;
            if (all_space(token)) return State::kWhitespace;
            append(value, token.text, k == TokenKind::kDollar);
            return State::kUnquoted;
        case State::kSingle:
            if (k == TokenKind::kSingle) return State::kWhitespace;
            append(value, token.text, false);
            return State::kSingle;
        case State::kDouble:
            if (k == TokenKind::kDouble) return State::kWhitespace;
            if (k == TokenKind::kBackslash) return State::kEscape;
            append(value, token.text, k == TokenKind::kDollar);
            return State::kDouble;
        case State::kEscape:
            return escape(value, token, error);
        case State::kWhitespace:
            if (k == TokenKind::kHash) return State::kComment;
            if (!all_space(token)) error = "unexpected whitespace";
            return State::kWhitespace;
        case State::kComment:
            return State::kComment;
    }
    return state;
}

// EntryParser::parseValue; `error` names the cause when the value is rejected.
Value parse_value(const std::string& text, const char*& error) {
    Value value;
    if (php_trim(text).empty()) return value;
    State state = State::kInitial;
    for (const Token& token : lex(text)) {
        state = step(state, token, value, error);
        if (error != nullptr) return value;
    }
    if (state == State::kSingle || state == State::kDouble || state == State::kEscape) {
        error = "a missing closing quote";
    }
    return value;
}

bool valid_name(const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.';
    });
}

// EntryParser::parseName: an `export ` prefix, then one pair of quotes, then [A-Za-z0-9_.]+.
std::optional<std::string> parse_name(std::string name) {
    if (utf8_length(name) > 8 && name.compare(0, 6, "export") == 0 && is_space(name[6])) {
        name = php_ltrim(name.substr(6));
    }
    if (utf8_length(name) >= 3) {
        const char first = name.front(), last = name.back();
        if ((first == '"' && last == '"') || (first == '\'' && last == '\'')) {
            name = name.substr(1, name.size() - 2);
        }
    }
    if (!valid_name(name)) return std::nullopt;
    return name;
}

// One entry: a name and a value, or a name without '=' (which clears the variable).
struct Entry {
    std::string name;
    std::optional<Value> value;
};

Entry parse_entry(const RawEntry& raw, const std::string& origin) {
    const std::string where = origin + ":" + std::to_string(raw.line) + ": ";
    const std::string as_laravel = " (as Laravel's phpdotenv reads it)";
    std::string name = raw.text;
    std::optional<std::string> value_text;
    if (const auto eq = raw.text.find('='); eq != std::string::npos) {
        name = php_trim(raw.text.substr(0, eq));
        value_text = php_trim(raw.text.substr(eq + 1));
        if (name.empty()) throw ConfigError(where + "a line starts with '='" + as_laravel);
    }
    const auto parsed = parse_name(name);
    if (!parsed) {
        throw ConfigError(where + "invalid variable name; expected [A-Za-z0-9_.]+ before '='" +
                          as_laravel);
    }
    Entry entry{*parsed, std::nullopt};
    if (value_text) {
        const char* error = nullptr;
        entry.value = parse_value(*value_text, error);
        if (error != nullptr) throw ConfigError(where + *parsed + ": " + error + as_laravel);
    }
    return entry;
}

// Laravel's immutable repository: names the process environment defines keep that value.
class Repository {
  public:
    explicit Repository(const GetEnv& getenv) : getenv_(getenv) {}

    std::optional<std::string> get(const std::string& name) const {
        if (const auto it = loaded_.find(name); it != loaded_.end()) return it->second;
        return getenv_(name);
    }
    void set(const std::string& name, const std::string& value) {
        if (!external(name)) loaded_[name] = value;
    }
    void clear(const std::string& name) {
        if (!external(name)) loaded_.erase(name);
    }

  private:
    bool external(const std::string& name) const {
        return !loaded_.count(name) && getenv_(name).has_value();
    }
    const GetEnv& getenv_;
    std::map<std::string, std::string> loaded_;
};

// Resolver::resolve: from the last '$' to the first, each "${NAME}" there becomes NAME's
// value when the repository has one (so a value is never interpolated again, except where an
// earlier '$' now starts a new "${...}").
std::string resolve(const Repository& repository, const Value& value) {
    std::string s = value.chars;
    for (auto it = value.vars.rbegin(); it != value.vars.rend(); ++it) {
        const std::size_t at = *it;
        if (s.compare(at, 2, "${") != 0) continue;
        std::size_t end = at + 2;
        while (end < s.size() && valid_name(std::string(1, s[end]))) ++end;
        if (end == at + 2 || end >= s.size() || s[end] != '}') continue;
        const auto found = repository.get(s.substr(at + 2, end - at - 2));
        if (found) s = s.substr(0, at) + *found + s.substr(end + 1);
    }
    return s;
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

std::string php_utf8_scrub(const std::string& bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (std::size_t i = 0; i < bytes.size();) {
        const int step = utf8_step(bytes, i);
        if (step > 0) {
            out.append(bytes, i, static_cast<std::size_t>(step));
        } else {
            out += '?';
        }
        i += static_cast<std::size_t>(std::abs(step));
    }
    return out;
}

std::optional<std::string> laravel_env_value(const std::string& raw) {
    std::string lower = raw;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
    if (lower == "true" || lower == "(true)") return "1";
    if (lower == "false" || lower == "(false)" || lower == "empty" || lower == "(empty)") {
        return "";
    }
    if (lower == "null" || lower == "(null)") return std::nullopt;
    // preg_match('/\A([\'"])(.*)\1\z/'): '.' does not match "\n".
    if (raw.size() >= 2 && (raw.front() == '"' || raw.front() == '\'') &&
        raw.back() == raw.front()) {
        const std::string inner = raw.substr(1, raw.size() - 2);
        if (inner.find('\n') == std::string::npos) return inner;
    }
    return raw;
}

EnvValues parse_env_text(const std::string& text, const std::string& origin, const GetEnv& getenv,
                         EnvMapping mapping) {
    std::string content = php_utf8_scrub(text);
    if (content.compare(0, 3, "\xEF\xBB\xBF") == 0) content.erase(0, 3);
    std::vector<Entry> entries;
    for (const RawEntry& raw : raw_entries(split_lines(content))) {
        entries.push_back(parse_entry(raw, origin));  // the whole file parses before it loads
    }
    Repository repository(getenv);
    std::set<std::string> names;
    for (const Entry& entry : entries) {
        names.insert(entry.name);
        if (entry.value) {
            repository.set(entry.name, resolve(repository, *entry.value));
        } else {
            repository.clear(entry.name);
        }
    }
    EnvValues values;
    for (const auto& name : names) {
        const auto raw = repository.get(name);
        if (!raw) continue;
        if (mapping == EnvMapping::kRaw) {
            values[name] = *raw;
        } else if (const auto value = laravel_env_value(*raw)) {
            values[name] = *value;
        }
    }
    return values;
}

std::optional<std::string> no_env(const std::string&) { return std::nullopt; }

EnvValues load_env_file(const std::filesystem::path& path, const GetEnv& getenv,
                        EnvMapping mapping) {
    const std::string hint = "give the path of the application's .env file";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        throw ConfigError(
            "--env-file: cannot read '" + path.string() + "': " + std::strerror(errno), hint);
    }
    struct FdCloser {
        int fd;
        ~FdCloser() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        throw ConfigError("--env-file: '" + path.string() + "' is " +
                              (S_ISDIR(st.st_mode) ? "a directory" : "not a regular file") +
                              ", expected the application's .env file",
                          hint);
    }
    std::string text;
    char buffer[65536];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            throw ConfigError("--env-file: cannot read '" + path.string() +
                              "': " + std::strerror(errno));
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return parse_env_text(text, path.string(), getenv, mapping);
}

std::optional<std::string> env_lookup(const EnvValues& values, const std::string& name,
                                      const GetEnv& getenv) {
    if (const auto it = values.find(name); it != values.end()) return it->second;
    const auto raw = getenv(name);
    if (!raw) return std::nullopt;
    return laravel_env_value(*raw);
}

}  // namespace ops
