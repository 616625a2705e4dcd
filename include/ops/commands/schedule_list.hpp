#pragma once

#include "ops/commands/schedule_options.hpp"

namespace ops {

// `ops schedule list`: the baseline schedule with its overrides, as a table or JSON.
class ScheduleListCommand : public Command {
  public:
    static CommandSpec spec();

    void validate() override;
    void execute(CommandEnv& env) override;
    Summary summary() const override { return Summary::object(); }

  private:
    ScheduleOptions schedule_;
};

}  // namespace ops
