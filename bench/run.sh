#!/usr/bin/env bash
# The benchmark suite: each job done by `ops` and by its plain-SQL equivalent through psql,
# alternating, on freshly copied identical data, against a throwaway PostgreSQL 15 cluster
# with production durability (fsync on). Prints one table: job, rows, medians, ratio, ops RSS.
#
#   bench/run.sh [--reps N] [--jobs archive,redrive,reconcile] [--archive-scale K] [-v NAME=VALUE]...
#
# -v passes a size variable to every job's setup.sql (e.g. -v events=6000000 -v old=4000000).
# --archive-scale K multiplies the archive sizes by K (1M -> K M qualifying rows).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

reps=3
jobs=archive,redrive,reconcile
scale=1
vars=()
while [ $# -gt 0 ]; do
    case "$1" in
    --reps) reps=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --archive-scale) scale=$2; shift 2 ;;
    -v) vars+=(-v "$2"); shift 2 ;;
    *) echo "bench/run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

scripts/install-deps.sh >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DOPS_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j "$(nproc)" --target ops >/dev/null
ops=$root/build-release/ops

work=$root/build-release/bench
port=${OPS_BENCH_PORT:-55470}
rm -rf "$work"
mkdir -p "$work"
chmod 777 "$work"
OPS_PG_DURABLE=1 scripts/pg-cluster.sh destroy "$work/cluster" "$port"
OPS_PG_DURABLE=1 scripts/pg-cluster.sh start "$work/cluster" "$port"
trap 'scripts/pg-cluster.sh destroy "$work/cluster" "$port"' EXIT
psql_db() { local db=$1; shift; PGOPTIONS="-c client_min_messages=warning" psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 "$@"; }

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Runs one timed command; appends "seconds max_rss_kib" to $2.
timed() {
    local out=$1; shift
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/last.out" 2>"$work/last.err" || {
        echo "bench: command failed: $*" >&2; tail -5 "$work/last.err" >&2; exit 1; }
    cat "$work/time.txt" >>"$out"
}

printf '%-10s %10s %12s %12s %7s %12s\n' job rows "ops s" "plain s" ratio "ops RSS MiB"
for job in ${jobs//,/ }; do
    dir=bench/$job
    job_vars=("${vars[@]}")
    if [ "$job" = archive ] && [ "$scale" != 1 ]; then
        job_vars+=(-v events=$((1500000 * scale)) -v old=$((1000000 * scale)))
    fi
    psql_db postgres -c "CREATE DATABASE tpl_$job"
    psql_db "tpl_$job" -f schema/app-schema.sql
    psql_db "tpl_$job" "${job_vars[@]}" -f "$dir/setup.sql" >/dev/null
    rows=$(psql_db "tpl_$job" -At -f "$dir/rows.sql")
    rm -f "$work/$job.ops" "$work/$job.plain"
    for rep in $(seq 1 "$reps"); do
        # Alternate which goes first so cache warmth favours neither.
        order="ops plain"; [ $((rep % 2)) = 0 ] && order="plain ops"
        for tool in $order; do
            psql_db postgres -c "DROP DATABASE IF EXISTS run" -c "CREATE DATABASE run TEMPLATE tpl_$job"
            psql_db run -c "VACUUM ANALYZE" -c "CHECKPOINT"
            rm -rf "$work/out" && mkdir -p "$work/out"
            if [ "$tool" = ops ]; then
                # shellcheck disable=SC2046
                DATABASE_URL="postgresql://postgres@127.0.0.1:$port/run" timed "$work/$job.ops" \
                    "$ops" --log-level warn $(sed "s|@WORKDIR@|$work/out|g" "$dir/ops-args.txt")
            else
                timed "$work/$job.plain" psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d run \
                    -v ON_ERROR_STOP=1 -v out="$work/out/plain.jsonl" -f "$dir/plain.sql"
            fi
        done
    done
    ops_s=$(cut -d' ' -f1 "$work/$job.ops" | median)
    plain_s=$(cut -d' ' -f1 "$work/$job.plain" | median)
    rss=$(cut -d' ' -f2 "$work/$job.ops" | sort -n | tail -1)
    awk -v job="$job" -v rows="$rows" -v o="$ops_s" -v p="$plain_s" -v rss="$rss" \
        'BEGIN { printf "%-10s %10s %12.2f %12.2f %7.2f %12.1f\n", job, rows, o, p, o / p, rss / 1024 }'
    psql_db postgres -c "DROP DATABASE run" -c "DROP DATABASE tpl_$job"
done
