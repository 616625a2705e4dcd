#!/usr/bin/env bash
# Where the time of one benchmark job goes: runs the job once per mode with `ops` and once
# with its plain SQL (bench/<job>/plain.sql) on freshly copied data, on its own durable
# cluster (port 55471, so a running bench/run.sh on 55470 is not disturbed), and prints:
#
#   stats      wall, client CPU (ops or psql), server CPU (every process of the cluster),
#              WAL written; pg_stat_statements per statement (calls, time, buffers, WAL);
#              COMMIT durations (the WAL flush) from log_min_duration_statement
#   explain    auto_explain (ANALYZE, BUFFERS, WAL, nested statements) of every statement;
#              prints the plan of the median-duration execution of each statement
#   callgrind  valgrind --tool=callgrind on ops and on psql: instructions by library and by
#              function, and ops's against psql's (callgrind counts do not depend on the load)
#   perf       perf record -a (cpu-clock sampling): CPU samples by process, library and symbol
#   strace     strace -f -c -w on ops and on psql: system calls by count and time (fsync, write, poll)
#   time       no tool: --warmup untimed runs of each (default 1), then ops and plain alternately
#              --reps times (default 3), then the medians (wall, and client CPU of ops against
#              psql's, with its user and system parts); with
#              --ops-args/--ops-pgoptions/--plain-pgoptions, an experiment against the same data
#
#   bench/profile.sh JOB [--modes stats,explain,callgrind,perf,strace,time] [--reps N] [--warmup N] [-v NAME=VALUE]...
#                        [--ops-args 'ARGS'] [--ops-pgoptions '-c NAME=VALUE'] [--plain-pgoptions '...']
#                        [--plain-sql FILE] [--ops-binary PATH] [--extra-sql FILE]
#
# --ops-args appends options to the job's ops command (e.g. '--parallel 1'); --ops-pgoptions and
# --plain-pgoptions give one side's sessions server settings through PGOPTIONS (e.g.
# '-c work_mem=64MB', '-c jit=off'): experiments without changing the code. --plain-sql runs
# another plain-SQL file in place of bench/JOB/plain.sql (e.g. bench/redrive/plain-audited.sql).
# --ops-binary runs another build of ops (say, a patched copy built elsewhere) on the same data.
# --extra-sql runs a file on the data after setup.sql (say, an index to try).
#
# Output files stay in build-release/profile/JOB/. Timings under callgrind, strace and
# auto_explain are inflated by the tool; the counts (instructions, buffers, WAL, calls) are not.
set -eu  # no pipefail: report pipelines end in head, and a grep may find nothing
cd "$(dirname "$0")/.."
root=$PWD

job=${1:?usage: bench/profile.sh archive|redrive|reconcile [--modes LIST] [-v NAME=VALUE]...}
shift
case "$job" in archive | redrive | reconcile) ;; *) echo "profile.sh: unknown job '$job'" >&2; exit 2 ;; esac
modes=stats,explain,callgrind,perf,strace
given="$*"
reps=3
warmup=1
vars=()
ops_args=""
ops_pgoptions=""
plain_pgoptions=""
plain_sql=bench/$job/plain.sql
ops_binary=""
extra_sql=""
while [ $# -gt 0 ]; do
    case "$1" in
    --modes) modes=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --ops-args) ops_args=$2; shift 2 ;;
    --ops-pgoptions) ops_pgoptions=$2; shift 2 ;;
    --plain-pgoptions) plain_pgoptions=$2; shift 2 ;;
    --plain-sql) plain_sql=$2; shift 2 ;;
    --ops-binary) ops_binary=$(realpath "$2"); shift 2 ;;
    --extra-sql) extra_sql=$2; shift 2 ;;
    -v) vars+=(-v "$2"); shift 2 ;;
    *) echo "profile.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

scripts/install-deps.sh valgrind linux-perf strace >/dev/null
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DOPS_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j "$(nproc)" --target ops >/dev/null
ops=${ops_binary:-$root/build-release/ops}
# psql itself, not Debian's pg_wrapper (a Perl script) in front of it: the client CPU and
# instructions compared with ops are psql's own.
pgbin=/usr/lib/postgresql/15/bin

