// Reading back the previous metrics file: what a run carries over (last success, failures in
// a row) and what it refuses to take from a file it did not necessarily write.
#include <catch2/catch.hpp>
#include <limits>

#include "ops/output/metrics.hpp"

using namespace ops;

namespace {

RunMetrics finished(int exit_code, double ended_at = 1800000000.5) {
    RunMetrics m;
    m.command = "audit archive";
    m.ended_at = ended_at;
    m.exit_code = exit_code;
    return m;
}

std::string line(const std::string& metric, const std::string& value,
                 const std::string& command = "audit archive") {
    return metric + "{command=\"" + command + "\"} " + value + "\n";
}

}  // namespace

TEST_CASE("metrics reader: what a run writes is what the next run reads back") {
    RunMetrics first = finished(0);
    carry_over(first, {});
    CHECK(first.consecutive_failures == 0);
    CHECK(*first.last_success_at == 1800000000.5);

    RunMetrics second = finished(75, 1800000900.25);
    carry_over(second, parse_previous_metrics(render_metrics(first), "audit archive"));
    CHECK(second.consecutive_failures == 1);
    CHECK(*second.last_success_at == 1800000000.5);  // kept from the success

    RunMetrics third = finished(1, 1800001800);
    carry_over(third, parse_previous_metrics(render_metrics(second), "audit archive"));
    CHECK(third.consecutive_failures == 2);
    CHECK(*third.last_success_at == 1800000000.5);

    RunMetrics fourth = finished(0, 1800002700);
    carry_over(fourth, parse_previous_metrics(render_metrics(third), "audit archive"));
    CHECK(fourth.consecutive_failures == 0);
    CHECK(*fourth.last_success_at == 1800002700);
}

TEST_CASE("metrics reader: no previous file means no success yet and a first failure") {
    RunMetrics m = finished(69);
    carry_over(m, parse_previous_metrics("", "audit archive"));
    CHECK(!m.last_success_at);
    CHECK(m.consecutive_failures == 1);
    CHECK(render_metrics(m).find("ops_last_success_timestamp_seconds") == std::string::npos);
}

TEST_CASE("metrics reader: another command's samples are not this command's history") {
    const auto previous = parse_previous_metrics(
        line("ops_last_success_timestamp_seconds", "12", "wa redrive-failed") +
            line("ops_consecutive_failures", "4", "wa redrive-failed") +
            "ops_consecutive_failures{command=\"audit archive\",x=\"y\"} 9\n" +
            "ops_consecutive_failures_total{command=\"audit archive\"} 9\n",
        "audit archive");
    CHECK(!previous.last_success_at);
    CHECK(previous.consecutive_failures == 0);
}

TEST_CASE("metrics reader: malformed values are ignored, a later well-formed one is taken") {
    for (const std::string bad :
         {"-1", "nan", "inf", "-inf", "1e400", "12abc", "", " 12", "0x10", "12 ", "12\r", "1,5"}) {
        INFO("value '" << bad << "'");
        const auto previous = parse_previous_metrics(
            line("ops_last_success_timestamp_seconds", bad) + line("ops_consecutive_failures", bad),
            "audit archive");
        CHECK(!previous.last_success_at);
        CHECK(previous.consecutive_failures == 0);
    }
    for (const std::string bad : {"1.5", "+3", "-3", "1e3", "99999999999999999999"}) {
        INFO("count '" << bad << "'");
        CHECK(parse_previous_metrics(line("ops_consecutive_failures", bad), "audit archive")
                  .consecutive_failures == 0);
    }
    const auto previous = parse_previous_metrics(
        line("ops_last_success_timestamp_seconds", "junk") +
            line("ops_last_success_timestamp_seconds", "1700000000.125") +
            line("ops_last_success_timestamp_seconds", "1") +
            line("ops_consecutive_failures", "x") + line("ops_consecutive_failures", "6") +
            line("ops_consecutive_failures", "2"),
        "audit archive");
    CHECK(*previous.last_success_at == 1700000000.125);
    CHECK(previous.consecutive_failures == 6);
}

TEST_CASE("metrics reader: a forged huge count saturates instead of overflowing") {
    const auto previous = parse_previous_metrics(
        line("ops_consecutive_failures", std::to_string(std::numeric_limits<std::int64_t>::max())),
        "audit archive");
    RunMetrics m = finished(1);
    carry_over(m, previous);
    CHECK(m.consecutive_failures > 1);
    CHECK(m.consecutive_failures <= 1'000'000'001);
}

TEST_CASE("metrics reader: a last line without a newline is read") {
    std::string text = line("ops_consecutive_failures", "3");
    text.pop_back();
    CHECK(parse_previous_metrics(text, "audit archive").consecutive_failures == 3);
}
