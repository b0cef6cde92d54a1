#!/bin/sh
# bench/verify.sh - gguf-verify perplexity speed and peak RSS on the shape of PERF-FACTS.md's
# llama-perplexity anchor (hidden 1024, 8 layers, 8/2 heads, FFN 2816, vocab 152064, -c 512,
# 4 chunks = one 2048-token llama.cpp pass, 2 threads), for F32, BF16, Q8_0 and Q4_K_M files
# made here from random weights with the real Qwen2 tokenizer, on WikiText-2.
# llama.cpp's numbers on this machine (same shape, same settings): BF16 ~1241 tok/s,
# Q4_K_M ~608 tok/s (PERF-FACTS.md section 2); they are printed as the baseline ratios.
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

for t in $TYPES; do
    f="$W/$t.gguf"
    echo "file size $t: $(stat -c %s "$f") B"
    # warm the page cache so the timing is compute, as llama.cpp's anchor was
    cat "$f" >/dev/null
    "$BIN/gguf-verify" perplexity -m "$f" -f "$W/wiki.txt" -c 512 --chunks "$CHUNKS" -t "$THREADS" \
        >"$W/out" 2>"$W/err" || { cat "$W/err"; exit 1; }
    tps=$(sed -n 's/.*(\([0-9.]*\) tok\/s).*/\1/p' "$W/err")
    rss=$(sed -n 's/.*peak RSS \(.*\)$/\1/p' "$W/err")
    echo "perplexity $t tok/s: $tps"
    echo "perplexity $t peak RSS: $rss"
    case $t in
        bf16) echo "perplexity bf16 vs llama.cpp (1241 tok/s): $(echo "$tps / 1241" | bc -l | cut -c1-5)x" ;;
        q4_k_m) echo "perplexity q4_k_m vs llama.cpp (608 tok/s): $(echo "$tps / 608" | bc -l | cut -c1-5)x" ;;
    esac
    rm -f "$f"
done
