#!/usr/bin/env bash
# CTest: the YAML block that follows the line `<!-- packaging/prometheus/ops-alerts.yml -->` in
# the doc is the shipped rules file, byte for byte, so the two cannot drift apart.
#   doc-shows-rules.sh DOC RULES
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: doc-shows-rules.sh DOC RULES" >&2; exit 2; }
doc=$1 rules=$2
marker='<!-- packaging/prometheus/ops-alerts.yml -->'
count=$(grep -cxF "$marker" "$doc" || true)
[ "$count" = 1 ] || { echo "FAIL: $doc has $count lines '$marker', expected 1" >&2; exit 1; }
shown=$(mktemp)
trap 'rm -f "$shown"' EXIT
# The lines between the fence after the marker and the closing fence.
awk -v marker="$marker" '
    $0 == marker { after = 1; next }
    after == 1 { if ($0 != "```yaml") exit 3; after = 2; next }
    after == 2 { if ($0 == "```") exit 0; print }
' "$doc" >"$shown" || { echo "FAIL: no \`\`\`yaml block right after '$marker' in $doc" >&2; exit 1; }
if ! diff -u "$rules" "$shown"; then
    echo "FAIL: the rules in $doc differ from $rules (- shipped, + doc): copy the file into the doc" >&2
    exit 1
fi
echo "ok: $doc shows $rules unchanged ($(wc -l <"$rules") lines)"
