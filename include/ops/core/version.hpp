#pragma once

#include <string_view>

namespace ops {

std::string_view tool_version();
std::string_view git_commit();
std::string_view build_type();

}  // namespace ops
