#include "ops/commands/schedule_systemd.hpp"


#include "ops/commands/schedule_options.hpp"
#include "ops/core/files.hpp"

namespace ops {
namespace {

class ScheduleSystemdCommand : public ScheduleCommand {
  public:
    static CommandSpec spec();

    void validate() override;
    void execute(CommandEnv& env) override;

  private:
    std::string unit_dir_;
};

}  // namespace

CommandSpec ScheduleSystemdCommand::spec() {
    CommandSpec spec = schedule_command_spec(
        "systemd", "Write the schedule as systemd units: a oneshot .service and a .timer per job",
        "  (every unit gets the global --env-file, default /etc/ops/ops.env, and --metrics-dir)\n"
        "  ops schedule systemd --unit-dir /etc/systemd/system --env-file /etc/ops/ops.env\n"
        "  systemctl daemon-reload && systemctl enable --now ops-audit-archive.timer");
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<ScheduleSystemdCommand>();
        app.add_option("--unit-dir", command->unit_dir_,
                       "write the unit files here, such as /etc/systemd/system")
            ->required();
        command->install_.attach(app, /*with_log_dir=*/false, /*with_user=*/true);
        command->schedule_.attach(app);
        return command;
    };
    return spec;
}

void ScheduleSystemdCommand::validate() {
    ScheduleCommand::validate();
    if (unit_dir_.empty()) throw UsageError("--unit-dir: expected a folder, got ''");
}

void ScheduleSystemdCommand::execute(CommandEnv& env) {
    const auto units = render_systemd_units(schedule_.resolve(env), install_.resolve(env.globals));
    const std::filesystem::path dir = unit_dir_;
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    Summary files = Summary::array();
    std::string listing;
    for (const auto& unit : units) {
        try {
            write_file_atomically(dir / unit.name, unit.text, kPublicFileMode);
        } catch (const std::exception& e) {
            throw RunFailure("--unit-dir: cannot write " + (dir / unit.name).string() + ": " +
                             e.what());
        }
        files.push_back((dir / unit.name).string());
        listing += (dir / unit.name).string() + '\n';
    }
    print_product(env, "schedule systemd", {{"unit_dir", dir.string()}, {"files", files}}, listing);
}

CommandSpec schedule_systemd_spec() { return ScheduleSystemdCommand::spec(); }

}  // namespace ops
