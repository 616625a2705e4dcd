#pragma once

#include <ostream>

#include "ops/core/config.hpp"
#include "ops/core/summary_data.hpp"

namespace ops {

// Renders a summary as aligned text: scalars as "key  value", objects as indented
// sub-lists, arrays of objects as tables. Long tables are cut to `max_table_rows` with a note.
void render_text(const Summary& summary, std::ostream& out, std::size_t max_table_rows = 20);

// Exactly one JSON object on one line.
void render_json(const Summary& summary, std::ostream& out);

void render(const Summary& summary, OutputFormat format, std::ostream& out);

}  // namespace ops
