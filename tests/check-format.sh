#!/usr/bin/env bash
# clang-format --dry-run --Werror over src, include and tests, with the checked-in .clang-format:
# fails naming every file whose layout differs from what clang-format makes of it.
#   tests/check-format.sh SOURCE_DIR
set -euo pipefail
cd "$1"
format=${CLANG_FORMAT:-clang-format}
if ! command -v "$format" >/dev/null; then
    echo "check-format: $format is not installed (scripts/install-deps.sh installs it)" >&2
    exit 1
fi
mapfile -t files < <(find src include tests \( -name '*.cpp' -o -name '*.hpp' \) | sort)
bad=()
for file in "${files[@]}"; do
    "$format" --dry-run --Werror "$file" 2>/dev/null || bad+=("$file")
done
if [ ${#bad[@]} -gt 0 ]; then
    echo "check-format: ${#bad[@]} of ${#files[@]} files are not clang-formatted; fix with"
    echo "  clang-format -i ${bad[*]}"
    for file in "${bad[@]}"; do "$format" --dry-run "$file" 2>&1 | head -20; done
    exit 1
fi
echo "check-format: ${#files[@]} files, all clang-formatted"
