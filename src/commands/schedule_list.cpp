#include "ops/commands/schedule_list.hpp"


#include "ops/commands/schedule_options.hpp"

namespace ops {
namespace {

class ScheduleListCommand : public ScheduleCommand {
  public:
    static CommandSpec spec();

    void validate() override;
    void execute(CommandEnv& env) override;
};

}  // namespace

CommandSpec ScheduleListCommand::spec() {
    CommandSpec spec = schedule_command_spec(
        "list", "Show the baseline schedule: when each job runs, its command line, why",
        "  ops schedule list\n"
        "  ops schedule list --output json --schedule-file /etc/ops/schedule.env\n"
        "  ops schedule list --cron audit-archive='0 1 * * *' --disable quota-reconcile-previous");
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<ScheduleListCommand>();
        command->schedule_.attach(app);
        return command;
    };
    return spec;
}

void ScheduleListCommand::validate() { schedule_.validate(); }

void ScheduleListCommand::execute(CommandEnv& env) {
    const Summary table = schedule_table(schedule_.resolve(env));
    if (env.globals.output == OutputFormat::kText) {
        render(table, OutputFormat::kText, *env.out);
    } else {
        print_product(env, "schedule list", table, "");
    }
}

CommandSpec schedule_list_spec() { return ScheduleListCommand::spec(); }

}  // namespace ops
