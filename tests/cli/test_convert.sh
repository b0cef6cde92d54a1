#!/bin/bash
# gguf-convert and gguf-synth from the command line: usage, every kind of bad input (one line on
# stderr naming the file and the tensor/key, exit 1, no output file), --dry-run, --force,
# refusal to clobber, split naming, and the independent Python reference (tests/ref/convert_ref.py,
# its own safetensors and GGUF parsers) on real-tokenizer models.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
C=$BIN/gguf-convert
SY=$BIN/gguf-synth
export GGUF_TEST_NOSYNC=1
PY=python3
command -v $PY >/dev/null || PY=

# ---------------------------------------------------------------- usage and help
expect help 0 "$C" --help
check help_stdout grep -q '^usage: gguf-convert MODEL_DIR -o OUT.gguf' "$T/.out"
expect synth_help 0 "$SY" --help
run "$C"; check no_args_hint test "$rc" = 2 -a "$(sed -n 2p "$T/.err")" = "Try 'gguf-convert --help'."
run "$C" x -o y --type q5_k; check bad_type test "$rc" = 2
run "$C" x -o y --split-max-size 100; check split_size_needs_unit test "$rc" = 2
run "$C" x -o y --split-max-size 1G --split-max-tensors 3; check split_both test "$rc" = 2
run "$SY" "$T/u" --dtype f8; check synth_bad_dtype test "$rc" = 2

# ---------------------------------------------------------------- a tiny model (tiny tokenizer)
TINY="--hidden 64 --ffn 128 --heads 2 --kv-heads 1 --layers 2 --vocab 512 --tokenizer-dir $TD/tiny-tok -q"
M=$T/s2/tiny
mkdir -p "$T/s1" "$T/s2"
expect synth_tiny 0 "$SY" "$M" $TINY --shards 2
check synth_files test -f "$M/config.json" -a -f "$M/model-00001-of-00002.safetensors" -a -f "$M/model-00002-of-00002.safetensors" \
    -a -f "$M/model.safetensors.index.json" -a -f "$M/tokenizer.json" -a -f "$M/tokenizer_config.json"
expect_err synth_refuses_existing 1 "already holds a model" "$SY" "$M" $TINY
# determinism: same seed, other shard count -> same tensor bytes (checked through conversion)
expect synth_again 0 "$SY" "$T/s1/tiny" $TINY --shards 1
expect conv_tiny 0 "$C" "$M" -o "$T/a.gguf" -q
expect conv_tiny1 0 "$C" "$T/s1/tiny" -o "$T/b.gguf" -q
# same seed, 1 vs 2 shards: every tensor has the same bytes (the order in the GGUF follows the shards)
same_tensors() {
    $PY - "$1" "$2" <<'EOF'
import json, os, struct, sys
def load(d):
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            raw = open(os.path.join(d, f), "rb").read()
            n = struct.unpack_from("<Q", raw)[0]
            for k, e in json.loads(raw[8:8 + n]).items():
                if k != "__metadata__":
                    a, b = e["data_offsets"]
                    out[k] = (e["dtype"], e["shape"], raw[8 + n + a:8 + n + b])
    return out
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
EOF
}
if [ -n "$PY" ]; then check synth_seed_independent_of_shards same_tensors "$T/s1/tiny" "$M"; fi
expect synth_seed2 0 "$SY" "$T/s3" $TINY --seed 2
expect conv_seed2 0 "$C" "$T/s3" -o "$T/c.gguf" -q
check synth_seed_changes_weights sh -c "! cmp -s '$T/a.gguf' '$T/c.gguf'"
expect_err refuses_existing_output 1 "'.*a\.gguf' already exists" "$C" "$M" -o "$T/a.gguf"
expect force_overwrites 0 "$C" "$M" -o "$T/a.gguf" --force -q
run "$C" "$M" -o "$T/dry.gguf" --dry-run --type q8_0
check dry_run_exit0 test "$rc" = 0
check dry_run_writes_nothing test ! -e "$T/dry.gguf"
check dry_run_lists_tensors grep -q 'blk.1.ffn_down.weight .*BF16 *-> Q8_0' "$T/.out"
check dry_run_file_type grep -q 'general.file_type 7' "$T/.out"
expect_err refuses_input_as_output 1 "refusing to overwrite input" "$C" "$M" -o "$M/model-00001-of-00002.safetensors" --force
# split naming: OUT.gguf -> OUT-0000k-of-0000N.gguf
expect split_tensors 0 "$C" "$M" -o "$T/sp.gguf" --split-max-tensors 8 -q
check split_names test -f "$T/sp-00001-of-00004.gguf" -a -f "$T/sp-00004-of-00004.gguf" -a ! -e "$T/sp.gguf"
check no_tmp_left test -z "$(find "$T" -name '*.tmp')"

