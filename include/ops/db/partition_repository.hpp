#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "ops/db/audit_repository.hpp"
#include "ops/db/session.hpp"

namespace ops {

// One partition of audit_events as the catalog describes it, measured against a cutoff.
struct AuditPartition {
    std::string name;   // regclass text: quoted and schema-qualified as SQL needs it
    std::string bound;  // pg_get_expr(relpartbound): "FOR VALUES FROM (...) TO (...)", "DEFAULT"
    bool is_default = false;
    bool sub_partitioned = false;  // itself partitioned: its leaves are not handled whole
    bool owned = false;            // the current role may DETACH and DROP it (owner or member)
    bool older = false;            // its upper bound is at or before the cutoff
    std::int64_t rows = 0;         // rows with created_at before the cutoff (all, when older)
    CreatedRange range;            // its bound (MINVALUE/MAXVALUE: open); none for DEFAULT
};

// audit_events' partitioning, or `partitioned == false` for a plain table.
struct PartitionLayout {
    bool partitioned = false;
    bool by_created_at_range = false;  // PARTITION BY RANGE (created_at)
    bool parent_owned = false;
    std::string parent;                      // regclass text of audit_events
    std::vector<AuditPartition> partitions;  // oldest lower bound first, DEFAULT last
};

// The comment a DETACH leaves on the table it detached, in the same transaction, so that a
// later run finds a partition whose archive did not finish: "ops audit archive: detached
// from <parent> <bound>". Built from catalog text only.
std::string detached_marker(const std::string& parent, const std::string& bound);

// All SQL of the partition-aware archive. Table names come from the catalog (regclass
// text) and are the only SQL text built at run time; every value is a bound parameter.
// Never commits.
class PartitionRepository {
  public:
    explicit PartitionRepository(Transaction& tx);

    // Reads audit_events' partitions and counts each one's rows before `cutoff`.
    PartitionLayout layout(const std::string& cutoff);

    // Tables an earlier run detached from audit_events and did not drop (their marker).
    std::vector<std::string> detached_leftovers();

    // Sets lock_timeout for the rest of this transaction (it ends with it).
    void set_lock_timeout(std::chrono::milliseconds timeout);

    // ALTER TABLE parent DETACH PARTITION (plain: CONCURRENTLY is refused while a DEFAULT
    // partition exists), and marks the detached table. Throws pqxx::sql_error (55P03) when
    // the lock is not granted within the lock timeout.
    void detach(const PartitionLayout& layout, const AuditPartition& partition);

    // Opens a cursor over every row of `table` (a detached partition) as the archive lines
    // the row-by-row path writes: the parent's columns in the parent's order.
    void open_copy(const std::string& table);
    // The next `rows` rows of that cursor (id, channel, created_at, line); empty at the end.
    ArchivedBatch fetch(std::int64_t rows);

    // Rows in a detached table (its count when it is finished).
    std::int64_t count_rows(const std::string& table);

    void drop(const std::string& table);

  private:
    std::string parent_columns();

    pqxx::transaction_base& tx_;
};

// How commit_within_lock_timeout ended: committed, or rolled back for a lock it did not get.
enum class LockedCommit { kCommitted, kLockTimedOut, kDeadlocked };

// Runs `action` in a transaction of its own on `session` whose lock_timeout is `timeout`, and
// commits it. Nothing is committed when a lock was not granted within `timeout` (55P03) or
// the server broke a deadlock by rolling this transaction back (40P01): a DETACH or DROP
// waits for locks the application also takes, in its own order. Any other error propagates.
LockedCommit commit_within_lock_timeout(Session& session, std::chrono::milliseconds timeout,
                                        const std::function<void(PartitionRepository&)>& action);

}  // namespace ops
