#include "restore_rows.hpp"

#include <map>

namespace ops {

LineDecoder::LineDecoder(const std::vector<TableColumn>& columns) : columns_(columns) {
    for (std::size_t i = 0; i < columns.size(); ++i) index_[columns[i].name] = static_cast<int>(i);
}

int LineDecoder::column_of(const std::string& key) {
    const auto it = index_.find(key);
    return it == index_.end() ? -1 : it->second;
}

bool LineDecoder::value_of(const ArchiveLine& line, const LineField& field,
                           const TableColumn& column, std::optional<std::string>& value,
                           std::string& error) {
    const std::string_view text = line.text;
    const std::string_view token = text.substr(field.begin, field.end - field.begin);
    if (field.kind == JsonKind::kNull) {
        value.reset();
        return true;
    }
    value.emplace();
    if (column.is_json) {
        // As archived, whitespace around it included: json keeps its text.
        value->assign(text.substr(field.raw_begin, field.raw_end - field.raw_begin));
        return true;
    }
    if (column.is_array && field.kind == JsonKind::kArray)
        return json_array_to_pg_literal(token, column.elements_json, *value, error);
    if (field.kind == JsonKind::kString) return unescape_json_string(token, *value, error);
    value->assign(token);
    return true;
}

bool LineDecoder::mark_json_nulls(const ArchiveLine& line, const LineField& field, RestoreRow& row,
                                  std::string& error) {
    if (field.kind != JsonKind::kArray) {
        error = std::string(kJsonNullKey) + ": expected an array of column names";
        return false;
    }
    // The line was validated: in the array, a '"' only ever opens or closes a name.
    const std::string_view list =
        std::string_view(line.text).substr(field.begin, field.end - field.begin);
    std::string name;
    for (std::size_t at = 0; (at = list.find('"', at)) != std::string_view::npos;) {
        std::size_t end = at + 1;
        while (list[end] != '"') end += list[end] == '\\' ? 2 : 1;
        if (!unescape_json_string(list.substr(at, end - at + 1), name, error)) return false;
        const int index = column_of(name);
        if (index >= 0 && columns_[static_cast<std::size_t>(index)].is_json &&
            row.present[static_cast<std::size_t>(index)]) {
            row.values[static_cast<std::size_t>(index)] = "null";
        }
        at = end + 1;
    }
    return true;
}

bool LineDecoder::decode(const ArchiveLine& line, RestoreRow& row, bool keep_tokens,
                         std::string& error) {
    row.id = line.id;
    row.line = line.number;
    row.values.assign(columns_.size(), std::nullopt);
    row.present.assign(columns_.size(), false);
    if (keep_tokens) row.tokens.assign(columns_.size(), std::string());
    const LineField* json_nulls = nullptr;
    last_order_.resize(line.fields.size(), -2);
    last_keys_.resize(line.fields.size());
    for (std::size_t i = 0; i < line.fields.size(); ++i) {
        const LineField& field = line.fields[i];
        if (field.key == kJsonNullKey && column_of(field.key) < 0) {
            json_nulls = &field;
            continue;
        }
        // Lines of one file mostly list the same members in the same order.
        if (last_keys_[i] != field.key) {
            last_keys_[i] = field.key;
            last_order_[i] = column_of(field.key);
        }
        const int index = last_order_[i];
        if (index < 0) continue;  // a dropped column (checked before the restore began)
        const auto c = static_cast<std::size_t>(index);
        if (columns_[c].generated) continue;
        row.present[c] = true;
        if (!value_of(line, field, columns_[c], row.values[c], error)) {
            error = std::string("column ").append(field.key).append(": ").append(error);
            return false;
        }
        if (keep_tokens) row.tokens[c].assign(line.text, field.begin, field.end - field.begin);
    }
    return json_nulls == nullptr || mark_json_nulls(line, *json_nulls, row, error);
}

void append_array_element(std::string& array, const std::optional<std::string>& value) {
    array += array.size() > 1 ? "," : "";
    if (!value) {
        array += "NULL";
        return;
    }
    array += '"';
    for (const char c : *value) {
        if (c == '"' || c == '\\') array += '\\';
        array += c;
    }
    array += '"';
}

std::vector<std::pair<ShapeRows, std::vector<std::size_t>>> group_rows(
    const std::vector<TableColumn>& columns, const std::vector<RestoreRow>& rows,
    const std::vector<std::size_t>& which) {
    std::map<std::vector<bool>, std::vector<std::size_t>> by_shape;
    for (const std::size_t r : which) by_shape[rows[r].present].push_back(r);
    std::vector<std::pair<ShapeRows, std::vector<std::size_t>>> groups;
    for (auto& [present, members] : by_shape) {
        ShapeRows shape;
        for (std::size_t c = 0; c < columns.size(); ++c) {
            if (!present[c]) continue;
            if (columns[c].name == "id") shape.id_position = shape.columns.size();
            shape.columns.push_back(&columns[c]);
            std::string array = "{";
            for (const std::size_t r : members) append_array_element(array, rows[r].values[c]);
            shape.arrays.push_back(array + "}");
        }
        groups.emplace_back(std::move(shape), std::move(members));
    }
    return groups;
}

}  // namespace ops
