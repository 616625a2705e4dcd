#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <pqxx/pqxx>
#include <string_view>
#include <thread>

#include "ops/db/sql_error.hpp"

namespace ops {

// Deadlock, serialization failure or lock timeout: the batch can simply run again.
bool is_transient(const pqxx::failure& error);

// Runs one batch (a callable that opens, uses and commits its own transaction), retrying it
// with growing pauses when it fails transiently. Any other error goes to the caller.
template <typename Batch>
auto retry_transient(std::string_view what, Batch&& batch) -> decltype(batch()) {
    constexpr int kAttempts = 4;
    auto pause = std::chrono::milliseconds(100);
    for (int attempt = 1;; ++attempt) {
        try {
            return batch();
        } catch (const pqxx::failure& error) {  // class 40 is no sql_error in libpqxx 6.4
            if (!is_transient(error) || attempt == kAttempts) throw;
            spdlog::warn("{}: transient database error (SQLSTATE {}), retry {} of {} in {} ms",
                         what, sqlstate_of(error), attempt, kAttempts - 1, pause.count());
            std::this_thread::sleep_for(pause);
            pause *= 4;
        }
    }
}

}  // namespace ops
