#!/bin/sh
# make demo: the main job end to end on the small built-in model.
# synth (HF safetensors dir, real Qwen tokenizer) -> convert (BF16) -> quantize (Q8_0, Q4_K_M)
# -> split + merge (byte-identical round trip) -> inspect -> verify compare with quality gates.
set -eu
B=${BUILD:-build}/bin
D=${DEMO_DIR:-${BUILD:-build}/demo}
rm -rf "$D"; mkdir -p "$D"
step() { printf '\n== %s\n' "$*"; }
step "gguf-synth: a small Qwen2 model directory (hidden 256, 2 layers, 2 bf16 shards)"
"$B/gguf-synth" "$D/hf" --hidden 256 --ffn 768 --heads 4 --kv-heads 2 --layers 2 --shards 2 --seed 1
ls -l "$D/hf"
step "gguf-convert: safetensors -> BF16 GGUF"
"$B/gguf-convert" "$D/hf" -o "$D/model-bf16.gguf" -q
step "gguf-quantize: BF16 -> Q8_0 and Q4_K_M"
"$B/gguf-quantize" -q "$D/model-bf16.gguf" "$D/model-q8_0.gguf" q8_0
"$B/gguf-quantize" -q "$D/model-bf16.gguf" "$D/model-q4_k_m.gguf" q4_k_m
ls -l "$D"/*.gguf
step "gguf-split: split into 10-tensor shards, merge back, compare"
mkdir -p "$D/split"
"$B/gguf-split" --split-max-tensors 10 "$D/model-bf16.gguf" "$D/split/model-bf16"
ls "$D/split"
"$B/gguf-split" --merge "$D/split/model-bf16-00001-of-00003.gguf" "$D/merged.gguf"
cmp "$D/merged.gguf" "$D/model-bf16.gguf" && echo "merge(split(x)) is byte-identical to x"
step "gguf-inspect: the Q4_K_M file"
"$B/gguf-inspect" "$D/model-q4_k_m.gguf" | sed -n '1,12p;/^tensors/,$p' | head -40
"$B/gguf-inspect" --check "$D/model-q4_k_m.gguf" >/dev/null && echo "--check: clean"
step "gguf-verify: Q8_0 and Q4_K_M against the BF16 reference on WikiText-2 (4 chunks of 256 tokens)"
gzip -dc testdata/wikitext-2/wiki.test.raw.gz | head -c 60000 >"$D/wiki.txt"
"$B/gguf-verify" compare --ref "$D/model-bf16.gguf" -m "$D/model-q8_0.gguf" -f "$D/wiki.txt" -c 256 --chunks 4 \
    --max-kld 0.01 --min-top1 0.9 --json "$D/q8_0.json"
"$B/gguf-verify" compare --ref "$D/split/model-bf16-00001-of-00003.gguf" -m "$D/model-q4_k_m.gguf" -f "$D/wiki.txt" \
    -c 256 --chunks 4 --max-kld 0.5 --json "$D/q4_k_m.json"
printf '\ndemo: all steps passed; files are in %s\n' "$D"
