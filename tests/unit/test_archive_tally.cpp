// ArchiveTally's merge: the totals a run reports out of its batches' and partitions' tallies
// (ArchiveTally::add of one batch is checked through real results by the integration suite).
#include <catch2/catch.hpp>

#include "commands/archive_tally.hpp"

using ops::ArchiveTally;

namespace {

ArchiveTally tally(std::int64_t rows, std::map<std::string, std::int64_t, std::less<>> channels,
                   std::int64_t first, std::int64_t last, std::string oldest, std::string newest) {
    ArchiveTally t;
    t.rows = rows;
    t.by_channel = std::move(channels);
    t.first_id = first;
    t.last_id = last;
    t.oldest = std::move(oldest);
    t.newest = std::move(newest);
    return t;
}

}  // namespace

TEST_CASE("archive tally: merging adds rows and channels and widens the extremes") {
    ArchiveTally total;
    total.add(
        tally(3, {{"web", 2}, {"api", 1}}, 10, 40, "2026-02-01 00:00:00", "2026-02-27 10:00:00"));
    total.add(
        tally(2, {{"web", 1}, {"wa", 1}}, 5, 12, "2026-03-01 00:00:00", "2026-03-02 00:00:00"));
    total.add(ArchiveTally{});  // an empty batch changes nothing
    CHECK(total.rows == 5);
    CHECK(total.by_channel ==
          std::map<std::string, std::int64_t, std::less<>>{{"api", 1}, {"wa", 1}, {"web", 3}});
    CHECK(total.first_id == 5);
    CHECK(total.last_id == 40);
    CHECK(total.oldest == "2026-02-01 00:00:00");
    CHECK(total.newest == "2026-03-02 00:00:00");
}

TEST_CASE("archive tally: an empty tally has no extremes") {
    ArchiveTally total;
    total.add(ArchiveTally{});
    CHECK(total.rows == 0);
    CHECK(total.by_channel.empty());
    CHECK_FALSE(total.first_id.has_value());
    CHECK_FALSE(total.oldest.has_value());
}
