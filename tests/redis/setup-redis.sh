#!/bin/bash
# setup-redis.sh start|stop|restart|kill DIR PORT
# A throwaway redis-server for the Redis queue tests: 127.0.0.1 only, appendonly yes
# (appendfsync always: a restart loses nothing), no RDB snapshots, everything under DIR.
# Every action is bounded in time.
set -euo pipefail
action=$1 dir=$2 port=$3
server=$(command -v redis-server || echo /usr/bin/redis-server)
cli=$(command -v redis-cli || echo /usr/bin/redis-cli)

wait_ping() {
    for _ in $(seq 1 100); do
        "$cli" -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "redis-server on port $port did not answer" >&2
    cat "$dir/redis.log" >&2 || true
    return 1
}

wait_gone() {
    local pid
    pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

start() {
    mkdir -p "$dir"
    cat > "$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
dir $dir
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
appendonly yes
appendfsync always
save ""
CONF
    "$server" "$dir/redis.conf"
    wait_ping
}

stop() {
    "$cli" -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
    wait_gone
}

case $action in
    start) stop; rm -rf "$dir"; start ;;
    stop) stop; rm -rf "$dir" ;;
    restart) stop; start ;;
    *) echo "usage: $0 start|stop|restart DIR PORT" >&2; exit 2 ;;
esac
