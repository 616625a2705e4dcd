#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops schedule laravel`: the schedule as code for the application's own scheduler:
// routes/console.php for Laravel 11+ (the default), or with --laravel-version below 11 the
// body of app/Console/Kernel.php's schedule() method.
CommandSpec schedule_laravel_spec();

}  // namespace ops
