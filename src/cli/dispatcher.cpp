#include "ops/cli/dispatcher.hpp"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <map>
#include <optional>
#include <pqxx/pqxx>

#include "ops/cli/global_options.hpp"
#include "ops/cli/standby_guard.hpp"
#include "ops/commands/command.hpp"
#include "ops/core/files.hpp"
#include "ops/core/version.hpp"
#include "ops/db/run_record_repository.hpp"
#include "ops/db/sql_error.hpp"
#include "ops/output/logging.hpp"
#include "ops/output/metrics.hpp"

namespace ops {
namespace {

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0   success\n"
    "  1   failure at run time (lost connection, disk full, ...); the summary says what was done\n"
    "  2   usage error: a bad option or value\n"
    "  3   drift found (checks such as quota reconcile --fail-on-drift)\n"
    "  69  database unreachable or authentication failed\n"
    "  75  try again later: another run of the command holds its lock, or replica lag stopped it\n"
    "  78  configuration error (unreadable or invalid env file, no database settings, a\n"
    "      DB_CONNECTION or QUEUE_CONNECTION ops cannot serve, job settings unlike the app's,\n"
    "      a standby, a role without pg_monitor for --max-lag*, a replication preflight refusal)\n"
    "  130/143  interrupted by SIGINT/SIGTERM after finishing or rolling back the batch in flight\n"
    "\n"
    "Connection: --database-url, else $OPS_DATABASE_URL, else $DATABASE_URL, else --env-file\n"
    "(its OPS_DATABASE_URL, else the DB_* of a Laravel .env), else libpq defaults and PG*\n"
    "variables. Keep passwords out of the command line.";

struct Selected {
    const CommandSpec* spec = nullptr;
    std::unique_ptr<Command> command;
};

std::string group_description(const std::string& group) {
    if (group == "audit") return "The audit_events trail: archive, verify, restore";
    if (group == "wa") return "WhatsApp messages: redrive failed sends";
    if (group == "quota") return "Monthly quota usage: reconcile from orders";
    if (group == "schedule")
        return "The baseline schedule: list it, print a crontab, write systemd units, Laravel code";
    return "";
}

std::string version_text() {
    return "ops " + std::string(tool_version()) + " (commit " + std::string(git_commit()) + ", " +
           std::string(build_type()) + " build)";
}

// How the run reports, read from the raw arguments so that even an error found while
// parsing them is reported in the format asked for (the last occurrence counts, as in CLI11).
struct Reporting {
    bool json_output = false;
    LogFormat log_format = LogFormat::kText;
    std::string log_level = "info";
};

std::optional<std::string> raw_option(int argc, char** argv, const std::string& name) {
    std::optional<std::string> value;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == name && i + 1 < argc) {
            value = argv[++i];
        } else if (arg.rfind(name + "=", 0) == 0) {
            value = arg.substr(name.size() + 1);
        }
    }
    return value;
}

Reporting reporting_from(int argc, char** argv) {
    Reporting reporting;
    reporting.json_output = raw_option(argc, argv, "--output") == "json";
    if (raw_option(argc, argv, "--log-format") == "json") reporting.log_format = LogFormat::kJson;
    if (const auto level = raw_option(argc, argv, "--log-level")) {
        try {
            validate_log_level(*level);
            reporting.log_level = *level;
        } catch (const UsageError&) {
            // reported by validation, in the default level
        }
    }
    return reporting;
}

// With --output json, stdout carries exactly one JSON object on every exit: this one when the
// run ended before it had a summary to print (bad option, no connection, lock held).
void print_failure_object(const CommandSpec* spec, const RunContext* run, int code,
                          const std::string& what, const std::string& hint) {
    Summary failure;
    failure["command"] = spec != nullptr ? Summary(spec->full_name()) : Summary(nullptr);
    if (run != nullptr) {
        failure["dry_run"] = run->is_dry_run();
        failure["run_id"] = run->run_id;
    }
    failure["status"] = "failed";
    failure["exit_code"] = code;
    failure["error"] = what;
    failure["hint"] = hint.empty() ? Summary(nullptr) : Summary(hint);
    if (run != nullptr) failure["duration_ms"] = run->elapsed().count();
    render(failure, OutputFormat::kJson, std::cout);
}

