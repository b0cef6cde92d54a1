#!/bin/sh
# bench/split.sh - gguf-split throughput against cp of the same file on the same disk.
#
# Builds a ~2.1 GB GGUF (4 F32 tensors of 512 MiB of random bytes), then twice, alternating:
#   cp IN COPY + fsync COPY      (the baseline: same bytes, same disk, same durability as ours,
#                                 which fsyncs every output; plain cp without fsync is printed too)
#   gguf-split --split-max-size 600M IN P       (4 shards)
#   gguf-split --merge P-00001-of-00004.gguf M
# and prints the best wall time of each as MB/s and as a ratio to cp, the best CPU time of each
# (user + sys: on a shared machine the steadier number), checks that the merge gave back the
# input byte for byte and prints gguf-split's peak RSS (it must not grow with the file).
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

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
# timeit FILE CMD...: runs CMD under /usr/bin/time, FILE gets "wall cpu" (cpu = user + sys)
timeit() { f=$1; shift; /usr/bin/time -f '%e %U %S' -o "$f.raw" "$@" && awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' "$f.raw" >"$f"; }
wall() { cut -d' ' -f1 "$1"; }
cpu() { cut -d' ' -f2 "$1"; }

# Each timed step starts after a sync, so none pays for the previous one's writeback. The machine
# may be shared: wall times vary with the load, CPU times much less, so both are printed.
cp_t= cpns_t= split_t= merge_t= cp_c= split_c= merge_c= rss=
for round in 1 2; do
    sync; timeit "$dir/t" sh -c 'cp "$1" "$2" && sync "$2"' cp_sync "$dir/in.gguf" "$dir/copy.gguf"
    cp_t=$(best "$cp_t" "$(wall "$dir/t")"); cp_c=$(best "$cp_c" "$(cpu "$dir/t")"); rm -f "$dir/copy.gguf"
    sync; timeit "$dir/t" "$S" --split-max-size 600M "$dir/in.gguf" "$dir/p"
    split_t=$(best "$split_t" "$(wall "$dir/t")"); split_c=$(best "$split_c" "$(cpu "$dir/t")")
    sync; timeit "$dir/t" "$S" --merge "$dir/p-00001-of-00004.gguf" "$dir/merged.gguf"
    merge_t=$(best "$merge_t" "$(wall "$dir/t")"); merge_c=$(best "$merge_c" "$(cpu "$dir/t")")
    cmp "$dir/in.gguf" "$dir/merged.gguf" || { echo "bench/split.sh: merge(split(x)) != x" >&2; exit 1; }
    rm -f "$dir"/p-0000?-of-00004.gguf "$dir/merged.gguf"
    sync; timeit "$dir/t" cp "$dir/in.gguf" "$dir/copy.gguf"; cpns_t=$(best "$cpns_t" "$(wall "$dir/t")")
    rm -f "$dir/copy.gguf"
done
/usr/bin/time -f %M -o "$dir/rss" "$S" --split-max-size 600M "$dir/in.gguf" "$dir/p"
rss=$(cat "$dir/rss")

awk -v b="$bytes" -v c="$cp_t" -v cn="$cpns_t" -v s="$split_t" -v m="$merge_t" -v r="$rss" \
    -v cc="$cp_c" -v sc="$split_c" -v mc="$merge_c" 'BEGIN {
    printf "cp_fsync_MBps: %.0f\n", b / c / 1e6
    printf "cp_nofsync_MBps: %.0f\n", b / cn / 1e6
    printf "split_MBps: %.0f\n", b / s / 1e6
    printf "merge_MBps: %.0f\n", b / m / 1e6
    printf "split_vs_cp_fsync: %.2fx\n", c / s
    printf "merge_vs_cp_fsync: %.2fx\n", c / m
    printf "split_vs_cp_nofsync: %.2fx\n", cn / s
    printf "merge_vs_cp_nofsync: %.2fx\n", cn / m
    printf "cp_fsync_cpu_s: %.2f\n", cc
    printf "split_cpu_s: %.2f\n", sc
    printf "merge_cpu_s: %.2f\n", mc
    printf "split_peak_rss_MB: %.1f\n", r / 1024
}'
