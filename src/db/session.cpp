#include "ops/db/session.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "ops/core/errors.hpp"

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

}  // namespace

Session::Session(const ConnectionSettings& connection, const SessionSettings& settings) {
    // A black-holed host must not hang cron for minutes; PGCONNECT_TIMEOUT still wins.
    setenv("PGCONNECT_TIMEOUT", "10", 0);
    try {
        connection_ = std::make_unique<pqxx::connection>(connection.conninfo);
    } catch (const pqxx::broken_connection& e) {
        std::string reason = e.what();
        while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' '))
            reason.pop_back();
        for (auto pos = reason.find('\n'); pos != std::string::npos; pos = reason.find('\n')) {
            reason.replace(pos, 1, "; ");
        }
        throw DatabaseUnavailable(
            "cannot connect to the database (" + redact_conninfo(connection.conninfo) + ", from " +
                connection.source + "): " + reason,
            "check the host, port and credentials; a password belongs in DATABASE_URL, "
            "--env-file or ~/.pgpass");
    }
    pqxx::nontransaction tx(*connection_);
    tx.exec_params(
        "SELECT set_config('application_name', $1, false), set_config('client_encoding', 'UTF8', "
        "false), set_config('statement_timeout', $2, false), set_config('lock_timeout', $3, false)",
        settings.application_name, milliseconds_setting(settings.statement_timeout),
        milliseconds_setting(settings.lock_timeout));
}

std::string Session::server_version() {
    pqxx::nontransaction tx(*connection_);
    return tx.exec1("SELECT current_setting('server_version')")[0].as<std::string>();
}

AdvisoryLock::AdvisoryLock(Session& session, const std::string& lock_name)
    : session_(session), key_(lock_key(lock_name)) {
    pqxx::nontransaction tx(session.connection());
    if (tx.exec_params1("SELECT pg_try_advisory_lock($1, $2)", kLockNamespace, key_)[0]
            .as<bool>()) {
        return;
    }
    const auto holder = tx.exec_params(
        "SELECT a.pid, coalesce(a.application_name, ''), "
        "       to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
        "  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid",
        kLockNamespace, key_);
    std::string who = "another session";
    if (!holder.empty()) {
        who = "pid " + holder[0][0].as<std::string>() + " ('" + holder[0][1].as<std::string>() +
              "', connected since " + holder[0][2].as<std::string>() + ")";
    }
    throw LockHeld("another run of '" + lock_name + "' is in progress: " + who,
                   "wait for it to finish; if it is stuck, see pg_stat_activity for that pid");
}

AdvisoryLock::~AdvisoryLock() {
    try {
        pqxx::nontransaction tx(session_.connection());
        tx.exec_params("SELECT pg_advisory_unlock($1, $2)", kLockNamespace, key_);
    } catch (const std::exception& e) {
        // The server releases the lock with the session anyway.
        spdlog::debug("advisory lock not released explicitly: {}", e.what());
    }
}

}  // namespace ops
