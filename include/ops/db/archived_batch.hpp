#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

namespace ops {

// One batch taken out of the table: rows already deleted in the open transaction (or fetched
// from a whole partition's copy), each with its full JSON line.
//
// The result is read once, in order, when the batch arrives. Why: libpqxx 6.4 builds (and
// atomically reference-counts) an object for every row and field it hands out, so reading the
// result row by row, once for the lines and once more for the tally, paid for those objects
// twice and waited on memory for each row. The one pass copies each row's channel and
// created_at (a few dozen bytes) into one buffer the tally then reads hot, and keeps where each
// line lies in the result, which the batch holds: the lines, most of the bytes, are read once
// more, by the writer, and never copied (docs/BENCHMARKS.md, "Client CPU").
class ArchivedBatch {
  public:
    // Columns: id, channel, created_at (text), the archive line.
    explicit ArchivedBatch(const pqxx::result& result);  // shares it (libpqxx results are shared)

    std::size_t size() const { return rows_.size(); }
    std::int64_t id(std::size_t i) const { return rows_[i].id; }
    std::string_view channel(std::size_t i) const { return text(rows_[i].start, rows_[i].channel); }
    std::string_view created_at(std::size_t i) const {
        return text(rows_[i].start + rows_[i].channel, rows_[i].created_at);
    }
    std::string_view json(std::size_t i) const { return {rows_[i].line, rows_[i].json}; }

  private:
    struct Row {
        std::int64_t id = 0;
        const char* line = nullptr;  // in result_
        std::size_t start = 0;       // of the row's channel and created_at in text_
        std::uint32_t channel = 0, created_at = 0, json = 0;  // their lengths
    };
    std::string_view text(std::size_t at, std::size_t length) const {
        return {text_.data() + at, length};
    }
    pqxx::result result_;
    std::string text_;
    std::vector<Row> rows_;
};

// The decimal integer `text` (an id column's text); throws RunFailure on anything else.
std::int64_t parse_row_id(std::string_view text);

}  // namespace ops
