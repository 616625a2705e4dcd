#!/usr/bin/env bash
# README command 2: install what is missing, build `ops` three times (release-like with
# warnings as errors, with AddressSanitizer + UndefinedBehaviorSanitizer, and the libFuzzer
# targets with clang 14), and run every test (unit, integration against a throwaway PostgreSQL
# cluster, the Laravel worker test, the sanitizer build's tests, and each fuzz target for
# OPS_FUZZ_SECONDS, default 30, from a fixed seed) in one CTest run. Exits non-zero if anything
# fails.
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

cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DOPS_FUZZ=ON -DOPS_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs"

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPS_TEST_PGPORT="$port" "${pgbouncer[@]}" \
    -DOPS_TEST_STANDBY_PORT="$standby_port" -DOPS_SANITIZER_BUILD_DIR="$PWD/build-asan" \
    -DOPS_FUZZ_BUILD_DIR="$PWD/build-fuzz" -DOPS_FUZZ_SECONDS="${OPS_FUZZ_SECONDS:-30}" >/dev/null
cmake --build build -j "$jobs"

cd build
# -j: the fuzz targets and unit tests run side by side; integration tests are RUN_SERIAL.
exec ctest --output-on-failure --timeout 900 -j "$jobs"
