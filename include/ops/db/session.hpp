#pragma once

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "ops/core/config.hpp"

namespace ops {

struct SessionSettings {
    std::string application_name;  // shown in pg_stat_activity, e.g. "ops audit archive"
    std::chrono::milliseconds statement_timeout{0};
    std::chrono::milliseconds lock_timeout{0};
};

// One database connection for one run. Opening it is where "unreachable" and "wrong
// password" surface, as DatabaseUnavailable (exit 69) with the password redacted.
class Session {
  public:
    Session(const ConnectionSettings& connection, const SessionSettings& settings);

    pqxx::connection& connection() { return *connection_; }
    std::string server_version();

  private:
    std::unique_ptr<pqxx::connection> connection_;
};

// The session-level advisory lock that keeps two runs of one command from overlapping.
// Released on destruction, and by the server if the process dies.
class AdvisoryLock {
  public:
    AdvisoryLock(Session& session, const std::string& lock_name);  // throws LockHeld
    ~AdvisoryLock();
    AdvisoryLock(const AdvisoryLock&) = delete;
    AdvisoryLock& operator=(const AdvisoryLock&) = delete;

  private:
    Session& session_;
    int key_;
};

}  // namespace ops
