#!/bin/sh
# bench/quantize.sh - gguf-quantize throughput on one full-size QwQ-32B layer in F16 (~975 MB,
# bench/gen_layer.py, values N(0,1)*0.02), 2 threads, warm page cache. Prints input MB/s, the
# ratio to llama-quantize's baseline on this machine (FORMATS.md 8: Q4_K_M 73.5 MB/s, Q8_0
# 299 MB/s, peak RSS 1.49 GB), the ratio to `cp` of the same file timed in this run, and peak RSS.
# On a shared machine the wall-clock numbers depend on the load, so it also prints the CPU time
# (user+sys) and MB of input per CPU-second against llama-quantize's (FORMATS.md 8: Q4_K_M
# 21.8 s user, Q8_0 2.2 s user for the same 975 MB), and the load average when it started.
# Heavy (about 3 GB written): run it once. Env: BIN, TOP, BENCH_TMP (scratch dir).
set -e
top=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BIN=${BIN:-$top/build/bin}
dir=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/var/tmp}}/quant-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' INT TERM
in=$dir/layer-f16.gguf
/usr/bin/python3 "$top/bench/gen_layer.py" "$in"
bytes=$(stat -c %s "$in")
cat "$in" >/dev/null
sync
# run CMD...: wall seconds, peak RSS (KB) and CPU seconds of CMD into $secs, $rss, $cpu
run() {
    /usr/bin/time -f "%e %M %U %S" -o "$dir/time" "$@" >/dev/null 2>"$dir/err" || { cat "$dir/err"; exit 1; }
    secs=$(cut -d' ' -f1 "$dir/time"); rss=$(cut -d' ' -f2 "$dir/time")
    cpu=$(awk '{ printf "%.2f", $3 + $4 }' "$dir/time")
}
mbs() { awk -v b="$bytes" -v s="$1" 'BEGIN { printf "%.1f", b / 1e6 / (s > 0 ? s : 1e-9) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "input: $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB (one QwQ-32B layer, F16)"
run cp "$in" "$dir/copy.gguf"
cp_s=$secs; cp_mbs=$(mbs "$secs")
rm -f "$dir/copy.gguf"
sync
echo "cp: $cp_s s, $cp_mbs MB/s"
for t in Q4_K_M:73.5:21.8 Q8_0:299:2.2; do
    type=${t%%:*} rest=${t#*:}
    base=${rest%%:*} base_cpu=${rest##*:}
    run "$BIN/gguf-quantize" -q "$in" "$dir/out.gguf" "$type" 2
    m=$(mbs "$secs")
    out=$(stat -c %s "$dir/out.gguf")
    echo "$type 2 threads: $secs s, $m MB/s in, output $out B"
    echo "$type vs llama-quantize: $(ratio "$m" "$base")x ($base MB/s)"
    echo "$type vs cp: $(ratio "$m" "$cp_mbs")x"
    echo "$type CPU time: $cpu s, $(mbs "$cpu") MB per CPU-second, $(ratio "$base_cpu" "$cpu")x llama-quantize's ($base_cpu s)"
    echo "$type peak RSS: $(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }') MiB (llama-quantize 1490 MB)"
    rm -f "$dir/out.gguf"
    sync
done