base=$root/build-release/profile
work=$base/$job
port=${OPS_PROFILE_PORT:-55471}
cluster=$base/cluster-$port
mkdir -p "$base"
rm -rf "$work"
mkdir -p "$work"
chmod 777 "$base" "$work"
ln -s "$ops" "$work/ops-profiled"  # its own command name: perf tells it from other ops processes
ops=$work/ops-profiled
OPS_PG_DURABLE=1 scripts/pg-cluster.sh destroy "$cluster" "$port"
OPS_PG_DURABLE=1 scripts/pg-cluster.sh start "$cluster" "$port"
trap 'scripts/pg-cluster.sh destroy "$cluster" "$port"' EXIT
cat >>"$cluster/data/postgresql.conf" <<'CONF'
shared_preload_libraries = 'pg_stat_statements,auto_explain'
pg_stat_statements.track = all
pg_stat_statements.track_utility = on
pg_stat_statements.track_planning = on
autovacuum = off  # each run starts from a VACUUM ANALYZEd copy; keeps the server CPU figure to the job
CONF
scripts/pg-cluster.sh restart "$cluster"
log=$cluster/server.log

psql_db() { local db=$1; shift; PGOPTIONS="-c client_min_messages=warning" psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d "$db" -v ON_ERROR_STOP=1 "$@"; }
psql_db postgres -c "CREATE EXTENSION pg_stat_statements"
psql_db postgres -c "CREATE DATABASE tpl"
psql_db tpl -f schema/app-schema.sql
psql_db tpl "${vars[@]}" -f "bench/$job/setup.sql" >/dev/null
[ -z "$extra_sql" ] || psql_db tpl -f "$extra_sql" >/dev/null
echo "# bench/profile.sh $job $given: $(psql_db tpl -At -f "bench/$job/rows.sql") rows; $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# The median of field $1 over the run_once lines in file $2. Fields: 3 wall, 7 user + sys,
# 10 user, 12 sys (those two with a trailing , or )).
median_of() {
    awk -v f="$1" '{ v = $f; sub(/[,)]$/, "", v); print v }' "$2" | sort -n |
        awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# CPU ticks of every process of the cluster (the postmaster's reaped backends included).
server_ticks() {
    local pm
    pm=$(head -1 "$cluster/data/postmaster.pid")
    # cat, not awk FILES: mawk stops at the first file that vanished (a process that ended).
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$pm" '{ pid = $1; sub(/^.*\) /, "") }
        pid == pm { t += $12 + $13 + $14 + $15 } $2 == pm { t += $12 + $13 } END { print t + 0 }'
}

fresh() {
    psql_db postgres -c "DROP DATABASE IF EXISTS run" -c "CREATE DATABASE run TEMPLATE tpl"
    rm -rf "$work/out" && mkdir -p "$work/out" && chmod 777 "$work/out"
    psql_db run -c "VACUUM ANALYZE" -c "CHECKPOINT"
    sync  # nothing left to write back from earlier runs
    psql_db postgres -c "SELECT pg_stat_statements_reset()" >/dev/null
}

# The job's command line: "ops" or "plain", optionally behind a tool (valgrind, strace).
job_command() {
    local tool=$1
    if [ "$tool" = ops ]; then
        # shellcheck disable=SC2046
        echo "$ops --database-url postgresql://postgres@127.0.0.1:$port/run --log-level warn" \
            $(sed "s|@WORKDIR@|$work/out|g" "bench/$job/ops-args.txt") $ops_args
    else
        echo "$pgbin/psql -X -q -h 127.0.0.1 -p $port -U postgres -d run -v ON_ERROR_STOP=1 -v out=$work/out/plain.jsonl -f $plain_sql"
    fi
}

# Runs one tool with optional session settings ($2, as PGOPTIONS) behind an optional wrapper.
run_once() {
    local tool=$1 options=$2; shift 2
    if [ "$tool" = ops ]; then options="$options $ops_pgoptions"; else options="$options $plain_pgoptions"; fi
    local lsn0 lsn1 s0 s1 mark
    lsn0=$(psql_db postgres -At -c "SELECT pg_current_wal_insert_lsn()")
    s0=$(server_ticks)
    mark=$(wc -l <"$log")
    # shellcheck disable=SC2046
    PGOPTIONS="$options" /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" $(job_command "$tool") \
        >"$work/$tool.out" 2>"$work/$tool.err" || { echo "profile.sh: $tool failed" >&2; tail "$work/$tool.err" >&2; exit 1; }
    sleep 0.5  # the postmaster reaps the backend
    s1=$(server_ticks)
    lsn1=$(psql_db postgres -At -c "SELECT pg_current_wal_insert_lsn()")
    tail -n +"$((mark + 1))" "$log" >"$work/$tool.log"
    read -r wall user sys rss <"$work/time.txt"
    local wal
    wal=$(psql_db postgres -At -c "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')")
    awk -v tool="$tool" -v w="$wall" -v u="$user" -v s="$sys" -v rss="$rss" -v srv=$((s1 - s0)) \
        -v hz="$(getconf CLK_TCK)" -v wal="$wal" 'BEGIN {
        printf "%-6s wall %6.2f s  client CPU %5.2f s (user %.2f, sys %.2f)  server CPU %6.2f s  WAL %7.1f MB  client RSS %.1f MiB\n",
            tool, w, u + s, u, s, srv / hz, wal / 1e6, rss / 1024 }'
}

