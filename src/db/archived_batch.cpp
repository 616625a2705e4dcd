#include "ops/db/archived_batch.hpp"

#include <charconv>
#include <string>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

constexpr pqxx::row::size_type kColumns = 4;

std::string_view view_of(const pqxx::field& field) { return {field.c_str(), field.size()}; }

std::uint32_t append(std::string& text, std::string_view value) {
    text.append(value);
    return static_cast<std::uint32_t>(value.size());
}

}  // namespace

std::int64_t parse_row_id(std::string_view text) {
    std::int64_t id = 0;
    const char* end = text.data() + text.size();
    const auto [at, error] = std::from_chars(text.data(), end, id);
    if (error != std::errc() || at != end || text.empty()) {
        throw RunFailure("an archived row's id is not an integer: '" + std::string(text) + "'");
    }
    return id;
}

// The fewest libpqxx objects that reach every value: libpqxx 6.4's iterators hand out a new
// row or field (each holding two shared pointers, so four atomic operations) for every `*`.
// So one row iterator walks the result (through `->`, which is the iterator itself) and one
// field iterator a row walks its columns, each read from the iterator, which is a field: one
// object a row instead of six (docs/BENCHMARKS.md, "2026-12-02 morning").
ArchivedBatch::ArchivedBatch(const pqxx::result& result) : result_(result) {
    if (result_.columns() != kColumns && !result_.empty()) {
        throw RunFailure("an archived batch has " + std::to_string(result_.columns()) +
                         " columns, not id, channel, created_at and the line");
    }
    rows_.reserve(result_.size());
    const auto end = result_.end();
    for (auto row = result_.begin(); row != end; ++row) {
        auto field = row->begin();
        Row values;
        values.id = parse_row_id(view_of(field));
        values.start = text_.size();
        values.channel = append(text_, view_of(++field));
        values.created_at = append(text_, view_of(++field));
        const std::string_view line = view_of(++field);
        values.line = line.data();
        values.json = static_cast<std::uint32_t>(line.size());
        // Room for the batch at the first row's size, with a margin (most batches then grow the
        // buffer once or not at all).
        if (rows_.empty()) text_.reserve(text_.size() * result_.size() * 5 / 4);
        rows_.push_back(values);
    }
}

}  // namespace ops
