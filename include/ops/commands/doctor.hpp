#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops doctor`: can the commands run here? Connects, then checks what each command declares
// it uses (CommandSpec::needs: tables and columns with a compatible type, privileges,
// sequences, role memberships, ownership) and the archive folder, naming each problem and
// the commands it stops. CI smoke tests and the install check call it.
CommandSpec doctor_spec();

}  // namespace ops
