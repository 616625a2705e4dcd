#pragma once

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>

namespace ops {

// The application's own audit trail is where a run that changed data leaves its record:
// channel 'ops', event 'ops.<group>.<command>', actor_type 'cli'.
class RunRecordRepository {
  public:
    explicit RunRecordRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    void record_run(const std::string& event, const nlohmann::ordered_json& metadata,
                    const std::string& zone);

    // One audit event per subject (e.g. each redriven wa_message), in one statement, stamped
    // like the application stamps its own rows: wall time in the application's timezone.
    // `events_json` is a JSON array of {"subject_id": N, "metadata": {...}}. Returns the rows
    // inserted.
    std::int64_t record_subject_events(const std::string& event, const std::string& subject_type,
                                       const std::string& events_json, const std::string& zone);

  private:
    pqxx::transaction_base& tx_;
};

}  // namespace ops
