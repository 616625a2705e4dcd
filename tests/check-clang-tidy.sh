#!/usr/bin/env bash
# clang-tidy over every source file in src/, with the checked-in .clang-tidy and the build's
# compile_commands.json, JOBS files at a time. Fails on any warning; prints each file's
# warnings under its name, then one line per file with a count, so that a failure says where.
#   tests/check-clang-tidy.sh run SOURCE_DIR BUILD_DIR [JOBS]      in the foreground
#   tests/check-clang-tidy.sh start STATE_DIR SOURCE_DIR BUILD_DIR [JOBS]
#   tests/check-clang-tidy.sh finish STATE_DIR [SECONDS]
# start/finish are the two CTest tests: start launches the run in the background at the lowest
# CPU priority (so that it overlaps the RUN_SERIAL integration tests, which mostly wait on the
# database, instead of adding its whole time to the suite); finish waits for it (at most
# SECONDS, default 3000, then stops it: the run is one process group), prints its report and exits with its status.
set -euo pipefail
mode=${1:-}
shift || true

if [ "$mode" = start ]; then
    state=$1
    shift
    mkdir -p "$state"
    # A run left by an interrupted ctest is stopped first: only the one this script started.
    if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
        kill -TERM -- "-$(cat "$state/pid")" 2>/dev/null || true
    fi
    rm -f "$state/rc" "$state/report" "$state/pid" "$state/time"
    date +%s >"$state/started"
    # Its own session (so that finish can stop all of it) and no descriptor of CTest's: CTest
    # waits for a test's output pipes to close.
    setsid bash -c 'state=$1; shift
        timer=(); command -v /usr/bin/time >/dev/null && timer=(/usr/bin/time -o "$state/time"
            -f "%e s elapsed, %U s user + %S s system CPU")
        nice -n 19 "${timer[@]}" "$0" run "$@" >"$state/report" 2>&1
        echo $? >"$state/rc.tmp"; mv "$state/rc.tmp" "$state/rc"' \
        "$0" "$state" "$@" </dev/null >/dev/null 2>&1 &
    echo $! >"$state/pid"
    echo "check-clang-tidy: started in the background (pid $(cat "$state/pid")); the test 'clang-tidy: src/ has no warnings' reports"
    exit 0
fi

if [ "$mode" = finish ]; then
    state=$1
    limit=${2:-3000}
    # The suite now waits on it: back to normal priority (not allowed without privilege: then
    # it goes on niced).
    [ -f "$state/pid" ] && renice -n 0 -g "$(cat "$state/pid")" >/dev/null 2>&1 || true
    for ((waited = 0; waited < limit; waited++)); do
        [ -f "$state/rc" ] && break
        if [ ! -f "$state/pid" ]; then
            echo "check-clang-tidy: no run was started in $state" >&2
            exit 1
        fi
        sleep 1
    done
    if [ ! -f "$state/rc" ]; then
        kill -TERM -- "-$(cat "$state/pid")" 2>/dev/null || true
        echo "check-clang-tidy: still running after ${limit}s; stopped" >&2
        exit 1
    fi
    cat "$state/report"
    echo "check-clang-tidy: the run took $(( $(stat -c %Y "$state/rc") - $(cat "$state/started") ))s (started at the beginning of the CTest run)"
    [ -f "$state/time" ] && echo "check-clang-tidy: $(tail -1 "$state/time")"
    exit "$(cat "$state/rc")"
fi

if [ "$mode" != run ]; then
    echo "usage: $0 run SOURCE_DIR BUILD_DIR [JOBS] | start STATE_DIR SOURCE_DIR BUILD_DIR [JOBS] | finish STATE_DIR [SECONDS]" >&2
    exit 2
fi
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

# A file found clean is not checked again while nothing it is checked with changed: the key is
# its text, every project header, its compile command, .clang-tidy, clang-tidy's version and the
# installed packages (system headers). A change anywhere in include/ checks every file again.
cache="$build_dir/clang-tidy-clean"
mkdir -p "$cache"
common=$( ( "$tidy" --version; cat .clang-tidy; dpkg-query -W -f '${Package}=${Version}\n' 2>/dev/null
    find include src -name '*.hpp' | sort | xargs cat ) | sha256sum | cut -c1-64)
export common cache

# One log per file (slashes become '%'); GCC's own warning flags are unknown to clang.
find src -name '*.cpp' | sort | xargs -P "$jobs" -I{} sh -c '
    log="$1/$(echo "$2" | tr / %)"
    key=$( (echo "$common"; cat "$2"; grep -F "/$2\"" "$4/compile_commands.json") | sha256sum | cut -c1-64)
    if [ -f "$cache/$key" ]; then
        : >"$log.out"; : >"$log.err"; echo 0 >"$log.rc"; echo cached >"$log.cached"
        exit 0
    fi
    "$3" -p "$4" --quiet --extra-arg=-Wno-unknown-warning-option "$2" >"$log.out" 2>"$log.err"
    rc=$?
    echo $rc >"$log.rc"
    if [ $rc -eq 0 ] && ! grep -qE "^/.*: (warning|error): " "$log.out"; then : >"$cache/$key"; fi
    ' sh "$out" {} "$tidy" "$build_dir"
cached=$(find "$out" -name '*.cached' | wc -l)

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
    echo "check-clang-tidy: $failed of $files files have warnings (file checked: count):"
    printf '%s' "$report"
    # A header's warning shows under every file that includes it: counted once here, under
    # the file it is in (whose owner fixes it).
    echo "check-clang-tidy: distinct warnings by the file they are in:"
    cat "$out"/*.out | grep -E '^/.*: (warning|error): ' | sort -u | sed "s|^$source_dir/||" |
        cut -d: -f1 | sort | uniq -c | sort -rn | awk '{print "  " $2 ": " $1}'
    exit 1
fi
echo "check-clang-tidy: $files files, no warnings ($cached of them unchanged since found clean)"
