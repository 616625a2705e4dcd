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

    // One audit event about one subject (e.g. a redriven wa_message), stamped like the
    // application stamps its own: wall time in the application's timezone.
    void record_subject_event(const std::string& event, const std::string& subject_type,
                              std::int64_t subject_id, const nlohmann::ordered_json& metadata,
                              const std::string& zone);

    // The same for many subjects in one statement: `events_json` is a JSON array of
    // {"subject_id": N, "metadata": {...}}. Returns the rows inserted.
    std::int64_t record_subject_events(const std::string& event, const std::string& subject_type,
                                       const std::string& events_json, const std::string& zone);

  private:
    pqxx::transaction_base& tx_;
};

}  // namespace ops
