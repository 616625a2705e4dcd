#include "ops/cli/dispatcher.hpp"

#include <iostream>

#include "ops/cli/command_line.hpp"
#include "ops/cli/run.hpp"
#include "ops/output/logging.hpp"
#include "ops/output/summary.hpp"

namespace ops {
namespace {

// Log lines and error reports go to this invocation's stream while it runs.
class LogStream {
  public:
    explicit LogStream(std::ostream& stream) : previous_(set_log_stream(stream)) {}
    ~LogStream() { set_log_stream(previous_); }
    LogStream(const LogStream&) = delete;
    LogStream& operator=(const LogStream&) = delete;

  private:
    std::ostream& previous_;
};

// The command line did not parse: no command, so no run, no end line and no metrics.
int report_parse_error(const Invocation& invocation, const CLI::ParseError& error) {
    const Outcome outcome{ExitCode::kUsage, "failed", "usage_error", error.what(),
                          "run 'ops --help' or 'ops <group> <command> --help'"};
    if (invocation.json_output) {
        render(failure_summary(nullptr, nullptr, outcome), OutputFormat::kJson, *invocation.out);
    }
    report_error(outcome.error, outcome.hint);
    return static_cast<int>(outcome.code);
}

int run_selected(const CommandSpec& spec, Command& command, const GlobalArguments& arguments,
                 const Invocation& invocation) {
    Run run(spec, command, arguments, invocation);
    setup_logging(invocation.log_level, invocation.log_format, run.context().dry_run);
    Outcome outcome;
    try {
        run.start();
        outcome = run.execute();
    } catch (...) {
        outcome = classify(std::current_exception());
    }
    return run.finish(outcome);
}

int parse_and_run(const Invocation& invocation) {
    CLI::App app("ops: keeps the Laravel application's PostgreSQL database healthy", "ops");
    GlobalArguments arguments;
    CommandLine line(app, arguments);
    std::vector<std::string> reversed(invocation.arguments.rbegin(), invocation.arguments.rend());
    try {
        app.parse(reversed);  // CLI11 takes a vector in reverse order
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {
            return print_help_or_version(app, e, invocation.json_output, *invocation.out,
                                         *invocation.err);
        }
        return report_parse_error(invocation, e);
    }
    auto [spec, command] = line.take_selected();
    if (!command) return static_cast<int>(ExitCode::kUsage);
    return run_selected(*spec, *command, arguments, invocation);
}

}  // namespace

int run_cli(const std::vector<std::string>& arguments, std::ostream& out, std::ostream& err) {
    const LogStream log_stream(err);
    const Invocation invocation = read_invocation(arguments, out, err);
    setup_logging(invocation.log_level, invocation.log_format, DryRun::kNo);
    try {
        return parse_and_run(invocation);
    } catch (...) {
        // Only building the CLI or reporting a parse error can get here (no memory).
        const Outcome outcome = classify(std::current_exception());
        report_error(outcome.error, outcome.hint);
        return static_cast<int>(outcome.code);
    }
}

int run_cli(int argc, char** argv) {
    return run_cli(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}

}  // namespace ops
