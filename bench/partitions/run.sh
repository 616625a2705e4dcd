#!/usr/bin/env bash
# The partition benchmark (issue #17): `ops audit archive --days 90` on an audit_events that
# pg_partman partitions by month, done three ways on identical copies of the same data:
#   ops          ops at its defaults (old partitions whole: DETACH, copy, DROP)
#   ops-rows     ops --row-by-row (the batches of a plain table)
#   plain        plain SQL through psql: \copy of each old partition, DETACH, DROP, then one
#                \copy + DELETE of the remaining old rows
# For each: wall time, WAL written (pg_current_wal_lsn before and after), audit_events' size
# afterwards (every partition, indexes included). With --app, each job runs again while an
# application workload (pgbench on loopback, bench/partitions/app.sql: an order with the
# contract's quota upsert, its audit event, a WA message update, at --rate transactions/s)
# runs beside it, and it prints the workload's p50/p99/max latency over the job's run and the
# lock waits the server logged for it (log_lock_waits, deadlock_timeout = 10ms).
#
#   bench/partitions/run.sh [--app] [--rate TPS] [--jobs ops-rows,ops,plain] [--ops-args 'ARGS']
#                           [-v events=N] [-v old=N]
#
# --jobs runs only those jobs (ops-rows, the reference of the WAL and time ratios, always runs
# in the first table); --ops-args appends options to both ops jobs (an experiment: '--parallel 1').
# OPS_BENCH_BIN: an ops binary to use instead of building build-release/ops.
# OPS_BENCH_PORT: the suite's cluster port (default 55471).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
app=0
rate=100
jobs=ops-rows,ops,plain
ops_args=""
vars=()
args="$*"
while [ $# -gt 0 ]; do
    case "$1" in
    --app) app=1; shift ;;
    --rate) rate=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --ops-args) ops_args=$2; shift 2 ;;
    -v) vars+=(-v "$2"); shift 2 ;;
    *) echo "bench/partitions/run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

ops=${OPS_BENCH_BIN:-}
if [ -z "$ops" ]; then
    cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DOPS_BUILD_TESTS=OFF >/dev/null
    cmake --build build-release -j 2 --target ops >/dev/null
    ops=$root/build-release/ops
fi
port=${OPS_BENCH_PORT:-55471}
work=$root/build-release/bench-partitions
rm -rf "$work"
mkdir -p "$work"
chmod 777 "$work"
OPS_PG_DURABLE=1 scripts/pg-cluster.sh destroy "$work/cluster" "$port"
OPS_PG_DURABLE=1 scripts/pg-cluster.sh start "$work/cluster" "$port"
trap 'scripts/pg-cluster.sh destroy "$work/cluster" "$port"' EXIT
psql_db() { local db=$1; shift; PGOPTIONS="-c client_min_messages=warning" psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 "$@"; }
psql_db postgres -c "ALTER SYSTEM SET log_lock_waits = on" -c "ALTER SYSTEM SET deadlock_timeout = '10ms'" \
    -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a '" -c "SELECT pg_reload_conf()" >/dev/null

psql_db postgres -c "CREATE DATABASE tpl"
psql_db tpl -f schema/app-schema.sql
psql_db tpl "${vars[@]}" -f bench/partitions/setup.sql >/dev/null
old_rows=$(psql_db tpl -At -c "SELECT count(*) FROM audit_events WHERE created_at < (now() AT TIME ZONE 'UTC')::timestamp(0) - interval '90 days'")
parts=$(psql_db tpl -At -c "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass")

# The plain-SQL peer as a psql script for database $1: the partitions wholly older than the
# cutoff (read from the catalog now), then the rest of the old rows.
plain_script() {
    local cutoff
    cutoff=$(psql_db "$1" -At -c "SELECT (now() AT TIME ZONE 'UTC')::timestamp(0) - interval '90 days'")
    echo '\set ON_ERROR_STOP on'
    psql_db "$1" -At -c "SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_events'::regclass
          AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), ' TO \(''([^'']*)''\)\$'))[1]::timestamp <= '$cutoff'
        ORDER BY 1" | while read -r p; do
        echo "\\copy (SELECT row_to_json(a) FROM $p a) TO '$work/out/$p.jsonl'"
        echo "ALTER TABLE audit_events DETACH PARTITION $p;"
        echo "DROP TABLE $p;"
    done
    echo "BEGIN;"
    echo "\\copy (SELECT row_to_json(a) FROM audit_events a WHERE created_at < '$cutoff') TO '$work/out/rest.jsonl'"
    echo "DELETE FROM audit_events WHERE created_at < '$cutoff';"
    echo "COMMIT;"
}

# A fresh copy of the template with nothing left to write back.
fresh() {
    psql_db postgres -c "DROP DATABASE IF EXISTS run" -c "CREATE DATABASE run TEMPLATE tpl"
    rm -rf "$work/out" && mkdir -p "$work/out" && chmod 777 "$work/out"
    psql_db run -c "VACUUM ANALYZE" -c "CHECKPOINT"
    sync
}

