#!/usr/bin/env bash
# clang-tidy over every source file in src/, with the checked-in .clang-tidy and the build's
# compile_commands.json, two files at a time. Fails on any warning; prints each file's
# warnings under its name, then one line per file with a count, so that a failure says where.
#   tests/check-clang-tidy.sh SOURCE_DIR BUILD_DIR [JOBS]
set -euo pipefail
source_dir=$(cd "$1" && pwd)
build_dir=$(cd "$2" && pwd)
jobs=${3:-2}
tidy=${CLANG_TIDY:-clang-tidy}

if ! command -v "$tidy" >/dev/null; then
    echo "check-clang-tidy: $tidy is not installed (scripts/install-deps.sh installs it)" >&2
    exit 1
fi
if [ ! -f "$build_dir/compile_commands.json" ]; then
    echo "check-clang-tidy: no compile_commands.json in $build_dir" >&2
    exit 1
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$source_dir"
# One log per file (slashes become '%'); GCC's own warning flags are unknown to clang.
find src -name '*.cpp' | sort | xargs -P "$jobs" -I{} sh -c '
    log="$1/$(echo "$2" | tr / %)"
    "$3" -p "$4" --quiet --extra-arg=-Wno-unknown-warning-option "$2" >"$log.out" 2>"$log.err"
    echo $? >"$log.rc"' sh "$out" {} "$tidy" "$build_dir"

failed=0
files=0
report=""
for rc_file in "$out"/*.rc; do
    files=$((files + 1))
    log=${rc_file%.rc}
    file=$(basename "$log" | tr % /)
    # A header's warning is reported once per file that includes it: the first one shows it.
    count=$(grep -cE '^/.*: (warning|error): ' "$log.out" || true)
    rc=$(cat "$rc_file")
    if [ "$count" -gt 0 ] || [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
        echo "==== $file: $count warning(s), clang-tidy exit $rc"
        sed "s|$source_dir/||" "$log.out"
        grep -v -E '^[0-9]+ warnings? generated\.$|^Suppressed|^Use -header-filter' "$log.err" || true
        report+="  $file: $count"$'\n'
    fi
done

if [ "$failed" -gt 0 ]; then
    echo
    echo "check-clang-tidy: $failed of $files files have warnings (file: count):"
    printf '%s' "$report"
    exit 1
fi
echo "check-clang-tidy: $files files, no warnings"
