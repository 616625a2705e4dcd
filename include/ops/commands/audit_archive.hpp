#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops audit archive` (src/commands/audit_archive.hpp).
CommandSpec audit_archive_spec();

}  // namespace ops