# ---------------------------------------------------------------- general.* from the model card and the directory name
# The tiny model in directories named like real ones. Expected keys, types, values and order are
# written from gguf-py (metadata.py: load_model_card, apply_metadata_heuristic,
# get_model_id_components, set_gguf_meta_model; gguf_writer.py add_string/add_array skip empty
# values); readgguf.py reads the result independently.
card_kvs() { # card_kvs GGUF EXPECTED_JSON: the general.* keys between general.type/sampling and qwen2.*
    $PY - "$1" "$2" "$HERE/readgguf.py" <<'EOF'
import json, subprocess, sys
doc = json.loads(subprocess.run([sys.executable, sys.argv[3], sys.argv[1]], capture_output=True, check=True).stdout)
want = json.loads(sys.argv[2])
n = doc["totals"]["params"]
# gguf-py model_weight_count_rounded_notation(n, min_digits=2)
for lim, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (0, "K")):
    if n > lim:
        scaled = n / (lim if lim else 1e3)
        break
label = "{:.{}f}{}".format(scaled, max(2 - len(str(round(scaled)).lstrip("0")), 0), suf)
got = []
for k, v in doc["metadata"].items():
    if k.startswith("qwen2."):
        break
    if k in ("general.architecture", "general.type") or k.startswith("general.sampling."):
        continue
    got.append([k, v["type"] if v["type"] != "arr" else "arr:" + v["elem_type"], v["value"]])
want = [[k, t, label if v == "@count" else v] for k, t, v in want]
if got != want:
    print("got  ", got, "\nwanted", want, file=sys.stderr)
    sys.exit(1)
EOF
}
QWQ=$T/names/QwQ-32B
mkdir -p "$T/names"
cp -r "$M" "$QWQ"
cat >"$QWQ/README.md" <<'EOF'
---
license: apache-2.0
license_link: https://huggingface.co/Qwen/QWQ-32B/blob/main/LICENSE
language:
- en
pipeline_tag: text-generation
base_model: Qwen/Qwen2.5-32B
tags:
- chat
library_name: transformers
---

# QwQ-32B
EOF
expect card_qwq 0 "$C" "$QWQ" -o "$T/qwq.gguf"
check card_qwq_no_warning test ! -s "$T/.err"
# "32B" is far (> 7/8) from the tiny model's parameter count, so gguf-py reads it as a finetune
# ("32b", like a "4k" context length) and the size label comes from the count; with the real
# 32.76e9 parameters it would be size_label "32B" (tests/test_convert.c model_card_qwq).
if [ -n "$PY" ]; then
check card_qwq_keys card_kvs "$T/qwq.gguf" '[
 ["general.name", "str", "QwQ 32B"], ["general.finetune", "str", "32b"], ["general.basename", "str", "QwQ"],
 ["general.size_label", "str", "@count"], ["general.license", "str", "apache-2.0"],
 ["general.license.link", "str", "https://huggingface.co/Qwen/QWQ-32B/blob/main/LICENSE"],
 ["general.base_model.count", "u32", 1], ["general.base_model.0.name", "str", "Qwen2.5 32B"],
 ["general.base_model.0.organization", "str", "Qwen"],
 ["general.base_model.0.repo_url", "str", "https://huggingface.co/Qwen/Qwen2.5-32B"],
 ["general.tags", "arr:str", ["chat", "text-generation"]], ["general.languages", "arr:str", ["en"]]]'
fi
QI=$T/names/Qwen2.5-0.5B-Instruct
cp -r "$M" "$QI"
expect card_instruct 0 "$C" "$QI/" -o "$T/qi.gguf" -q
if [ -n "$PY" ]; then
check card_instruct_keys card_kvs "$T/qi.gguf" '[
 ["general.name", "str", "Qwen2.5 0.5B Instruct"], ["general.finetune", "str", "0.5b-Instruct"],
 ["general.basename", "str", "Qwen2.5"], ["general.size_label", "str", "@count"]]'
