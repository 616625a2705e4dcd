// Cron expressions from --cron and the schedule file, and their systemd translation.
#include "fuzz_input.hpp"
#include "ops/core/errors.hpp"
#include "ops/schedule/cron_expression.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto expression = ops::CronExpression::parse(ops_fuzz::text_of(data, size), "--cron");
        // The accepted text parses again to the same expression.
        ops_fuzz::require(ops::CronExpression::parse(expression.text(), "--cron").text() ==
                          expression.text());
        (void)expression.on_calendar();
    } catch (const ops::UsageError&) {
    }
    return 0;
}
