#include "ops/db/run_record_repository.hpp"

#include "ops/db/statement.hpp"
#include "sql_access.hpp"

namespace ops {

namespace {

std::string dump(const nlohmann::ordered_json& metadata) {
    return metadata.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

RunRecordRepository::RunRecordRepository(Transaction& tx) : tx_(SqlAccess::of(tx)) {}

void RunRecordRepository::record_run(const std::string& event,
                                     const nlohmann::ordered_json& metadata,
                                     const std::string& zone) {
    static const Statement record(R"sql(
        INSERT INTO audit_events (channel, event, actor_type, metadata, created_at, updated_at)
        SELECT 'ops', :event, 'cli', :metadata::json, t, t
        FROM (SELECT (now() AT TIME ZONE :zone)::timestamp(0) AS t) AS clock
    )sql");
    run(tx_,
        Bindings(record).set("event", event).set("metadata", dump(metadata)).set("zone", zone));
}

}  // namespace ops
