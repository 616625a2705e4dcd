#pragma once

#include <cstdint>
#include <pqxx/pqxx>
#include <string_view>
#include <vector>

namespace ops {

// One batch taken out of the table: rows already deleted in the open transaction (or fetched
// from a whole partition's copy), each with its full JSON line. The result is read once, when
// the batch arrives: every row's columns become views into the result the batch owns, so the
// writer and the tallies read plain memory. (libpqxx 6.4 copies the result's two shared
// pointers, atomically, for every row and field object it hands out: at 4 fields a row that was
// a tenth of the client's CPU.)
class ArchivedBatch {
  public:
    // Columns: id, channel, created_at (text), the archive line.
    explicit ArchivedBatch(pqxx::result result);

    std::size_t size() const { return rows_.size(); }
    std::int64_t id(std::size_t i) const { return rows_[i].id; }
    std::string_view channel(std::size_t i) const { return rows_[i].channel; }
    std::string_view created_at(std::size_t i) const { return rows_[i].created_at; }
    std::string_view json(std::size_t i) const { return rows_[i].json; }

  private:
    struct Row {
        std::int64_t id = 0;
        std::string_view channel, created_at, json;
    };
    pqxx::result result_;  // owns the bytes the views point into
    std::vector<Row> rows_;
};

// The decimal integer `text` (an id column's text); throws RunFailure on anything else.
std::int64_t parse_row_id(std::string_view text);

}  // namespace ops
