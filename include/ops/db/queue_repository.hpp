#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "ops/db/session.hpp"

namespace ops {

// A SendWaMessageJob row the application itself wrote (not one of ops's).
struct ApplicationJob {
    std::string source;  // "jobs" or "failed_jobs"
    std::int64_t id = 0;
    std::string payload;
};

// Rows of a queue that no worker has taken although they are due.
struct WaitingJobs {
    std::int64_t count = 0;                // available longer than retry_after, never reserved
    std::optional<std::int64_t> oldest_s;  // how long the oldest of them has been available
    std::int64_t total = 0;                // rows of the queue, reserved or not
};

// SQL on the application's queue tables (the configured jobs table and failed_jobs).
class QueueRepository {
  public:
    QueueRepository(Transaction& tx, const std::string& jobs_table);

    // Whether a table of that name ("jobs", "schema.jobs") exists.
    bool table_exists(const std::string& table);

    // The newest SendWaMessageJob payload in the jobs table or failed_jobs whose uuid no
    // `redriven_event` audit event of ops names (ops writes the job's uuid there). Looks at the
    // newest 200 of each table only; failed_jobs when it exists.
    std::optional<ApplicationJob> newest_application_job(const std::string& redriven_event);

    // Rows of `queue` that are due since more than `retry_after` seconds and not reserved.
    WaitingJobs waiting_jobs(const std::string& queue, std::int64_t retry_after);

  private:
    pqxx::transaction_base& tx_;
    std::string jobs_;  // quoted
};

}  // namespace ops
