#!/bin/sh
# bench/split.sh - gguf-split throughput against cp of the same file on the same disk.
#
# Builds a ~2.1 GB GGUF (4 F32 tensors of 512 MiB of random bytes), then twice, alternating:
#   cp IN COPY + fsync COPY      (the baseline: same bytes, same disk, same durability as ours,
#                                 which fsyncs every output; plain cp without fsync is printed too)
#   gguf-split --split-max-size 600M IN P       (4 shards)
#   gguf-split --merge P-00001-of-00004.gguf M
# and prints the best time of each as MB/s and as a ratio to cp. Also checks that the merge gave
# back the input byte for byte and prints gguf-split's peak RSS (it must not grow with the file).
# Standalone: sh bench/split.sh [BIN dir]; env BIN, BENCH_TMP (scratch dir, ~7 GB free).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-${BIN:-$top/build/bin}}
S=$BIN/gguf-split
[ -x "$S" ] || { echo "bench/split.sh: $S not built (make)" >&2; exit 1; }
dir=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/var/tmp}}/split-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

n=134217728 # elements per tensor: 512 MiB of F32
python3 "$top/tests/cli/mk_split_input.py" make "$dir/in.gguf" --header-only $n $n $n $n
head -c $((4 * 4 * n)) /dev/urandom >>"$dir/in.gguf"
bytes=$(stat -c %s "$dir/in.gguf")
echo "input_bytes: $bytes"

now() { date +%s.%N; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
# runs "$@", prints elapsed seconds
timeit() { t0=$(now); "$@"; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }'; }
cp_sync() { cp "$1" "$2" && sync "$2"; }

sync
cp_t= cpns_t= split_t= merge_t= rss=
for round in 1 2; do
    t=$(timeit cp_sync "$dir/in.gguf" "$dir/copy.gguf"); cp_t=$(best "$cp_t" "$t"); rm -f "$dir/copy.gguf"
    t=$(timeit /usr/bin/time -f %M -o "$dir/rss" "$S" --split-max-size 600M "$dir/in.gguf" "$dir/p")
    split_t=$(best "$split_t" "$t"); rss=$(cat "$dir/rss")
    t=$(timeit "$S" --merge "$dir/p-00001-of-00004.gguf" "$dir/merged.gguf"); merge_t=$(best "$merge_t" "$t")
    cmp "$dir/in.gguf" "$dir/merged.gguf" || { echo "bench/split.sh: merge(split(x)) != x" >&2; exit 1; }
    rm -f "$dir"/p-0000?-of-00004.gguf "$dir/merged.gguf"
    t=$(timeit cp "$dir/in.gguf" "$dir/copy.gguf"); cpns_t=$(best "$cpns_t" "$t"); rm -f "$dir/copy.gguf"
done

awk -v b="$bytes" -v c="$cp_t" -v cn="$cpns_t" -v s="$split_t" -v m="$merge_t" -v r="$rss" 'BEGIN {
    printf "cp_fsync_MBps: %.0f\n", b / c / 1e6
    printf "cp_nofsync_MBps: %.0f\n", b / cn / 1e6
    printf "split_MBps: %.0f\n", b / s / 1e6
    printf "merge_MBps: %.0f\n", b / m / 1e6
    printf "split_vs_cp_fsync: %.2fx\n", c / s
    printf "merge_vs_cp_fsync: %.2fx\n", c / m
    printf "split_vs_cp_nofsync: %.2fx\n", cn / s
    printf "merge_vs_cp_nofsync: %.2fx\n", cn / m
    printf "split_peak_rss_MB: %.1f\n", r / 1024
}'
