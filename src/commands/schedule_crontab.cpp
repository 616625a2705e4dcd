#include "ops/commands/schedule_crontab.hpp"


#include "ops/commands/schedule_options.hpp"

namespace ops {
namespace {

class ScheduleCrontabCommand : public ScheduleCommand {
  public:
    static CommandSpec spec();

    void execute(CommandEnv& env) override;
};

}  // namespace

CommandSpec ScheduleCrontabCommand::spec() {
    CommandSpec spec = schedule_command_spec(
        "crontab", "Print the schedule as a crontab: absolute paths, one env file, log files",
        "  (every entry gets the global --env-file, default /etc/ops/ops.env, and --metrics-dir)\n"
        "  ops schedule crontab --env-file /etc/ops/ops.env --metrics-dir /var/lib/ops/metrics\n"
        "  ops schedule crontab --bin /usr/bin/ops --log-dir /var/log/ops > /tmp/ops.cron && "
        "crontab /tmp/ops.cron");
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<ScheduleCrontabCommand>();
        command->install_.attach(app, /*with_log_dir=*/true, /*with_user=*/false);
        command->schedule_.attach(app);
        return command;
    };
    return spec;
}

void ScheduleCrontabCommand::execute(CommandEnv& env) {
    const std::string crontab =
        render_crontab(schedule_.resolve(env), install_.resolve(env.globals));
    print_product(env, "schedule crontab", {{"crontab", crontab}}, crontab);
}

CommandSpec schedule_crontab_spec() { return ScheduleCrontabCommand::spec(); }

}  // namespace ops
