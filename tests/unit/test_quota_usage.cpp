#include <catch2/catch.hpp>

#include "ops/core/quota_usage.hpp"

using namespace ops;

TEST_CASE(
    "quota tally: in scope: tenants with a row, and tenants without one that have counted orders") {
    const std::vector<RecordedUsage> rows = {{1, 5, 10}, {3, 2, std::nullopt}, {4, 7, 3}};
    const std::vector<std::pair<std::int64_t, std::int64_t>> counts = {
        {1, 5}, {2, 4}, {3, 0}, {4, 9}, {5, 0}};
    const auto checks = check_usage(rows, counts);
    REQUIRE(checks.size() == 4);
    CHECK(checks[0].tenant_id == 1);
    CHECK_FALSE(checks[0].drifted());
    CHECK(checks[1].tenant_id == 2);
    CHECK(checks[1].missing_row());
    CHECK(checks[1].delta() == 4);
    CHECK(checks[2].tenant_id == 3);
    CHECK(checks[2].actual == 0);
    CHECK(checks[2].delta() == -2);
    CHECK(checks[3].tenant_id == 4);
    CHECK(checks[3].over_quota());
    CHECK_FALSE(checks[0].over_quota());
}

TEST_CASE(
    "quota tally: a row the run inserted itself is a missing row even when its count is zero") {
    const auto checks = check_usage({{7, std::nullopt, std::nullopt}}, {{7, 0}});
    REQUIRE(checks.size() == 1);
    CHECK(checks[0].missing_row());
    CHECK(checks[0].drifted());
    CHECK(checks[0].delta() == 0);
}

TEST_CASE("quota tally: the tally counts, sorts drift by size and lists changes by tenant") {
    ReconcileTally tally;
    tally.add(check_usage({{1, 5, 10}, {2, 9, 3}, {3, 3, std::nullopt}},
                          {{1, 5}, {2, 4}, {3, 4}, {4, 8}}));
    tally.add(check_usage({{5, 0, 0}}, {{5, 1}}));
    CHECK(tally.checked() == 5);
    CHECK(tally.inserted() == 1);
    CHECK(tally.updated() == 3);
    CHECK(tally.drifted() == 4);
    CHECK(tally.unchanged() == 1);

    const auto drift = tally.drift();
    REQUIRE(drift.size() == 4);
    CHECK(drift[0]["tenant_id"] == 4);  // |+8|, recorded null
    CHECK(drift[0]["recorded"].is_null());
    CHECK(drift[1]["tenant_id"] == 2);  // |-5|
    CHECK(drift[1]["delta"] == -5);
    CHECK(drift[2]["tenant_id"] == 3);  // |+1|, before tenant 5 (|+1|)
    CHECK(drift[3]["tenant_id"] == 5);

    const auto over = tally.over_quota();
    REQUIRE(over.size() == 2);
    CHECK(over[0]["tenant_id"] == 2);  // 4 of 3; ties with tenant 5 (1 of 0), lower id first
    CHECK(over[0]["used"] == 4);
    CHECK(over[0]["quota_limit"] == 3);
    CHECK(over[1]["tenant_id"] == 5);

    const auto changes = tally.changes();
    REQUIRE(changes.size() == 4);
    CHECK(changes[0] == Summary({{"tenant_id", 2}, {"previous", 9}, {"new", 4}}));
    CHECK(changes[2]["tenant_id"] == 4);
    CHECK(changes[2]["previous"].is_null());
    CHECK(changes[2]["new"] == 8);
}

TEST_CASE("quota batches: at most N tenants and about M expected orders per batch") {
    using Batches = std::vector<std::pair<std::size_t, std::size_t>>;
    CHECK(split_batches({}, 500, 100).empty());
    CHECK(split_batches({1, 1, 1, 1, 1}, 2, 100) == Batches{{0, 2}, {2, 4}, {4, 5}});
    CHECK(split_batches({40, 40, 40, 10, 0, 0}, 500, 100) == Batches{{0, 2}, {2, 6}});
    // A tenant larger than the budget gets a batch of its own; negative counts weigh nothing.
    CHECK(split_batches({5, 500, 5, -3, 90}, 500, 100) == Batches{{0, 1}, {1, 2}, {2, 5}});
    CHECK(split_batches({100, 100}, 500, 100) == Batches{{0, 1}, {1, 2}});
}
