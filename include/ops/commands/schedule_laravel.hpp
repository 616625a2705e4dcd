#pragma once

#include "ops/commands/schedule_options.hpp"

namespace ops {

// `ops schedule laravel`: the schedule as code for the application's own scheduler:
// routes/console.php for Laravel 11+ (the default), or with --laravel-version below 11 the
// body of app/Console/Kernel.php's schedule() method.
class ScheduleLaravelCommand : public Command {
  public:
    static CommandSpec spec();

    void validate() override;
    void execute(CommandEnv& env) override;
    Summary summary() const override { return Summary::object(); }

  private:
    ScheduleOptions schedule_;
    InstallOptions install_;
};

}  // namespace ops
