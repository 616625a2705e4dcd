#include "ops/schedule/schedule.hpp"

#include <algorithm>
#include <sstream>

#include "ops/core/config.hpp"
#include "ops/core/errors.hpp"

namespace ops {
namespace {

std::vector<std::string> words_of(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string word; in >> word;) words.push_back(word);
    return words;
}

// The baseline every installation starts from; docs/OPERATIONS_RUNBOOK.md explains each choice.
std::vector<ScheduledJob> baseline_schedule() {
    const std::string skip = "skip: exits 75 while the last run holds the lock";
    return {
        {"audit-archive",
         CronExpression::parse("30 2 * * *", "baseline"),
         {"audit", "archive"},
         words_of("--days 90 --gzip --max-runtime 3h"),
         "nightly: audit events older than 90 days to gzip JSONL, at most 3 h",
         skip},
        {"wa-redrive-failed",
         CronExpression::parse("*/15 * * * *", "baseline"),
         {"wa", "redrive-failed"},
         words_of("--failed-after 24h --rate 20"),
         "requeue transient WA failures of the last 24 h, 20 jobs/s at most",
         skip + "; a waiting job is never doubled"},
        {"quota-reconcile-current",
         CronExpression::parse("15 3 * * *", "baseline"),
         {"quota", "reconcile"},
         {"current"},
         "daily: this month's quota usage from orders",
         skip},
        {"quota-reconcile-previous",
         CronExpression::parse("45 3 1 * *", "baseline"),
         {"quota", "reconcile"},
         {"previous"},
         "on the 1st: settle last month's quota usage",
         skip},
    };
}

// "audit-archive" for "AUDIT_ARCHIVE": schedule-file keys are shell-style names.
std::string job_name(const std::string& file_key) {
    std::string name = file_key;
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
        return c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return name;
}

ScheduledJob& find_job(std::vector<ScheduledJob>& jobs, const std::string& name,
                       const std::string& source) {
    for (auto& job : jobs) {
        if (job.name == name) return job;
    }
    std::string known;
    for (const auto& job : jobs) known += (known.empty() ? "" : ", ") + job.name;
    throw UsageError(source + ": unknown job '" + name + "'; the jobs are " + known);
}

// "NAME=VALUE" of a repeatable flag.
std::pair<std::string, std::string> split_assignment(const std::string& text,
                                                     const std::string& option,
                                                     const std::string& form) {
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw UsageError(option + ": expected " + form + ", got '" + text + "'");
    }
    return {text.substr(0, eq), text.substr(eq + 1)};
}

// Options are split at white space: a schedule line carries no quoting of its own.
std::vector<std::string> parse_options(const std::string& text, const std::string& source) {
    if (text.find_first_of("'\"\\") != std::string::npos) {
        throw UsageError(source +
                         ": expected options separated by spaces, without quotes or "
                         "backslashes, got '" +
                         text + "'");
    }
    return words_of(text);
}

bool parse_enabled(const std::string& text, const std::string& source) {
    if (text == "true" || text == "yes" || text == "1") return true;
    if (text == "false" || text == "no" || text == "0") return false;
    throw ConfigError(source + ": expected true or false, got '" + text + "'");
}

// Keys are <JOB>_<SETTING>, such as WA_REDRIVE_FAILED_OPTIONS.
void apply_schedule_file(std::vector<ScheduledJob>& jobs, const std::string& path) {
    // ops's own file in the .env syntax: its text alone, not the process environment.
    for (const auto& [key, value] : load_env_file(path, no_env, EnvMapping::kRaw)) {
        std::string source = path;
        source.append(": ").append(key);
        const auto split = key.rfind('_');
        const std::string setting = split == std::string::npos ? "" : key.substr(split + 1);
        if (setting != "CRON" && setting != "OPTIONS" && setting != "ENABLED") {
            throw ConfigError(source +
                              ": unknown setting; expected <JOB>_CRON, <JOB>_OPTIONS or "
                              "<JOB>_ENABLED, JOB such as WA_REDRIVE_FAILED");
        }
        try {
            ScheduledJob& job = find_job(jobs, job_name(key.substr(0, split)), source);
            if (setting == "CRON") {
                job.when = CronExpression::parse(value, source);
            } else if (setting == "OPTIONS") {
                job.options = parse_options(value, source);
            } else {
                job.enabled = parse_enabled(value, source);
            }
        } catch (const UsageError& e) {
            throw ConfigError(e.what());
        }
    }
}

// The archive folder is part of the installation, not of the options an operator tunes.
void place_archive_folder(std::vector<ScheduledJob>& jobs, const std::string& archive_dir) {
    for (auto& job : jobs) {
        if (job.command != std::vector<std::string>{"audit", "archive"}) continue;
        if (std::find(job.options.begin(), job.options.end(), "--dir") != job.options.end()) {
            continue;
        }
        job.options.push_back("--dir");
        job.options.push_back(archive_dir);
    }
}

}  // namespace

std::vector<std::string> ScheduledJob::arguments() const {
    std::vector<std::string> all = command;
    all.insert(all.end(), options.begin(), options.end());
    return all;
}

std::vector<ScheduledJob> resolve_schedule(const ScheduleOverrides& overrides) {
    std::vector<ScheduledJob> jobs = baseline_schedule();
    if (!overrides.schedule_file.empty()) apply_schedule_file(jobs, overrides.schedule_file);
    for (const auto& text : overrides.cron) {
        const auto [name, expr] = split_assignment(text, "--cron", "NAME='MIN HOUR DOM MON DOW'");
        find_job(jobs, name, "--cron").when = CronExpression::parse(expr, "--cron " + name);
    }
    for (const auto& text : overrides.options) {
        const auto [name, options] = split_assignment(text, "--options", "NAME='OPTION ...'");
        find_job(jobs, name, "--options").options = parse_options(options, "--options " + name);
    }
    for (const auto& name : overrides.disabled) find_job(jobs, name, "--disable").enabled = false;
    place_archive_folder(jobs, overrides.archive_dir);
    return jobs;
}

}  // namespace ops
