#pragma once

#include <CLI/CLI.hpp>

#include "ops/commands/command.hpp"
#include "ops/output/schedule_files.hpp"
#include "ops/schedule/schedule.hpp"

namespace ops {

// The options every `ops schedule` command shares: how the baseline is overridden.
class ScheduleOptions {
  public:
    void attach(CLI::App& app);
    void validate() const;
    // The schedule with its overrides, each job's command line checked as `ops` would parse it.
    std::vector<ScheduledJob> resolve(const CommandEnv& env) const;

  private:
    ScheduleOverrides overrides_;
};

// Where the generated entries find the binary, the env file, the metrics and log folders.
class InstallOptions {
  public:
    // `log_dir` and `user` are offered only by the generators that use them.
    void attach(CLI::App& app, bool with_log_dir, bool with_user);
    void validate() const;
    // The env file and metrics folder are the global --env-file and --metrics-dir.
    InstallPaths resolve(const GlobalOptions& globals) const;

  private:
    std::string bin_;
    std::string log_dir_ = "/var/log/ops";
    std::string user_ = "ops";
};

// The shape every `ops schedule` command shares: a generator (no summary: its product is its
// output) built from the schedule's overrides and the install paths of the entries it writes.
class ScheduleCommand : public Command {
  public:
    void validate() override {
        schedule_.validate();
        install_.validate();
    }
    Summary summary() const override { return Summary::object(); }

  protected:
    ScheduleOptions schedule_;
    InstallOptions install_;
};

// A spec in the schedule group with the generator traits: no database, lock, run record.
CommandSpec schedule_command_spec(std::string name, std::string description, std::string examples);

// What a generator prints on stdout: with --output text the product itself (`text`), with
// --output json one object framing it like a run's summary (command, status, exit_code) plus
// `product`'s keys.
void print_product(const CommandEnv& env, const std::string& command, const Summary& product,
                   const std::string& text);

// Paths in a schedule must not depend on the folder cron or systemd start in.
void require_absolute(const std::string& path, const std::string& option);

}  // namespace ops
