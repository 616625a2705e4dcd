#include "ops/db/session.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

#include "ops/core/errors.hpp"
#include "ops/db/pooler.hpp"
#include "ops/db/retry.hpp"
#include "ops/db/statement.hpp"
#include "sql_access.hpp"

namespace ops {
namespace {

// All of the tool's advisory locks share this first key ("ops"), so a DBA can find them.
constexpr int kLockNamespace = 0x6f7073;

int lock_key(const std::string& name) {
    std::uint32_t hash = 2166136261u;  // FNV-1a: stable across builds and platforms
    for (const unsigned char c : name) hash = (hash ^ c) * 16777619u;
    return static_cast<int>(hash & 0x7fffffff);
}

std::string milliseconds_setting(std::chrono::milliseconds value) {
    return std::to_string(value.count()) + "ms";
}

std::string one_line(std::string reason) {
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    for (auto pos = reason.find('\n'); pos != std::string::npos; pos = reason.find('\n')) {
        reason.replace(pos, 1, "; ");
    }
    return reason;
}

DatabaseUnavailable unavailable(const ConnectionSettings& connection, const std::string& why) {
    return DatabaseUnavailable(
        "cannot connect to the database (" + redact_conninfo(connection.conninfo) + ", from " +
            connection.source + "): " + one_line(why),
        "check the host, port and credentials; a password belongs in DATABASE_URL, "
        "--env-file or ~/.pgpass");
}

// True when this route was probed for statement pooling before (one probe per process).
bool route_probed_before(const std::string& conninfo) {
    static std::mutex mutex;
    static std::set<std::string> checked;
    const std::lock_guard lock(mutex);
    return !checked.insert(conninfo).second;
}

}  // namespace

Session::Session(const ConnectionSettings& connection, const SessionSettings& settings)
    : connection_settings_(connection), settings_(settings) {
    // A black-holed host must not hang cron for minutes; PGCONNECT_TIMEOUT still wins.
    setenv("PGCONNECT_TIMEOUT", "10", 0);
    try {
        connection_ = std::make_unique<pqxx::connection>(connection.conninfo);
    } catch (const pqxx::broken_connection& e) {
        throw unavailable(connection, e.what());
    }
    check_route();
}

// Whether a pooler sits in between: the backend pid the server reports differs from the one
// the connection announced. Through one, a probe connection sends BEGIN, which a statement
// pooler refuses (before ops changed anything); it is done with plain libpq because
// libpqxx 6.4 leaks the result of an error that closes the connection. Only a direct
// connection, which ends with ops, is named for the whole session; through a pooler every
// transaction names itself (a startup parameter or SET would be replayed by PgBouncer onto
// the server connection and stay there for the application's next client). The same query
// reads the database's default isolation, which every server connection of the route shares.
void Session::check_route() {
    try {
        // pooler-safe: a function call that cannot wait or run long needs no timeouts.
        pqxx::nontransaction tx(*connection_);  // pooler-safe
        const auto server =
            tx.exec1("SELECT pg_backend_pid(), current_setting('default_transaction_isolation')");
        through_pooler_ = server[0].as<int>() != connection_->backendpid();
        default_isolation_differs_ = server[1].as<std::string>() != "read committed";
        if (!through_pooler_) {
            tx.exec_params(
                "SELECT set_config('application_name', $1, false), "  // pooler-safe
                "set_config('client_encoding', 'UTF8', false)",       // pooler-safe
                settings_.application_name);
            return;
        }
    } catch (const pqxx::broken_connection& e) {
        throw unavailable(connection_settings_, e.what());
    }
    if (!route_probed_before(connection_settings_.conninfo) &&
        is_statement_pooling_refusal(begin_failure(connection_settings_.conninfo))) {
        throw statement_pooling_error(connection_settings_);
    }
}

void Session::apply_transaction_settings(pqxx::transaction_base& tx) const {
    static const Statement direct(R"sql(
        SELECT set_config('statement_timeout', :statement_timeout, true),
               set_config('lock_timeout', :lock_timeout, true)
    )sql");
    // Through a pooler the name and encoding last as long as the transaction, too.
    static const Statement pooled(R"sql(
        SELECT set_config('statement_timeout', :statement_timeout, true),
               set_config('lock_timeout', :lock_timeout, true),
               set_config('application_name', :application_name, true),
               set_config('client_encoding', 'UTF8', true)
    )sql");
    Bindings bindings(through_pooler_ ? pooled : direct);
    bindings.set("statement_timeout", milliseconds_setting(settings_.statement_timeout))
        .set("lock_timeout", milliseconds_setting(settings_.lock_timeout));
    if (through_pooler_) bindings.set("application_name", settings_.application_name);
    run(tx, bindings);
}

void Transaction::commit_once(const std::string& what) {
    try {
        commit();
    } catch (const pqxx::failure& e) {
        if (!is_transient(e)) throw;
        throw RunFailure(what + ": " + describe_database_failure(e));
    }
}

std::string Session::server_version() {
    ReadTransaction tx(*this);
    return SqlAccess::of(tx).exec1("SELECT current_setting('server_version')")[0].as<std::string>();
}

class AdvisoryLock::Watchdog {
  public:
    Watchdog(pqxx::connection& connection, pqxx::transaction_base& transaction,
             std::string lock_name)
        : connection_(connection), transaction_(transaction), lock_name_(std::move(lock_name)) {
        if (::pipe2(wake_, O_CLOEXEC) != 0) {
            throw RunFailure("cannot watch the lock connection: pipe: " +
                             std::string(std::strerror(errno)));
        }
        thread_ = std::thread([this] { watch(); });
    }
    ~Watchdog() {
        const char byte = 0;
        if (::write(wake_[1], &byte, 1) != 1) spdlog::debug("lock watchdog: wake-up not sent");
        thread_.join();
        ::close(wake_[0]);
        ::close(wake_[1]);
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

  private:
    // Every 5 s a statement in the lock transaction; in between, a readable socket means the
    // server (or the pooler) sent something, which on this idle connection is its end.
    void watch() {
        for (;;) {
            pollfd fds[2] = {{connection_.sock(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
            const int ready = ::poll(fds, 2, 5000);
            if (ready < 0 && errno == EINTR) continue;
            if (fds[1].revents != 0) return;
            try {
                if (ready == 0) {
                    transaction_.exec("SELECT 1");
                } else {
                    connection_.get_notifs();  // reads what arrived; throws if it was the end
                }
            } catch (const std::exception& e) {
                lost(e.what());
                return;
            }
        }
    }
    void lost(const std::string& why) {
        spdlog::error(
            "the connection holding the lock of '{}' broke ({}): the lock is gone, so this run "
            "stops after the batch in flight, before another run could overlap it",
            lock_name_, why.substr(0, why.find('\n')));
        ::kill(::getpid(), SIGTERM);
    }

    pqxx::connection& connection_;
    pqxx::transaction_base& transaction_;
    std::string lock_name_;
    int wake_[2] = {-1, -1};
    std::thread thread_;
};

AdvisoryLock::AdvisoryLock(Session& session, const std::string& lock_name)
    : holder_(std::make_unique<Session>(session.connection_settings(), session.settings())),
      transaction_(std::make_unique<Work>(*holder_)) {
    static const Statement try_lock(R"sql(
        SELECT set_config('idle_in_transaction_session_timeout', '0', true),
               pg_try_advisory_xact_lock(:namespace, :key)
    )sql");
    const int key = lock_key(lock_name);
    pqxx::transaction_base& tx = SqlAccess::of(*transaction_);
    // The transaction stays open for the whole run: a server-wide
    // idle_in_transaction_session_timeout must not end it (and the lock) half-way.
    if (run1(tx, Bindings(try_lock).set("namespace", kLockNamespace).set("key", key))[1]
            .as<bool>()) {
        watchdog_ = std::make_unique<Watchdog>(holder_->connection(), tx, lock_name);
        return;
    }
    throw LockHeld("another run of '" + lock_name + "' is in progress: " + lock_holder(tx, key),
                   "wait for it to finish; if it is stuck, see pg_stat_activity for that pid");
}

// The holder: a run of this version (an open transaction) or of an older one (a session).
std::string AdvisoryLock::lock_holder(pqxx::transaction_base& tx, int key) {
    static const Statement holder(R"sql(
        SELECT a.pid, coalesce(a.application_name, ''),
               to_char(coalesce(a.xact_start, a.backend_start), :wall_time::text || ' TZ')
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
          AND l.classid = :namespace::bigint::oid AND l.objid = :key::bigint::oid
    )sql");
    const auto rows = run(tx, Bindings(holder)
                                  .set("namespace", kLockNamespace)
                                  .set("key", key)
                                  .set("wall_time", kWallTimeFormat));
    if (rows.empty()) return "another session";
    return "pid " + rows[0][0].as<std::string>() + " ('" + rows[0][1].as<std::string>() +
           "', holding it since " + rows[0][2].as<std::string>() + ")";
}

AdvisoryLock::~AdvisoryLock() {
    watchdog_.reset();  // before the transaction it uses ends
    try {
        transaction_->abort();  // ends the transaction, and with it the lock
    } catch (const std::exception& e) {
        // A lost connection ended the transaction on the server already.
        spdlog::debug("lock transaction not ended explicitly: {}", e.what());
    }
}

}  // namespace ops
