#pragma once

#include <string>
#include <vector>

#include "ops/schedule/cron_expression.hpp"

namespace ops {

// One recurring run of an ops command, as cron or systemd will start it.
struct ScheduledJob {
    std::string name;  // "audit-archive": names its log file and systemd units
    CronExpression when;
    std::vector<std::string> command;  // {"audit", "archive"}
    std::vector<std::string> options;  // {"--days", "90", ...}
    std::string purpose;
    std::string overlap;  // what happens when the previous run is still going
    bool enabled = true;

    std::vector<std::string> arguments() const;
};

// What an operator may change about the baseline, from a schedule file and from flags
// (flags win). NAME is a job name such as "wa-redrive-failed".
struct ScheduleOverrides {
    std::string schedule_file;          // KEY=VALUE lines: NAME_CRON, NAME_OPTIONS, NAME_ENABLED
    std::vector<std::string> cron;      // "NAME=EXPR"
    std::vector<std::string> options;   // "NAME=OPTIONS": replace the job's options
    std::vector<std::string> disabled;  // "NAME"
    std::string archive_dir = "/var/lib/ops/audit-archives";
};

// The baseline schedule with the overrides applied. Throws UsageError for a bad flag
// and ConfigError for a bad or unreadable schedule file, naming the key.
std::vector<ScheduledJob> resolve_schedule(const ScheduleOverrides& overrides);

}  // namespace ops
