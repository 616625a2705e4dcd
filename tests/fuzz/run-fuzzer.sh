#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time from a fixed seed: first over the checked-in
# corpus (every past crash is in it), then mutating. New inputs go to a work folder in the
# build tree, never into the checked-in corpus. Exits non-zero on any crash, leak or timeout,
# leaving the input as crash-*/leak-*/timeout-* in the work folder.
# Usage: run-fuzzer.sh FUZZER CORPUS_DIR WORK_DIR SECONDS [SEED]
set -euo pipefail
fuzzer=$1 corpus=$2 work=$3 seconds=$4 seed=${5:-1}
mkdir -p "$work/new"
exec "$fuzzer" -seed="$seed" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$work/" "$work/new" "$corpus"
