#include "ops/db/clock.hpp"

namespace ops {
namespace {
constexpr const char* kLocalNow = "(now() AT TIME ZONE $1)";
constexpr const char* kFormat = "'YYYY-MM-DD HH24:MI:SS'";
}  // namespace

std::string Clock::now() {
    return tx_
        .exec_params1(std::string("SELECT to_char(") + kLocalNow + ", " + kFormat + ")",
                      timezone_)[0]
        .as<std::string>();
}

std::string Clock::days_ago(std::int64_t days) {
    return tx_
        .exec_params1(std::string("SELECT to_char(") + kLocalNow +
                          " - make_interval(days => $2::int), " + kFormat + ")",
                      timezone_, days)[0]
        .as<std::string>();
}

std::string Clock::ago(std::int64_t milliseconds) {
    return tx_
        .exec_params1(std::string("SELECT to_char(") + kLocalNow +
                          " - $2::bigint * interval '1 millisecond', " + kFormat + ")",
                      timezone_, milliseconds)[0]
        .as<std::string>();
}

bool Clock::is_future(const std::string& local_timestamp) {
    return tx_
        .exec_params1(std::string("SELECT $2::timestamp > ") + kLocalNow, timezone_,
                      local_timestamp)[0]
        .as<bool>();
}

}  // namespace ops
