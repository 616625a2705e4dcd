#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "ops/cli/global_options.hpp"
#include "ops/cli/outcome.hpp"
#include "ops/commands/command.hpp"
#include "ops/db/session.hpp"

namespace ops {

// One invocation of ops: its arguments (after the program name), the streams it writes to,
// and how it reports, read from the raw arguments first so that even an error found while
// parsing them is reported in the format asked for (the last occurrence counts, as in CLI11).
struct Invocation {
    std::vector<std::string> arguments;
    std::ostream* out = nullptr;  // summaries, products, help
    std::ostream* err = nullptr;  // log lines and the error report
    bool json_output = false;
    LogFormat log_format = LogFormat::kText;
    std::string log_level = "info";
};

Invocation read_invocation(std::vector<std::string> arguments, std::ostream& out,
                           std::ostream& err);

// The arguments as given, with the value of --database-url redacted, for the begin line.
std::string describe_arguments(const std::vector<std::string>& arguments);

// One run of one selected command. It owns what the command is given (run context, validated
// options, configuration, session, lock) and what the run leaves behind, so that every way a
// run ends goes through finish():
//
//   Run run(...);
//   Outcome outcome;
//   try { run.start(); outcome = run.execute(); } catch (...) { outcome = classify(...); }
//   return run.finish(outcome);
//
// The lock and the session are released when the object goes, after finish() wrote the run
// record through the session.
class Run {
  public:
    Run(const CommandSpec& spec, Command& command, const GlobalArguments& arguments,
        const Invocation& invocation);
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;
    ~Run() = default;

    // Everything before the command runs: options validated (the global ones, then the
    // command's), logging, configuration, begin line, connection, standby guard, the
    // command's resolve step (Command::resolve), lock.
    // Throws; nothing is left to summarise yet.
    void start();
    // Runs the command; its result so far is summarised even if this throws.
    Outcome execute();
    // Run record, summary (or the early-failure object), end line, error report, metrics.
    // Returns the exit code. Never throws.
    int finish(const Outcome& outcome) noexcept;

    const RunContext& context() const { return context_; }

  private:
    SessionSettings session_settings() const;
    void connect();
    void resolve_and_lock();
    CommandEnv environment();
    void log_begin() const;
    void report(const Outcome& outcome, const Summary& summary) const;
    void record_run(const Summary& summary);
    void write_metrics(const Outcome& outcome, const Summary& summary) const;

    const CommandSpec& spec_;
    Command& command_;
    const GlobalArguments& arguments_;
    const Invocation& invocation_;
    RunContext context_;
    GlobalOptions globals_;
    std::optional<std::filesystem::path> metrics_dir_;  // set once --metrics-dir is validated
    std::optional<ResolvedConfig> config_;
    std::optional<Session> session_;
    std::optional<AdvisoryLock> lock_;  // declared after the session: released before it closes
    bool executed_ = false;             // execute() began: the command has a summary
};

}  // namespace ops
