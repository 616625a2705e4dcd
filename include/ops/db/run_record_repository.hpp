#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

#include "ops/db/session.hpp"

namespace ops {

// The application's own audit trail is where a run that changed data leaves its record:
// channel 'ops', event 'ops.<group>.<command>', actor_type 'cli'.
class RunRecordRepository {
  public:
    explicit RunRecordRepository(Transaction& tx);

    void record_run(const std::string& event, const nlohmann::ordered_json& metadata,
                    const std::string& zone);

  private:
    pqxx::transaction_base& tx_;
};

}  // namespace ops
