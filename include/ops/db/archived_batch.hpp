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
// The result is read once, in order, when the batch arrives, and its text copied into one
// buffer the batch owns. Why a copy: a libpq result is a chain of small blocks that is cold by
// the time the last row arrives, and libpqxx 6.4 builds (and atomically reference-counts) an
// object for every row and field it hands out, so reading it row by row, once for the lines and
// once more for the tally, waited on memory for each row. One sequential pass, then reads of
// one contiguous buffer, cost less than those waits (docs/BENCHMARKS.md, "Client CPU").
class ArchivedBatch {
  public:
    // Columns: id, channel, created_at (text), the archive line.
    explicit ArchivedBatch(const pqxx::result& result);

    std::size_t size() const { return rows_.size(); }
    std::int64_t id(std::size_t i) const { return rows_[i].id; }
    std::string_view channel(std::size_t i) const { return text(rows_[i].start, rows_[i].channel); }
    std::string_view created_at(std::size_t i) const {
        return text(rows_[i].start + rows_[i].channel, rows_[i].created_at);
    }
    std::string_view json(std::size_t i) const {
        const Row& row = rows_[i];
        return text(row.start + row.channel + row.created_at, row.json);
    }

  private:
    struct Row {
        std::int64_t id = 0;
        std::size_t start = 0;  // of the row's channel, created_at and line in text_
        std::uint32_t channel = 0, created_at = 0, json = 0;  // their lengths
    };
    std::string_view text(std::size_t at, std::size_t length) const {
        return {text_.data() + at, length};
    }
    std::string text_;
    std::vector<Row> rows_;
};

// The decimal integer `text` (an id column's text); throws RunFailure on anything else.
std::int64_t parse_row_id(std::string_view text);

}  // namespace ops