fi
# malformed front matter: one warning naming the file and line, the card ignored, exit 0; -q silences it
printf -- '---\nlicense: mit\n  oops: [\n---\n' >"$QI/README.md"
expect card_bad_warns 0 "$C" "$QI" -o "$T/qi2.gguf"
check card_bad_one_line test "$(wc -l <"$T/.err")" = 1
check card_bad_message grep -q "^gguf-convert: warning: '.*README.md' line 3: .*model card ignored" "$T/.err"
if [ -n "$PY" ]; then check card_bad_ignored card_kvs "$T/qi2.gguf" '[
 ["general.name", "str", "Qwen2.5 0.5B Instruct"], ["general.finetune", "str", "0.5b-Instruct"],
 ["general.basename", "str", "Qwen2.5"], ["general.size_label", "str", "@count"]]'; fi
expect card_bad_quiet 0 "$C" "$QI" -o "$T/qi3.gguf" -q
check card_bad_quiet_silent test ! -s "$T/.err"

# ---------------------------------------------------------------- bad inputs
# fresh copy of the tiny model in $T/bad; "mutate" edits it with Python (stdlib only)
fresh() { rm -rf "$T/bad"; cp -r "$M" "$T/bad"; rm -f "$T/out.gguf"; }
bad() { # bad NAME REGEX: convert $T/bad must fail with one line matching REGEX, leave no output
    local n=$1 re=$2
    expect_err "$n" 1 "^gguf-convert: .*$re" "$C" "$T/bad" -o "$T/out.gguf"
    check "${n}_no_output" test ! -e "$T/out.gguf" -a -z "$(find "$T" -name 'out.gguf*')"
}
S1=$T/bad/model-00001-of-00002.safetensors
S2=$T/bad/model-00002-of-00002.safetensors
# st_edit FILE PYEXPR: rewrite a shard's JSON header h (dict) in place, keeping the data
st_edit() {
    $PY - "$1" "$2" <<'EOF'
import json, math, struct, sys
_path, _expr = sys.argv[1], sys.argv[2]
_raw = open(_path, "rb").read()
_n = struct.unpack_from("<Q", _raw)[0]
h = json.loads(_raw[8:8 + _n])
exec(_expr)
_j = json.dumps(h).encode()
_j += b" " * (-len(_j) % 8)
open(_path, "wb").write(struct.pack("<Q", len(_j)) + _j + _raw[8 + _n:])
EOF
}
json_edit() { # json_edit FILE PYEXPR (on d)
    $PY - "$1" "$2" <<'EOF'
import json, sys
p, expr = sys.argv[1], sys.argv[2]
d = json.load(open(p))
exec(expr)
json.dump(d, open(p, "w"), indent=2)
EOF
}

fresh; printf 'version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 1234\n' > "$S2"
bad lfs_pointer "model-00002-of-00002.safetensors.*Git LFS pointer"

fresh; printf '\xff\xff\xff\xff\xff\x00\x00\x00{}' | dd of="$S1" bs=1 conv=notrunc status=none
bad header_len_absurd "model-00001-of-00002.safetensors.*header length [0-9]+ is absurd"

fresh; printf 'xx' > "$T/bad/short.safetensors"; mv "$T/bad/short.safetensors" "$S1"
bad tiny_file "model-00001-of-00002.safetensors.*too short"

fresh; printf 'NOT-JSON' | dd of="$S1" bs=1 seek=8 conv=notrunc status=none
bad header_not_json "model-00001-of-00002.safetensors.*not valid JSON: line 1, column"

if [ -n "$PY" ]; then
fresh; st_edit "$S1" 'h["model.norm.weight" if "model.norm.weight" in h else sorted(k for k in h if k != "__metadata__")[0]]["dtype"] = "Q7"'
bad unknown_dtype "model-00001-of-00002.safetensors.*tensor '.*': unknown dtype 'Q7'"

fresh; st_edit "$S1" 'k = max((x for x in h if x != "__metadata__"), key=lambda x: h[x]["data_offsets"][1]); h[k]["data_offsets"][1] += 2 * math.prod(h[k]["shape"][1:]); h[k]["shape"][0] += 1'
bad offsets_past_eof "model-00001-of-00002.safetensors.*runs past the end of the file.*truncated download"

fresh; truncate -s -100 "$S2"
bad truncated_download "model-00002-of-00002.safetensors.*tensor '.*'.*truncated download"

fresh; st_edit "$S1" 'k = sorted(x for x in h if x != "__metadata__")[0]; h[k]["shape"][0] -= 1'
bad offsets_vs_shape "model-00001-of-00002.safetensors.*tensor '.*': data_offsets span [0-9]+ bytes but BF16 x shape needs"

