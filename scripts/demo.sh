#!/usr/bin/env bash
# README command 1: install what is missing, build, start a throwaway PostgreSQL cluster in
# .ops-demo/ of this checkout, load the application schema and sample data, and run each
# job as a dry run and then for real, printing the summaries.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target ops

demo=$PWD/.ops-demo
port=${OPS_DEMO_PORT:-55499}
scripts/pg-cluster.sh destroy "$demo" "$port"
scripts/pg-cluster.sh start "$demo" "$port"
trap 'scripts/pg-cluster.sh stop "$demo" "$port"' EXIT
psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE DATABASE app"
psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d app -v ON_ERROR_STOP=1 -f schema/app-schema.sql
psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d app -v ON_ERROR_STOP=1 -f scripts/sample-data.sql

export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/app"
ops=build/ops
archive_dir=$demo/audit-archives
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step $ops doctor --dir "$archive_dir"
# shellcheck disable=SC2086
for command in "audit archive --days 90 --dir $archive_dir" \
               "wa redrive-failed --failed-after 24h --rate 20" \
               "quota reconcile current"; do
    step $ops $command --dry-run
    step $ops $command
done
step $ops audit verify "$archive_dir"/*.jsonl
echo
echo "Demo database left in $demo (stopped). Start it again with: scripts/pg-cluster.sh start $demo $port"
