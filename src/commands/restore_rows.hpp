#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "ops/archive/archive_reader.hpp"
#include "ops/db/restore_repository.hpp"

namespace ops {

// One archive line as the values restore binds, by table column. A column the line lacks
// is absent (it takes its default); a value is nullopt for SQL NULL.
struct RestoreRow {
    std::int64_t id = 0;
    std::int64_t line = 0;
    std::vector<std::optional<std::string>> values;
    std::vector<bool> present;
    std::vector<std::string> tokens;  // the archived JSON text of each value, when checked
};

// Where a line's members go: which column a member name is (-1: none the table has).
class LineDecoder {
  public:
    explicit LineDecoder(const std::vector<TableColumn>& columns);

    int column_of(const std::string& key);

    // Turns a whole line into values. False with `error` ("column metadata: ...") when a
    // value cannot be given to PostgreSQL as text.
    bool decode(const ArchiveLine& line, RestoreRow& row, bool keep_tokens, std::string& error);

    // The text of one member of a line as restore binds it: a number's digits as written,
    // a string unescaped, a json column's JSON text as archived, an array as a literal.
    bool value_of(const ArchiveLine& line, const LineField& field, const TableColumn& column,
                  std::optional<std::string>& value, std::string& error);

  private:
    bool mark_json_nulls(const ArchiveLine& line, const LineField& field, RestoreRow& row,
                         std::string& error);

    const std::vector<TableColumn>& columns_;
    std::unordered_map<std::string, int> index_;
    std::vector<int> last_order_;  // column of each member of the previous line
    std::vector<std::string> last_keys_;
};

// The rows of one batch grouped by the columns they carry (a file written across a
// migration has lines with and without a new column): one INSERT per group.
std::vector<std::pair<ShapeRows, std::vector<std::size_t>>> group_rows(
    const std::vector<TableColumn>& columns, const std::vector<RestoreRow>& rows,
    const std::vector<std::size_t>& which);

// A text[] literal of the given values: {"a",NULL,"b\"c"}.
void append_array_element(std::string& array, const std::optional<std::string>& value);

}  // namespace ops
