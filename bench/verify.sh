#!/bin/sh
# bench/verify.sh - gguf-verify perplexity speed and peak RSS on the shape of PERF-FACTS.md's
# llama-perplexity anchor (hidden 1024, 8 layers, 8/2 heads, FFN 2816, vocab 152064, -c 512,
# 4 chunks = one 2048-token llama.cpp pass, 2 threads), for F32, BF16, Q8_0 and Q4_K_M files
# made here from random weights with the real Qwen2 tokenizer, on WikiText-2.
# llama.cpp's numbers on this machine (same shape, same settings): BF16 ~1241 tok/s,
# Q4_K_M ~608 tok/s (PERF-FACTS.md section 2); they are printed as the baseline ratios.
# Non-F32 files run in the default mode (bf16 products, vdpbf16ps) and with --exact (float32
# activations). The machine is shared:
# the load average is printed, as other processes on the 2 cores distort every timing.
# Standalone: prints "name: value" lines. Env: BIN (build/bin), TOP, BENCH_TMP, VERIFY_TYPES,
# VERIFY_CHUNKS (default 4), VERIFY_THREADS (default 2).
set -e
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BIN=${BIN:-$TOP/build/bin}
BUILD=$(dirname "$BIN")
W=$(mktemp -d "${BENCH_TMP:-/var/tmp}/verify-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
TYPES=${VERIFY_TYPES:-f32 bf16 q8_0 q4_k_m}
CHUNKS=${VERIFY_CHUNKS:-4}
THREADS=${VERIFY_THREADS:-2}

gzip -dc "$TOP/testdata/qwen/tokenizer.json.gz" >"$W/tokenizer.json"
gzip -dc "$TOP/testdata/wikitext-2/wiki.test.raw.gz" | head -c 200000 >"$W/wiki.txt"
cc -O2 -std=gnu11 -fopenmp -I"$TOP" -I"$TOP/libgguf" -o "$W/mkmodel" "$TOP/bench/verify_mkmodel.c" \
   "$BUILD/libggufcore.a" "$BUILD/libgguf.a" -ljansson -lpcre2-8 -lutf8proc -lxxhash -lz -lm
start=$(date +%s)
# shellcheck disable=SC2086
"$W/mkmodel" "$W/tokenizer.json" "$W" 8 1024 2816 8 2 152064 $TYPES
echo "model files written in: $(( $(date +%s) - start )) s"

run() {   # run NAME FILE [extra options]
    name=$1 f=$2; shift 2
    "$BIN/gguf-verify" perplexity -m "$f" -f "$W/wiki.txt" -c 512 --chunks "$CHUNKS" -t "$THREADS" "$@" \
        >"$W/out" 2>"$W/err" || { cat "$W/err"; exit 1; }
    tps=$(sed -n 's/.*(\([0-9.]*\) tok\/s).*/\1/p' "$W/err")
    rss=$(sed -n 's/.*peak RSS \(.*\)$/\1/p' "$W/err")
    echo "perplexity $name tok/s: $tps"
    echo "perplexity $name tokens per CPU-second: $(sed -n 's/.*, \([0-9.]*\) tokens per CPU-second.*/\1/p' "$W/err")"
    echo "perplexity $name peak RSS: $rss"
    echo "perplexity $name PPL: $(sed -n 's/^Final estimate: PPL = \([0-9.]*\).*/\1/p' "$W/out")"
    case $name in
        bf16*) echo "perplexity $name vs llama.cpp BF16 (1241 tok/s): $(awk -v t="$tps" 'BEGIN{printf "%.2f", t/1241}')x" ;;
        q4_k_m*) echo "perplexity $name vs llama.cpp Q4_K_M (608 tok/s): $(awk -v t="$tps" 'BEGIN{printf "%.2f", t/608}')x" ;;
    esac
}

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in $TYPES; do
    f="$W/$t.gguf"
    echo "file size $t: $(stat -c %s "$f") B"
    cat "$f" >/dev/null   # warm page cache: time compute, as llama.cpp's anchor did
    run "$t" "$f"
    [ "$t" = f32 ] || run "$t-exact" "$f" --exact
    rm -f "$f"
done
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

# Full-size memory check (VERIFY_QWQ=1): QwQ-32B shapes (hidden 5120, FFN 27648, 40/8 heads,
# vocab 152064) with 2 layers, BF16 reference vs Q4_K_M model written directly from random
# values; compare streams layer by layer, so peak RSS stays near one layer + one LM head
# instead of both models (the 64-layer files are 65 GB + 20 GB).
if [ "${VERIFY_QWQ:-0}" = 1 ]; then
    "$W/mkmodel" "$W/tokenizer.json" "$W" 2 5120 27648 40 8 152064 --direct
    echo "qwq-shape 2-layer files: bf16 $(stat -c %s "$W/bf16.gguf") B, q4_k_m $(stat -c %s "$W/q4_k_m.gguf") B"
    "$BIN/gguf-verify" compare --ref "$W/bf16.gguf" -m "$W/q4_k_m.gguf" -f "$W/wiki.txt" -c 128 --chunks 2 \
        -t "$THREADS" >"$W/out" 2>"$W/err" || { cat "$W/err"; exit 1; }
    echo "compare qwq-shape 2 layers peak RSS: $(sed -n 's/.*peak RSS \(.*\)$/\1/p' "$W/err")"
    echo "compare qwq-shape 2 layers seconds: $(sed -n 's/.*tokens in \([0-9.]*\) s.*/\1/p' "$W/err")"
fi
