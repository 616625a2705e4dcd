#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster inside a folder, for tests, the demo and benchmarks.
#   pg-cluster.sh start DIR PORT    initdb (first time) and start; TCP on 127.0.0.1:PORT,
#                                   socket in DIR/socket
#   pg-cluster.sh stop DIR          stop fast and keep the files
#   pg-cluster.sh restart DIR       restart (the tests use it to cut connections mid-run)
#   pg-cluster.sh destroy DIR       stop and remove the folder
#   pg-cluster.sh standby DIR PORT PRIMARY_PORT
#                                   a streaming hot standby of the cluster on PRIMARY_PORT
#                                   (pg_basebackup -R over loopback), named 'ops_standby', started;
#                                   `destroy DIR` removes it
# OPS_PG_DURABLE=1 keeps fsync and synchronous_commit on (benchmarks).
# As root the server runs as the unprivileged 'postgres' user (initdb refuses root).
# Roles: 'postgres' (trust) and 'ops_pw' whose password is checked over TCP (scram).
set -euo pipefail

action=${1:?usage: pg-cluster.sh start|stop|restart|destroy DIR [PORT]}
dir=$(realpath -m "${2:?data folder required}")
port=${3:-55432}
bindir=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
[ -n "$bindir" ] || { echo "pg-cluster.sh: PostgreSQL 15 server is not installed" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
start)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        mkdir -p "$dir/data" "$dir/socket"
        [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
        chmod 700 "$dir/data"
        as_owner "$bindir/initdb" -A trust -E UTF8 --locale=C.UTF-8 -N -U postgres -D "$dir/data" >"$dir/initdb.log"
        cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host all ops_pw 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
host replication all 127.0.0.1/32 trust
HBA
        cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/socket'
max_connections = 100
shared_buffers = 256MB
CONF
        # Tests need speed, not durability; benchmarks (OPS_PG_DURABLE=1) keep the defaults.
        if [ "${OPS_PG_DURABLE:-0}" != 1 ]; then
            printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n' >>"$dir/data/postgresql.conf"
            # The replica tests create a logical replication slot.
            printf 'wal_level = logical\n' >>"$dir/data/postgresql.conf"
        fi
    fi
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30
    psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ops_pw') THEN
    CREATE ROLE ops_pw LOGIN SUPERUSER PASSWORD 'right-password';
  END IF;
END $$;
SQL
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    true
    ;;
standby)
    primary_port=${4:?usage: pg-cluster.sh standby DIR PORT PRIMARY_PORT}
    mkdir -p "$dir/socket"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
    as_owner "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/data" \
        -R -X stream -c fast
    # The copy carries the primary's settings; these come after them and win. The standby
    # reports its replay position every second, so the primary's view of its lag is fresh.
    cat >>"$dir/data/postgresql.auto.conf" <<CONF
port = $port
unix_socket_directories = '$dir/socket'
cluster_name = 'ops_standby'
shared_buffers = 32MB
hot_standby = on
wal_receiver_status_interval = 1s
CONF
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30
    ;;
restart)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 restart -l "$dir/server.log" >/dev/null
    ;;
destroy)
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    rm -rf "$dir"
    ;;
*)
    echo "pg-cluster.sh: unknown action '$action'" >&2; exit 2 ;;
esac
