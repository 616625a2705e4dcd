#include "ops/db/pooler.hpp"

#include <libpq-fe.h>

#include <memory>

#include "sql_access.hpp"

namespace ops {
namespace {

int server_pid(Transaction& tx) {
    return SqlAccess::of(tx).exec1("SELECT pg_backend_pid()")[0].as<int>();
}

int server_pid_of_transaction(Session& session) {
    ReadTransaction tx(session);
    const int pid = server_pid(tx);
    tx.commit();
    return pid;
}

}  // namespace

bool is_statement_pooling_refusal(const std::string& message) {
    return message.find("not allowed in statement pooling mode") != std::string::npos;
}

std::string begin_failure(const std::string& startup_conninfo) {
    const std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(startup_conninfo.c_str()),
                                                            &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) return PQerrorMessage(conn.get());
    const std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), "BEGIN"),
                                                               &PQclear);
    if (PQresultStatus(result.get()) == PGRES_COMMAND_OK) {
        // Ended before closing: a pooler drops a server connection left inside a transaction.
        PQclear(PQexec(conn.get(), "ROLLBACK"));
        return "";
    }
    // The connection's message: a FATAL that closes the connection is kept there only.
    return PQerrorMessage(conn.get());
}

ConfigError statement_pooling_error(const ConnectionSettings& connection) {
    return ConfigError(
        "the database connection (" + redact_conninfo(connection.conninfo) + ", from " +
            connection.source +
            ") goes through PgBouncer in statement pooling mode (it answered BEGIN with "
            "\"transaction blocks not allowed in statement pooling mode\"); ops runs each "
            "batch as a multi-statement transaction and holds its lock in one, so it refuses "
            "to start; nothing was changed",
        "give ops a direct connection to PostgreSQL (or a PgBouncer pool in session or "
        "transaction mode): add OPS_DATABASE_URL=postgresql://USER@DB-HOST:5432/DB to the env "
        "file beside the application's DB_* settings, or set $OPS_DATABASE_URL or "
        "--database-url; see docs/SCALE.md");
}

PoolMode observe_pool_mode(Session& first, Session& second) {
    if (!first.through_pooler()) return PoolMode::kDirect;
    const int before = server_pid_of_transaction(first);
    // `second` keeps its transaction open, so the pooler cannot lend its server connection.
    ReadTransaction held(second);
    if (server_pid(held) == before) return PoolMode::kTransaction;
    const int after = server_pid_of_transaction(first);
    held.commit();
    return after == before ? PoolMode::kSession : PoolMode::kTransaction;
}

std::string pool_mode_name(PoolMode mode) {
    switch (mode) {
        case PoolMode::kDirect:
            return "direct";
        case PoolMode::kSession:
            return "session";
        case PoolMode::kTransaction:
            return "transaction";
    }
    return "unknown";
}

}  // namespace ops
