#pragma once

#include <string>
#include <vector>

#include "ops/queue/laravel_job_payload.hpp"

namespace ops {

// One job setting whose value in the application's own payload differs from the one ops
// would write: a worker would retry (or time out) ops's jobs differently.
struct SettingMismatch {
    std::string setting;      // "maxTries", "backoff", "timeout", "retryUntil", ...
    std::string application;  // the value in the application's payload, as JSON
    std::string ops;          // the value ops writes, as JSON
    std::string fix;          // the option that makes them equal, or "" when there is none
};

// Compares maxTries, maxExceptions, failOnTimeout, backoff, timeout and retryUntil of the
// application's payload with those of `properties`. An unreadable payload yields one mismatch
// "payload".
std::vector<SettingMismatch> job_settings_mismatches(const std::string& application_payload,
                                                     const JobClassProperties& properties);

}  // namespace ops
