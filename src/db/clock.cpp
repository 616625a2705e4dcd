#include "ops/db/clock.hpp"

#include "ops/db/statement.hpp"
#include "sql_access.hpp"

namespace ops {

Clock::Clock(Transaction& tx, std::string zone)
    : tx_(SqlAccess::of(tx)), timezone_(std::move(zone)) {}

std::string Clock::now() {
    static const Statement now("SELECT to_char(now() AT TIME ZONE :zone, :wall_time)");
    return run1(tx_, Bindings(now).set("zone", timezone_).set("wall_time", kWallTimeFormat))[0]
        .as<std::string>();
}

std::string Clock::days_ago(std::int64_t days) {
    static const Statement days_ago(R"sql(
        SELECT to_char(now() AT TIME ZONE :zone - make_interval(days => :days::int), :wall_time)
    )sql");
    return run1(tx_, Bindings(days_ago)
                         .set("zone", timezone_)
                         .set("days", days)
                         .set("wall_time", kWallTimeFormat))[0]
        .as<std::string>();
}

std::string Clock::ago(std::int64_t milliseconds) {
    static const Statement ago(R"sql(
        SELECT to_char(now() AT TIME ZONE :zone - :milliseconds::bigint * interval '1 millisecond',
                       :wall_time)
    )sql");
    return run1(tx_, Bindings(ago)
                         .set("zone", timezone_)
                         .set("milliseconds", milliseconds)
                         .set("wall_time", kWallTimeFormat))[0]
        .as<std::string>();
}

bool Clock::is_future(const std::string& local_timestamp) {
    static const Statement later("SELECT :local::timestamp > now() AT TIME ZONE :zone");
    return run1(tx_, Bindings(later).set("local", local_timestamp).set("zone", timezone_))[0]
        .as<bool>();
}

}  // namespace ops
