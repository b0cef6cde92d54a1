#!/bin/sh
# bench/convert.sh - gguf-convert to bf16 against cp of the same shards on the same disk.
#
# gguf-synth writes a model with QwQ-32B's full sizes (hidden 5120, ffn 27648, 40/8 heads, full
# 152064 vocab, untied) but 2 layers: ~5.1 GB of BF16 in 4 shards. Then twice, alternating:
#   cp SHARDS + fsync            (baseline: the same bytes read and written, as durable as ours)
#   gguf-convert DIR -o OUT.gguf (bf16 -> bf16: fsyncs its output, like the baseline)
# prints the best time of each, the ratio (goal <= 1.2x cp), MB/s, and gguf-convert's peak RSS
# (goal < 1 GB: it must not grow with the model). Also times --type q8_0 once (compute bound).
# Standalone: sh bench/convert.sh [BIN dir]; env BIN, BENCH_TMP (scratch dir, ~16 GB free).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-${BIN:-$top/build/bin}}
C=$BIN/gguf-convert
[ -x "$C" ] && [ -x "$BIN/gguf-synth" ] || { echo "bench/convert.sh: $C or gguf-synth not built (make)" >&2; exit 1; }
dir=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/var/tmp}}/convert-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

now() { date +%s.%N; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
timeit() { t0=$(now); "$@"; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }'; }
cp_sync() { mkdir -p "$2" && cp "$1"/*.safetensors "$2"/ && sync "$2"/*.safetensors; }

t=$(timeit "$BIN/gguf-synth" "$dir/QwQ-32B-2L" -q --config "$top/testdata/qwq-32b-shape.json" --layers 2 --shards 4)
bytes=$(cat "$dir/QwQ-32B-2L"/*.safetensors | wc -c)
echo "input_bytes: $bytes"
awk -v b="$bytes" -v t="$t" 'BEGIN { printf "synth_MBps: %.0f\n", b / t / 1e6 }'

sync
cp_t= conv_t= rss=
for round in 1 2; do
    t=$(timeit cp_sync "$dir/QwQ-32B-2L" "$dir/copy"); cp_t=$(best "$cp_t" "$t"); rm -rf "$dir/copy"
    t=$(timeit /usr/bin/time -f %M -o "$dir/rss" "$C" "$dir/QwQ-32B-2L" -o "$dir/out.gguf" -q)
    conv_t=$(best "$conv_t" "$t"); r=$(cat "$dir/rss"); rss=$(best "$rss" "$r")
    [ "$round" = 2 ] || rm -f "$dir/out.gguf"
done
out_bytes=$(stat -c %s "$dir/out.gguf")
rm -f "$dir/out.gguf"
q8_t=$(timeit /usr/bin/time -f %M -o "$dir/rss8" "$C" "$dir/QwQ-32B-2L" -o "$dir/q8.gguf" --type q8_0 -q)
rss8=$(cat "$dir/rss8")
rm -f "$dir/q8.gguf"

awk -v b="$bytes" -v o="$out_bytes" -v c="$cp_t" -v v="$conv_t" -v r="$rss" -v q="$q8_t" -v r8="$rss8" 'BEGIN {
    printf "output_bytes: %.0f\n", o
    printf "cp_fsync_s: %.2f\n", c
    printf "convert_bf16_s: %.2f\n", v
    printf "cp_fsync_MBps: %.0f\n", b / c / 1e6
    printf "convert_bf16_MBps: %.0f\n", b / v / 1e6
    printf "convert_bf16_vs_cp: %.2fx\n", v / c
    printf "convert_bf16_peak_rss_MB: %.1f\n", r / 1024
    printf "convert_q8_0_s: %.2f\n", q
    printf "convert_q8_0_MBps: %.0f\n", b / q / 1e6
    printf "convert_q8_0_peak_rss_MB: %.1f\n", r8 / 1024
}'
