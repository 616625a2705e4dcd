#!/usr/bin/env bash
# CTest fixture: three real PgBouncer (Debian's, 1.18) in front of the test cluster, on
# loopback only, one per pool mode. Pools per database: 4 server connections in transaction
# and statement mode; 10 in session mode, where each client connection keeps one for its life
# (a run of ops needs 1 for its lock + --parallel, and the tests overlap two runs):
#   setup-pgbouncer.sh start DIR PGPORT TRANSACTION_PORT SESSION_PORT STATEMENT_PORT
#   setup-pgbouncer.sh stop DIR
# Every database of the cluster is reachable through each (the '*' entry). As root they run
# as 'postgres' (PgBouncer refuses root). Stop waits at most 10 s, then kills.
set -euo pipefail
action=$1 dir=$(realpath -m "$2")
bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$bin" ] || { echo "setup-pgbouncer.sh: pgbouncer is not installed (scripts/install-deps.sh)" >&2; exit 1; }
modes=(transaction session statement)

# TERM is PgBouncer's fast exit (about 2 s each): all are signalled first, then waited for.
stop_all() {
    local pids=() pid
    for mode in "${modes[@]}"; do
        [ -f "$dir/$mode.pid" ] || continue
        pid=$(cat "$dir/$mode.pid")
        kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || continue 2; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
}

case "$action" in
start)
    pgport=$3 ports=("$4" "$5" "$6") sizes=(4 10 4)
    stop_all
    rm -rf "$dir" && mkdir -p "$dir"
    printf '"postgres" ""\n' >"$dir/users.txt"
    for i in 0 1 2; do
        cat >"$dir/${modes[$i]}.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pgport
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${ports[$i]}
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = ${modes[$i]}
default_pool_size = ${sizes[$i]}
max_client_conn = 200
logfile = $dir/${modes[$i]}.log
pidfile = $dir/${modes[$i]}.pid
INI
    done
    "$bin" --version | head -1  # the Debian 12 package: PgBouncer 1.18.0
    [ "$(id -u)" = 0 ] && chown -R postgres "$dir"
    for mode in "${modes[@]}"; do
        user=()
        [ "$(id -u)" = 0 ] && user=(-u postgres)
        "$bin" -d "${user[@]}" "$dir/$mode.ini"
    done
    for i in 0 1 2; do
        for _ in $(seq 100); do
            psql -X -q -h 127.0.0.1 -p "${ports[$i]}" -U postgres -d postgres -c 'SELECT 1' \
                >/dev/null 2>&1 && continue 2
            sleep 0.1
        done
        echo "setup-pgbouncer.sh: pgbouncer (${modes[$i]}) did not answer on ${ports[$i]}" >&2
        cat "$dir/${modes[$i]}.log" >&2 || true
        exit 1
    done
    ;;
stop)
    stop_all
    ;;
esac
