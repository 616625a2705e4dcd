// quota reconcile and wa redrive-failed: bad arguments and options exit 2 and name what is
// wrong, decided before ops connects (moved here from tests/integration/test_quota_reconcile.cpp
// and test_wa_redrive.cpp; the rows that need the database's clock stay there).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_fixture.hpp"

using namespace ops_test;

namespace {

struct Case {
    std::vector<std::string> args;
    std::string names;
};

void check_rows(const std::vector<std::string>& command, const std::vector<Case>& cases) {
    for (const auto& c : cases) {
        std::vector<std::string> args = command;
        args.insert(args.end(), c.args.begin(), c.args.end());
        INFO("args: " << nlohmann::json(c.args).dump(-1, ' ', false,
                                                     nlohmann::json::error_handler_t::replace));
        check_usage_error(run_cli_in_process(args, kNoDatabase), c.names);
    }
}

}  // namespace

TEST_CASE("quota reconcile: bad PERIOD and options exit 2 and name what is wrong") {
    check_rows({"quota", "reconcile"}, {
                                           {{"2026-13"}, "PERIOD"},
                                           {{"2026-1"}, "PERIOD"},
                                           {{"26-01"}, "PERIOD"},
                                           {{""}, "PERIOD"},
                                           {{"2026-00"}, "PERIOD"},
                                           {{"2026-01-01"}, "PERIOD"},
                                           {{"last"}, "PERIOD"},
                                           {{"2026-01", "2026-02"}, "2026-02"},
                                           {{"--tenant", "0"}, "--tenant"},
                                           {{"--tenant", "-4"}, "--tenant"},
                                           {{"--tenant", "abc"}, "--tenant"},
                                           {{"--tenant", ""}, "--tenant"},
                                           {{"--tenant", "1.5"}, "--tenant"},
                                           {{"--tenant", "1,2"}, "--tenant"},
                                           {{"--tenant"}, "--tenant"},
                                           {{"--batch-size", "0"}, "--batch-size"},
                                           {{"--batch-size", "many"}, "--batch-size"},
                                           {{"--batch-size", ""}, "--batch-size"},
                                           {{"--batch-size", "10001"}, "--batch-size"},
                                           {{"--batch-orders", "0"}, "--batch-orders"},
                                           {{"--batch-orders", "1k"}, "--batch-orders"},
                                           {{"--dry-run=maybe"}, "--dry-run"},
                                           {{"--fail-on-drift=perhaps"}, "--fail-on-drift"},
                                           {{"--no-such-option"}, "--no-such-option"},
                                       });
    const auto period = run_cli_in_process({"quota", "reconcile", "2026-13"}, kNoDatabase);
    CHECK(period.err.find("YYYY-MM") != std::string::npos);
    CHECK(period.err.find("current") != std::string::npos);
}

TEST_CASE("wa redrive-failed: bad input exits 2 and names the option") {
    const std::string injection = "timeout'); DELETE FROM wa_messages; --\"";
    check_rows({"wa", "redrive-failed"},
               {
                   {{"--reason", "blocked"}, "--reason"},
                   {{"--reason", "TIMEOUT"}, "'TIMEOUT' is not a known reason code"},
                   {{"--reason", " timeout"}, "' timeout' is not a known reason code"},
                   {{"--reason", injection}, "'" + injection + "' is not a known reason code"},
                   {{"--reason", "none"}, "--reason"},
                   {{"--reason", ""}, "--reason"},
                   {{"--tenant", "0"}, "--tenant"},
                   {{"--tenant", "abc"}, "--tenant"},
                   {{"--tenant", "-3"}, "--tenant"},
                   {{"--tenant", "1.5"}, "--tenant"},
                   {{"--tenant", "1; DROP TABLE tenants"}, "--tenant"},
                   {{"--failed-after", "yesterday"}, "--failed-after"},
                   {{"--failed-after", "2026-02-30"}, "--failed-after"},
                   {{"--failed-after", "24 h"}, "--failed-after"},
                   {{"--failed-before", "-1d"}, "--failed-before"},
                   {{"--failed-before", "2026-01-01 25:00"}, "--failed-before"},
                   {{"--limit", "0"}, "--limit"},
                   {{"--limit", "ten"}, "--limit"},
                   {{"--queue", ""}, "--queue"},
                   {{"--queue", "a,b"}, "--queue"},
                   {{"--queue", std::string(256, 'q')}, "--queue"},
                   {{"--queue", "bad\xff"}, "--queue"},
                   {{"--queue", "tab\there"}, "--queue"},
                   {{"--rate", "0"}, "--rate"},
                   {{"--rate", "1.5"}, "--rate"},
                   {{"--rate", "fast"}, "--rate"},
                   {{"--batch-size", "0"}, "--batch-size"},
                   {{"--batch-size", "1000001"}, "--batch-size"},
                   {{"--parallel", "0"}, "--parallel"},
                   {{"--parallel", "9"}, "--parallel"},
                   {{"--parallel", "two"}, "--parallel"},
                   {{"--parallel", "-1"}, "--parallel"},
                   {{"--tries", "-1"}, "--tries"},
                   {{"--tries", "many"}, "--tries"},
                   {{"--backoff", "10,,60"}, "--backoff"},
                   {{"--backoff", "[10,60]"}, "--backoff"},
                   {{"--backoff", "99999999999"}, "--backoff"},
                   {{"--timeout", "2m"}, "--timeout"},
                   // A permanent code needs --include-permanent, and says so.
                   {{"--reason", "blocked"}, "'blocked' is a permanent reason"},
               });
    CHECK(run_cli_in_process({"wa", "redrive-failed", "--reason", "blocked"}, kNoDatabase)
              .err.find("--include-permanent") != std::string::npos);
}