// The arguments as given, with the value of --database-url redacted, for the begin line.
std::string describe_arguments(int argc, char** argv) {
    std::string out;
    bool redact_next = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (redact_next) {
            arg = redact_conninfo(arg);
            redact_next = false;
        } else if (arg == "--database-url") {
            redact_next = true;
        } else if (arg.rfind("--database-url=", 0) == 0) {
            arg = "--database-url=" + redact_conninfo(arg.substr(15));
        }
        out += (out.empty() ? "" : " ") + arg;
    }
    return out;
}

std::string host_name() {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    return name;
}

std::string os_user() {
    if (const passwd* entry = getpwuid(getuid()); entry != nullptr) return entry->pw_name;
    return std::to_string(getuid());
}

// How a command's execution ended. Errors raised while it runs are reported together with
// the summary of what it did; library exceptions are translated here, at the boundary.
struct Outcome {
    ExitCode code = ExitCode::kSuccess;
    std::string status = "completed";
    std::string error;
    std::string hint;
};

// The full summary: what the command reports, framed by what every run reports.
Summary frame_summary(const CommandSpec& spec, const RunContext& run, const Command& command,
                      const Outcome& outcome) {
    Summary summary;
    summary["command"] = spec.full_name();
    summary["dry_run"] = run.is_dry_run();
    summary["run_id"] = run.run_id;
    summary.update(command.summary());
    summary["status"] = outcome.status;
    summary["exit_code"] = static_cast<int>(outcome.code);
    if (!outcome.error.empty()) summary["error"] = outcome.error;
    if (!outcome.hint.empty()) summary["hint"] = outcome.hint;
    summary["duration_ms"] = run.elapsed().count();
    return summary;
}

void record_run(Session& session, const CommandSpec& spec, const RunContext& run, Summary summary) {
    summary["os_user"] = os_user();
    summary["host"] = host_name();
    summary["tool_version"] = std::string(tool_version());
    try {
        Work tx(session);
        RunRecordRepository(tx).record_run(spec.event_name(), summary, run.timezone);
        tx.commit();
    } catch (const std::exception& e) {
        spdlog::warn("could not write the run record to audit_events: {}", e.what());
    }
}

// The CLI: the global options and one subcommand per row of the command table, each
// bound to a fresh command object.
struct CommandLine {
    std::vector<std::pair<CLI::App*, const CommandSpec*>> leaves;
    std::vector<std::unique_ptr<Command>> commands;

    Selected take_selected() {
        for (std::size_t i = 0; i < leaves.size(); ++i) {
            if (leaves[i].first->parsed()) return {leaves[i].second, std::move(commands[i])};
        }
        return {};
    }
};

CommandLine build_command_line(CLI::App& app, GlobalArguments& globals) {
    app.footer(kExitCodes);
    app.set_version_flag("--version", version_text());
    app.require_subcommand(1);
    app.fallthrough();
    add_global_options(app, globals);

    CommandLine line;
    std::map<std::string, CLI::App*> groups;
    for (const CommandSpec& spec : command_table()) {
        CLI::App* parent = &app;
        if (!spec.group.empty()) {
            CLI::App*& group = groups[spec.group];
            if (group == nullptr) {
                group = app.add_subcommand(spec.group, group_description(spec.group));
                group->require_subcommand(1);
            }
            parent = group;
        }
        CLI::App* leaf = parent->add_subcommand(spec.name, spec.description);
        leaf->footer("Examples:\n" + spec.examples);
        line.commands.push_back(spec.attach(*leaf));
        line.leaves.emplace_back(leaf, &spec);
    }
    return line;
}

Selected parse_command_line(CLI::App& app, GlobalArguments& globals, int argc, char** argv,
                            const Reporting& reporting, int& exit_code) {
    CommandLine line = build_command_line(app, globals);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {
            exit_code = app.exit(e);
        } else {
            const std::string hint = "run 'ops --help' or 'ops <group> <command> --help'";
            exit_code = static_cast<int>(ExitCode::kUsage);
            if (reporting.json_output)
                print_failure_object(nullptr, nullptr, exit_code, e.what(), hint);
            report_error(e.what(), hint);
        }
        return {};
    }
    Selected selected = line.take_selected();
    if (!selected.command) exit_code = static_cast<int>(ExitCode::kUsage);
    return selected;
}

