#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "ops/cli/global_options.hpp"
#include "ops/commands/command.hpp"

namespace ops {

// "ops 0.9.0 (commit abc1234, Release build)".
std::string version_text();

// The CLI: the global options and one subcommand per row of the command table, each bound to
// a fresh command object. Built the same way to run a command and to check a scheduled line.
class CommandLine {
  public:
    CommandLine(CLI::App& app, GlobalArguments& globals);

    // The command whose subcommand was parsed, and its spec; {nullptr, nullptr} if none.
    std::pair<const CommandSpec*, std::unique_ptr<Command>> take_selected();

  private:
    std::vector<std::pair<CLI::App*, const CommandSpec*>> leaves_;
    std::vector<std::unique_ptr<Command>> commands_;
};

// CLI11 ended the parse with --help or --version: prints what it asked for on `out`, as text, or
// with --output json as one object ({"help": TEXT} or the version's parts), so that stdout holds
// exactly one JSON object on every exit. Returns the exit code (0).
int print_help_or_version(const CLI::App& app, const CLI::ParseError& request, bool json,
                          std::ostream& out, std::ostream& err);

// Parses `ops ARGUMENTS...` as the CLI would and validates the chosen command's options,
// without running it; throws UsageError. Generators give it to each scheduled command line.
void check_command_line(const std::vector<std::string>& arguments);

}  // namespace ops
