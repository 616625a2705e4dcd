#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops schedule list`: the baseline schedule with its overrides, as a table or JSON.
CommandSpec schedule_list_spec();

}  // namespace ops
