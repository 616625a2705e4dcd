#include "ops/commands/schedule_options.hpp"

#include <filesystem>
#include <regex>

namespace ops {

void require_absolute(const std::string& path, const std::string& option) {
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

std::vector<ScheduledJob> ScheduleOptions::resolve(const CommandEnv& env) const {
    std::vector<ScheduledJob> jobs = resolve_schedule(overrides_);
    for (const auto& job : jobs) {
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
