#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops quota reconcile` (src/commands/quota_reconcile.hpp).
CommandSpec quota_reconcile_spec();

}  // namespace ops
