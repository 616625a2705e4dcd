#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// On a standby (pg_is_in_recovery()) a command that changes data refuses before anything
// with ConfigError (exit 78); its dry run goes on and says it reads a standby. Commands that
// change nothing (doctor) are left to report it themselves.
void guard_standby(Session& session, const CommandSpec& spec, const RunContext& run);

}  // namespace ops
