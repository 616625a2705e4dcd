#include "ops/db/run_record_repository.hpp"

namespace ops {
namespace {

std::string dump(const nlohmann::ordered_json& metadata) {
    return metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void RunRecordRepository::record_run(const std::string& event,
                                     const nlohmann::ordered_json& metadata,
                                     const std::string& zone) {
    tx_.exec_params(
        "INSERT INTO audit_events (channel, event, actor_type, metadata, created_at, updated_at) "
        "SELECT 'ops', $1, 'cli', $2::json, t, t "
        "FROM (SELECT (now() AT TIME ZONE $3)::timestamp(0) AS t) AS clock",
        event, dump(metadata), zone);
}

std::int64_t RunRecordRepository::record_subject_events(const std::string& event,
                                                        const std::string& subject_type,
                                                        const std::string& events_json,
                                                        const std::string& zone) {
    return tx_
        .exec_params(
            "INSERT INTO audit_events (channel, event, actor_type, subject_type, subject_id, "
            "                          metadata, created_at, updated_at) "
            "SELECT 'ops', $1, 'cli', $2, e.subject_id, e.metadata, t, t "
            "FROM json_to_recordset($3::json) AS e(subject_id bigint, metadata json), "
            "     (SELECT (now() AT TIME ZONE $4)::timestamp(0) AS t) AS clock "
            "ORDER BY e.subject_id",
            event, subject_type, events_json, zone)
        .affected_rows();
}

}  // namespace ops
