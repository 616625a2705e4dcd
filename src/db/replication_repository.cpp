#include "ops/db/replication_repository.hpp"

#include "ops/db/statement.hpp"
#include "sql_access.hpp"

namespace ops {

namespace {

template <typename T>
std::optional<T> optional_of(const pqxx::field& field) {
    if (field.is_null()) return std::nullopt;
    return field.as<T>();
}

}  // namespace

ReplicationRepository::ReplicationRepository(Transaction& tx) : tx_(SqlAccess::of(tx)) {}

bool ReplicationRepository::in_recovery() {
    return tx_.exec1("SELECT pg_is_in_recovery()")[0].as<bool>();
}

bool ReplicationRepository::can_monitor() {
    // pg_has_role is true for a superuser too.
    return tx_.exec1("SELECT pg_has_role(current_user, 'pg_monitor', 'USAGE')")[0].as<bool>();
}

ReplicationSnapshot ReplicationRepository::snapshot() {
    ReplicationSnapshot snapshot;
    const auto standbys = tx_.exec(R"sql(
        SELECT coalesce(application_name, ''), coalesce(host(client_addr), 'local'),
               coalesce(state, ''), coalesce(sync_state, ''),
               pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint,
               (extract(epoch FROM replay_lag) * 1000)::bigint
        FROM pg_stat_replication ORDER BY pid
    )sql");
    for (const auto& row : standbys) {
        StandbyState s{row[0].as<std::string>(),          row[1].as<std::string>(),
                       row[2].as<std::string>(),          row[3].as<std::string>(),
                       optional_of<std::int64_t>(row[4]), std::nullopt};
        if (!row[5].is_null()) s.replay_lag = std::chrono::milliseconds(row[5].as<std::int64_t>());
        snapshot.standbys.push_back(std::move(s));
    }
    const auto slots = tx_.exec(R"sql(
        SELECT slot_name, slot_type, coalesce(database, ''), active, coalesce(wal_status, ''),
               pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, safe_wal_size
        FROM pg_replication_slots ORDER BY slot_name
    )sql");
    for (const auto& row : slots) {
        snapshot.slots.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                                  row[2].as<std::string>(), row[3].as<bool>(),
                                  row[4].as<std::string>(), optional_of<std::int64_t>(row[5]),
                                  optional_of<std::int64_t>(row[6])});
    }
    return snapshot;
}

// num_sync is read from the setting's own grammar: [FIRST|ANY] N (names...), else 1 for a
// plain list of names.
SyncReplication ReplicationRepository::sync_replication() {
    const auto row = tx_.exec1(R"sql(
        WITH s AS (SELECT current_setting('synchronous_standby_names') AS names)
        SELECT s.names,
               CASE WHEN s.names ~ '^\s*$' THEN 0
                    ELSE coalesce((regexp_match(s.names,
                           '^\s*(?:(?:first|any)\s+)?([0-9]+)\s*\(', 'i'))[1]::bigint, 1)
               END,
               current_setting('synchronous_commit'),
               (SELECT count(*) FROM pg_stat_replication
                WHERE sync_state IN ('sync', 'potential', 'quorum')),
               pg_has_role(current_user, 'pg_monitor', 'USAGE')
        FROM s
    )sql");
    return {row[0].as<std::string>(), row[1].as<std::int64_t>(), row[2].as<std::string>(),
            row[3].as<std::int64_t>(), row[4].as<bool>()};
}

std::vector<std::string> ReplicationRepository::publications_deleting(const std::string& table) {
    static const Statement publications(R"sql(
        SELECT p.pubname FROM pg_publication p
        WHERE p.pubdelete AND EXISTS (
          SELECT 1 FROM pg_publication_tables t
          JOIN pg_class c ON c.oid = to_regclass(:table)
          JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE t.pubname = p.pubname AND t.schemaname = n.nspname AND t.tablename = c.relname)
        ORDER BY 1
    )sql");
    std::vector<std::string> names;
    for (const auto& row : run(tx_, Bindings(publications).set("table", table)))
        names.push_back(row[0].as<std::string>());
    return names;
}

// The table's bytes per row (pages are written whole after a checkpoint) when ANALYZE has
// counted its rows, else a sample's row size plus tuple header and line pointer; plus ~64
// bytes for the delete record.
std::int64_t ReplicationRepository::wal_bytes_per_archived_row() {
    return tx_
        .exec1(R"sql(
            SELECT ceil(64 + CASE WHEN c.reltuples > 0 THEN pg_table_size(c.oid) / c.reltuples
              ELSE (SELECT coalesce(avg(pg_column_size(e.*)), 0) + 32
                    FROM (SELECT * FROM audit_events ORDER BY id LIMIT 1000) e) END)::bigint
            FROM pg_class c WHERE c.oid = 'audit_events'::regclass
        )sql")[0]
        .as<std::int64_t>();
}

}  // namespace ops
