#include "ops/commands/schedule_laravel.hpp"


#include "ops/commands/schedule_options.hpp"
#include "ops/output/schedule_laravel.hpp"

namespace ops {
namespace {

class ScheduleLaravelCommand : public ScheduleCommand {
  public:
    static CommandSpec spec();

    void execute(CommandEnv& env) override;
};

}  // namespace

CommandSpec ScheduleLaravelCommand::spec() {
    CommandSpec spec = schedule_command_spec(
        "laravel",
        "Print the schedule as Laravel scheduler code: routes/console.php (11+) or Kernel.php",
        "  (every entry gets the global --env-file, default /etc/ops/ops.env, and --metrics-dir)\n"
        "  ops schedule laravel --env-file /etc/ops/ops.env > routes/ops-schedule.php\n"
        "  ops schedule laravel --laravel-version 10.48 --bin /usr/bin/ops   "
        "# the body of Kernel::schedule()");
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<ScheduleLaravelCommand>();
        command->install_.attach(app, /*with_log_dir=*/true, /*with_user=*/false);
        command->schedule_.attach(app);
        return command;
    };
    return spec;
}

void ScheduleLaravelCommand::execute(CommandEnv& env) {
    const bool kernel =
        !env.globals.laravel_version.empty() &&
        !parse_laravel_version(env.globals.laravel_version, "--laravel-version").at_least(11);
    *env.out << render_laravel_schedule(
        schedule_.resolve(env), install_.resolve(env.globals),
        kernel ? LaravelScheduleLayout::kKernel : LaravelScheduleLayout::kRoutesConsole);
}

CommandSpec schedule_laravel_spec() { return ScheduleLaravelCommand::spec(); }

}  // namespace ops
