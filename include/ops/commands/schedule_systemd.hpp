#pragma once

#include "ops/commands/schedule_options.hpp"

namespace ops {

// `ops schedule systemd`: the schedule as a .service and .timer per job, written to a folder.
class ScheduleSystemdCommand : public Command {
  public:
    static CommandSpec spec();

    void validate() override;
    void execute(CommandEnv& env) override;
    Summary summary() const override { return Summary::object(); }

  private:
    ScheduleOptions schedule_;
    InstallOptions install_;
    std::string unit_dir_;
};

}  // namespace ops
