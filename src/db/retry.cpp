#include "ops/db/retry.hpp"

#include "ops/db/sql_error.hpp"

namespace ops {

bool is_transient(const pqxx::failure& error) {
    const std::string state = sqlstate_of(error);
    return state == "40001"      // serialization_failure
           || state == "40P01"   // deadlock_detected
           || state == "55P03";  // lock_not_available (lock_timeout)
}

}  // namespace ops
