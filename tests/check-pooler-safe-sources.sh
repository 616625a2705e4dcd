#!/usr/bin/env bash
# Every transaction ops opens must set its timeouts in the transaction itself (through
# ops::Work / ReadTransaction / SnapshotTransaction, include/ops/db/session.hpp), because a
# transaction pooler may run each on another server connection; and nothing may use a
# named (protocol-level) prepared statement, which PgBouncer 1.18 in transaction mode
# cannot carry from one transaction to the next; nor session state (a session-level SET or
# advisory lock), except on a line marked "// pooler-safe" (where a comment says why). Prints each
# offending line.
set -uo pipefail
src=${1:?usage: check-pooler-safe-sources.sh SOURCE_DIR}
status=0
bare=$(grep -rnE 'pqxx::(work|read_transaction|nontransaction|robusttransaction|transaction *<[^>]*>) +[A-Za-z_]+ *[({]' \
    "$src/src" "$src/include" | grep -v '// pooler-safe' || true)
if [ -n "$bare" ]; then
    echo "transactions without the run's timeouts (use ops::Work, ReadTransaction, SnapshotTransaction):"
    echo "$bare"
    status=1
fi
prepared=$(grep -rnE '(\.prepare *\(|exec_prepared|prepared *\(|PQprepare|PQsendPrepare|PQexecPrepared)' \
    "$src/src" "$src/include" || true)
if [ -n "$prepared" ]; then
    echo "named prepared statements (a transaction pooler loses them):"
    echo "$prepared"
    status=1
fi
session_state=$(grep -rnE "set_config\([^)]*, *false\)|pg_advisory_lock\(|pg_try_advisory_lock\(|\( *\"(SET|RESET|LISTEN) " \
    "$src/src" "$src/include" | grep -v '// pooler-safe' || true)
if [ -n "$session_state" ]; then
    echo "session-level state (would stay on a pooled server connection):"
    echo "$session_state"
    status=1
fi
[ "$status" = 0 ] && echo "ok: transactions set their timeouts; no prepared statements; no session state"
exit "$status"
