#include "ops/db/statement.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <stdexcept>

namespace ops {
namespace {

bool starts_name(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool continues_name(char c) { return starts_name(c) || (c >= '0' && c <= '9'); }

// Copies SQL text through, replacing each `:name` outside literals, quoted identifiers and
// comments by its $n.
class Translator {
  public:
    explicit Translator(std::string_view sql) : sql_(sql) { out_.reserve(sql.size()); }

    void run() {
        while (at_ < sql_.size()) step();
    }
    std::string positional() { return std::move(out_); }
    std::vector<std::string> names() { return std::move(names_); }

  private:
    void step() {
        const char c = sql_[at_];
        const char next = at_ + 1 < sql_.size() ? sql_[at_ + 1] : '\0';
        if (c == '\'' || c == '"') {
            copy_quoted(c);
        } else if (c == '-' && next == '-') {
            copy_until("\n", 1);
        } else if (c == '/' && next == '*') {
            copy_until("*/", 2);
        } else if (c == '$') {
            fail("a positional parameter or dollar quote ($); name it (:name)");
        } else if (c == ':' && next == ':') {
            out_ += "::";
            at_ += 2;
        } else if (c == ':' && starts_name(next)) {
            placeholder();
        } else {
            out_ += c;
            ++at_;
        }
    }

    // 'text' or "identifier", a doubled quote standing for itself.
    void copy_quoted(char quote) {
        const std::size_t start = at_;
        for (++at_; at_ < sql_.size(); ++at_) {
            if (sql_[at_] != quote) continue;
            if (at_ + 1 < sql_.size() && sql_[at_ + 1] == quote) {
                ++at_;
                continue;
            }
            ++at_;
            out_.append(sql_.substr(start, at_ - start));
            return;
        }
        fail("an unterminated quote");
    }

    void copy_until(std::string_view end, std::size_t opener) {
        const auto found = sql_.find(end, at_ + opener);
        if (found == std::string_view::npos && end != "\n") fail("an unterminated comment");
        const std::size_t stop = found == std::string_view::npos ? sql_.size() : found + end.size();
        out_.append(sql_.substr(at_, stop - at_));
        at_ = stop;
    }

    void placeholder() {
        std::size_t end = at_ + 1;
        while (end < sql_.size() && continues_name(sql_[end])) ++end;
        const std::string name(sql_.substr(at_ + 1, end - at_ - 1));
        const auto known = std::find(names_.begin(), names_.end(), name);
        const auto index = static_cast<std::size_t>(known - names_.begin());
        if (known == names_.end()) names_.push_back(name);
        out_ += '$';
        out_ += std::to_string(index + 1);
        at_ = end;
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw std::invalid_argument("SQL statement: " + what + " at offset " + std::to_string(at_) +
                                    ": " + std::string(sql_.substr(0, 60)));
    }

    std::string_view sql_;
    std::size_t at_ = 0;
    std::string out_;
    std::vector<std::string> names_;
};

}  // namespace

Statement::Statement(std::string_view named_sql) {
    Translator translator(named_sql);
    translator.run();
    positional_ = translator.positional();
    names_ = translator.names();
}

std::optional<std::size_t> Statement::index_of(std::string_view name) const {
    const auto found = std::find(names_.begin(), names_.end(), name);
    if (found == names_.end()) return std::nullopt;
    return static_cast<std::size_t>(found - names_.begin());
}

ParamText param_text(std::string_view text) { return std::string(text); }
ParamText param_text(const std::string& text) { return text; }
ParamText param_text(const char* text) {
    if (text == nullptr) return std::nullopt;
    return std::string(text);
}
ParamText param_text(bool value) { return value ? "true" : "false"; }
ParamText param_text(std::nullopt_t) { return std::nullopt; }

Bindings::Bindings(const Statement& statement)
    : statement_(statement),
      values_(statement.names().size()),
      bound_(statement.names().size(), false) {}

void Bindings::put(std::string_view name, ParamText text) {
    const auto index = statement_.index_of(name);
    if (!index) {
        throw std::logic_error("SQL statement has no parameter :" + std::string(name));
    }
    values_[*index] = std::move(text);
    bound_[*index] = true;
}

std::vector<const char*> Bindings::values() const {
    std::vector<const char*> pointers;
    pointers.reserve(values_.size());
    for (std::size_t i = 0; i < values_.size(); ++i) {
        if (!bound_[i]) {
            throw std::logic_error("SQL statement parameter :" + statement_.names()[i] +
                                   " was not set");
        }
        pointers.push_back(values_[i] ? values_[i]->c_str() : nullptr);
    }
    return pointers;
}

pqxx::result run(pqxx::transaction_base& tx, const Bindings& bindings) {
    const std::vector<const char*> values = bindings.values();
    return tx.exec_params(bindings.statement().positional(),
                          pqxx::prepare::make_dynamic_params(values));
}

pqxx::row run1(pqxx::transaction_base& tx, const Bindings& bindings) {
    const pqxx::result rows = run(tx, bindings);
    if (rows.size() != 1) {
        throw pqxx::unexpected_rows("expected 1 row from a query, got " +
                                    std::to_string(rows.size()));
    }
    return rows[0];
}

std::string json_array(std::span<const std::int64_t> values) {
    std::string out = "[";
    out.reserve(values.size() * 8 + 2);
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out += ',';
        out += std::to_string(values[i]);
    }
    out += ']';
    return out;
}

std::string json_array(std::span<const std::string> values) {
    return nlohmann::json(std::vector<std::string>(values.begin(), values.end())).dump();
}

ParamText json_filter(std::span<const std::int64_t> values) {
    if (values.empty()) return std::nullopt;
    return json_array(values);
}

ParamText json_filter(std::span<const std::string> values) {
    if (values.empty()) return std::nullopt;
    return json_array(values);
}

}  // namespace ops
