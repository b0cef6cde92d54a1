#!/bin/sh
# make bench: runs every bench/*.sh (each standalone, printing "name: value" lines) and prints
# one table at the end. Ratios are always against a baseline measured in the same run (cp of the
# same bytes) or the fixed llama-quantize baseline of FORMATS.md section 8.
# Env: BUILD (default build), BENCH_TMP (scratch dir with a few GB free; default $TMPDIR or /var/tmp),
#      BENCH (grep -E filter on script names).
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
export BIN="$top/$BUILD/bin" TOP="$top"
export BENCH_TMP="${BENCH_TMP:-${TMPDIR:-/var/tmp}}"
out=$(mktemp)
for s in "$top"/bench/*.sh; do
    n=$(basename "$s" .sh)
    [ "$n" = run ] && continue
    if [ -n "$BENCH" ] && ! echo "$n" | grep -Eq "$BENCH"; then continue; fi
    echo "== bench/$n.sh"
    start=$(date +%s)
    sh "$s" 2>&1 | tee "$out.$n"
    echo "   ($(( $(date +%s) - start )) s)"
    grep -E '^[A-Za-z0-9_.:/ =()+-]+: ' "$out.$n" | sed "s|^|$n |" >>"$out"
done
echo
echo "================ bench summary ================"
awk '{ b=$1; $1=""; sub(/^ /,""); i=index($0, ": "); printf "%-10s %-48s %s\n", b, substr($0,1,i-1), substr($0,i+2) }' "$out"
rm -f "$out" "$out".*