fresh; st_edit "$S1" 'ks = sorted((x for x in h if x != "__metadata__"), key=lambda k: h[k]["data_offsets"][0]); a, b = ks[1], ks[2]; n = h[b]["data_offsets"][1] - h[b]["data_offsets"][0]; h[b]["data_offsets"] = [h[a]["data_offsets"][0], h[a]["data_offsets"][0] + n]'
bad overlapping "model-00001-of-00002.safetensors.*tensor '.*' overlaps tensor"

fresh; st_edit "$S1" 'h["model.layers.0.mlp.up_proj.weight"]["dtype"] = "I16"' 2>/dev/null
bad unsupported_dtype "tensor 'model.layers.0.mlp.up_proj.weight' has dtype I16"

fresh; rm "$S2"
bad missing_shard "model-00002-of-00002.safetensors': shard listed in model.safetensors.index.json is missing"

fresh; json_edit "$T/bad/model.safetensors.index.json" 'd["weight_map"]["model.layers.9.mlp.up_proj.weight"] = "model-00001-of-00002.safetensors"'
bad index_lists_absent "model-00001-of-00002.safetensors.*tensor 'model.layers.9.mlp.up_proj.weight' is listed in model.safetensors.index.json but absent"

fresh; json_edit "$T/bad/model.safetensors.index.json" 'del d["weight_map"]["model.norm.weight"]'
bad shard_has_unlisted "tensor 'model.norm.weight' is not listed in model.safetensors.index.json"

fresh; json_edit "$T/bad/model.safetensors.index.json" 'd["weight_map"] = {k: ("model-00002-of-00002.safetensors" if v.endswith("1-of-00002.safetensors") else "model-00001-of-00002.safetensors") for k, v in d["weight_map"].items()}'
bad index_wrong_shard "is listed in model.safetensors.index.json but absent from this shard"

fresh; printf '{"weight_map": ' > "$T/bad/model.safetensors.index.json"
bad index_not_json "model.safetensors.index.json': not valid JSON: line 1, column"

fresh; json_edit "$T/bad/config.json" 'd["architectures"] = ["LlamaForCausalLM"]'
bad other_architecture "config.json': architecture 'LlamaForCausalLM' is not supported"

fresh; json_edit "$T/bad/config.json" 'del d["hidden_size"]'
bad config_missing_key "config.json': required key 'hidden_size' is missing"

fresh; json_edit "$T/bad/config.json" 'd["num_key_value_heads"] = 3'
bad config_heads "config.json': num_attention_heads 2 is not a multiple of num_key_value_heads 3"

fresh; json_edit "$T/bad/config.json" 'd["rms_norm_eps"] = -1'
bad config_insane_eps "config.json': key 'rms_norm_eps' must be a number"

fresh; json_edit "$T/bad/config.json" 'd["num_hidden_layers"] = "two"'
bad config_wrong_type "config.json': key 'num_hidden_layers' must be an integer"

fresh; printf '{\n  "architectures": ["Qwen2ForCausalLM"],\n  "hidden_size": 64,,\n}\n' > "$T/bad/config.json"
bad config_not_json "config.json': not valid JSON: line 3, column"

fresh; json_edit "$T/bad/config.json" 'd["num_hidden_layers"] = 3'
bad missing_tensor "tensor 'model.layers.2.input_layernorm.weight' is missing"

fresh; json_edit "$T/bad/config.json" 'd["num_hidden_layers"] = 1'
bad unexpected_tensor "unexpected tensor 'model.layers.1\..*' for a Qwen2 model with 1 layers"

fresh; json_edit "$T/bad/config.json" 'd["intermediate_size"] = 256'
bad shape_vs_config "tensor 'model.layers.[01].mlp.(down|gate|up)_proj.weight' has shape \[.*\], config.json implies"

fresh; st_edit "$S2" 'h["model.layers.1.self_attn.foo.weight"] = {"dtype": "BF16", "shape": [0], "data_offsets": [0, 0]}'
json_edit "$T/bad/model.safetensors.index.json" 'd["weight_map"]["model.layers.1.self_attn.foo.weight"] = "model-00002-of-00002.safetensors"'
bad unknown_tensor_name "unexpected tensor 'model.layers.1.self_attn.foo.weight'"

fresh; st_edit "$S2" 'del h["lm_head.weight"]'
json_edit "$T/bad/model.safetensors.index.json" 'del d["weight_map"]["lm_head.weight"]'
bad untied_without_lm_head "tensor 'lm_head.weight' is missing .*tie_word_embeddings false"

