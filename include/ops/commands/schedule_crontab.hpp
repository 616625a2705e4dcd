#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops schedule crontab`: the schedule as a crontab that installs as it is.
CommandSpec schedule_crontab_spec();

}  // namespace ops
