#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ops {

// Reports how far a batch loop is. On a terminal: one line on stderr rewritten in place
// (done of total, rate, ETA). Otherwise an info log line at most every few seconds, so
// cron logs stay readable.
class ProgressReporter {
  public:
    ProgressReporter(std::string what, std::int64_t total);
    ~ProgressReporter();
    void update(std::int64_t done);

  private:
    std::string line(std::int64_t done) const;

    std::string what_;
    std::int64_t total_;
    bool terminal_;
    bool drew_ = false;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_report_ = started_;
};

}  // namespace ops
