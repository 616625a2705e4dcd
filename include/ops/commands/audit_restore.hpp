#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops audit restore` (src/commands/audit_restore.hpp).
CommandSpec audit_restore_spec();

}  // namespace ops
