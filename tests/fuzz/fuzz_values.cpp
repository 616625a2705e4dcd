// Option value parsers: durations, date-times, integers, sizes, quota periods.
#include "fuzz_input.hpp"
#include "ops/core/errors.hpp"
#include "ops/core/period.hpp"
#include "ops/core/values.hpp"

namespace {

template <typename F>
void refused_or_ok(F&& parse) {
    try {
        parse();
    } catch (const ops::UsageError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = ops_fuzz::text_of(data, size);
    refused_or_ok([&] {
        const auto d = ops::parse_duration(text, "--x", ops::kMaxAgo);
        ops_fuzz::require(d.count() >= 0 && d <= ops::kMaxAgo);
    });
    refused_or_ok([&] {
        const std::string canonical = ops::parse_local_datetime(text, "--before");
        ops_fuzz::require(ops::parse_local_datetime(canonical, "--before") == canonical);
    });
    refused_or_ok([&] {
        const auto n = ops::parse_integer(text, "--limit", 1, INT64_MAX / 2);
        ops_fuzz::require(n >= 1 && n <= INT64_MAX / 2);
    });
    refused_or_ok([&] { ops_fuzz::require(ops::parse_size(text, "--max-lag-bytes") >= 0); });
    refused_or_ok([&] {
        const auto period = ops::parse_period_argument(text);
        if (period.kind == ops::PeriodArgument::Kind::kMonth) {
            const ops::Period p(period.year, period.month);
            ops_fuzz::require(ops::parse_period_argument(p.text()).year == period.year);
        }
    });
    return 0;
}