fresh; json_edit "$T/bad/tokenizer.json" 'd["model"]["vocab"]["zzz"] = 600'
bad token_id_past_vocab "tokenizer.json': model.vocab token 'zzz' has id outside"

fresh; json_edit "$T/bad/tokenizer.json" 'd["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+"'
bad other_pre_tokenizer "tokenizer.json': pre_tokenizer is not Qwen2's"

fresh; printf '{"model": [' > "$T/bad/tokenizer.json"
bad tokenizer_not_json "tokenizer.json': not valid JSON: line 1, column"

fresh; printf '{"eos_token": ' > "$T/bad/tokenizer_config.json"
bad tokenizer_config_not_json "tokenizer_config.json': not valid JSON"

fresh; printf '{"temperature": "hot"}' > "$T/bad/generation_config.json"
bad generation_config_bad "generation_config.json': key 'temperature' is not a number"
else
skip bad_inputs "no python3 to make the malformed inputs"
fi

fresh; rm "$T/bad/tokenizer.json"
bad no_tokenizer "tokenizer.json': missing"
fresh; rm "$T/bad/config.json"
bad no_config "cannot open '.*config.json': No such file or directory"
expect_err no_dir 1 "^gguf-convert: cannot open model directory '.*nowhere'" "$C" "$T/nowhere" -o "$T/out.gguf"

# ---------------------------------------------------------------- tied + single file + f32 source
expect synth_tied_f32 0 "$SY" "$T/tf" $TINY --shards 1 --tied --dtype f32
check tied_no_lm_head test -f "$T/tf/model.safetensors" -a ! -e "$T/tf/model.safetensors.index.json"
expect conv_tied_f32 0 "$C" "$T/tf" -o "$T/tf.gguf" -q
run "$C" "$T/tf" --dry-run -o "$T/tf2.gguf"
check tied_f32_default_type grep -q 'type: F32 (general.file_type 0)' "$T/.out"
check tied_no_output_tensor sh -c "! grep -q ' output.weight ' '$T/.out'"

# ---------------------------------------------------------------- independent Python reference
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    R="/usr/bin/python3 $HERE/../ref/convert_ref.py"
    # tiny tokenizer (generation_config has sampling keys, chat template in tokenizer_config)
    for ty in bf16 f16 f32 q8_0; do
        expect "conv_tiny_$ty" 0 "$C" "$M" -o "$T/t-$ty.gguf" --type $ty -q
        run $R "$M" "$T/t-$ty.gguf" $ty; check "ref_tiny_$ty" test "$rc" = 0 || echo "    $out"
    done
    expect conv_tiny_f32src_f16 0 "$C" "$T/tf" -o "$T/tf16.gguf" --type f16 -q
    run $R "$T/tf" "$T/tf16.gguf" f16; check ref_f32_source_to_f16 test "$rc" = 0 || echo "    $out"
    # real Qwen tokenizer, 3 shards, untied (hidden 256: embeddings 151936 x 256)
    expect synth_real 0 "$SY" "$T/real" -q --shards 3 --tokenizer-dir "$TD/qwen"
    expect conv_real_bf16 0 "$C" "$T/real" -o "$T/r-bf16.gguf" -q
    run $R "$T/real" "$T/r-bf16.gguf" bf16; check ref_real_bf16 test "$rc" = 0 || echo "    $out"
    rm -rf "$T/real" "$T/r-bf16.gguf"
    # tied (half the bytes), with chat_template.jinja next to a tokenizer_config that has none
    expect synth_real_tied 0 "$SY" "$T/realt" -q --tied --tokenizer-dir "$TD/qwen" --chat-template "$TD/qwen/Qwen-QwQ-32B.jinja"
    /usr/bin/python3 - "$T/realt/tokenizer_config.json" <<'EOF' || true
import json, sys
d = json.load(open(sys.argv[1])); d.pop("chat_template", None); json.dump(d, open(sys.argv[1], "w"))
EOF
    for ty in q8_0 q4_k_m; do
        expect "conv_real_tied_$ty" 0 "$C" "$T/realt" -o "$T/r-$ty.gguf" --type $ty -q
        run $R "$T/realt" "$T/r-$ty.gguf" $ty; check "ref_real_tied_$ty" test "$rc" = 0 || echo "    $out"
        rm -f "$T/r-$ty.gguf"
    done
else
    skip python_reference "/usr/bin/python3 with numpy not available"
fi