statements() {
    psql_db postgres -P pager=off -c "
        SELECT calls, round(total_exec_time::numeric) AS exec_ms, round(total_plan_time::numeric) AS plan_ms,
               rows, shared_blks_hit AS hit, shared_blks_read AS read, shared_blks_dirtied AS dirtied,
               shared_blks_written AS written, temp_blks_written AS temp_written,
               round(wal_bytes / 1e6, 1) AS wal_mb,
               left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS statement
        FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'run')
        ORDER BY total_exec_time DESC LIMIT 8"
    # COMMIT is timed through its WAL flush only in the statement log.
    grep -o 'duration: [0-9.]* ms  statement: COMMIT' "$work/$1.log" | awk '{ print $2 }' | sort -n |
        awk '{ d[NR] = $1; t += $1 } END { if (NR) printf "COMMIT: %d, %.0f ms in all, median %.1f ms, max %.1f ms\n", NR, t, d[int((NR + 1) / 2)], d[NR] }'
}

# Instructions of one callgrind run ($1: ops or plain), by library and by function; keeps
# the totals (all, and without libcrypto's SHA-256) in $work/instructions.$1 for the comparison.
callgrind_report() {
    local tool=$1 out=$work/callgrind-$1.out total
    total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    callgrind_annotate --threshold=100 "$out" >"$work/callgrind-$tool.self" 2>/dev/null
    awk -v total="$total" '/^ *[0-9,]+ .*\[/ { n = $1; gsub(",", "", n); lib = $NF; gsub(/[\[\]]/, "", lib); sub(/.*\//, "", lib); s[lib] += n }
        END { for (l in s) printf "%.0f %s\n", s[l], l }' "$work/callgrind-$tool.self" | sort -rn >"$work/callgrind-$tool.libs"
    awk -v total="$total" '$2 ~ /^libcrypto/ { c += $1 } END { printf "%.0f %.0f\n", total, total - c }' \
        "$work/callgrind-$tool.libs" >"$work/instructions.$tool"
    echo "$tool instructions: $total (all threads)"
    echo "by library (self):"
    awk -v total="$total" '{ printf "  %5.1f%%  %14.0f  %s\n", 100 * $1 / total, $1, $2 }' "$work/callgrind-$tool.libs" | head -8
    echo "by function (self, top 15):"
    awk -v total="$total" '/^ *[0-9,]+ / && !/PROGRAM TOTALS/ { n = $1; gsub(",", "", n); $1 = ""; printf "  %5.1f%% %s\n", 100 * n / total, substr($0, 1, 150) }' \
        "$work/callgrind-$tool.self" | head -15
    [ "$tool" = ops ] || return 0
    echo "by function (inclusive, top 25):"
    callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null |
        awk -v total="$total" '/^ *[0-9,]+ / && !/PROGRAM TOTALS/ && !/start_thread/ && !/'"'"'[0-9]/ { n = $1; gsub(",", "", n); $1 = ""; printf "  %5.1f%% %s\n", 100 * n / total, substr($0, 1, 150) }' |
        head -25
}

