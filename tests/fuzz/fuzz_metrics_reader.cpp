// The previous metrics file read back by every run with --metrics-dir: anyone who can write the
// metrics folder controls its text. Self-contained (libFuzzer's entry point only), in the
// layout of the other targets: tests/fuzz/fuzz_<name>.cpp with tests/fuzz/corpus/<name>/.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ops/output/metrics.hpp"

namespace {

void require(bool condition) {
    if (!condition) std::abort();  // libFuzzer reports it as a crash
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto previous = ops::parse_previous_metrics(text, "audit archive");
    require(previous.consecutive_failures >= 0 && previous.consecutive_failures <= 1'000'000'000);
    require(!previous.last_success_at ||
            (std::isfinite(*previous.last_success_at) && *previous.last_success_at >= 0));

    // What the next failing run writes from it reads back as the same history, one more failure.
    ops::RunMetrics next;
    next.command = "audit archive";
    next.ended_at = 1800000000;
    next.exit_code = 1;
    ops::carry_over(next, previous);
    const auto again = ops::parse_previous_metrics(ops::render_metrics(next), "audit archive");
    require(again.consecutive_failures ==
            std::min<std::int64_t>(previous.consecutive_failures + 1, 1'000'000'000));
    require(again.last_success_at.has_value() == previous.last_success_at.has_value());
    if (previous.last_success_at) {
        // The file keeps milliseconds.
        require(std::fabs(*again.last_success_at - *previous.last_success_at) <=
                0.0005 + 1e-12 * *previous.last_success_at);
    }
    return 0;
}
