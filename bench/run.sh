#!/usr/bin/env bash
# The benchmark suite: each job done by `ops` and by its plain-SQL equivalent through psql,
# alternating, on freshly copied identical data, against a throwaway PostgreSQL 15 cluster
# with production durability (fsync on). Prints one table: job, rows, medians, ratio, ops RSS,
# then (with --scaling) how the archive grew from 1x to 4x rows, then ops's start-up time.
#
#   bench/run.sh [--reps N] [--jobs archive,restore,redrive,reconcile,startup] [--archive-scale K]
#                [--scaling] [-v NAME=VALUE]...
#
# -v passes a size variable to every job's setup.sql (e.g. -v events=6000000 -v old=4000000).
# --archive-scale K multiplies the archive (and restore) sizes by K (1M -> K M qualifying rows).
# --scaling also runs the archive and the restore at 4 times their size and prints the growth
# of time and RSS. The restore job restores the file `ops audit archive` made of its data.
# The `startup` job times `ops --version` and `ops --help` with hyperfine (no database).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

reps=3
jobs=archive,restore,redrive,reconcile,startup
scale=1
scaling=0
vars=()
args="$*"
while [ $# -gt 0 ]; do
    case "$1" in
    --reps) reps=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --archive-scale) scale=$2; shift 2 ;;
    --scaling) scaling=1; shift ;;
    -v) vars+=(-v "$2"); shift 2 ;;
    *) echo "bench/run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
for job in ${jobs//,/ }; do
    case "$job" in
    archive | restore | redrive | reconcile | startup) ;;
    *) echo "bench/run.sh: unknown job '$job' (archive, restore, redrive, reconcile, startup)" >&2; exit 2 ;;
    esac
done
# The growth is measured against the 1x run of the same suite.
if [ "$scaling" = 1 ] && [[ ",$jobs," != *,archive,* ]] && [[ ",$jobs," != *,restore,* ]]; then jobs=archive,$jobs; fi

