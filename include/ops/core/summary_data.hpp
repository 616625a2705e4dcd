#pragma once

#include <nlohmann/json.hpp>

namespace ops {

// A command's result, computed first and rendered second (output/summary.hpp renders it). Keys
// keep their insertion order so that text and JSON read the same way. It lives in core because
// pure modules (quota usage, the run's outcome) build summaries without rendering them.
using Summary = nlohmann::ordered_json;

}  // namespace ops
