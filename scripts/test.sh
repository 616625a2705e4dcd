#!/usr/bin/env bash
# README command 2: install what is missing, build `ops` twice (release-like with warnings
# as errors, and with AddressSanitizer + UndefinedBehaviorSanitizer), and run every test
# (unit, integration against a throwaway PostgreSQL cluster, the Laravel worker test, and
# the sanitizer build's tests) in one CTest run. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)
# OPS_TEST_PGPORT lets two checkouts on one machine run their suites side by side.
port=${OPS_TEST_PGPORT:-55432}
# The streaming standby of the replica tests (OPS_TEST_STANDBY_PORT likewise).
standby_port=${OPS_TEST_STANDBY_PORT:-55450}
# The test PgBouncer ports (transaction, session, statement pooling), likewise.
pgbouncer=(-DOPS_TEST_PGBOUNCER_TRANSACTION_PORT="${OPS_TEST_PGBOUNCER_TRANSACTION_PORT:-55440}"
    -DOPS_TEST_PGBOUNCER_SESSION_PORT="${OPS_TEST_PGBOUNCER_SESSION_PORT:-55441}"
    -DOPS_TEST_PGBOUNCER_STATEMENT_PORT="${OPS_TEST_PGBOUNCER_STATEMENT_PORT:-55442}")

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DOPS_SANITIZE=ON \
    -DOPS_TEST_PGPORT="$port" -DOPS_TEST_STANDBY_PORT="$standby_port" "${pgbouncer[@]}" \
    -DOPS_TEST_CLUSTER_DIR_OVERRIDE="$PWD/build/test-cluster" >/dev/null
cmake --build build-asan -j "$jobs"

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPS_TEST_PGPORT="$port" "${pgbouncer[@]}" \
    -DOPS_TEST_STANDBY_PORT="$standby_port" -DOPS_SANITIZER_BUILD_DIR="$PWD/build-asan" >/dev/null
cmake --build build -j "$jobs"

cd build
exec ctest --output-on-failure --timeout 900