# Runs job $1 on database run; leaves its wall seconds in $work/seconds.
job() {
    local start end
    start=$(date +%s.%N)
    case "$1" in
    none) sleep 5 ;;  # the workload alone: its latency on this machine now
    ops) DATABASE_URL="postgresql://postgres@127.0.0.1:$port/run" "$ops" --log-level warn \
        audit archive --days 90 --dir "$work/out" $ops_args >"$work/job.out" 2>"$work/job.err" ;;
    ops-rows) DATABASE_URL="postgresql://postgres@127.0.0.1:$port/run" "$ops" --log-level warn \
        audit archive --days 90 --row-by-row --dir "$work/out" $ops_args >"$work/job.out" 2>"$work/job.err" ;;
    plain) plain_script run >"$work/plain.sql"
        psql_db run -f "$work/plain.sql" >"$work/job.out" 2>"$work/job.err" ;;
    esac || { echo "bench: job $1 failed" >&2; tail -5 "$work/job.err" >&2; exit 1; }
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }' >"$work/seconds"
}

echo "# bench/partitions/run.sh $args"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short=12 HEAD), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "# $old_rows rows older than 90 days, $parts partitions (pg_partman monthly + DEFAULT)"
printf '%-9s %9s %8s %10s %7s %8s %11s\n' job rows "time s" "WAL MB" "WAL %" "time x" "size MB after"
declare -A secs
rows_wal=0 rows_time=0
wanted() { [[ ",$jobs," == *,$1,* ]]; }
for method in ops-rows ops plain; do
    [ "$method" = ops-rows ] || wanted "$method" || continue
    fresh
    lsn0=$(psql_db run -At -c "SELECT pg_current_wal_lsn()")
    job "$method"
    secs[$method]=$(cat "$work/seconds")
    wal=$(psql_db run -At -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0')")
    size=$(psql_db run -At -c "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree('audit_events')")
    lines=$(cat "$work"/out/*.jsonl 2>/dev/null | wc -l)
    [ "$method" = ops-rows ] && rows_wal=$wal rows_time=${secs[$method]}
    awk -v m="$method" -v r="$lines" -v t="${secs[$method]}" -v w="$wal" -v rw="$rows_wal" -v rt="$rows_time" -v s="$size" \
        'BEGIN { printf "%-9s %9d %8.2f %10.1f %7.2f %8.2f %11.1f\n", m, r, t, w / 1e6, 100 * w / rw, t / rt, s / 1e6 }'
done

if [ "$app" = 1 ]; then
    echo
    echo "# the application (pgbench -c 4 -j 2 -R $rate, bench/partitions/app.sql) during each job: latency over the job's run"
    printf '%-9s %8s %8s %8s %8s %8s %10s %12s\n' job "time s" txs "p50 ms" "p99 ms" "max ms" "lock waits" "longest wait"
    secs[none]=5
    for method in none ops plain ops-rows; do
        [ "$method" = none ] || wanted "$method" || continue
        fresh
        duration=$(awk -v s="${secs[$method]}" 'BEGIN { printf "%d", s * 2 + 6 }')
        rm -f "$work"/pgb.*
        log_from=$(wc -l <"$work/cluster/server.log")
        (cd "$work" && pgbench -n -h 127.0.0.1 -p "$port" -U postgres -c 4 -j 2 -R "$rate" -T "$duration" \
            -f "$root/bench/partitions/app.sql" -l --log-prefix=pgb run >"$work/pgbench.out" 2>&1) &
        pgbench_pid=$!
        sleep 2
        t0=$(date +%s.%N)
        job "$method"
        t1=$(date +%s.%N)
        wait "$pgbench_pid"
        # Transactions that completed while the job ran (pgbench logs completion time and
        # latency from the scheduled start, in microseconds).
        cat "$work"/pgb.* | awk -v a="$t0" -v b="$t1" '{ t = $5 + $6 / 1e6; if (t >= a && t <= b) print $3 / 1000 }' |
            sort -n >"$work/lat.txt"
        { tail -n +"$((log_from + 1))" "$work/cluster/server.log" | grep ' pgbench ' | grep -c 'still waiting' || true; } >"$work/waits"
        longest=$(tail -n +"$((log_from + 1))" "$work/cluster/server.log" | grep ' pgbench ' |
            sed -n 's/.*acquired .* after \([0-9.]*\) ms.*/\1/p' | sort -n | tail -1 || true)
        awk -v m="$method" -v t="$(cat "$work/seconds")" -v w="$(cat "$work/waits")" -v l="${longest:-0}" \
            '{ a[NR] = $1 } END { n = NR; p50 = a[int(n * 0.5) + 1]; p99 = a[int(n * 0.99) + 1];
               printf "%-9s %8.2f %8d %8.1f %8.1f %8.1f %10d %9.0f ms\n", m, t, n, p50, p99, a[n], w, l }' "$work/lat.txt"
    done
fi
echo "# WAL % and time x: against ops-rows (ops --row-by-row) on the same data; size: audit_events (all partitions, indexes) after the job"
echo "# finished $(date -u '+%H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
