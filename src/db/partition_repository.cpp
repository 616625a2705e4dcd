#include "ops/db/partition_repository.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "ops/db/sql_error.hpp"
#include "sql_access.hpp"

namespace ops {

namespace {

constexpr const char* kMarkerPrefix = "ops audit archive: detached from ";
constexpr const char* kCursor = "ops_partition_copy";

// audit_events itself: whether and how it is partitioned, and whether this role owns it.
constexpr const char* kParentSql =
    "SELECT c.oid::regclass::text, p.partrelid IS NOT NULL, "
    "       coalesce(p.partstrat = 'r' AND p.partnatts = 1 AND a.attname = 'created_at', false), "
    "       pg_has_role(c.relowner, 'USAGE') "
    "FROM pg_class c "
    "LEFT JOIN pg_partitioned_table p ON p.partrelid = c.oid "
    "LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
    "WHERE c.oid = 'audit_events'::regclass";

// Each direct partition with its range bound read back from pg_get_expr (MINVALUE and
// MAXVALUE give NULL), and its rows before the cutoff ($1): one scan that the cutoff prunes.
constexpr const char* kPartitionsSql =
    "WITH parts AS ("
    "  SELECT c.oid, c.oid::regclass::text AS name, pg_get_expr(c.relpartbound, c.oid) AS bound,"
    "         c.relkind = 'p' AS sub, pg_has_role(c.relowner, 'USAGE') AS owned"
    "  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
    "  WHERE i.inhparent = 'audit_events'::regclass), "
    "bounds AS ("
    "  SELECT parts.*,"
    "         (regexp_match(bound, '^FOR VALUES FROM \\(''([^'']*)''\\) TO'))[1] AS lower,"
    "         (regexp_match(bound, ' TO \\(''([^'']*)''\\)$'))[1] AS upper"
    "  FROM parts), "
    "counts AS ("
    "  SELECT tableoid, count(*) AS n FROM audit_events WHERE created_at < $1::timestamp"
    "  GROUP BY tableoid) "
    "SELECT name, bound, bound = 'DEFAULT', sub, owned,"
    "       coalesce(upper::timestamp <= $1::timestamp, false), coalesce(counts.n, 0),"
    "       to_char(lower::timestamp, 'YYYY-MM-DD HH24:MI:SS'),"
    "       to_char(upper::timestamp, 'YYYY-MM-DD HH24:MI:SS') "
    "FROM bounds LEFT JOIN counts ON counts.tableoid = bounds.oid "
    "ORDER BY bound = 'DEFAULT', lower::timestamp NULLS FIRST, name";

}  // namespace

PartitionRepository::PartitionRepository(Transaction& tx) : tx_(SqlAccess::of(tx)) {}

std::string detached_marker(const std::string& parent, const std::string& bound) {
    return std::string(kMarkerPrefix) + parent + " " + bound;
}

PartitionLayout PartitionRepository::layout(const std::string& cutoff) {
    PartitionLayout layout;
    const auto parent = tx_.exec1(kParentSql);
    layout.parent = parent[0].as<std::string>();
    layout.partitioned = parent[1].as<bool>();
    layout.by_created_at_range = parent[2].as<bool>();
    layout.parent_owned = parent[3].as<bool>();
    if (!layout.partitioned) return layout;
    for (const auto& row : tx_.exec_params(kPartitionsSql, cutoff)) {
        AuditPartition p;
        p.name = row[0].as<std::string>();
        p.bound = row[1].as<std::string>();
        p.is_default = row[2].as<bool>();
        p.sub_partitioned = row[3].as<bool>();
        p.owned = row[4].as<bool>();
        p.older = row[5].as<bool>();
        p.rows = row[6].as<std::int64_t>();
        if (!row[7].is_null()) p.range.from = row[7].as<std::string>();
        if (!row[8].is_null()) p.range.to = row[8].as<std::string>();
        layout.partitions.push_back(std::move(p));
    }
    return layout;
}

std::vector<std::string> PartitionRepository::detached_leftovers() {
    std::vector<std::string> tables;
    const auto rows = tx_.exec_params(
        "SELECT c.oid::regclass::text FROM pg_class c "
        "JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass "
        "  AND d.objsubid = 0 "
        "WHERE c.relkind = 'r' AND NOT c.relispartition AND starts_with(d.description, "
        "  $1 || 'audit_events'::regclass::text || ' ') "
        "ORDER BY 1",
        std::string(kMarkerPrefix));
    for (const auto& row : rows) tables.push_back(row[0].as<std::string>());
    return tables;
}

void PartitionRepository::set_lock_timeout(std::chrono::milliseconds timeout) {
    tx_.exec_params("SELECT set_config('lock_timeout', $1, true)",
                    std::to_string(timeout.count()) + "ms");
}

void PartitionRepository::detach(const PartitionLayout& layout, const AuditPartition& partition) {
    // In the DETACH's transaction: a detached table always carries its marker. One round
    // trip for both, as the application waits while the lock is held.
    tx_.exec("ALTER TABLE " + layout.parent + " DETACH PARTITION " + partition.name +
             "; COMMENT ON TABLE " + partition.name + " IS " +
             tx_.quote(detached_marker(layout.parent, partition.bound)));
}

void PartitionRepository::open_copy(const std::string& table) {
    // The parent's columns in the parent's order (an attached table may order its own
    // differently), so that each line has the row-by-row path's bytes.
    tx_.exec(fmt::format(
        "DECLARE {} NO SCROLL CURSOR FOR SELECT a.id, a.channel, "
        "to_char(a.created_at, 'YYYY-MM-DD HH24:MI:SS'), {} FROM (SELECT {} FROM ONLY {}) a",
        kCursor, archive_line_sql(tx_), parent_columns(), table));
}

ArchivedBatch PartitionRepository::fetch(std::int64_t rows) {
    // FETCH takes no parameter; the count is ours, never input.
    return ArchivedBatch(tx_.exec(fmt::format("FETCH FORWARD {} FROM {}", rows, kCursor)));
}

std::int64_t PartitionRepository::count_rows(const std::string& table) {
    return tx_.exec1("SELECT count(*) FROM ONLY " + table)[0].as<std::int64_t>();
}

void PartitionRepository::drop(const std::string& table) { tx_.exec("DROP TABLE " + table); }

std::string PartitionRepository::parent_columns() {
    return tx_
        .exec1(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = 'audit_events'::regclass AND attnum > 0 AND NOT attisdropped")[0]
        .as<std::string>();
}

LockedCommit commit_within_lock_timeout(Session& session, std::chrono::milliseconds timeout,
                                        const std::function<void(PartitionRepository&)>& action) {
    try {
        Work tx(session);
        PartitionRepository repo(tx);
        repo.set_lock_timeout(timeout);
        action(repo);
        tx.commit();
        return LockedCommit::kCommitted;
    } catch (const pqxx::failure& e) {
        const std::string state = sqlstate_of(e);
        if (state == "55P03") return LockedCommit::kLockTimedOut;
        if (state == "40P01") return LockedCommit::kDeadlocked;
        throw;
    }
}

}  // namespace ops
