# Compatibility with real llama.cpp: our converted and quantized files load in llama.cpp, its
# tokenizer gives our token ids, its next-token probabilities match our forward pass, and its chat
# path accepts our chat template. llama.cpp comes from node-llama-cpp's prebuilt binaries, which
# must already be installed (nothing is downloaded here):
#   mkdir -p /opt/nlc && cd /opt/nlc && npm install node-llama-cpp@3.22.1
#   GGUF_LLAMACPP_NODE=/opt/nlc make test
# Without GGUF_LLAMACPP_NODE (CI) this test is skipped.
. "$(dirname "$0")/lib.sh"
NLC=${GGUF_LLAMACPP_NODE:-}
if [ -z "$NLC" ] || [ ! -d "$NLC/node_modules/node-llama-cpp" ] || ! command -v node >/dev/null; then
    skip llamacpp "set GGUF_LLAMACPP_NODE to a directory with node_modules/node-llama-cpp"; exit 0
fi
top=$(cd "$(dirname "$0")/../.." && pwd)
cp "$top/tests/compat/probe.mjs" "$NLC/gguf-probe.mjs"
"$BIN/gguf-synth" "$T/hf" --hidden 256 --ffn 768 --heads 4 --kv-heads 2 --layers 2 --seed 7 >/dev/null 2>&1
"$BIN/gguf-convert" "$T/hf" -o "$T/f32.gguf" --type f32 -q
"$BIN/gguf-convert" "$T/hf" -o "$T/bf16.gguf" -q
"$BIN/gguf-quantize" -q "$T/bf16.gguf" "$T/q8_0.gguf" q8_0
"$BIN/gguf-quantize" -q "$T/bf16.gguf" "$T/q4_k_m.gguf" q4_k_m
"$BIN/gguf-split" --split-max-tensors 10 "$T/bf16.gguf" "$T/split" >/dev/null
# tolerance on the top-8 probabilities, relative: F32/BF16 differ only by llama.cpp's F16 KV cache
# and its bf16 activations; quantized types also by llama.cpp's 8-bit activation quantization
for spec in "f32:f32.gguf:0.002" "bf16:bf16.gguf:0.01" "split:split-00001-of-00003.gguf:0.01" "q8_0:q8_0.gguf:0.02" "q4_k_m:q4_k_m.gguf:0.05"; do
    n=${spec%%:*}; rest=${spec#*:}; f=${rest%%:*}; tol=${rest#*:}
    for P in "Hello world, this is a test of the tokenizer." "  leading spaces, numbers 12345 and ünïcödé 你好 <|im_start|>"; do
        (cd "$NLC" && node gguf-probe.mjs "$T/$f" "$P" ${CHAT:-}) >"$T/ll.out" 2>"$T/ll.err"
        if ! grep -q '^PROBS' "$T/ll.out"; then fail "load_$n" "llama.cpp: $(tail -3 "$T/ll.err" | tr '\n' ' ')"; continue 2; fi
        theirs=$(sed -n 's/^TOKENS //p' "$T/ll.out")
        ours=$("$BIN/gguf-verify" tokenize -m "$T/$f" --prompt "$P")
        [ "$theirs" = "$ours" ] || { fail "tokens_$n" "llama.cpp '$theirs' vs ours '$ours'"; continue 2; }
        "$BIN/gguf-verify" logits -m "$T/$f" --prompt "$P" -o "$T/l.f32" 2>/dev/null
        python3 - "$T/l.f32" "$T/ll.out" "$tol" >"$T/cmp.out" <<'PY' || { fail "probs_$n" "$(cat "$T/cmp.out")"; continue 2; }
import math, struct, sys
b = open(sys.argv[1], 'rb').read(); l = struct.unpack('<%df' % (len(b) // 4), b)
m = max(l); s = sum(math.exp(x - m) for x in l)
theirs = [tuple(t.split(':')) for t in open(sys.argv[2]).read().split('PROBS ')[1].split()]
worst = 0.0
for i, p in theirs[:8]:
    ours = math.exp(l[int(i)] - m) / s
    worst = max(worst, abs(ours - float(p)) / float(p))
print('max rel diff of top-8 probabilities: %.2e' % worst)
sys.exit(0 if worst <= float(sys.argv[3]) else 1)
PY
    done
    pass "load_tokens_probs_$n ($(cat "$T/cmp.out"))"
done
(cd "$NLC" && node gguf-probe.mjs "$T/q4_k_m.gguf" "Hi" chat) >"$T/ll.out" 2>"$T/ll.err"
if grep -q '^CHAT Qwen' "$T/ll.out"; then pass chat_template; else fail chat_template "$(cat "$T/ll.out" "$T/ll.err" | tail -3)"; fi
rm -f "$NLC/gguf-probe.mjs"
