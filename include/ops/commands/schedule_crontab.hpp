#pragma once

#include "ops/commands/schedule_options.hpp"

namespace ops {

// `ops schedule crontab`: the schedule as a crontab that installs as it is.
class ScheduleCrontabCommand : public Command {
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