void check_command_line(const std::vector<std::string>& arguments) {
    CLI::App app("ops", "ops");
    GlobalArguments globals;
    CommandLine line = build_command_line(app, globals);
    std::vector<std::string> reversed(arguments.rbegin(), arguments.rend());  // CLI11's order
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        throw UsageError(e.get_exit_code() == 0 ? "asks for help or the version" : e.what());
    }
    validate_global_options(globals);
    line.take_selected().command->validate();
}

// Metrics never change a run's outcome: a folder that cannot be written only warns.
void write_run_metrics(const std::filesystem::path& dir, const CommandSpec& spec,
                       const RunContext& run, int exit_code, const Summary& summary) {
    RunMetrics metrics;
    metrics.command = spec.full_name();
    metrics.ended_at =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    metrics.duration_seconds = std::chrono::duration<double>(run.elapsed()).count();
    metrics.exit_code = exit_code;
    const auto file = metrics_file(dir, spec.full_name());
    carry_over(metrics, read_previous_metrics(file, metrics.command));
    metrics.rows_by_action = rows_by_action(summary);
    try {
        create_metrics_folder(dir);
        write_file_atomically(file, render_metrics(metrics), kPublicFileMode);
    } catch (const std::exception& e) {
        spdlog::warn("cannot write metrics to {}: {}", file.string(), e.what());
    }
}

ExitCode interrupted_code() {
    return stop_signal() == SIGTERM ? ExitCode::kTerminated : ExitCode::kInterrupted;
}

Outcome execute_guarded(Command& command, CommandEnv& env) {
    Outcome outcome;
    try {
        command.execute(env);
        outcome.code = stop_requested() ? interrupted_code() : command.outcome();
        if (stop_requested()) outcome.status = "interrupted";
        return outcome;
    } catch (const Error& e) {
        outcome = {e.code(), "failed", e.what(), e.hint()};
    } catch (const pqxx::broken_connection& e) {
        outcome = {ExitCode::kFailure, "failed",
                   "lost the connection to the database: " + std::string(e.what()),
                   "the summary shows what was committed; run the command again to continue"};
    } catch (const pqxx::in_doubt_error& e) {
        // The server may have committed the batch before the connection went; the summary
        // counts it as not committed, and every command's rerun is right either way.
        outcome = {ExitCode::kFailure, "failed",
                   "lost the connection to the database while committing a batch, which may or "
                   "may not have committed: " +
                       std::string(e.what()),
                   "the summary counts that batch as not committed; run the command again to "
                   "continue"};
    } catch (const pqxx::sql_error& e) {
        outcome = {ExitCode::kFailure, "failed", describe_sql_error(e), ""};
    } catch (const std::exception& e) {
        outcome = {ExitCode::kFailure, "failed", e.what(), ""};
    }
    while (!outcome.error.empty() &&
           (outcome.error.back() == '\n' || outcome.error.back() == ' ')) {
        outcome.error.pop_back();
    }
    return outcome;
}

void log_end(const CommandSpec& spec, const RunContext& run, const Outcome& outcome) {
    if (outcome.code == ExitCode::kSuccess || outcome.code == ExitCode::kDriftFound) {
        spdlog::info("ops {} completed successfully ({}ms)", spec.full_name(),
                     run.elapsed().count());
    } else {
        spdlog::error("ops {} {} with exit code {} ({}ms)", spec.full_name(),
                      outcome.status == "interrupted" ? "interrupted" : "aborted",
                      static_cast<int>(outcome.code), run.elapsed().count());
    }
}

