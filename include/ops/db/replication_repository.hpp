#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "ops/core/replication.hpp"
#include "ops/db/session.hpp"

namespace ops {

// The primary's view of its standbys and replication slots (pg_stat_replication,
// pg_replication_slots, pg_publication), and whether this server is itself a standby.
class ReplicationRepository {
  public:
    explicit ReplicationRepository(Transaction& tx);

    // pg_is_in_recovery(): a standby, where nothing can be written.
    bool in_recovery();
    // Member of pg_monitor (or superuser): can read standbys' positions and lags.
    bool can_monitor();
    // Standbys and slots with the WAL distance from the current position; primary only.
    ReplicationSnapshot snapshot();
    SyncReplication sync_replication();
    // Publications that replicate deletes of `table` (FOR ALL TABLES, the schema or the table).
    std::vector<std::string> publications_deleting(const std::string& table);
    // The WAL an archived audit_events row costs, roughly: its share of the table's pages
    // (each page is written whole after a checkpoint when full_page_writes is on) plus the
    // delete record. An estimate for the preflight, not a measurement.
    std::int64_t wal_bytes_per_archived_row();

  private:
    pqxx::transaction_base& tx_;
};

}  // namespace ops
