#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace ops {

struct ColumnInfo {
    std::string table;
    std::string column;
    std::string type;  // format_type(), e.g. "timestamp(0) without time zone"
};

// Catalog look-ups for `ops doctor`.
class SchemaRepository {
  public:
    explicit SchemaRepository(pqxx::transaction_base& tx) : tx_(tx) {}

    std::vector<ColumnInfo> columns_of(const std::vector<std::string>& tables);
    // Privileges the connected role lacks among `wanted` (e.g. "SELECT", "DELETE") on `table`.
    std::vector<std::string> missing_privileges(const std::string& table,
                                                const std::vector<std::string>& wanted);
    std::string current_role();

  private:
    pqxx::transaction_base& tx_;
};

}  // namespace ops
