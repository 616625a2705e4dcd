#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "ops/commands/needs.hpp"
#include "ops/core/config.hpp"
#include "ops/core/errors.hpp"
#include "ops/core/run_context.hpp"
#include "ops/db/session.hpp"
#include "ops/output/summary.hpp"

namespace ops {

// What the dispatcher hands a command: the run and, for commands that need one, the session.
struct CommandEnv {
    RunContext& run;
    const GlobalOptions& globals;
    Session* session;  // null for commands that declare no database
    // Opens another connection with the same settings, for commands that work in parallel.
    std::function<std::unique_ptr<Session>()> open_session;
    // Parses `ops ARGUMENTS...` as the CLI would and validates the chosen command's
    // options, without running it; throws UsageError. For commands that write command lines.
    std::function<void(const std::vector<std::string>&)> check_command_line;
    // The resolved configuration (env file, Laravel version); null for generators.
    const ResolvedConfig* config = nullptr;
    // Where a command prints what is not its summary (a generator's product): stdout, or the
    // stream an in-process run (a test) gave run_cli.
    std::ostream* out = &std::cout;
};

// A command reads like its runbook: validate options, plan (what a dry run reports),
// execute in batches, and keep a summary of what it did so far, which the dispatcher
// prints whether the run ends well, is interrupted or fails.
class Command {
  public:
    virtual ~Command() = default;

    // Checks option values; throws UsageError. No side effects.
    virtual void validate() = 0;
    virtual DryRun dry_run() const { return DryRun::kNo; }
    // The resolve step: after connecting, before the lock, what validate() cannot decide
    // without the database (a cutoff on its clock); the only other place that throws
    // UsageError. No changes.
    virtual void resolve(CommandEnv& /*env*/) {}
    virtual void execute(CommandEnv& env) = 0;
    // The result so far, without `command`, `dry_run` and `duration_ms` (the dispatcher adds them).
    virtual Summary summary() const = 0;
    // True once the run has committed any change, so that it leaves a run record.
    virtual bool changed_data() const { return false; }
    // The exit code of a run that ended normally (e.g. kDriftFound for a check).
    virtual ExitCode outcome() const { return ExitCode::kSuccess; }
};

// What set-up a command needs, declared as data so that one start-up path provides it.
struct CommandTraits {
    bool needs_database = true;
    bool takes_lock = true;   // an advisory lock per command, skipped in dry runs
    bool records_run = true;  // an audit_events row for every run that changed data
    // Prints a product (a crontab, unit files) rather than a run's summary: no config is
    // resolved (its --env-file is a path it writes, not one it reads), no begin and end log
    // lines, no summary, no metrics.
    bool generator = false;
};

// One row of the command table: where the command sits in the CLI and how to build it.
struct CommandSpec {
    std::string group;  // "audit"; empty for top-level commands such as "doctor"
    std::string name;   // "archive"
    std::string description;
    std::string examples;
    CommandTraits traits;
    // What it uses in the database; `ops doctor` checks it (with the run record's needs when
    // traits.records_run).
    DatabaseNeeds needs;
    // Adds the command's options to its CLI11 subcommand and returns the command bound to them.
    std::function<std::unique_ptr<Command>(CLI::App&)> attach;

    std::string full_name() const { return group.empty() ? name : group + " " + name; }
    std::string event_name() const { return "ops." + (group.empty() ? name : group + "." + name); }
};

const std::vector<CommandSpec>& command_table();

}  // namespace ops
