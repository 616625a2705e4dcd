#include "ops/commands/schedule_options.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <regex>

#include "ops/core/text.hpp"

namespace ops {

void require_absolute(const std::string& path, const std::string& option) {
    refuse_control_characters(path, option);
    if (path.empty() || path.front() != '/') {
        throw UsageError(option +
                         ": expected an absolute path (scheduled runs start in another "
                         "folder), got '" +
                         path + "'");
    }
}

void ScheduleOptions::attach(CLI::App& app) {
    app.add_option("--schedule-file", overrides_.schedule_file,
                   "KEY=VALUE overrides: <JOB>_CRON, <JOB>_OPTIONS, <JOB>_ENABLED "
                   "(JOB such as WA_REDRIVE_FAILED)");
    app.add_option("--cron", overrides_.cron, "NAME='MIN HOUR DOM MON DOW': run job NAME then");
    app.add_option("--options", overrides_.options,
                   "NAME='OPTION ...': give job NAME these options instead of the baseline's");
    app.add_option("--disable", overrides_.disabled, "leave job NAME out (repeatable)");
    app.add_option("--archive-dir", overrides_.archive_dir,
                   "the archive folder of audit-archive (default /var/lib/ops/audit-archives)");
}

void ScheduleOptions::validate() const {
    require_absolute(overrides_.archive_dir, "--archive-dir");
}

CommandSpec schedule_command_spec(std::string name, std::string description, std::string examples) {
    CommandSpec spec;
    spec.group = "schedule";
    spec.name = std::move(name);
    spec.description = std::move(description);
    spec.examples = std::move(examples);
    spec.traits = {
        .needs_database = false, .takes_lock = false, .records_run = false, .generator = true};
    return spec;
}

void print_product(const CommandEnv& env, const std::string& command, const Summary& product,
                   const std::string& text) {
    if (env.globals.output == OutputFormat::kText) {
        *env.out << text;
        return;
    }
    Summary framed;
    framed["command"] = command;
    framed["status"] = "completed";
    framed["exit_code"] = 0;
    framed.update(product);
    render(framed, OutputFormat::kJson, *env.out);
}

namespace {

// Every word of a scheduled command line lands in a crontab line or an ExecStart=: a newline
// would start another entry or directive there.
void check_job_words(const ScheduledJob& job) {
    const std::vector<std::string> words = job.arguments();
    for (std::size_t i = 0; i < words.size(); ++i) {
        refuse_control_characters(words[i],
                                  "job " + job.name + " (--options or the schedule file)");
        const bool url = words[i] == "--database-url" && i + 1 < words.size();
        if (url && conninfo_has_secret(words[i + 1])) {
            spdlog::warn(
                "job {}: --database-url carries a password, which this generated file and the "
                "process list show to other users; use the --env-file it reads instead",
                job.name);
        }
        if (words[i].rfind("--database-url=", 0) == 0 && conninfo_has_secret(words[i].substr(15))) {
            spdlog::warn(
                "job {}: --database-url carries a password, which this generated file "
                "and the process list show to other users; use the --env-file it reads "
                "instead",
                job.name);
        }
    }
}

}  // namespace

std::vector<ScheduledJob> ScheduleOptions::resolve(const CommandEnv& env) const {
    std::vector<ScheduledJob> jobs = resolve_schedule(overrides_);
    for (const auto& job : jobs) {
        check_job_words(job);
        try {
            env.check_command_line(job.arguments());
        } catch (const UsageError& e) {
            throw UsageError(
                "job " + job.name + ": " + e.what(),
                "fix it with --options " + job.name + "='...' or " + "the schedule file");
        }
    }
    return jobs;
}

void InstallOptions::attach(CLI::App& app, bool with_log_dir, bool with_user) {
    app.add_option("--bin", bin_, "the ops binary the entries start (default: this one)");
    if (with_log_dir) {
        app.add_option("--log-dir", log_dir_,
                       "append each job's output to DIR/ops-NAME.log (default /var/log/ops)");
    }
    if (with_user) {
        app.add_option("--user", user_, "the account the services run as (default ops)");
    }
}

void InstallOptions::validate() const {
    if (!bin_.empty()) require_absolute(bin_, "--bin");
    require_absolute(log_dir_, "--log-dir");
    refuse_control_characters(bin_, "--bin");
    refuse_control_characters(log_dir_, "--log-dir");
    static const std::regex kUser("^[a-z_][a-z0-9_-]*$");
    if (!std::regex_match(user_, kUser)) {
        throw UsageError("--user: expected a system account name such as 'ops', got '" + user_ +
                         "'");
    }
}

InstallPaths InstallOptions::resolve(const GlobalOptions& globals) const {
    InstallPaths paths;
    paths.bin = bin_.empty() ? std::filesystem::read_symlink("/proc/self/exe").string() : bin_;
    paths.env_file = globals.env_file.empty() ? "/etc/ops/ops.env" : globals.env_file;
    require_absolute(paths.env_file, "--env-file");
    paths.metrics_dir = globals.metrics_dir;
    if (!paths.metrics_dir.empty()) require_absolute(paths.metrics_dir, "--metrics-dir");
    paths.log_dir = log_dir_;
    paths.user = user_;
    return paths;
}

}  // namespace ops
