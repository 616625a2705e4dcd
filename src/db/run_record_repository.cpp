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

}  // namespace ops
