#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops schedule systemd`: the schedule as a .service and .timer per job, written to a folder.
CommandSpec schedule_systemd_spec();

}  // namespace ops
