#!/usr/bin/env bash
# README command 2: install what is missing, build `ops` three times through the CMake presets
# (ci: release-like with warnings as errors; ci-asan: AddressSanitizer + UndefinedBehaviorSanitizer;
# fuzz: the libFuzzer targets with clang 14), and run every test (unit, in-process CLI,
# integration against a throwaway PostgreSQL cluster, the Laravel worker test, the sanitizer
# build's tests, each fuzz target for OPS_FUZZ_SECONDS (default 30) from a fixed seed,
# clang-tidy and clang-format) in one CTest run. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
jobs=$(nproc)
# The test ports (55400-55499) lie in Linux's ephemeral range (32768-60999): a test's own
# outgoing connection could take one as its local port just before a server binds it (CI
# saw the standby fail so: "could not bind 127.0.0.1:55450"). Reserved, the kernel never hands
# them out; where the setting is not writable (not root), the suite runs without it.
reserved=/proc/sys/net/ipv4/ip_local_reserved_ports
if [ -w "$reserved" ] && ! grep -q '55400-55499' "$reserved"; then
    current=$(cat "$reserved")
    echo "${current:+$current,}55400-55499" >"$reserved" 2>/dev/null || true
fi
# The test ports (the cluster, the streaming standby, the three PgBouncer pools, node_exporter
# and Prometheus): an environment variable of the same name overrides each, so two checkouts
# on one machine run their suites side by side.
ports=()
for setting in OPS_TEST_PGPORT:55432 OPS_TEST_STANDBY_PORT:55450 \
    OPS_TEST_PGBOUNCER_TRANSACTION_PORT:55440 OPS_TEST_PGBOUNCER_SESSION_PORT:55441 \
    OPS_TEST_PGBOUNCER_STATEMENT_PORT:55442 OPS_TEST_NODE_EXPORTER_PORT:55490 \
    OPS_TEST_PROMETHEUS_PORT:55491; do
    name=${setting%%:*}
    ports+=("-D$name=${!name:-${setting#*:}}")
done

cmake --preset ci-asan "${ports[@]}" >/dev/null
cmake --build --preset ci-asan -j "$jobs"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"

cmake --preset ci "${ports[@]}" -DOPS_FUZZ_SECONDS="${OPS_FUZZ_SECONDS:-30}" >/dev/null
cmake --build --preset ci -j "$jobs"

# -j: the fuzz targets, unit, CLI and tooling tests run side by side; integration tests are
# RUN_SERIAL.
exec ctest --preset ci --timeout 900 -j "$jobs"
