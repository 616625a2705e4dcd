#include "ops/commands/schedule_crontab.hpp"

#include <iostream>

#include "ops/commands/schedule_options.hpp"

namespace ops {
namespace {

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

}  // namespace

CommandSpec ScheduleCrontabCommand::spec() {
    CommandSpec spec;
    spec.group = "schedule";
    spec.name = "crontab";
    spec.description = "Print the schedule as a crontab: absolute paths, one env file, log files";
    spec.examples =
        "  (every entry gets the global --env-file, default /etc/ops/ops.env, and --metrics-dir)\n"
        "  ops schedule crontab --env-file /etc/ops/ops.env --metrics-dir /var/lib/ops/metrics\n"
        "  ops schedule crontab --bin /usr/bin/ops --log-dir /var/log/ops > /tmp/ops.cron && "
        "crontab /tmp/ops.cron";
    spec.traits = {
        .needs_database = false, .takes_lock = false, .records_run = false, .generator = true};
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<ScheduleCrontabCommand>();
        command->install_.attach(app, /*with_log_dir=*/true, /*with_user=*/false);
        command->schedule_.attach(app);
        return command;
    };
    return spec;
}

void ScheduleCrontabCommand::validate() {
    schedule_.validate();
    install_.validate();
}

void ScheduleCrontabCommand::execute(CommandEnv& env) {
    const std::string crontab =
        render_crontab(schedule_.resolve(env), install_.resolve(env.globals));
    print_product(env, "schedule crontab", {{"crontab", crontab}}, crontab);
}

CommandSpec schedule_crontab_spec() { return ScheduleCrontabCommand::spec(); }

}  // namespace ops
