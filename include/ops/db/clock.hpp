#pragma once

#include <pqxx/pqxx>
#include <string>

#include "ops/db/session.hpp"

namespace ops {

// "Now" is the database server's clock read in the application's timezone, the same
// clock and zone the application stamps its rows with.
class Clock {
  public:
    Clock(Transaction& tx, std::string zone);

    std::string now();                                   // "YYYY-MM-DD HH:MM:SS"
    std::string days_ago(std::int64_t days);             // now minus whole days
    std::string ago(std::int64_t milliseconds);          // now minus a duration
    bool is_future(const std::string& local_timestamp);  // later than now

  private:
    pqxx::transaction_base& tx_;
    std::string timezone_;
};

}  // namespace ops
