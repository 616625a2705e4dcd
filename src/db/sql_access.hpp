#pragma once

#include <pqxx/pqxx>

#include "ops/db/session.hpp"

namespace ops {

// The libpqxx transaction beneath a Transaction. This header is src/db's own (not under
// include/), so only the repository layer reaches SQL; a command holds a Transaction and
// hands it to repositories.
class SqlAccess {
  public:
    static pqxx::transaction_base& of(Transaction& tx) { return tx.sql(); }
};

}  // namespace ops
