#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "ops/core/errors.hpp"
#include "ops/db/session.hpp"

namespace ops {

// A column of audit_events as restore needs it.
struct TableColumn {
    std::string name;
    std::string type;       // format_type() with modifier: "character varying(128)"
    std::string base_type;  // the type without modifier, quoted: "pg_catalog"."varchar"
    bool is_json = false;   // json or jsonb: its value is the JSON text itself
    bool is_array = false;
    bool elements_json = false;  // json[] or jsonb[]
    bool has_modifier = false;   // varchar(n), numeric(p,s), timestamp(0): values may change
    bool generated = false;      // GENERATED ALWAYS AS ... STORED: PostgreSQL computes it
};

// A single-column foreign key of audit_events.
struct ForeignKey {
    std::string name;
    std::string column;
    std::string target;      // referenced table, for messages: tenants(id)
    char on_delete = 'a';    // pg_constraint.confdeltype: a, r, c, n, d
    std::string lookup_sql;  // keys of $1::text[] that the referenced table lacks
};

// A sequence owned by a column (serial, bigserial, identity).
struct OwnedSequence {
    std::string column;
    std::string sequence;  // quoted, schema-qualified
};

// Rows of one batch that carry the same columns, as one text[] literal per column.
struct ShapeRows {
    std::vector<const TableColumn*> columns;
    std::vector<std::string> arrays;
    std::size_t id_position = 0;  // which of `columns` is id
};

// A value that the table's column type would change (rounding, a new type).
struct ValueChange {
    std::int64_t row = 0;  // 1-based position in the arrays
    std::string column;
    std::string to;  // to_json of the value as stored
};

// A batch holds a value the table does not take: a data exception (a value its type
// refuses) or an integrity violation (a constraint). what(): PostgreSQL's message, its first
// line. The transaction is rolled back by the time it is thrown.
class RowsRejected : public RunFailure {
  public:
    using RunFailure::RunFailure;
};

// All SQL of `ops audit restore`. Identifiers and type names come from the catalog and are
// quoted; every value is a bound parameter.
class RestoreRepository {
  public:
    explicit RestoreRepository(Transaction& tx);

    // The transactions of a restore, each around `work`. write_batch: one batch, committed
    // when `work` returns; a value the table does not take comes out as RowsRejected.
    // read_batch: a dry run's read-only look. probe_batch: writes that are always rolled
    // back, to find what a rejected batch stumbled on.
    static void write_batch(Session& session, const std::function<void(RestoreRepository&)>& work);
    static void read_batch(Session& session, const std::function<void(RestoreRepository&)>& work);
    static void probe_batch(Session& session, const std::function<void(RestoreRepository&)>& work);

    // False in read_batch's read-only transaction: nothing may be inserted.
    bool writes() const;
    // Runs `work` in a savepoint, rolled back whether it failed or not: PostgreSQL's message
    // (first line) when it failed, else "".
    std::string attempt(const std::function<void()>& work);

    std::vector<TableColumn> columns();
    std::vector<ForeignKey> foreign_keys();
    std::vector<OwnedSequence> owned_sequences();

    // The keys (text) that the referenced table does not hold.
    std::vector<std::string> missing_keys(const ForeignKey& key, const std::string& keys_array);

    // Inserts the rows whose id is not in the table (a partitioned table included: no unique
    // index on id alone is needed). The rows' ids must be distinct. Returns rows inserted.
    std::int64_t insert_missing(const ShapeRows& rows);

    // Values of `rows` whose stored form (to_json) would differ from `tokens` (one text[]
    // literal per column: the archived JSON text of each value).
    std::vector<ValueChange> changed_values(const ShapeRows& rows,
                                            const std::vector<std::string>& tokens);

    // How many ids of a text[] literal exist already.
    std::int64_t count_existing(const std::string& ids_array);

    // Moves the sequence forward so that its next value is above `at_least`; never back.
    void advance_sequence(const OwnedSequence& sequence, std::int64_t at_least);

    // An empty, constraint-free temporary copy of the table's columns, to try one value at
    // a time and name the column that does not take it.
    void create_probe();
    void probe(const TableColumn& column, const std::optional<std::string>& value);

  private:
    pqxx::transaction_base& tx_;
};

}  // namespace ops