# The archive's sizes: setup.sql's defaults unless -v events=/old= changed them.
events=1500000
old=1000000
for ((i = 1; i < ${#vars[@]}; i += 2)); do
    case "${vars[i]}" in
    events=*) events=${vars[i]#events=} ;;
    old=*) old=${vars[i]#old=} ;;
    esac
done

# What the project needs, plus what only the bench uses.
scripts/install-deps.sh hyperfine >/dev/null

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

# Runs one timed command; appends "seconds max_rss_kib user_s sys_s" to $1.
timed() {
    local out=$1; shift
    /usr/bin/time -f "%e %M %U %S" -o "$work/time.txt" "$@" >"$work/last.out" 2>"$work/last.err" || {
        echo "bench: command failed: $*" >&2; tail -5 "$work/last.err" >&2; exit 1; }
    cat "$work/time.txt" >>"$out"
}

# CPU time (clock ticks) of the whole machine, and of this suite's own processes: this shell's
# reaped children (ops, psql) and the cluster's server processes (the postmaster's reaped
# backends included). Their difference over a job is what everything else on the machine used.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
proc_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
own_ticks() {
    local pm
    pm=$(head -1 "$work/cluster/data/postmaster.pid")
    # cat, not awk FILES: mawk stops at the first file that vanished (a process that ended).
    echo $(($(proc_ticks $$) + $(proc_ticks "$pm") + $({ cat /proc/[0-9]*/stat 2>/dev/null || true; } |
        awk -v pm="$pm" '{ sub(/^.*\) /, "") } $2 == pm { t += $12 + $13 + $14 + $15 } END { print t + 0 }')))
}

# Runs one job at archive size factor $2 (1 for the other jobs); prints its table row and
# leaves "ops_s plain_s rss_kib rows" in $work/$1.$2.result.
run_job() {
    local job=$1 factor=$2 dir=bench/$1 label=$1
    local job_vars=("${vars[@]}")
    if scales "$job" && [ "$factor" != 1 ]; then
        job_vars+=(-v events=$((events * factor)) -v old=$((old * factor)))
        label="$job ${factor}x"
    fi
    psql_db postgres -c "DROP DATABASE IF EXISTS tpl_$job" -c "CREATE DATABASE tpl_$job"
    psql_db "tpl_$job" -f schema/app-schema.sql
    psql_db "tpl_$job" "${job_vars[@]}" -f "$dir/setup.sql" >/dev/null
    local rows
    rows=$(psql_db "tpl_$job" -At -f "$dir/rows.sql")
    [ "$job" = restore ] && rows=$(prepare_restore_input "tpl_$job")
    local res=$work/$job.$factor
    rm -f "$res.ops" "$res.plain"
    local machine0 own0 wall0
    machine0=$(machine_ticks) own0=$(own_ticks) wall0=$(date +%s.%N)
    for rep in $(seq 1 "$reps"); do
        # Alternate which goes first so cache warmth favours neither.
        order="ops plain"; [ $((rep % 2)) = 0 ] && order="plain ops"
        for tool in $order; do
            psql_db postgres -c "DROP DATABASE IF EXISTS run" -c "CREATE DATABASE run TEMPLATE tpl_$job"
            rm -rf "$work/out" && mkdir -p "$work/out"
            # Each run starts with nothing left to write back: the previous run's files and
            # WAL (gigabytes after the 4x archive) would slow this run's fsyncs.
            psql_db run -c "VACUUM ANALYZE" -c "CHECKPOINT"
            sync
            if [ "$tool" = ops ]; then
                # shellcheck disable=SC2046
                DATABASE_URL="postgresql://postgres@127.0.0.1:$port/run" timed "$res.ops" \
                    "$ops" --log-level warn $(sed -e "s|@WORKDIR@|$work/out|g" -e "s|@INPUT@|$work/input|g" "$dir/ops-args.txt")
            else
                timed "$res.plain" psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d run \
                    -v ON_ERROR_STOP=1 -v out="$work/out/plain.jsonl" \
                    -v input="$work/input/audit-events-bench.jsonl" -f "$dir/plain.sql"
            fi
        done
    done
    local machine1 own1 wall1
    machine1=$(machine_ticks) own1=$(own_ticks) wall1=$(date +%s.%N)
    local ops_s plain_s rss cpu others
    ops_s=$(cut -d' ' -f1 "$res.ops" | median)
    plain_s=$(cut -d' ' -f1 "$res.plain" | median)
    rss=$(cut -d' ' -f2 "$res.ops" | sort -n | tail -1)
    cpu=$(awk '{ print $3 + $4 }' "$res.ops" | median)
    # Other processes' CPU as a share of all cores over the job's timed part.
    others=$(awk -v m=$((machine1 - machine0)) -v o=$((own1 - own0)) -v w="$(awk -v a="$wall0" -v b="$wall1" 'BEGIN { print b - a }')" \
        -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" 'BEGIN { x = (m - o) / hz / (w * n) * 100; printf "%.0f", x < 0 ? 0 : x }')
    awk -v job="$label" -v rows="$rows" -v o="$ops_s" -v p="$plain_s" -v rss="$rss" -v cpu="$cpu" -v others="$others" \
        'BEGIN { printf "%-12s %9s %9.2f %9.2f %6.2f %10.2f %8.1f %7s\n", job, rows, o, p, o / p, cpu, rss / 1024, others }'
    echo "$ops_s $plain_s $rss $rows" >"$res.result"
    results+=("$res.result")
    psql_db postgres -c "DROP DATABASE run" -c "DROP DATABASE tpl_$job"
}

# Jobs whose size --archive-scale and --scaling change.
scales() { [ "$1" = archive ] || [ "$1" = restore ]; }
scaled_jobs() { for j in ${jobs//,/ }; do scales "$j" && echo "$j"; done; }

# The restore job's input: the template's old rows archived by `ops audit archive --days 90`
# (so the template keeps only the recent ones), under a fixed name. Prints its line count.
prepare_restore_input() {
    rm -rf "$work/input"
    DATABASE_URL="postgresql://postgres@127.0.0.1:$port/$1" "$ops" --log-level warn \
        audit archive --days 90 --dir "$work/input" >/dev/null
    mv "$work/input"/audit-events-*.jsonl "$work/input/audit-events-bench.jsonl"
    mv "$work/input"/audit-events-*.manifest.json "$work/input/audit-events-bench.manifest.json"
    psql_db "$1" -c "VACUUM ANALYZE audit_events"
    wc -l <"$work/input/audit-events-bench.jsonl"
}

# Median start-up time of `ops --version` and `ops --help` (no database, output discarded).
startup() {
    hyperfine -N --warmup 10 --runs 200 --style none --export-csv "$work/startup.csv" \
        -n "ops --version" "$ops --version" -n "ops --help" "$ops --help" >/dev/null 2>"$work/hyperfine.err" || {
        echo "bench: hyperfine failed" >&2; cat "$work/hyperfine.err" >&2; exit 1; }
    echo
    printf '%-14s %9s %9s %9s %9s\n' startup "median ms" "mean ms" "max ms" runs
    awk -F, 'NR > 1 {
        printf "%-14s %9.1f %9.1f %9.1f %9d\n", $1, $4 * 1000, $2 * 1000, $8 * 1000, 200 }' "$work/startup.csv"
}

# The issue's targets (#7), each met or not, from what this run measured.
verdict() { awk -v v="$1" -v limit="$2" 'BEGIN { print (v + 0 <= limit + 0) ? "met" : "NOT met" }'; }
targets() {
    echo
    echo "targets"
    local line="" worst=0 rss_max=0 job
    for f in "${results[@]}"; do
        job=$(basename "$f" .result)
        read -r o p r _ <"$f"
        line="$line$(awk -v j="$job" -v o="$o" -v p="$p" 'BEGIN { split(j, a, "."); printf ", %s %.2f", (a[2] == 1) ? a[1] : a[1] " " a[2] "x", o / p }')"
        worst=$(awk -v a="$worst" -v o="$o" -v p="$p" 'BEGIN { print (o / p > a) ? o / p : a }')
        rss_max=$(awk -v a="$rss_max" -v r="$r" 'BEGIN { print (r / 1024 > a) ? r / 1024 : a }')
    done
    if [ -n "$line" ]; then
        printf '%-22s %-60s %s\n' "ops <= 1.50 x plain" "${line#, }" "$(verdict "$worst" 1.5)"
        printf '%-22s %-60s %s\n' "ops RSS < 50 MiB" "highest $(printf '%.1f' "$rss_max") MiB" "$(verdict "$rss_max" 49.99)"
    fi
    if [ "$scaling" = 1 ]; then
        local job rss_x time_x rows_x
        for job in $(scaled_jobs); do
            read -r o1 _ r1 n1 <"$work/$job.$scale.result"
            read -r o4 _ r4 n4 <"$work/$job.$((scale * 4)).result"
            rss_x=$(awk -v a="$r1" -v b="$r4" 'BEGIN { printf "%.2f", b / a }')
            time_x=$(awk -v a="$o1" -v b="$o4" 'BEGIN { printf "%.2f", b / a }')
            rows_x=$(awk -v a="$n1" -v b="$n4" 'BEGIN { printf "%.2f", b / a }')
            printf '%-22s %-60s %s\n' "$job RSS flat 1x->4x" "x$rss_x (flat: at most x1.10)" "$(verdict "$rss_x" 1.10)"
            printf '%-22s %-60s %s\n' "$job time 1x->4x" "x$time_x for x$rows_x rows (linear: at most 1.2 x the rows)" \
                "$(verdict "$(awk -v t="$time_x" -v r="$rows_x" 'BEGIN { print t / r }')" 1.2)"
        done
    fi
    if [ -e "$work/startup.csv" ]; then
        local slowest
        slowest=$(awk -F, 'NR > 1 && $4 * 1000 > m { m = $4 * 1000 } END { printf "%.1f", m }' "$work/startup.csv")
        printf '%-22s %-60s %s\n' "startup < 20 ms" "slowest median $slowest ms" "$(verdict "$slowest" 19.99)"
    fi
}

results=()
started=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo "unknown (not a git checkout)")
git diff --quiet HEAD -- src include CMakeLists.txt 2>/dev/null || commit="$commit + uncommitted changes in src/include"
echo "# bench/run.sh $args"
echo "# $started, commit $commit, $(nproc) CPUs, $(psql -V | cut -d' ' -f3-), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
printf '%-12s %9s %9s %9s %6s %10s %8s %7s\n' job rows "ops s" "plain s" ratio "ops CPU s" "RSS MiB" "others%"
for job in ${jobs//,/ }; do
    [ "$job" = startup ] && continue
    factor=1
    scales "$job" && factor=$scale
    run_job "$job" "$factor"
    if scales "$job" && [ "$scaling" = 1 ]; then run_job "$job" $((scale * 4)); fi
done
if [ "$scaling" = 1 ]; then
    echo
    printf '%-14s %9s %12s %12s %9s\n' scaling "rows x" "ops time x" "plain time x" "RSS x"
    for job in $(scaled_jobs); do
        read -r o1 p1 r1 n1 <"$work/$job.$scale.result"
        read -r o4 p4 r4 n4 <"$work/$job.$((scale * 4)).result"
        awk -v o1="$o1" -v p1="$p1" -v r1="$r1" -v n1="$n1" -v o4="$o4" -v p4="$p4" -v r4="$r4" -v n4="$n4" \
            -v label="$job ${scale}x->$((scale * 4))x" \
            'BEGIN { printf "%-14s %9.2f %12.2f %12.2f %9.2f\n", label, n4 / n1, o4 / o1, p4 / p1, r4 / r1 }'
    done
fi
if [[ ",$jobs," == *,startup,* ]]; then startup; fi
targets
echo "# medians of $reps runs each; ratio = ops s / plain s; ops CPU s = ops's user + system time (median);"
echo "# RSS = ops's peak RSS (highest run); others% = CPU used by processes outside this suite during the"
echo "# job's runs, as a share of all $(nproc) CPUs (this suite's own processes and its cluster excluded)"
echo "# finished $(date -u '+%H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
