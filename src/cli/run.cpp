#include "ops/cli/run.hpp"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "ops/cli/command_line.hpp"
#include "ops/cli/standby_guard.hpp"
#include "ops/core/version.hpp"
#include "ops/db/run_record_repository.hpp"
#include "ops/output/logging.hpp"
#include "ops/output/metrics.hpp"
#include "ops/output/summary.hpp"

namespace ops {
namespace {

std::optional<std::string> raw_option(const std::vector<std::string>& arguments,
                                      const std::string& name) {
    std::optional<std::string> value;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const std::string& arg = arguments[i];
        if (arg == name && i + 1 < arguments.size()) {
            value = arguments[++i];
        } else if (arg.rfind(name + "=", 0) == 0) {
            value = arg.substr(name.size() + 1);
        }
    }
    return value;
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

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

Invocation read_invocation(std::vector<std::string> arguments, std::ostream& out,
                           std::ostream& err) {
    Invocation invocation;
    invocation.arguments = std::move(arguments);
    invocation.out = &out;
    invocation.err = &err;
    invocation.json_output = raw_option(invocation.arguments, "--output") == "json";
    if (raw_option(invocation.arguments, "--log-format") == "json") {
        invocation.log_format = LogFormat::kJson;
    }
    if (const auto level = raw_option(invocation.arguments, "--log-level")) {
        try {
            validate_log_level(*level);
            invocation.log_level = *level;
        } catch (const UsageError&) {
            // reported by validation, in the default level
        }
    }
    return invocation;
}

std::string describe_arguments(const std::vector<std::string>& arguments) {
    std::string out;
    bool redact_next = false;
    for (std::string arg : arguments) {
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

Run::Run(const CommandSpec& spec, Command& command, const GlobalArguments& arguments,
         const Invocation& invocation)
    : spec_(spec),
      command_(command),
      arguments_(arguments),
      invocation_(invocation),
      context_{new_run_id(), command.dry_run(), "UTC"} {}

void Run::start() {
    // The metrics folder first, on its own: a later usage error is still a run monitoring sees.
    validate_metrics_dir(arguments_.metrics_dir);
    if (!arguments_.metrics_dir.empty()) metrics_dir_ = arguments_.metrics_dir;
    globals_ = validate_global_options(arguments_);
    setup_logging(globals_.log_level, globals_.log_format, context_.dry_run);
    command_.validate();
    if (spec_.traits.generator) return;  // its --env-file is a path it writes, not one it reads
    config_ = resolve_config(globals_);
    context_.timezone = config_->timezone;
    if (!globals_.database_url.empty() && conninfo_has_secret(globals_.database_url)) {
        spdlog::warn(
            "--database-url carries a password, which other users can read in the process list; "
            "use DATABASE_URL, --env-file or ~/.pgpass instead");
    }
    install_signal_handlers();
    log_begin();
    connect();
    resolve_and_lock();
}

void Run::log_begin() const {
    spdlog::info("ops {} begin: run {}, {}, {}timezone {}; arguments: {}", spec_.full_name(),
                 context_.run_id, version_text(),
                 spec_.traits.needs_database
                     ? "database " + redact_conninfo(config_->connection.conninfo) + " (from " +
                           config_->connection.source + "), "
                     : std::string(),
                 context_.timezone, describe_arguments(invocation_.arguments));
}

SessionSettings Run::session_settings() const {
    return {"ops " + spec_.full_name(), globals_.statement_timeout, globals_.lock_timeout};
}

void Run::connect() {
    if (!spec_.traits.needs_database) return;
    session_.emplace(config_->connection, session_settings());
    guard_standby(*session_, spec_, context_);
}

CommandEnv Run::environment() {
    std::function<std::unique_ptr<Session>()> open_session;
    if (config_) {
        open_session = [this] {
            return std::make_unique<Session>(config_->connection, session_settings());
        };
    }
    return CommandEnv{context_,       globals_,           session_ ? &*session_ : nullptr,
                      open_session,   check_command_line, config_ ? &*config_ : nullptr,
                      invocation_.out};
}

// The command's resolve step (what only the database can decide, usage errors included), then
// the lock: a run that finds the lock held has decided everything and changed nothing.
void Run::resolve_and_lock() {
    CommandEnv env = environment();
    command_.resolve(env);
    if (spec_.traits.takes_lock && !context_.is_dry_run() && session_) {
        lock_.emplace(*session_, spec_.full_name());
    }
}

Outcome Run::execute() {
    executed_ = true;
    CommandEnv env = environment();
    command_.execute(env);
    return returned_outcome(command_.outcome(), stop_signal());
}

int Run::finish(const Outcome& outcome) noexcept {
    try {
        // A generator's product is its output; so is its failure, reported like an early one.
        const bool summarised = executed_ && !spec_.traits.generator;
        const Summary summary =
            summarised ? run_summary(spec_.full_name(), context_, command_.summary(), outcome)
                       : Summary::object();
        if (summarised) record_run(summary);
        report(outcome, summary);
        write_metrics(outcome, summary);
    } catch (const std::exception& e) {
        // Only the report itself can get here (stdout closed, no memory): the code stands.
        spdlog::error("could not report the end of the run: {}", e.what());
    }
    return static_cast<int>(outcome.code);
}

void Run::report(const Outcome& outcome, const Summary& summary) const {
    const std::string name = spec_.full_name();
    if (!summary.empty()) {
        render(summary, globals_.output, *invocation_.out);
    } else if (invocation_.json_output && !outcome.succeeded()) {  // a generator's product stands
        render(failure_summary(&name, &context_, outcome), OutputFormat::kJson, *invocation_.out);
    }
    if (!spec_.traits.generator) {
        const EndLine end = end_line(name, outcome, context_.elapsed());
        if (end.error) {
            spdlog::error("{}", end.text);
        } else {
            spdlog::info("{}", end.text);
        }
    }
    if (!outcome.error.empty()) report_error(outcome.error, outcome.hint);
}

void Run::record_run(const Summary& summary) {
    if (!spec_.traits.records_run || context_.is_dry_run() || !command_.changed_data() ||
        !session_ || !session_->connection().is_open()) {
        return;
    }
    Summary metadata = summary;
    metadata["os_user"] = os_user();
    metadata["host"] = host_name();
    metadata["tool_version"] = std::string(tool_version());
    try {
        Work tx(*session_);
        RunRecordRepository(tx).record_run(spec_.event_name(), metadata, context_.timezone);
        tx.commit();
    } catch (const std::exception& e) {
        spdlog::warn("could not write the run record to audit_events: {}", e.what());
    }
}

// A dry run leaves the metrics of the last real run as they are; a generator writes none.
void Run::write_metrics(const Outcome& outcome, const Summary& summary) const {
    if (!metrics_dir_ || context_.is_dry_run() || spec_.traits.generator) return;
    RunMetrics metrics;
    metrics.command = spec_.full_name();
    metrics.ended_at = unix_now();
    metrics.duration_seconds = std::chrono::duration<double>(context_.elapsed()).count();
    metrics.exit_code = static_cast<int>(outcome.code);
    metrics.outcome = outcome.outcome;
    metrics.rows_by_action = rows_by_action(summary);
    write_metrics_file(*metrics_dir_, metrics);
}

}  // namespace ops
