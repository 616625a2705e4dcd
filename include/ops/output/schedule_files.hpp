#pragma once

#include <string>
#include <vector>

#include "ops/output/summary.hpp"
#include "ops/schedule/schedule.hpp"

namespace ops {

// Where the scheduled runs find things on the server; all absolute, because cron starts
// jobs in the user's home folder with a minimal PATH.
struct InstallPaths {
    std::string bin;
    std::string env_file;
    std::string metrics_dir;  // empty: no --metrics-dir
    std::string log_dir;      // cron only; systemd keeps output in the journal
    std::string user;         // systemd only: the account the units run as
};

// The schedule as `ops schedule list` shows it: one row per job.
Summary schedule_table(const std::vector<ScheduledJob>& jobs);

// A user crontab that installs as it is (`crontab FILE`): one five-field line per enabled
// job, arguments quoted for sh, '%' escaped, output appended to LOG_DIR/ops-NAME.log.
std::string render_crontab(const std::vector<ScheduledJob>& jobs, const InstallPaths& paths);

struct UnitFile {
    std::string name;  // "ops-audit-archive.service"
    std::string text;
};

// A oneshot .service and its .timer per enabled job.
std::vector<UnitFile> render_systemd_units(const std::vector<ScheduledJob>& jobs,
                                           const InstallPaths& paths);

}  // namespace ops