# The issue-17 figure: the client's CPU (or instructions) of ops against psql's for the same
# lines. $1: callgrind (instructions) or a file prefix of run_once lines (time.ops, time.plain).
client_comparison() {
    if [ "$1" = callgrind ]; then
        read -r ops_all ops_nocrypto <"$work/instructions.ops"
        read -r plain_all plain_nocrypto <"$work/instructions.plain"
        awk -v oa="$ops_all" -v on="$ops_nocrypto" -v pa="$plain_all" -v pn="$plain_nocrypto" 'BEGIN {
            printf "client instructions: ops %.0f, psql %.0f (ops/psql %.2f); without libcrypto (SHA-256, which valgrind runs without the SHA extensions): ops %.0f, psql %.0f (%.2f)\n",
                oa, pa, oa / pa, on, pn, on / pn }'
        return
    fi
    awk -v o="$(median_of 7 "$work/$1.ops")" -v p="$(median_of 7 "$work/$1.plain")" -v n="$(wc -l <"$work/$1.ops")" \
        -v ou="$(median_of 10 "$work/$1.ops")" -v pu="$(median_of 10 "$work/$1.plain")" \
        -v os="$(median_of 12 "$work/$1.ops")" -v ps="$(median_of 12 "$work/$1.plain")" 'BEGIN {
        printf "client CPU (user + sys, median of %d): ops %.2f s, psql %.2f s (ops/psql %.2f); user ops %.2f, psql %.2f; sys ops %.2f, psql %.2f\n",
            n, o, p, (p > 0) ? o / p : 0, ou, pu, os, ps }'
}

