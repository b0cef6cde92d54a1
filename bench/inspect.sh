#!/bin/sh
# gguf-inspect on a large file: --hash and --check throughput against reading the same bytes with
# cat (measured here, page cache warm for both), and peak RSS against the file and largest tensor
# (gguf_release after each tensor keeps it near one tensor, not the file).
# Env: BIN, TOP, BENCH_TMP (from bench/run.sh); INSPECT_MB total size (default 1024), INSPECT_TENSORS (16).
BIN=${BIN:-build/bin} TOP=${TOP:-.}
MB=${INSPECT_MB:-1024} NT=${INSPECT_TENSORS:-16}
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
d=$(mktemp -d "${BENCH_TMP:-/var/tmp}/bench-inspect.XXXXXX") || exit 1
trap 'rm -rf "$d"' EXIT INT TERM
# NT F16 tensors of [4096, rows] (random bytes: only hashing and scanning matter here)
rows=$(( MB * 1024 * 1024 / 2 / 4096 / NT ))
ts=$(i=0; while [ $i -lt "$NT" ]; do
    [ $i -gt 0 ] && printf ','
    printf '{"name":"t%d","type":"F16","shape":[4096,%d],"fill":"zero"}' "$i" "$rows"; i=$((i + 1)); done)
"$PY" "$TOP/tests/cli/mkgguf.py" "$d/big.gguf" "{\"tensors\":[$ts]}" || exit 1
size=$(stat -c %s "$d/big.gguf")
cat "$d/big.gguf" >/dev/null
secs() { s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
t_cat=$(secs cat "$d/big.gguf")
t_hash=$(secs "$BIN/gguf-inspect" --hash "$d/big.gguf")
t_check=$(secs "$BIN/gguf-inspect" --check "$d/big.gguf")
rss_hash=$(rss "$BIN/gguf-inspect" --hash "$d/big.gguf")
rss_check=$(rss "$BIN/gguf-inspect" --check "$d/big.gguf")
printf 'file size MB: %.0f (%d tensors of %.1f MB)\n' "$(echo "$size / 1048576" | bc -l)" "$NT" \
    "$(echo "$rows * 4096 * 2 / 1048576" | bc -l)"
printf 'cat GB/s: %.2f\n' "$(echo "$size / $t_cat / 1000000000" | bc -l)"
printf 'hash GB/s: %.2f (%.2fx cat)\n' "$(echo "$size / $t_hash / 1000000000" | bc -l)" "$(echo "$t_cat / $t_hash" | bc -l)"
printf 'check GB/s: %.2f (%.2fx cat)\n' "$(echo "$size / $t_check / 1000000000" | bc -l)" "$(echo "$t_cat / $t_check" | bc -l)"
printf 'hash peak RSS MB: %.1f\n' "$(echo "$rss_hash / 1024" | bc -l)"
printf 'check peak RSS MB: %.1f\n' "$(echo "$rss_check / 1024" | bc -l)"