// The one start-up path: config, logging, begin line, connect, lock, execute, run record,
// summary, end line. Errors before execution (bad options, no connection, lock held) are
// thrown and leave nothing to summarise; run_cli reports them.
int run_command(const CommandSpec& spec, Command& command, const GlobalArguments& arguments,
                int argc, char** argv, RunContext& run, Summary& summary_out) {
    const GlobalOptions globals = validate_global_options(arguments);
    setup_logging(globals.log_level, globals.log_format, run.dry_run);
    command.validate();
    if (spec.traits.generator) {
        CommandEnv env{run, globals, nullptr, {}, check_command_line};
        command.execute(env);
        summary_out = Summary::object();  // the product is its output
        return static_cast<int>(command.outcome());
    }
    const ResolvedConfig config = resolve_config(globals);
    run.timezone = config.timezone;
    if (!globals.database_url.empty() && conninfo_has_secret(globals.database_url)) {
        spdlog::warn(
            "--database-url carries a password, which other users can read in the process list; "
            "use DATABASE_URL, --env-file or ~/.pgpass instead");
    }
    install_signal_handlers();
    spdlog::info("ops {} begin: run {}, {}, {}timezone {}; arguments: {}", spec.full_name(),
                 run.run_id, version_text(),
                 spec.traits.needs_database
                     ? "database " + redact_conninfo(config.connection.conninfo) + " (from " +
                           config.connection.source + "), "
                     : std::string(),
                 run.timezone, describe_arguments(argc, argv));

    const SessionSettings settings{"ops " + spec.full_name(), globals.statement_timeout,
                                   globals.lock_timeout};
    std::optional<Session> session;
    if (spec.traits.needs_database) session.emplace(config.connection, settings);
    if (session) guard_standby(*session, spec, run);
    CommandEnv env{run,
                   globals,
                   session ? &*session : nullptr,
                   [&] { return std::make_unique<Session>(config.connection, settings); },
                   check_command_line,
                   &config};
    command.resolve(env);
    std::optional<AdvisoryLock> lock;
    if (spec.traits.takes_lock && !run.is_dry_run()) lock.emplace(*session, spec.full_name());
    const Outcome outcome = execute_guarded(command, env);
    const Summary summary = frame_summary(spec, run, command, outcome);
    if (spec.traits.records_run && !run.is_dry_run() && command.changed_data() && session &&
        session->connection().is_open()) {
        record_run(*session, spec, run, summary);
    }
    render(summary, globals.output, std::cout);
    summary_out = summary;
    log_end(spec, run, outcome);
    if (!outcome.error.empty()) report_error(outcome.error, outcome.hint);
    return static_cast<int>(outcome.code);
}

// An error that ended the run before it printed a summary: one JSON object on stdout (with
// --output json), the end line (a generator writes none) and the error on stderr.
int report_early_failure(const CommandSpec& spec, const RunContext& run, const Reporting& reporting,
                         ExitCode code, const std::string& what, const std::string& hint) {
    const int exit_code = static_cast<int>(code);
    if (reporting.json_output) print_failure_object(&spec, &run, exit_code, what, hint);
    if (!spec.traits.generator) log_end(spec, run, {code, "failed", what, hint});
    report_error(what, hint);
    return exit_code;
}

}  // namespace

int run_cli(int argc, char** argv) {
    const Reporting reporting = reporting_from(argc, argv);
    setup_logging(reporting.log_level, reporting.log_format, DryRun::kNo);
    CLI::App app("ops: keeps the Laravel application's PostgreSQL database healthy", "ops");
    GlobalArguments arguments;
    int parse_exit = 0;
    Selected selected = parse_command_line(app, arguments, argc, argv, reporting, parse_exit);
    if (!selected.command) return parse_exit;
    RunContext run{new_run_id(), selected.command->dry_run(), "UTC"};
    setup_logging(reporting.log_level, reporting.log_format, run.dry_run);
    const CommandSpec& spec = *selected.spec;
    Summary summary = Summary::object();
    int code = 0;
    try {
        code = run_command(spec, *selected.command, arguments, argc, argv, run, summary);
    } catch (const Error& e) {
        code = report_early_failure(spec, run, reporting, e.code(), e.what(), e.hint());
    } catch (const pqxx::sql_error& e) {
        code = report_early_failure(spec, run, reporting, ExitCode::kFailure, describe_sql_error(e),
                                    "");
    } catch (const std::exception& e) {
        code = report_early_failure(spec, run, reporting, ExitCode::kFailure, e.what(), "");
    }
    // A dry run leaves the metrics of the last real run as they are.
    if (!arguments.metrics_dir.empty() && !run.is_dry_run() && !spec.traits.generator) {
        write_run_metrics(arguments.metrics_dir, spec, run, code, summary);
    }
    return code;
}

}  // namespace ops
