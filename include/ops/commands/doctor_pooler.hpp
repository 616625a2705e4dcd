#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// The doctor's report on the route to PostgreSQL: direct, or through a pooler in session or
// transaction mode (observed with a second connection, never through a pooler's admin
// console), and what that means for each command that uses the database.
Summary report_pooler(CommandEnv& env);

}  // namespace ops
