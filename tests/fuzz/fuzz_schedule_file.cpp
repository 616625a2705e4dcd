// The schedule file (--schedule-file): KEY=VALUE overrides of the baseline schedule.
#include "fuzz_input.hpp"
#include "ops/core/errors.hpp"
#include "ops/schedule/schedule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ops_fuzz::MemoryFile file(data, size);
    ops::ScheduleOverrides overrides;
    overrides.schedule_file = file.path();
    try {
        for (const auto& job : ops::resolve_schedule(overrides)) (void)job.arguments();
    } catch (const ops::Error&) {
        // UsageError or ConfigError naming the key
    }
    return 0;
}
