#include <catch2/catch.hpp>

#include "ops/core/errors.hpp"
#include "ops/core/replication.hpp"
#include "ops/core/values.hpp"

using namespace ops;
using std::chrono::milliseconds;

namespace {

constexpr std::int64_t kMB = 1024 * 1024;

StandbyState standby(std::optional<std::int64_t> bytes, std::optional<milliseconds> lag = {}) {
    return {"b1", "127.0.0.1", "streaming", "async", bytes, lag};
}

SlotState slot(bool active, std::optional<std::int64_t> retained, std::optional<std::int64_t> safe,
               std::string status = "reserved") {
    return {"cdc", "logical", "app", active, std::move(status), retained, safe};
}

}  // namespace

TEST_CASE("sizes take bytes or a 1024-based unit, case aside, and nothing else") {
    CHECK(parse_size("1048576", "--x") == 1048576);
    CHECK(parse_size("512kB", "--x") == 512 * 1024);
    CHECK(parse_size("64MB", "--x") == 64 * kMB);
    CHECK(parse_size("64mb", "--x") == 64 * kMB);
    CHECK(parse_size("2GB", "--x") == 2048 * kMB);
    CHECK(parse_size("1TB", "--x") == 1024 * 1024 * kMB);
    CHECK(parse_size("10B", "--x") == 10);
    for (const char* bad : {"", "0", "0MB", "-1MB", "1.5GB", "64 MB", "64M", "1PB", "2048TB",
                            "12345678901234567", "MB"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_size(bad, "--max-lag-bytes"), UsageError);
    }
    CHECK_THROWS_WITH(parse_size("lots", "--max-lag-bytes"),
                      Catch::Contains("--max-lag-bytes") && Catch::Contains("64MB"));
}

TEST_CASE("bytes print in PostgreSQL's units") {
    CHECK(format_bytes(0) == "0 B");
    CHECK(format_bytes(1023) == "1023 B");
    CHECK(format_bytes(1536) == "1.5 kB");
    CHECK(format_bytes(3 * kMB + kMB / 5) == "3.2 MB");
    CHECK(format_bytes(1024 * kMB) == "1.0 GB");
}

TEST_CASE("the lag gate reads bytes first, then time, and ignores what it cannot see") {
    LagLimits limits;
    limits.max_bytes = kMB;
    limits.max_lag = milliseconds(30000);
    ReplicationSnapshot s;
    s.standbys = {standby(kMB)};  // exactly at the limit is within it
    s.slots = {slot(true, kMB / 2, std::nullopt)};
    CHECK_FALSE(over_lag_limit(s, limits));

    s.standbys = {standby(std::nullopt, milliseconds(60000)), standby(2 * kMB)};
    CHECK(over_lag_limit(s, limits) == "standby 'b1' replays 2.0 MB behind (limit 1.0 MB)");

    s.standbys = {standby(0, milliseconds(45000))};
    CHECK(over_lag_limit(s, limits) == "standby 'b1' replays 45.0s behind (limit 30.0s)");

    s.standbys = {standby(0)};
    s.slots = {slot(false, 5 * kMB, std::nullopt), slot(false, std::nullopt, 0, "lost")};
    CHECK(over_lag_limit(s, limits) == "slot 'cdc' retains 5.0 MB of WAL (limit 1.0 MB)");

    limits.max_bytes.reset();  // time only: slots and byte distances do not count
    CHECK_FALSE(over_lag_limit(s, limits));
    s.standbys = {standby(std::nullopt, std::nullopt)};  // positions hidden or idle
    CHECK_FALSE(over_lag_limit(s, limits));
}

TEST_CASE("the preflight refuses a slot the run would invalidate, unless told or gated") {
    PreflightInput in;
    in.expected_wal = 30 * kMB;
    in.snapshot.slots = {slot(true, kMB, 14 * kMB)};
    auto findings = preflight_findings(in);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].level == FindingLevel::kRefusal);
    CHECK(findings[0].subject == "slot 'cdc'");
    CHECK_THAT(findings[0].detail,
               Catch::Contains("safe_wal_size 14.0 MB") && Catch::Contains("~30.0 MB"));

    in.allow_slot_loss = true;
    findings = preflight_findings(in);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].level == FindingLevel::kWarning);

    in.allow_slot_loss = false;  // the gate stops at 4 MB retained: 3 MB more + 1 MB in flight
    in.max_lag_bytes = 4 * kMB;
    in.gate_margin = kMB;
    CHECK(preflight_findings(in).empty());
    in.gate_margin = 12 * kMB;  // batches too big for the gate to stop in time
    CHECK(preflight_findings(in).size() == 1);

    in.max_lag_bytes.reset();
    in.expected_wal = 13 * kMB;  // fits
    CHECK(preflight_findings(in).empty());

    in.snapshot.slots = {slot(false, 20 * kMB, std::nullopt, "unreserved")};  // about to go
    findings = preflight_findings(in);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].level == FindingLevel::kRefusal);
    CHECK_THAT(findings[0].detail, Catch::Contains("is unreserved"));
}

TEST_CASE("the preflight warns of idle uncapped slots, lost slots and deleting publications") {
    PreflightInput in;
    in.expected_wal = 400 * kMB;
    in.snapshot.slots = {slot(false, 2 * kMB, std::nullopt), slot(true, 0, std::nullopt),
                         slot(false, std::nullopt, std::nullopt, "lost")};
    in.deleting_publications = {"analytics"};
    const auto findings = preflight_findings(in);
    REQUIRE(findings.size() == 3);
    CHECK(findings[0].level == FindingLevel::kWarning);
    CHECK_THAT(findings[0].detail, Catch::Contains("inactive and uncapped") &&
                                       Catch::Contains("retains 2.0 MB") &&
                                       Catch::Contains("~400.0 MB"));
    CHECK_THAT(findings[1].detail, Catch::Contains("already lost"));
    CHECK(findings[2].subject == "publication 'analytics'");
    CHECK_THAT(findings[2].detail, Catch::Contains("publish = 'insert, update'"));
}

TEST_CASE("the preflight refuses when commits would wait for a standby that is not there") {
    PreflightInput in;
    in.sync = {"FIRST 2 (a, b, c)", 2, "on", 1, true};
    auto findings = preflight_findings(in);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].level == FindingLevel::kRefusal);
    CHECK_THAT(findings[0].detail, Catch::Contains("wants 2 connected, 1 are"));

    in.sync.connected = 2;
    CHECK(preflight_findings(in).empty());
    for (const char* commit : {"off", "local"}) {  // commits do not wait for standbys
        in.sync = {"a", 1, commit, 0, true};
        CHECK(preflight_findings(in).empty());
    }
    in.sync = {"a", 1, "remote_apply", 0, false};  // cannot see: warn, do not guess
    findings = preflight_findings(in);
    REQUIRE(findings.size() == 1);
    CHECK(findings[0].level == FindingLevel::kWarning);
    in.sync = {"", 0, "on", 0, true};
    CHECK(preflight_findings(in).empty());
}
