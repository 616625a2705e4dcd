#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "ops/db/session.hpp"

namespace ops {

struct ColumnInfo {
    std::string table;
    std::string column;
    std::string type;  // format_type(), e.g. "timestamp(0) without time zone"
};

// The sequence behind a column's default and the privileges on it the role lacks.
struct SequenceAccess {
    std::string sequence;  // empty when the column has no serial/identity sequence
    std::vector<std::string> missing;
};

// Catalog look-ups for `ops doctor`.
class SchemaRepository {
  public:
    explicit SchemaRepository(Transaction& tx);

    std::vector<ColumnInfo> columns_of(const std::vector<std::string>& tables);
    // Privileges the connected role lacks among `wanted` (e.g. "SELECT", "DELETE") on `table`.
    std::vector<std::string> missing_privileges(const std::string& table,
                                                const std::vector<std::string>& wanted);
    SequenceAccess sequence_access(const std::string& table, const std::string& column,
                                   const std::vector<std::string>& wanted);
    // Of `roles`, those the connected role is not a member of (or that do not exist).
    std::vector<std::string> missing_roles(const std::vector<std::string>& roles);
    // The connected role owns `table` (directly or through a role it is a member of).
    bool owns(const std::string& table);
    bool table_exists(const std::string& table);
    std::string current_role();

  private:
    pqxx::transaction_base& tx_;
};

}  // namespace ops
