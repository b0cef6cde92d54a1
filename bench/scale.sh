#!/bin/sh
# Scale benchmark (issue 7): QwQ-32B's full hidden sizes and full vocabulary, bf16 safetensors,
# at two layer counts (default 1 and 5 layers: ~4.1 GB and ~8 GB). For each size: time relative to
# `cp` of the same bytes and peak RSS of convert (bf16, and straight to q4_k_m), quantize (q4_k_m,
# q8_0), split + merge, and verify compare (BF16 vs Q4_K_M, 2 chunks of 64 tokens). Peak RSS must
# stay flat as layers are added. Extrapolation to 64 layers is printed from the per-layer slope.
# Env: SCALE_LAYERS (default "1 5"), BENCH_TMP (needs ~3x the largest model free), BIN, TOP.
set -eu
BIN=${BIN:-build/bin}; TOP=${TOP:-.}
W="${BENCH_TMP:-/var/tmp}/gguf-scale.$$"
mkdir -p "$W"; trap 'rm -rf "$W"' EXIT INT TERM
M="python3 $TOP/bench/measure.py"
T=$(nproc)
# meas LABEL CMD...: runs CMD, prints "LABEL wall rss" into $W/m and returns the wall time in $wall
meas() { l=$1; shift; $M "$@" 2>"$W/err" >/dev/null || { cat "$W/err"; exit 1; }
         wall=$(sed -n 's/.*wall=\([0-9.]*\).*/\1/p' "$W/err" | tail -1); rss=$(sed -n 's/.*rss_mb=\([0-9.]*\).*/\1/p' "$W/err" | tail -1); }
gzip -dc "$TOP/testdata/wikitext-2/wiki.test.raw.gz" | head -c 4000 >"$W/text.txt"
for L in ${SCALE_LAYERS:-1 5}; do
    rm -rf "$W/hf" "$W/o"; mkdir -p "$W/o"
    "$BIN/gguf-synth" "$W/hf" --config "$TOP/testdata/qwq-32b-shape/config.json" --layers "$L" --shards 4 --seed 1 >/dev/null
    sync
    bytes=$(cat "$W"/hf/*.safetensors | wc -c)   # also warms the page cache for every run below
    gb=$(echo "$bytes" | awk '{printf "%.2f", $1/1e9}')
    # baseline: cp of the same bytes plus sync, since every tool of ours fsyncs its output
    meas cp sh -c 'cp "$@" && sync' cp "$W"/hf/model-00001-of-00004.safetensors "$W"/hf/model-00002-of-00004.safetensors \
        "$W"/hf/model-00003-of-00004.safetensors "$W"/hf/model-00004-of-00004.safetensors "$W/o/"; cp_s=$wall
    rm -f "$W"/o/*.safetensors
    echo "scale L=$L bf16 input: $gb GB"
    echo "scale L=$L cp+sync: ${cp_s} s ($(echo "$bytes $cp_s" | awk '{printf "%.0f", $1/$2/1e6}') MB/s)"
    meas convert "$BIN/gguf-convert" "$W/hf" -o "$W/o/bf16.gguf" -q
    echo "scale L=$L convert bf16 time/cp: $(echo "$wall $cp_s" | awk '{printf "%.2f", $1/$2}') (${wall} s)"
    echo "scale L=$L convert bf16 peak RSS MB: $rss"
    meas convq "$BIN/gguf-convert" "$W/hf" -o "$W/o/c-q4km.gguf" --type q4_k_m --threads "$T" -q
    echo "scale L=$L convert q4_k_m time/cp: $(echo "$wall $cp_s" | awk '{printf "%.2f", $1/$2}') (${wall} s, $(echo "$bytes $wall" | awk '{printf "%.0f", $1/$2/1e6}') MB/s)"
    echo "scale L=$L convert q4_k_m peak RSS MB: $rss"
    rm -f "$W/o/c-q4km.gguf"
    meas q4 "$BIN/gguf-quantize" -q "$W/o/bf16.gguf" "$W/o/q4km.gguf" q4_k_m "$T"
    echo "scale L=$L quantize q4_k_m time/cp: $(echo "$wall $cp_s" | awk '{printf "%.2f", $1/$2}') (${wall} s, $(echo "$bytes $wall" | awk '{printf "%.0f", $1/$2/1e6}') MB/s)"
    echo "scale L=$L quantize q4_k_m peak RSS MB: $rss"
    meas q8 "$BIN/gguf-quantize" -q "$W/o/bf16.gguf" "$W/o/q8.gguf" q8_0 "$T"
    echo "scale L=$L quantize q8_0 time/cp: $(echo "$wall $cp_s" | awk '{printf "%.2f", $1/$2}') (${wall} s)"
    echo "scale L=$L quantize q8_0 peak RSS MB: $rss"
    rm -f "$W/o/q8.gguf"
    rm -rf "$W/hf"
    mkdir -p "$W/o/split"
    meas split "$BIN/gguf-split" --split-max-size 2G "$W/o/bf16.gguf" "$W/o/split/m"
    echo "scale L=$L split time/cp: $(echo "$wall $cp_s" | awk '{printf "%.2f", $1/$2}') (peak RSS $rss MB)"
    first=$(ls "$W"/o/split/m-00001-of-*.gguf)
    meas merge "$BIN/gguf-split" --merge "$first" "$W/o/merged.gguf"
    echo "scale L=$L merge time/cp: $(echo "$wall $cp_s" | awk '{printf "%.2f", $1/$2}') (peak RSS $rss MB)"
    cmp "$W/o/merged.gguf" "$W/o/bf16.gguf" && echo "scale L=$L merge(split) identical: yes"
    rm -rf "$W/o/split" "$W/o/merged.gguf"
    meas verify "$BIN/gguf-verify" compare --ref "$W/o/bf16.gguf" -m "$W/o/q4km.gguf" -f "$W/text.txt" -c 64 --chunks 2 -t "$T"
    echo "scale L=$L verify compare bf16 vs q4_k_m (2x64 tokens): ${wall} s, peak RSS MB: $rss"
    echo "$L $bytes $cp_s" >>"$W/sizes"
    rm -f "$W"/o/*.gguf
done
# per-layer slope of the bf16 size -> 64-layer extrapolation of the cp baseline
awk 'NR==1{l1=$1;b1=$2;c1=$3} NR==2{l2=$1;b2=$2;c2=$3} END{ if (NR>=2) {
    bpl=(b2-b1)/(l2-l1); b64=b1+(64-l1)*bpl; printf "scale extrapolated 64-layer bf16 size: %.1f GB (per layer %.3f GB)\n", b64/1e9, bpl/1e9;
    printf "scale extrapolated 64-layer cp time: %.0f s at this run'"'"'s cp rate\n", b64/((b2)/c2) } }' "$W/sizes"
