#!/usr/bin/env bash
# CTest fixture: start the throwaway cluster and load the application schema into the
# template database 'ops_template' that every integration test copies; or stop it.
set -euo pipefail
action=$1 dir=$2 port=$3
here=$(cd "$(dirname "$0")/.." && pwd)
case "$action" in
start)
    "$here/scripts/pg-cluster.sh" destroy "$dir" "$port"
    "$here/scripts/pg-cluster.sh" start "$dir" "$port"
    psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE ops_template"
    psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d ops_template -v ON_ERROR_STOP=1 -f "$4"
    ;;
stop)
    "$here/scripts/pg-cluster.sh" destroy "$dir" "$port"
    ;;
esac
