#pragma once

#include <string>

#include "ops/core/config.hpp"
#include "ops/core/errors.hpp"
#include "ops/db/session.hpp"

namespace ops {

// How the connection reaches PostgreSQL, as far as a client can tell without a pooler's
// admin console (which ops never uses: it may be closed, and it is PgBouncer-only).
enum class PoolMode {
    kDirect,       // the server's backend pid is the one the connection announced
    kSession,      // through a pooler that kept one server connection for the client
    kTransaction,  // through a pooler that moved the client between server connections
};

// PgBouncer's answer to a BEGIN in pool_mode=statement.
bool is_statement_pooling_refusal(const std::string& message);

// Why a transaction could not start on this route: opens one more plain libpq connection,
// sends BEGIN (and ROLLBACK) and returns the server's (or pooler's) error message, "" if it
// worked. Plain libpq, because libpqxx 6.4 loses the message of an error that closes the
// connection (and leaks its result).
std::string begin_failure(const std::string& startup_conninfo);

// The exit-78 refusal for a statement pooler: names it and how to give ops a connection.
ConfigError statement_pooling_error(const ConnectionSettings& connection);

// Watches two client connections (`first` and a fresh `second`, both through the same
// route) for a server connection that serves both, or one that changes under `first`
// while `second` holds a transaction open. Seeing either proves transaction pooling;
// seeing neither means session pooling (or a transaction pooler that happened to keep the
// same server connection, which busy application traffic can cause). Leaves nothing behind.
PoolMode observe_pool_mode(Session& first, Session& second);

std::string pool_mode_name(PoolMode mode);

}  // namespace ops
