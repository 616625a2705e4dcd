#pragma once

#include <string>
#include <vector>

#include "ops/output/schedule_files.hpp"

namespace ops {

// Where the printed code goes: routes/console.php (Laravel 11+, the Schedule facade) or the
// body of app/Console/Kernel.php's schedule(Schedule $schedule) (Laravel 8 to 10).
enum class LaravelScheduleLayout { kRoutesConsole, kKernel };

// One `exec(...)->cron(...)->withoutOverlapping()->runInBackground()->appendOutputTo(...)`
// per enabled job. Each command line is quoted for sh (Laravel runs it with /bin/sh -c) inside
// a PHP single-quoted string. Throws UsageError for a word with a control character (or
// Symfony Process's `"${:` placeholder), naming the job.
std::string render_laravel_schedule(const std::vector<ScheduledJob>& jobs,
                                    const InstallPaths& paths, LaravelScheduleLayout layout);

}  // namespace ops
