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
// the server connection and stay there for the application's next client).
void Session::check_route() {
    try {
        // pooler-safe: a function call that cannot wait or run long needs no timeouts.
        pqxx::nontransaction tx(*connection_);  // pooler-safe
        through_pooler_ =
            tx.exec1("SELECT pg_backend_pid()")[0].as<int>() != connection_->backendpid();
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
    const std::string statement_timeout = milliseconds_setting(settings_.statement_timeout);
    const std::string lock_timeout = milliseconds_setting(settings_.lock_timeout);
    if (!through_pooler_) {
        tx.exec_params(
            "SELECT set_config('statement_timeout', $1, true), "
            "set_config('lock_timeout', $2, true)",
            statement_timeout, lock_timeout);
        return;
    }
    tx.exec_params(
        "SELECT set_config('statement_timeout', $1, true), "
        "set_config('lock_timeout', $2, true), "
        "set_config('application_name', $3, true), "
        "set_config('client_encoding', 'UTF8', true)",
        statement_timeout, lock_timeout, settings_.application_name);
}

std::string Session::server_version() {
    ReadTransaction tx(*this);
    return tx.exec1("SELECT current_setting('server_version')")[0].as<std::string>();
}

class AdvisoryLock::Watchdog {
  public:
    Watchdog(pqxx::connection& connection, pqxx::work& transaction, std::string lock_name)
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
    pqxx::work& transaction_;
    std::string lock_name_;
    int wake_[2] = {-1, -1};
    std::thread thread_;
};

AdvisoryLock::AdvisoryLock(Session& session, const std::string& lock_name)
    : holder_(std::make_unique<Session>(session.connection_settings(), session.settings())),
      transaction_(std::make_unique<Work>(*holder_)) {
    const int key = lock_key(lock_name);
    pqxx::work& tx = *transaction_;
    // The transaction stays open for the whole run: a server-wide
    // idle_in_transaction_session_timeout must not end it (and the lock) half-way.
    tx.exec("SELECT set_config('idle_in_transaction_session_timeout', '0', true)");
    if (tx.exec_params1("SELECT pg_try_advisory_xact_lock($1, $2)", kLockNamespace, key)[0]
            .as<bool>()) {
        watchdog_ = std::make_unique<Watchdog>(holder_->connection(), tx, lock_name);
        return;
    }
    // The holder: a run of this version (an open transaction) or of an older one (a session).
    const auto holder = tx.exec_params(
        "SELECT a.pid, coalesce(a.application_name, ''), "
        "       to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ') "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
        "  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid",
        kLockNamespace, key);
    std::string who = "another session";
    if (!holder.empty()) {
        who = "pid " + holder[0][0].as<std::string>() + " ('" + holder[0][1].as<std::string>() +
              "', holding it since " + holder[0][2].as<std::string>() + ")";
    }
    throw LockHeld("another run of '" + lock_name + "' is in progress: " + who,
                   "wait for it to finish; if it is stuck, see pg_stat_activity for that pid");
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
