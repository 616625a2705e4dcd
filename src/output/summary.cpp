#include "ops/output/summary.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "ops/core/text.hpp"

namespace ops {
namespace {

std::string scalar_text(const Summary& value) {
    if (value.is_null()) return "-";
    // A value from outside (a channel name) must not start a line of its own.
    if (value.is_string()) return escape_control(value.get<std::string>());
    if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
    if (value.is_array() && value.empty()) return "(none)";
    if (value.is_object() && value.empty()) return "(none)";
    if (value.is_array()) {
        std::string joined;
        for (const auto& item : value) joined += (joined.empty() ? "" : ", ") + scalar_text(item);
        return joined;
    }
    return value.dump();
}

bool is_scalar_list(const Summary& value) {
    return value.is_array() &&
           std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_primitive(); });
}

bool is_flat(const Summary& value) { return value.is_primitive() || is_scalar_list(value); }

std::size_t key_width(const Summary& object) {
    std::size_t width = 0;
    for (const auto& [key, value] : object.items()) width = std::max(width, key.size());
    return width;
}

void pad(std::ostream& out, const std::string& text, std::size_t width) {
    out << text << std::string(width > text.size() ? width - text.size() : 0, ' ');
}

void render_table(const Summary& rows, std::ostream& out, const std::string& indent,
                  std::size_t max_rows) {
    std::vector<std::string> columns;
    for (const auto& row : rows) {
        for (const auto& [key, value] : row.items()) {
            if (std::find(columns.begin(), columns.end(), key) == columns.end())
                columns.push_back(key);
        }
    }
    const std::size_t shown = std::min(rows.size(), max_rows);
    std::vector<std::size_t> widths;
    for (const auto& column : columns) {
        std::size_t width = column.size();
        for (std::size_t i = 0; i < shown; ++i) {
            const auto& row = rows[i];
            width = std::max(width, row.contains(column) ? scalar_text(row[column]).size() : 1);
        }
        widths.push_back(width);
    }
    out << indent;
    for (std::size_t c = 0; c < columns.size(); ++c) pad(out, columns[c], widths[c] + 2);
    out << '\n';
    for (std::size_t i = 0; i < shown; ++i) {
        out << indent;
        for (std::size_t c = 0; c < columns.size(); ++c) {
            const auto& row = rows[i];
            pad(out, row.contains(columns[c]) ? scalar_text(row[columns[c]]) : "-", widths[c] + 2);
        }
        out << '\n';
    }
    if (shown < rows.size()) {
        out << indent << "... " << rows.size() - shown << " more (use --output json for all)\n";
    }
}

void render_object(const Summary& object, std::ostream& out, const std::string& indent,
                   std::size_t max_rows) {
    const std::size_t width = key_width(object) + 2;
    for (const auto& [raw_key, value] : object.items()) {
        const std::string key = escape_control(raw_key);  // keys can be channel names
        out << indent;
        if (is_flat(value) || value.empty()) {
            pad(out, key, width);
            out << scalar_text(value) << '\n';
        } else if (value.is_object()) {
            out << key << '\n';
            render_object(value, out, indent + "  ", max_rows);
        } else {
            out << key << '\n';
            render_table(value, out, indent + "  ", max_rows);
        }
    }
}

}  // namespace

void render_text(const Summary& summary, std::ostream& out, std::size_t max_table_rows) {
    render_object(summary, out, "", max_table_rows);
}

void render_json(const Summary& summary, std::ostream& out) {
    out << summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

void render(const Summary& summary, OutputFormat format, std::ostream& out) {
    if (format == OutputFormat::kJson) {
        render_json(summary, out);
    } else {
        render_text(summary, out);
    }
    out.flush();
}

}  // namespace ops
