#pragma once

#include <string>
#include <vector>

// What a command uses in the database, declared once beside the command (its CommandSpec):
// `ops doctor` checks exactly these, so the checks cannot drift from what the commands do.
// A capability that adds a statement adds what it touches here.
namespace ops {

struct ColumnNeed {
    std::string name;
    std::vector<std::string> types;  // accepted format_type() prefixes, e.g. {"bigint", "integer"}

    bool operator==(const ColumnNeed& other) const { return name == other.name; }  // one table's
};

struct TableNeed {
    std::string table;
    std::vector<ColumnNeed> columns;
    std::vector<std::string> privileges;  // "SELECT", "INSERT", "UPDATE", "DELETE"
    bool owner = false;                   // DDL on it (partitions) needs its owner
    bool optional = false;                // used only when it exists (failed_jobs)
    bool database_queue = false;          // the database queue's: unused when jobs go to Redis
};

// The sequence behind a column's default (nextval), found with pg_get_serial_sequence.
struct SequenceNeed {
    std::string table;
    std::string column;
    std::vector<std::string> privileges;  // "USAGE" for nextval
    bool database_queue = false;          // as TableNeed's
};

struct DatabaseNeeds {
    std::vector<TableNeed> tables;
    std::vector<SequenceNeed> sequences;
    std::vector<std::string> roles;  // roles to be a member of, e.g. "pg_monitor"

    bool empty() const { return tables.empty() && sequences.empty() && roles.empty(); }
};

// Accepted column types.
inline const std::vector<std::string> kIntegerTypes = {"bigint", "integer", "smallint"};
inline const std::vector<std::string> kTextTypes = {"character varying", "text", "character"};
inline const std::vector<std::string> kTimestampTypes = {"timestamp"};
inline const std::vector<std::string> kJsonTypes = {"json"};

// The columns of audit_events that archive and restore carry over whole.
std::vector<ColumnNeed> audit_event_columns();

// What the run record (an audit_events row the dispatcher writes for commands that declare
// records_run) needs.
DatabaseNeeds run_record_needs();

// `needs` without what only the database queue uses (the jobs table, failed_jobs, the jobs
// sequence): what a redrive onto Redis touches.
DatabaseNeeds without_database_queue(DatabaseNeeds needs);

// `a` and `b` together: privileges, columns and roles united per table and sequence.
DatabaseNeeds combined(DatabaseNeeds a, const DatabaseNeeds& b);

}  // namespace ops
