#pragma once

#include <chrono>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "ops/core/config.hpp"

namespace ops {

struct SessionSettings {
    std::string application_name;  // shown in pg_stat_activity, e.g. "ops audit archive"
    std::chrono::milliseconds statement_timeout{0};
    std::chrono::milliseconds lock_timeout{0};
};

// One database connection for one run. Opening it is where "unreachable" and "wrong
// password" surface, as DatabaseUnavailable (exit 69) with the password redacted, and where
// a statement-pooling PgBouncer is refused (ConfigError, exit 78).
//
// The session keeps no server-side state of its own, so that a transaction pooler
// (PgBouncer pool_mode=transaction) may hand each transaction a different server connection
// and the application's next client finds nothing of ops's there: the timeouts (and, through
// a pooler, the application name and client encoding) are set inside every transaction
// (see SessionTransaction). Never SET a session-level setting, take a session-level lock or
// use a named prepared statement on it.
class Session {
  public:
    Session(const ConnectionSettings& connection, const SessionSettings& settings);

    pqxx::connection& connection() { return *connection_; }
    const ConnectionSettings& connection_settings() const { return connection_settings_; }
    const SessionSettings& settings() const { return settings_; }
    std::string server_version();

    // True when the server's backend pid differs from the one the connection announced
    // (BackendKeyData): something between ops and PostgreSQL (a pooler) answers for it.
    bool through_pooler() const { return through_pooler_; }
    // Whether the database's default_transaction_isolation is other than read committed, so
    // that a read committed transaction must name its level.
    bool default_isolation_differs() const { return default_isolation_differs_; }

    // Sets the run's statement_timeout and lock_timeout (through a pooler also its
    // application_name and client_encoding) for `tx` only (set_config(..., true)), so they
    // hold on whatever server connection runs it and end with it.
    void apply_transaction_settings(pqxx::transaction_base& tx) const;

  private:
    void check_route();

    ConnectionSettings connection_settings_;
    SessionSettings settings_;
    std::unique_ptr<pqxx::connection> connection_;
    bool through_pooler_ = true;  // until the first transaction shows a direct connection
    bool default_isolation_differs_ = true;  // until the server says
};

// The transaction a command holds: it hands it to repositories and commits it (or lets it
// end, which rolls it back). Commands see only this; the libpqxx transaction beneath is
// reached only through src/db's own SqlAccess (src/db/sql_access.hpp), by the repositories.
class Transaction {
  public:
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction(Transaction&&) = delete;
    Transaction& operator=(Transaction&&) = delete;
    virtual ~Transaction() = default;

    void commit() { sql().commit(); }
    // For a batch that acted outside the database before committing (the archive's lines
    // are in its file by then): a commit failing transiently must end the run, since the
    // engine's retry would act twice. Throws RunFailure("<what>: <the database error>").
    void commit_once(const std::string& what);
    void abort() { sql().abort(); }
    // False for the read-only kinds (what a dry run opens).
    virtual bool writes() const = 0;

  protected:
    Transaction() = default;

  private:
    friend class SqlAccess;
    virtual pqxx::transaction_base& sql() = 0;
};

// A libpqxx transaction on a session that starts with the session's timeouts set for it.
// Every transaction ops runs is one of these (a test checks the sources for bare ones).
// libpqxx 6.4 begins a read committed one with a bare BEGIN, which a database whose
// default_transaction_isolation is serializable runs serializable (the run's lock
// transaction would then hold its snapshot, and VACUUM's horizon, for the whole run): there
// ops names the level (elsewhere that would be a round trip per batch for nothing).
template <pqxx::isolation_level kLevel, pqxx::readwrite_policy kPolicy>
class SessionTransaction final : public Transaction {
  public:
    explicit SessionTransaction(Session& session) : tx_(session.connection()) {
        if constexpr (kLevel == pqxx::read_committed) {
            if (session.default_isolation_differs()) {
                tx_.exec0("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");  // pooler-safe: tx
            }
        }
        session.apply_transaction_settings(tx_);
    }
    bool writes() const override { return kPolicy == pqxx::read_write; }

  private:
    pqxx::transaction_base& sql() override { return tx_; }
    pqxx::transaction<kLevel, kPolicy> tx_;
};

// A write batch: read committed, committed by the command once the batch is done.
using Work = SessionTransaction<pqxx::read_committed, pqxx::read_write>;
// A read: read committed, read only.
using ReadTransaction = SessionTransaction<pqxx::read_committed, pqxx::read_only>;
// A read snapshot: every statement sees the same moment (repeatable read, read only).
using SnapshotTransaction = SessionTransaction<pqxx::repeatable_read, pqxx::read_only>;

// Keeps two runs of one command from overlapping, through a direct connection and through
// any PgBouncer pool mode alike: a connection of its own holds one open transaction for the
// whole run, in which it took a transaction-level advisory lock. A pooler cannot move an open
// transaction to another client, so no other run can share it; the lock ends with the
// transaction (destruction rolls it back), and if the process dies the closed client
// connection ends it too (PgBouncer closes a server connection whose client left mid-
// transaction). No session-level lock is ever taken, so none can stay behind on a pool.
// A watchdog thread touches the lock transaction every few seconds (so no idle-transaction
// timeout ends it) and notices at once when its connection breaks: then the lock is gone,
// and it stops the run after the batch in flight (as SIGTERM does), so that a run that
// starts next cannot overlap this one for longer than that batch.
class AdvisoryLock {
  public:
    AdvisoryLock(Session& session, const std::string& lock_name);  // throws LockHeld
    ~AdvisoryLock();
    AdvisoryLock(const AdvisoryLock&) = delete;
    AdvisoryLock& operator=(const AdvisoryLock&) = delete;

  private:
    class Watchdog;
    static std::string lock_holder(pqxx::transaction_base& tx, int key);
    std::unique_ptr<Session> holder_;
    std::unique_ptr<Work> transaction_;
    std::unique_ptr<Watchdog> watchdog_;
};

}  // namespace ops
