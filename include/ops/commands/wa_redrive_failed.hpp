#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops wa redrive-failed` (src/commands/wa_redrive_failed.hpp).
CommandSpec wa_redrive_failed_spec();

}  // namespace ops