for mode in ${modes//,/ }; do
    echo
    echo "## $mode"
    case "$mode" in
    stats)
        for tool in ops plain; do
            fresh
            run_once "$tool" "-c log_min_duration_statement=0" | tee "$work/stats.$tool"
            statements "$tool"
            echo
        done
        client_comparison stats
        ;;
    explain)
        explain="-c auto_explain.log_min_duration=0 -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on -c auto_explain.log_wal=on -c auto_explain.log_nested_statements=on -c auto_explain.log_verbose=off"
        for tool in ops plain; do
            fresh
            run_once "$tool" "$explain"
            # Each plan entry: "... LOG:  duration: X ms  plan:" and tab-indented lines. Per
            # distinct Query Text (first 60 characters), the median-duration plan.
            rm -rf "$work/plans" && mkdir -p "$work/plans"
            awk -v dir="$work/plans" '
                function flush() { if (entry != "") { k = substr(query, 1, 60); if (!(k in id)) id[k] = ++kinds; n[k]++
                    f = dir "/" id[k] "." n[k]; printf "%s", entry > f; close(f); print id[k], n[k], dur } entry = "" }
                /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { flush()
                    if ($0 ~ /duration: .* plan:/) { dur = $0; sub(/.*duration: /, "", dur); sub(/ .*/, "", dur); entry = $0 "\n"; query = "" }
                    next }
                entry != "" { entry = entry $0 "\n"; if (query == "" && $0 ~ /Query Text:/) { query = $0; sub(/.*Query Text: /, "", query) } }
                END { flush() }' "$work/$tool.log" >"$work/plans.idx"
            for kind in $(cut -d' ' -f1 "$work/plans.idx" | sort -un); do
                awk -v k="$kind" '$1 == k' "$work/plans.idx" | sort -k3,3n >"$work/plans.kind"
                count=$(wc -l <"$work/plans.kind")
                read -r _ pick _ < <(sed -n "$(((count + 1) / 2))p" "$work/plans.kind")
                echo "### $tool: $count executions, $(awk '{ t += $3 } END { printf "%.0f", t }' "$work/plans.kind") ms in all; the median one:"
                sed 's/^[0-9-]* [0-9:.]* [A-Z]* \[[0-9]*\] //' "$work/plans/$kind.$pick"
            done
            mv "$work/plans" "$work/plans-$tool"
        done
        ;;
    callgrind)
        for tool in ops plain; do
            fresh
            run_once "$tool" "" valgrind --tool=callgrind --callgrind-out-file="$work/callgrind-$tool.out"
            callgrind_report "$tool"
            echo
        done
        client_comparison callgrind
        ;;
    perf)
        counters=$(perf stat -e instructions true 2>&1 || true)
        if [[ "$counters" == *"not supported"* ]]; then
            echo "(perf stat -e instructions: not supported here, no hardware counters; sampling cpu-clock instead)"
        fi
        for tool in ops plain; do
            fresh
            data=$work/perf-$tool.data
            run_once "$tool" "" perf record -q -a -F 999 -e cpu-clock -o "$data" --
            # This run's processes: the cluster's (the postmaster and what it forked, from the
            # recorded fork events) and the client (by its command name); the rest is others'.
            pm=$(head -1 "$cluster/data/postmaster.pid")
            server_pids=$(perf script -i "$data" --show-task-events -F pid 2>/dev/null |
                awk -v pm="$pm" 'BEGIN { in_tree[pm] = 1 } /PERF_RECORD_FORK/ { s = $0; sub(/.*PERF_RECORD_FORK\(/, "", s); split(s, a, /[():]+/)
                    if (a[3] in in_tree) in_tree[a[1]] = 1 } END { for (p in in_tree) printf "%s%s", (n++ ? "," : ""), p }')
            client=psql
            [ "$tool" = ops ] && client=ops-profiled
            perf report -i "$data" --stdio --sort pid 2>/dev/null | grep -E '^ +[0-9.]+%' |
                awk -v pids=",$server_pids," -v client="$client" -v tool="$tool" '{ split($2, t, ":"); p = $1 + 0
                    if (index(pids, "," t[1] ",")) s += p; else if (t[2] == client) c += p; else if (t[1] == 0) i += p; else o += p }
                    END { printf "cpu-clock samples (both CPUs): server %.1f%%, client (%s) %.1f%%, idle %.1f%%, other processes %.1f%%\n", s, tool, c, i, o }'
            for side in server client; do
                if [ "$side" = server ]; then filter=(--pid "$server_pids"); else filter=(--comms "$client"); fi
                perf report -i "$data" --stdio --sort dso,sym "${filter[@]}" --percentage relative 2>/dev/null |
                    grep -E '^ +[0-9.]+%' >"$work/perf-$tool.$side"
                echo "$side ($([ "$side" = server ] && echo "this cluster's processes" || echo "$client")), by library:"
                awk '{ s[$2] += $1 } END { for (d in s) printf "  %6.2f%%  %s\n", s[d], d }' "$work/perf-$tool.$side" | sort -rn | head -6
                echo "$side, by symbol:"
                head -20 "$work/perf-$tool.$side"
            done
            echo
        done
        ;;
    time)
        # Untimed runs first. On a VM whose balloon reports free pages to the host (this
        # workplace's machines: /sys/module/page_reporting), the first writes into memory the
        # guest freed fault on the host and show as the client's system time, in whichever tool
        # runs first (measured: ops's sys 1.76 s in a series' first run, 0.48 s in its fourth).
        for rep in $(seq 1 "$warmup"); do
            for tool in ops plain; do fresh; run_once "$tool" "" >/dev/null; done
        done
        for rep in $(seq 1 "$reps"); do
            order="ops plain"; [ $((rep % 2)) = 0 ] && order="plain ops"
            for tool in $order; do
                fresh
                run_once "$tool" "" | tee -a "$work/time.$tool"
            done
        done
        for tool in ops plain; do
            printf "%s median wall %.2f s of %d runs\n" "$tool" "$(median_of 3 "$work/time.$tool")" "$(wc -l <"$work/time.$tool")"
        done
        client_comparison time
        ;;
    strace)
        for tool in ops plain; do
            fresh
            run_once "$tool" "" strace -f -c -w -o "$work/strace-$tool.txt"
            head -20 "$work/strace-$tool.txt" || true
            echo
        done
        ;;
    *) echo "profile.sh: unknown mode '$mode'" >&2; exit 2 ;;
    esac
done
