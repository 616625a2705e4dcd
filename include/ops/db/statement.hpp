#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pqxx {
class transaction_base;
class result;
class row;
}  // namespace pqxx

namespace ops {

// One SQL statement written with named placeholders (`:tenants`, `:after_id`), translated
// once, when constructed, into libpq's positional form ($1, $2, ...). A name used twice is
// one parameter. `::type` casts, string literals, quoted identifiers and comments are left
// as they are; a positional `$n` (or a dollar-quoted string) is refused, so that every value
// of a statement is bound by name in one place. Throws std::invalid_argument.
//
// Statements run as unnamed parameterised statements (PQexecParams), never as named
// prepared statements: a PgBouncer in transaction mode cannot carry those.
class Statement {
  public:
    explicit Statement(std::string_view named_sql);

    const std::string& positional() const { return positional_; }
    // names()[i] is the name of $(i + 1), in order of first use.
    const std::vector<std::string>& names() const { return names_; }
    std::optional<std::size_t> index_of(std::string_view name) const;

  private:
    std::string positional_;
    std::vector<std::string> names_;
};

// The text libpq sends for a value; nullopt is SQL NULL.
using ParamText = std::optional<std::string>;

ParamText param_text(std::string_view text);
ParamText param_text(const std::string& text);
ParamText param_text(const char* text);  // nullptr: NULL
ParamText param_text(bool value);
ParamText param_text(std::nullopt_t);
template <std::integral T>
requires(!std::same_as<T, bool>) ParamText param_text(T value) { return std::to_string(value); }
template <typename T>
ParamText param_text(const std::optional<T>& value) {
    if (!value) return std::nullopt;
    return param_text(*value);
}

// The values of one execution of a Statement, each set by name. Every parameter must be set
// (NULL too, explicitly) before it runs; setting a name the statement does not use is a
// mistake too. Both throw std::logic_error.
class Bindings {
  public:
    explicit Bindings(const Statement& statement);

    template <typename T>
    Bindings& set(std::string_view name, const T& value) {
        put(name, param_text(value));
        return *this;
    }

    const Statement& statement() const { return statement_; }
    // One pointer per parameter ($1 first), nullptr for NULL; valid while this lives.
    std::vector<const char*> values() const;

  private:
    void put(std::string_view name, ParamText text);

    const Statement& statement_;
    std::vector<ParamText> values_;
    std::vector<bool> bound_;
};

// Runs the statement with its bindings in `tx` (unnamed, PQexecParams).
pqxx::result run(pqxx::transaction_base& tx, const Bindings& bindings);
// The same for a statement that returns exactly one row (else pqxx::unexpected_rows).
pqxx::row run1(pqxx::transaction_base& tx, const Bindings& bindings);

// Lists travel as one JSON-array parameter (expanded with json_array_elements_text).
std::string json_array(std::span<const std::int64_t> values);
std::string json_array(std::span<const std::string> values);
// A filter list: its JSON array, or NULL when it is empty ("no filter").
ParamText json_filter(std::span<const std::int64_t> values);
ParamText json_filter(std::span<const std::string> values);

// The one text form of a naive wall time ops reads and binds, as to_char()'s pattern
// ("2026-12-01 02:30:00"): bound as the parameter :wall_time wherever a statement renders
// a timestamp.
constexpr const char* kWallTimeFormat = "YYYY-MM-DD HH24:MI:SS";

}  // namespace ops
