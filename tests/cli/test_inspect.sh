# gguf-inspect: plain dump, --json, --hash, --check, --diff, split sets, usage and input errors.
# Inputs are written by tests/cli/mkgguf.py (an independent Python GGUF writer) from descriptions
# below, so every expected value here follows from the description, not from the tool's output.
. "$(dirname "$0")/lib.sh"
X="$BIN/gguf-inspect"
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
MK="$(dirname "$0")/mkgguf.py"
mk() { "$PY" "$MK" "$@" || { fail mkgguf "mkgguf.py $1 failed"; exit 1; }; }
# jcheck NAME FILE PYEXPR: FILE holds JSON; PYEXPR (Python, the document is d) must be true
jcheck() {
    if "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$2" "$3"
    then pass "$1"; else fail "$1" "false on $2: $3"; fi
}
has() { grep -qF -- "$1" "$T/.out"; }        # stdout of the last run contains the literal string
hasnt() { ! grep -qF -- "$1" "$T/.out"; }

# ---------------------------------------------------------------- the model every case starts from
# tensors: sizes 512, 204 (pads to 224), 64, 288, 210 -> offsets 0, 512, 736, 800, 1088; 1278 bytes,
# 128+192+32+512+256 = 1120 parameters
KV='["general.architecture","str","qwen2"],
    ["general.name","str","tiny \"test\"\n"],
    ["qwen2.block_count","u32",2],
    ["qwen2.rope.freq_base","f32",1000000.0],
    ["qwen2.attention.layer_norm_rms_epsilon","f32",1e-06],
    ["some.i64","i64",-5],
    ["some.flag","bool",true],
    ["tokenizer.ggml.tokens","arr:str",["tok0","tok1","tok2","tok3","tok4","tok5","tok6","tok7","tok8","tok9",
        "tok10","tok11","tok12","tok13","tok14","tok15","tok16","tok17","tok18","tok19"]],
    ["tokenizer.ggml.token_type","arr:i32",[1,2,3]],
    ["general.file_type","u32",7]'
TS='{"name":"token_embd.weight","type":"F32","shape":[32,4]},
    {"name":"blk.0.attn_q.weight","type":"Q8_0","shape":[64,3]},
    {"name":"blk.0.attn_norm.weight","type":"F16","shape":[32]},
    {"name":"output.weight","type":"Q4_K","shape":[256,2]},
    {"name":"blk.0.ffn_down.weight","type":"Q6_K","shape":[256,1]}'
mk "$T/base.gguf" "{\"kv\":[$KV],\"tensors\":[$TS]}"
mk "$T/again.gguf" "{\"kv\":[$KV],\"tensors\":[$TS]}"

# ---------------------------------------------------------------- help and usage
run "$X" --help
check help_exit0 [ "$rc" = 0 ]
check help_stdout sh -c 'head -1 "$1" | grep -q "^Usage: gguf-inspect"' _ "$T/.out"
check help_no_stderr [ ! -s "$T/.err" ]
check help_mentions_options sh -c 'for o in --json --hash --check --diff --full; do grep -q -- "$o" "$1" || exit 1; done' _ "$T/.out"
for c in "no_args" "two_files_without_diff $T/base.gguf $T/base.gguf" "unknown_option --bogus $T/base.gguf" "unknown_short -x $T/base.gguf" "flag_with_value --json=1 $T/base.gguf" \
         "diff_one_file --diff $T/base.gguf" "diff_three_files --diff $T/base.gguf $T/base.gguf $T/base.gguf" \
         "diff_json --diff --json $T/base.gguf $T/base.gguf" "check_hash --check --hash $T/base.gguf"; do
    set -- $c; n=$1; shift
    run "$X" "$@"
    check "usage_$n" [ "$rc" = 2 ]
    check "usage_${n}_says_why" sh -c 'head -1 "$1" | grep -q "^gguf-inspect: " && grep -q "Try .gguf-inspect --help" "$1"' _ "$T/.err"
    check "usage_${n}_no_stdout" [ ! -s "$T/.out" ]
done

# ---------------------------------------------------------------- plain text
run "$X" "$T/base.gguf"
check plain_exit0 [ "$rc" = 0 ]
check plain_no_stderr [ ! -s "$T/.err" ]
check plain_version has "version:     3"
check plain_alignment has "alignment:   32"
check plain_n_kv has "n_kv:        10"
check plain_n_tensors has "n_tensors:   5"
check plain_file_size has "file size:   $(stat -c %s "$T/base.gguf") "
check plain_kv_str_escaped sh -c 'grep -E "^  general\.name +str +\"tiny \\\\\"test\\\\\"\\\\n\"$" "$1" >/dev/null' _ "$T/.out"
check plain_kv_u32 sh -c 'grep -E "^  qwen2\.block_count +u32 +2$" "$1" >/dev/null' _ "$T/.out"
check plain_kv_f32 sh -c 'grep -E "^  qwen2\.rope\.freq_base +f32 +1e\+06$" "$1" >/dev/null' _ "$T/.out"
check plain_kv_f32_shortest sh -c 'grep -E "layer_norm_rms_epsilon +f32 +1e-06$" "$1" >/dev/null' _ "$T/.out"
check plain_kv_i64 sh -c 'grep -E "^  some\.i64 +i64 +-5$" "$1" >/dev/null' _ "$T/.out"
check plain_kv_bool sh -c 'grep -E "^  some\.flag +bool +true$" "$1" >/dev/null' _ "$T/.out"
check plain_arr_abbreviated sh -c 'grep -Ex "  tokenizer\.ggml\.tokens +arr\[str,20\]  \[\"tok0\", \"tok1\", \"tok2\", \"tok3\", \"tok4\", \"tok5\", \"tok6\", \"tok7\", \.\.\.\]" "$1" >/dev/null' _ "$T/.out"
check plain_arr_short_whole sh -c 'grep -Ex "  tokenizer\.ggml\.token_type +arr\[i32,3\] +\[1, 2, 3\]" "$1" >/dev/null' _ "$T/.out"
check plain_tensor_row sh -c 'grep -E "^ +1  blk\.0\.attn_q\.weight +Q8_0 +\[64, 3\] +512 +204$" "$1" >/dev/null' _ "$T/.out"
check plain_tensor_row_last sh -c 'grep -E "^ +4  blk\.0\.ffn_down\.weight +Q6_K +\[256, 1\] +1088 +210$" "$1" >/dev/null' _ "$T/.out"
check plain_totals has "total: 5 tensors, 1278 bytes (1.3 kB), 1120 parameters, 9.1286 bits per weight"
check plain_no_hash hasnt "xxh3"
run "$X" --full "$T/base.gguf"
check full_whole_array has '"tok8", "tok9", "tok10", "tok11", "tok12", "tok13", "tok14", "tok15", "tok16", "tok17", "tok18", "tok19"]'

# strings: invalid UTF-8 and control bytes escaped, long strings cut unless --full
LONG=$(printf 'x%.0s' $(seq 1 300))
mk "$T/str.gguf" "{\"kv\":[[\"s.bad\",\"str\",{\"hex\":\"41ff42c3a9\"}],[\"s.ctl\",\"str\",{\"hex\":\"0109\"}],[\"s.long\",\"str\",\"$LONG\"]]}"
run "$X" "$T/str.gguf"
check str_exit0 [ "$rc" = 0 ]
check str_invalid_utf8_hex has '"A\xffBé"'
check str_control has '"\x01\t"'
check str_long_cut has "\"$(printf 'x%.0s' $(seq 1 120))\"... (300 bytes)"
run "$X" --full "$T/str.gguf"
check str_long_full has "\"$LONG\""
run "$X" --json "$T/str.gguf"
cp "$T/.out" "$T/str.json"
check str_json_exit0 [ "$rc" = 0 ]
jcheck str_json_replacement "$T/str.json" 'd["metadata"]["s.bad"]["value"] == "A\ufffdB\u00e9" and d["metadata"]["s.ctl"]["value"] == "\x01\t"'
jcheck str_json_long_whole "$T/str.json" 'd["metadata"]["s.long"]["value"] == "x" * 300'

# keys and tensor names with a newline or invalid UTF-8 stay on their line, escaped; JSON stays valid
mk "$T/names.gguf" '{"kv":[["a\nb","u8",1],[{"hex":"6bff"},"u8",2]],"tensors":[{"name":{"hex":"74fe0a"},"type":"F32","shape":[4],"nan":[1]}]}'
run "$X" "$T/names.gguf"
check names_exit0 [ "$rc" = 0 ]
check names_key_escaped sh -c 'grep -F "  a\nb " "$1" | grep -Eq " u8 +1$" && grep -F "  k\xff " "$1" | grep -Eq " u8 +2$"' _ "$T/.out"
check names_tensor_escaped sh -c 'grep -F "  t\xfe\n " "$1" | grep -Eq "^ +0  .* F32 "' _ "$T/.out"
run "$X" --json "$T/names.gguf"; cp "$T/.out" "$T/names.json"
jcheck names_json "$T/names.json" 'list(d["metadata"]) == ["a\nb", "k\ufffd"] and d["tensors"][0]["name"] == "t\ufffd\n"'
run "$X" --check "$T/names.gguf"
check names_check_one_line sh -c '[ "$(grep -c "" "$1")" = 1 ] && grep -qF "tensor '"'t\\xfe\\n'"' (F32): element 1 " "$1"' _ "$T/.out"

# ---------------------------------------------------------------- JSON
run "$X" --json "$T/base.gguf"
cp "$T/.out" "$T/base.json"
check json_exit0 [ "$rc" = 0 ]
jcheck json_header "$T/base.json" 'd["header"]["version"] == 3 and d["header"]["alignment"] == 32 and d["header"]["n_kv"] == 10 and d["header"]["n_tensors"] == 5'
jcheck json_sizes "$T/base.json" 'd["header"]["file_size"] == '"$(stat -c %s "$T/base.gguf")"' and d["header"]["data_offset"] + 1088 + 224 == d["header"]["file_size"] and d["header"]["data_offset"] % 32 == 0'
jcheck json_kv_order "$T/base.json" 'list(d["metadata"])[0] == "general.architecture" and list(d["metadata"])[-1] == "general.file_type"'
jcheck json_kv_str "$T/base.json" 'd["metadata"]["general.architecture"] == {"type": "str", "value": "qwen2"} and d["metadata"]["general.name"]["value"] == "tiny \"test\"\n"'
jcheck json_kv_numbers "$T/base.json" 'd["metadata"]["qwen2.block_count"] == {"type": "u32", "value": 2} and d["metadata"]["some.i64"]["value"] == -5 and d["metadata"]["some.flag"] == {"type": "bool", "value": True}'
jcheck json_kv_f32 "$T/base.json" 'd["metadata"]["qwen2.rope.freq_base"]["value"] == 1e6 and abs(d["metadata"]["qwen2.attention.layer_norm_rms_epsilon"]["value"] - 1e-6) < 1e-13'
jcheck json_arr_truncated "$T/base.json" 'd["metadata"]["tokenizer.ggml.tokens"] == {"type": "arr", "elem_type": "str", "n": 20, "truncated": True, "value": ["tok%d" % i for i in range(8)]}'
jcheck json_arr_short "$T/base.json" 'd["metadata"]["tokenizer.ggml.token_type"] == {"type": "arr", "elem_type": "i32", "n": 3, "truncated": False, "value": [1, 2, 3]}'
jcheck json_tensors "$T/base.json" '[(t["name"], t["type"], t["shape"], t["offset"], t["size"]) for t in d["tensors"]] == [("token_embd.weight", "F32", [32, 4], 0, 512), ("blk.0.attn_q.weight", "Q8_0", [64, 3], 512, 204), ("blk.0.attn_norm.weight", "F16", [32], 736, 64), ("output.weight", "Q4_K", [256, 2], 800, 288), ("blk.0.ffn_down.weight", "Q6_K", [256, 1], 1088, 210)]'
jcheck json_totals "$T/base.json" 'd["totals"]["n_tensors"] == 5 and d["totals"]["bytes"] == 1278 and d["totals"]["params"] == 1120 and abs(d["totals"]["bits_per_weight"] - 1278 * 8 / 1120) < 1e-9'
jcheck json_no_hash "$T/base.json" '"data_xxh3_128" not in d and all("xxh3_128" not in t for t in d["tensors"])'
run "$X" --json --full "$T/base.gguf"
cp "$T/.out" "$T/full.json"
jcheck json_full "$T/full.json" 'd["metadata"]["tokenizer.ggml.tokens"]["value"] == ["tok%d" % i for i in range(20)] and d["metadata"]["tokenizer.ggml.tokens"]["truncated"] is False'

# every KV type, and values JSON cannot hold as numbers
mk "$T/types.gguf" '{"kv":[["t.u8","u8",255],["t.i8","i8",-128],["t.u16","u16",65535],["t.i16","i16",-32768],
    ["t.u32","u32",4294967295],["t.i32","i32",-2147483648],["t.u64","u64",18446744073709551615],
    ["t.i64","i64",-9223372036854775808],["t.f64","f64",0.1],["t.nan","f32","nan"],["t.inf","f64","-inf"],
    ["t.bool","bool",false],["t.af32","arr:f32",[0.5,-2.0]],["t.ab","arr:bool",[true,false]],["t.empty","arr:u8",[]]]}'
run "$X" --json "$T/types.gguf"
cp "$T/.out" "$T/types.json"
check types_json_exit0 [ "$rc" = 0 ]
jcheck types_json_ints "$T/types.json" '[d["metadata"]["t." + k]["value"] for k in ("u8", "i8", "u16", "i16", "u32", "i32", "i64")] == [255, -128, 65535, -32768, 4294967295, -2147483648, -9223372036854775808]'
jcheck types_json_u64_string "$T/types.json" 'd["metadata"]["t.u64"] == {"type": "u64", "value": "18446744073709551615"}'
jcheck types_json_reals "$T/types.json" 'd["metadata"]["t.f64"]["value"] == 0.1 and d["metadata"]["t.nan"]["value"] == "nan" and d["metadata"]["t.inf"]["value"] == "-inf"'
jcheck types_json_arrays "$T/types.json" 'd["metadata"]["t.af32"]["value"] == [0.5, -2.0] and d["metadata"]["t.ab"]["value"] == [True, False] and d["metadata"]["t.empty"] == {"type": "arr", "elem_type": "u8", "n": 0, "truncated": False, "value": []}'
jcheck types_json_no_tensors "$T/types.json" 'd["tensors"] == [] and d["totals"]["params"] == 0 and d["totals"]["bits_per_weight"] is None'
run "$X" "$T/types.gguf"
check types_text_u64 sh -c 'grep -E "^  t\.u64 +u64 +18446744073709551615$" "$1" >/dev/null' _ "$T/.out"
check types_text_f64 sh -c 'grep -E "^  t\.f64 +f64 +0\.1$" "$1" >/dev/null' _ "$T/.out"
check types_text_nonfinite sh -c 'grep -E "^  t\.nan +f32 +nan$" "$1" >/dev/null && grep -E "^  t\.inf +f64 +-inf$" "$1" >/dev/null' _ "$T/.out"
check types_text_empty_arr sh -c 'grep -E "^  t\.empty +arr\[u8,0\] +\[\]$" "$1" >/dev/null' _ "$T/.out"
check types_text_no_bpw has "0 parameters, - bits per weight"

# ---------------------------------------------------------------- --hash
run "$X" --hash --json "$T/base.gguf"; cp "$T/.out" "$T/h1.json"
check hash_exit0 [ "$rc" = 0 ]
run "$X" --hash --json "$T/base.gguf"; cp "$T/.out" "$T/h1b.json"
check hash_stable cmp -s "$T/h1.json" "$T/h1b.json"
jcheck hash_format "$T/h1.json" 'all(len(t["xxh3_128"]) == 32 and int(t["xxh3_128"], 16) >= 0 for t in d["tensors"]) and len(d["data_xxh3_128"]) == 32 and len({t["xxh3_128"] for t in d["tensors"]}) == 5'
# one byte of one tensor changed: that tensor's hash and the data hash change, nothing else
mk "$T/byte.gguf" "{\"kv\":[$KV],\"tensors\":[$(echo "$TS" | sed 's/"shape":\[64,3\]}/"shape":[64,3],"patch":[[100,"ff"]]}/')]}"
check byte_fixture_differs sh -c '! cmp -s "$1" "$2"' _ "$T/base.gguf" "$T/byte.gguf"
run "$X" --hash --json "$T/byte.gguf"; cp "$T/.out" "$T/h2.json"
"$PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
print(" ".join("%s=%s" % (x["name"], x["xxh3_128"] == y["xxh3_128"]) for x, y in zip(a["tensors"], b["tensors"])), a["data_xxh3_128"] == b["data_xxh3_128"])' \
    "$T/h1.json" "$T/h2.json" >"$T/cmp.txt"
check hash_byte_change grep -qx "token_embd.weight=True blk.0.attn_q.weight=False blk.0.attn_norm.weight=True output.weight=True blk.0.ffn_down.weight=True False" "$T/cmp.txt"
# only metadata changed (a different name, one more key: the data section moves): no hash changes
mk "$T/meta.gguf" "{\"kv\":[$KV,[\"general.extra\",\"str\",\"moves the data section\"]],\"tensors\":[$TS]}"
run "$X" --hash --json "$T/meta.gguf"; cp "$T/.out" "$T/h3.json"
jcheck hash_meta_moved "$T/h3.json" 'd["header"]["data_offset"] != json.load(open("'"$T/h1.json"'"))["header"]["data_offset"]'
jcheck hash_meta_unchanged "$T/h3.json" 'd["data_xxh3_128"] == json.load(open("'"$T/h1.json"'"))["data_xxh3_128"] and [t["xxh3_128"] for t in d["tensors"]] == [t["xxh3_128"] for t in json.load(open("'"$T/h1.json"'"))["tensors"]]'
# the data hash covers the tensors' bytes in order, without padding: two F32 tensors [a] [b] hash
# like one tensor holding a then b; equal bytes hash equal whatever the name and type
mk "$T/two.gguf" '{"tensors":[{"name":"a","type":"F32","shape":[3],"values":[1,2,3]},{"name":"b","type":"F32","shape":[2],"values":[4,5]},{"name":"c","type":"I32","shape":[3],"values":[1065353216,1073741824,1077936128]}]}'
run "$X" --hash --json "$T/two.gguf"; cp "$T/.out" "$T/two.json"
jcheck hash_same_bytes_same_hash "$T/two.json" 'd["tensors"][2]["xxh3_128"] == d["tensors"][0]["xxh3_128"] and d["tensors"][1]["xxh3_128"] != d["tensors"][0]["xxh3_128"]'
mk "$T/ab.gguf" '{"tensors":[{"name":"a","type":"F32","shape":[3],"values":[1,2,3]},{"name":"b","type":"F32","shape":[2],"values":[4,5]}]}'
mk "$T/ab1.gguf" '{"tensors":[{"name":"ab","type":"F32","shape":[5],"values":[1,2,3,4,5]}]}'
run "$X" --hash --json "$T/ab.gguf"; cp "$T/.out" "$T/ab.json"
run "$X" --hash --json "$T/ab1.gguf"; cp "$T/.out" "$T/ab1.json"
jcheck hash_data_is_concatenation "$T/ab.json" 'd["data_xxh3_128"] == json.load(open("'"$T/ab1.json"'"))["tensors"][0]["xxh3_128"]'
run "$X" --hash "$T/base.gguf"
check hash_text_column sh -c 'grep -E "^ +1  blk\.0\.attn_q\.weight +Q8_0 +\[64, 3\] +512 +204  [0-9a-f]{32}$" "$1" >/dev/null' _ "$T/.out"
check hash_text_total has "data xxh3_128: $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["data_xxh3_128"])' "$T/h1.json")"

# ---------------------------------------------------------------- --check
expect check_clean 0 "$X" --check "$T/base.gguf"
check check_clean_says_ok has "ok: 5 tensors, 1278 bytes checked"
mk "$T/nan.gguf" '{"tensors":[{"name":"ok","type":"F32","shape":[8]},{"name":"w","type":"F32","shape":[4,3],"nan":[5]}]}'
expect_err check_nan_f32 1 "^gguf-inspect: '.*nan\.gguf': 1 problem found in 2 tensors$" "$X" --check "$T/nan.gguf"
# element 5 of w: row 1, column 1; w's data starts at data offset + 32 (ok is 32 bytes)
DOFF=$("$PY" -c 'import os,sys; print(os.path.getsize(sys.argv[1]) - 32 - 64)' "$T/nan.gguf")
check check_nan_names_it grep -qx "'$T/nan.gguf': offset $((DOFF + 32 + 20)): tensor 'w' (F32): element 5 (row 1, column 1) is nan" "$T/.out"
check check_nan_one_line [ "$(grep -c '' "$T/.out")" = 1 ]
mk "$T/inf16.gguf" '{"tensors":[{"name":"q","type":"Q8_0","shape":[64,2],"inf_scale":[2]},{"name":"k","type":"Q4_K","shape":[256]},{"name":"h","type":"F16","shape":[16],"inf":[15]}]}'
expect_err check_inf_scale 1 "^gguf-inspect: '.*inf16\.gguf': 2 problems found in 3 tensors$" "$X" --check "$T/inf16.gguf"
check check_inf_scale_names_block grep -Eq "tensor 'q' \(Q8_0\): non-finite fp16 scale in block 2 \(elements 64\.\.95\)$" "$T/.out"
check check_inf_f16_element grep -Eq "tensor 'h' \(F16\): element 15 \(row 0, column 15\) is inf$" "$T/.out"
check check_clean_tensor_not_named sh -c '! grep -q "tensor .k." "$1"' _ "$T/.out"
mk "$T/dmin.gguf" '{"tensors":[{"name":"k","type":"Q4_K","shape":[256,2],"patch":[[146,"00fe"]]},{"name":"b","type":"BF16","shape":[4],"nan":[0]}]}'
expect check_dmin_bf16 1 "$X" --check "$T/dmin.gguf"
check check_dmin_block grep -Eq "tensor 'k' \(Q4_K\): non-finite fp16 scale in block 1 " "$T/.out"
check check_bf16_nan grep -Eq "tensor 'b' \(BF16\): element 0 \(row 0, column 0\) is nan$" "$T/.out"
run "$X" --check --json "$T/inf16.gguf"; cp "$T/.out" "$T/chk.json"
check check_json_exit1 [ "$rc" = 1 ]
jcheck check_json "$T/chk.json" 'd["ok"] is False and d["tensors_checked"] == 3 and [(p["tensor"], p["error"], p.get("element")) for p in d["problems"]] == [("q", "GGUF_E_NONFINITE", 64), ("h", "GGUF_E_NONFINITE", 15)]'
run "$X" --check --json "$T/base.gguf"; cp "$T/.out" "$T/chk0.json"
jcheck check_json_clean "$T/chk0.json" 'd["ok"] is True and d["problems"] == [] and d["bytes_checked"] == 1278'
# plain inspection does not scan the data: the NaN file shows fine
expect plain_ignores_data 0 "$X" "$T/nan.gguf"

# ---------------------------------------------------------------- --diff
expect diff_same_file 0 "$X" --diff "$T/base.gguf" "$T/base.gguf"
check diff_same_silent sh -c '[ ! -s "$1" ] && [ ! -s "$2" ]' _ "$T/.out" "$T/.err"
expect diff_identical 0 "$X" --diff "$T/base.gguf" "$T/again.gguf"
expect diff_one_byte 1 "$X" --diff "$T/base.gguf" "$T/byte.gguf"
check diff_one_byte_named sh -c 'grep -Eqx "tensor data: blk\.0\.attn_q\.weight: xxh3_128 [0-9a-f]{32} -> [0-9a-f]{32}" "$1" && [ $(grep -c "" "$1") = 1 ]' _ "$T/.out"
expect diff_meta_only 1 "$X" --diff "$T/base.gguf" "$T/meta.gguf"
check diff_meta_only_line grep -qx 'kv added: general.extra: str "moves the data section"' "$T/.out"
check diff_meta_no_tensor_lines sh -c '! grep -q "^tensor" "$1"' _ "$T/.out"
# many differences at once: the exact output (one per line, in a fixed order)
KV2=$(echo "$KV" | sed -e 's/"tiny \\"test\\"\\n"/"renamed"/' -e 's/\["qwen2.block_count","u32",2\],//' \
    -e 's/\["some.i64","i64",-5\]/["some.i64","i32",-5]/' -e 's/"tok3"/"TOK3"/' -e 's/"tok12"/"TOK12"/' \
    -e 's/\["general.file_type","u32",7\]/["general.file_type","u32",15],["general.new","bool",false]/')
TS2='{"name":"token_embd.weight","type":"F32","shape":[32,5]},
    {"name":"blk.0.attn_q.weight","type":"Q8_0","shape":[64,3],"seed":1},
    {"name":"blk.0.attn_norm.weight","type":"F32","shape":[32]},
    {"name":"blk.0.ffn_down.weight","type":"Q6_K","shape":[256,1]},
    {"name":"blk.0.ffn_up.weight","type":"Q8_0","shape":[32,2]}'
mk "$T/other.gguf" "{\"kv\":[$KV2],\"tensors\":[$TS2]}"
run "$X" --diff "$T/base.gguf" "$T/other.gguf"
check diff_many_exit1 [ "$rc" = 1 ]
check diff_many_no_stderr [ ! -s "$T/.err" ]
cat >"$T/want.txt" <<'EOF'
kv changed: general.name: str "tiny \"test\"\n" -> str "renamed"
kv removed: qwen2.block_count: u32 2
kv changed: some.i64: i64 -5 -> i32 -5
kv changed: tokenizer.ggml.tokens: arr[str,20]: 2 of 20 common items differ, first at [3]: "tok3" -> "TOK3"
kv changed: general.file_type: u32 7 -> u32 15
kv added: general.new: bool false
tensor shape: token_embd.weight: [32, 4] -> [32, 5]
EOF
sed -E 's/xxh3_128 [0-9a-f]{32} -> [0-9a-f]{32}/xxh3_128 H -> H/' "$T/.out" >"$T/got.txt"
cat >>"$T/want.txt" <<'EOF'
tensor data: blk.0.attn_q.weight: xxh3_128 H -> H
tensor type: blk.0.attn_norm.weight: F16 -> F32
tensor removed: output.weight: Q4_K [256, 2]
tensor added: blk.0.ffn_up.weight: Q8_0 [32, 2]
EOF
if cmp -s "$T/want.txt" "$T/got.txt"; then pass diff_many_exact; else fail diff_many_exact "$(diff "$T/want.txt" "$T/got.txt" | head -20 | tr '\n' '|')"; fi
cp "$T/.out" "$T/diff1.txt"
run "$X" --diff "$T/base.gguf" "$T/other.gguf"
check diff_stable cmp -s "$T/.out" "$T/diff1.txt"
# the same set of keys and tensors, in another order
KVR='["general.name","str","tiny \"test\"\n"],["general.architecture","str","qwen2"]'
KVN='["general.architecture","str","qwen2"],["general.name","str","tiny \"test\"\n"]'
TA='{"name":"a","type":"F32","shape":[4]}'; TB='{"name":"b","type":"F16","shape":[4]}'
mk "$T/ord1.gguf" "{\"kv\":[$KVN],\"tensors\":[$TA,$TB]}"
mk "$T/ord2.gguf" "{\"kv\":[$KVR],\"tensors\":[$TB,$TA]}"
run "$X" --diff "$T/ord1.gguf" "$T/ord2.gguf"
check diff_order_exit1 [ "$rc" = 1 ]
printf "%s\n" "kv order: the common keys come in another order, first 'general.name' (#1 in A, #0 in B, before 'general.architecture')" \
    "tensor order: the common tensors come in another order, first 'b' (#1 in A, #0 in B, before 'a')" >"$T/want.txt"
check diff_order_lines cmp -s "$T/want.txt" "$T/.out"
expect_err diff_missing_b 1 "^gguf-inspect: .*'$T/nope\.gguf'.*" "$X" --diff "$T/base.gguf" "$T/nope.gguf"

# ---------------------------------------------------------------- split sets
mk "$T/sp" "{\"kv\":[$KV],\"tensors\":[$TS],\"split\":[2,3]}"
run "$X" "$T/sp-00001-of-00002.gguf"
check split_exit0 [ "$rc" = 0 ]
check split_lists_files sh -c 'grep -q "^split files: 2$" "$1" && grep -Eq "^ +0  .*sp-00001-of-00002\.gguf  2 tensors" "$1" && grep -Eq "^ +1  .*sp-00002-of-00002\.gguf  3 tensors" "$1"' _ "$T/.out"
check split_all_tensors has "total: 5 tensors, 1278 bytes (1.3 kB), 1120 parameters"
check split_file_column sh -c 'grep -Eq "^ +4  blk\.0\.ffn_down\.weight +Q6_K +\[256, 1\] +1 +352 +210$" "$1"' _ "$T/.out"
run "$X" --json --hash "$T/sp-00001-of-00002.gguf"; cp "$T/.out" "$T/sp.json"
jcheck split_json_files "$T/sp.json" '[(f["path"].endswith("sp-0000%d-of-00002.gguf" % (i + 1)), f["n_tensors"]) for i, f in enumerate(d["header"]["files"])] == [(True, 2), (True, 3)]'
jcheck split_json_tensors "$T/sp.json" '[(t["name"], t["file"], t["offset"]) for t in d["tensors"]] == [("token_embd.weight", 0, 0), ("blk.0.attn_q.weight", 0, 512), ("blk.0.attn_norm.weight", 1, 0), ("output.weight", 1, 64), ("blk.0.ffn_down.weight", 1, 352)]'
jcheck split_same_data_hash "$T/sp.json" 'd["data_xxh3_128"] == json.load(open("'"$T/h1.json"'"))["data_xxh3_128"]'
expect split_check 0 "$X" --check "$T/sp-00001-of-00002.gguf"
run "$X" --diff "$T/base.gguf" "$T/sp-00001-of-00002.gguf"
check split_diff_exit1 [ "$rc" = 1 ]
printf 'kv added: split.no: u16 0\nkv added: split.tensors.count: i32 5\nkv added: split.count: u16 2\n' >"$T/want.txt"
check split_diff_only_split_keys cmp -s "$T/want.txt" "$T/.out"
# a NaN in the second shard: --check names that shard and the offset inside it
mk "$T/spn" '{"tensors":[{"name":"a","type":"F32","shape":[8]},{"name":"b","type":"F32","shape":[8],"nan":[2]}],"split":[1,1]}'
run "$X" --check "$T/spn-00001-of-00002.gguf"
check split_check_nan_exit1 [ "$rc" = 1 ]
SZ2=$(stat -c %s "$T/spn-00002-of-00002.gguf")
check split_check_names_shard grep -qx "'$T/spn-00002-of-00002.gguf': offset $((SZ2 - 32 + 8)): tensor 'b' (F32): element 2 (row 0, column 2) is nan" "$T/.out"
rm "$T/sp-00002-of-00002.gguf"
expect_err split_missing_shard 1 "^gguf-inspect: .*sp-0000[12]-of-00002\.gguf" "$X" "$T/sp-00001-of-00002.gguf"

# ---------------------------------------------------------------- GGUF v2, alignment 64
mk "$T/v2.gguf" '{"version":2,"alignment":64,"kv":[["general.alignment","u32",64]],"tensors":[{"name":"a","type":"F32","shape":[5]},{"name":"b","type":"Q8_0","shape":[32]}]}'
run "$X" --json "$T/v2.gguf"; cp "$T/.out" "$T/v2.json"
check v2_exit0 [ "$rc" = 0 ]
jcheck v2_header "$T/v2.json" 'd["header"]["version"] == 2 and d["header"]["alignment"] == 64 and d["header"]["data_offset"] % 64 == 0 and [t["offset"] for t in d["tensors"]] == [0, 64]'
mk "$T/v3.gguf" '{"alignment":64,"kv":[["general.alignment","u32",64]],"tensors":[{"name":"a","type":"F32","shape":[5]},{"name":"b","type":"Q8_0","shape":[32]}]}'
run "$X" --diff "$T/v2.gguf" "$T/v3.gguf"
check v2_diff_version sh -c '[ "$2" = 1 ] && [ "$(cat "$1")" = "header version: 2 -> 3" ]' _ "$T/.out" "$rc"

# ---------------------------------------------------------------- against a second reader, on files others wrote
# readgguf.py parses the file independently; --json --full must print exactly its document, and
# plain --json the same with arrays cut to 8 items
RG="$(dirname "$0")/readgguf.py"
same_as_reader() {
    "$X" --json --full "$2" >"$T/mine.json" && "$X" --json "$2" >"$T/mine8.json" && "$PY" "$RG" "$2" >"$T/ref.json" &&
    "$PY" -c 'import json,sys
mine, mine8, ref = (json.load(open(p)) for p in sys.argv[1:4])
bad = [k for k in ("header", "metadata", "tensors", "totals") if mine[k] != ref[k]]
for v in ref["metadata"].values():
    if v["type"] == "arr" and v["n"] > 8: v["value"], v["truncated"] = v["value"][:8], True
bad += ["abbreviated " + k for k in ("metadata",) if mine8[k] != ref[k]]
sys.exit("differs: " + ", ".join(bad) if bad else 0)' "$T/mine.json" "$T/mine8.json" "$T/ref.json"
}
for f in "$T/base.gguf" "$T/types.gguf" "$T/str.gguf" "$TD/golden-quant/edge-q4km.gguf" "$TD/golden-quant/edge-q80.gguf"; do
    check "json_matches_reader_${f##*/}" same_as_reader json "$f"
done
for gz in "$TD"/real-gguf/*.gguf.gz; do
    [ -e "$gz" ] || { skip json_matches_reader_real_gguf "no $TD/real-gguf/*.gguf.gz yet"; break; }
    g="$T/$(basename "$gz" .gz)"; gzip -dc "$gz" >"$g"
    check "json_matches_reader_${g##*/}" same_as_reader json "$g"
    expect "check_clean_${g##*/}" 0 "$X" --check "$g"
done
# llama-quantize's Q8_0 and Q4_K_M of the same model: the ftype key and the two matrices differ;
# the norm stays F32 with the same bytes
G="$TD/golden-quant"
expect golden_check_q80 0 "$X" --check "$G/edge-q80.gguf"
expect golden_check_q4km 0 "$X" --check "$G/edge-q4km.gguf"
run "$X" --diff "$G/edge-q80.gguf" "$G/edge-q4km.gguf"
check golden_diff_exit1 [ "$rc" = 1 ]
printf '%s\n' "kv changed: general.file_type: u32 7 -> u32 15" "tensor type: blk.0.attn_q.weight: Q8_0 -> Q4_K" \
    "tensor type: blk.0.attn_v.weight: Q8_0 -> Q6_K" >"$T/want.txt"
check golden_diff_lines cmp -s "$T/want.txt" "$T/.out"
# the other tools' outputs, compared the way a user would: ours against llama-quantize's must show
# no difference; a split set differs from its input only by the split keys
if [ -x "$BIN/gguf-quantize" ]; then
    "$BIN/gguf-quantize" "$G/edge-f32.gguf" "$T/ours-q4km.gguf" Q4_K_M >/dev/null 2>&1
    expect golden_vs_quantize 0 "$X" --diff "$T/ours-q4km.gguf" "$G/edge-q4km.gguf"
    check golden_vs_quantize_silent [ ! -s "$T/.out" ]
fi
if [ -x "$BIN/gguf-split" ]; then
    "$BIN/gguf-split" --split-max-tensors 1 "$G/edge-q4km.gguf" "$T/gs" >/dev/null 2>&1
    run "$X" --diff "$G/edge-q4km.gguf" "$T/gs-00001-of-00003.gguf"
    printf '%s\n' "kv added: split.no: u16 0" "kv added: split.tensors.count: i32 3" "kv added: split.count: u16 3" >"$T/want.txt"
    check golden_vs_split sh -c '[ "$1" = 1 ] && cmp -s "$2" "$3"' _ "$rc" "$T/want.txt" "$T/.out"
fi
run "$X" "$G/edge-q4km.gguf"
check golden_plain_types sh -c 'grep -Eq "^ +1  blk\.0\.attn_q\.weight +Q4_K +\[1024, 96\] " "$1" && grep -Eq "^ +2  blk\.0\.attn_v\.weight +Q6_K +\[1024, 96\] " "$1"' _ "$T/.out"

# ---------------------------------------------------------------- input errors: one line, exit 1
expect_err missing_file 1 "^gguf-inspect: .*'$T/nope\.gguf'.*" "$X" "$T/nope.gguf"
printf 'this is not a gguf file at all\n' >"$T/text.gguf"
expect_err not_gguf 1 "^gguf-inspect: .*text\.gguf" "$X" "$T/text.gguf"
head -c 100 "$T/base.gguf" >"$T/trunc.gguf"
expect_err truncated 1 "^gguf-inspect: .*trunc\.gguf.*offset" "$X" "$T/trunc.gguf"
expect_err truncated_check 1 "^gguf-inspect: .*trunc\.gguf" "$X" --check "$T/trunc.gguf"
expect_err truncated_json 1 "^gguf-inspect: .*trunc\.gguf" "$X" --json "$T/trunc.gguf"
if [ -w /dev/full ]; then
    expect_err stdout_full 1 "^gguf-inspect: cannot write to standard output" sh -c '"$1" "$2" >/dev/full' _ "$X" "$T/base.gguf"
fi

# the malformed-input corpus: every file the manifest lists must fail cleanly, naming the file
M="$TD/bad/EXPECTED"
if [ ! -f "$M" ]; then
    skip bad_corpus "no $M yet"
else
    nbad=0 okbad=0
    while read -r f code _; do
        case "$f" in ''|'#'*) continue ;; esac
        [ "$code" = "-" ] && continue
        nbad=$((nbad + 1))
        # open fails before any mode matters: plain for every file, plus one other mode in turn
        case $((nbad % 3)) in 0) other=--json ;; 1) other=--check ;; *) other=--hash ;; esac
        for mode in "" "$other"; do
            run "$X" $mode "$TD/bad/$f"
            lines=$(grep -c '' "$T/.err")
            # a split set's message may name the faulty shard rather than the first file
            if [ "$rc" != 1 ] || [ "$lines" != 1 ] || ! grep -qF -- "${f%-0000[0-9]-of-0000[0-9].gguf}" "$T/.err" || ! grep -q '^gguf-inspect: ' "$T/.err"; then
                fail "bad_$f${mode:+_$mode}" "exit $rc, $lines stderr lines: $(head -c 300 "$T/.err")"
                continue 2
            fi
        done
        okbad=$((okbad + 1))
    done <"$M"
    check bad_corpus_all [ "$okbad" = "$nbad" -a "$nbad" -gt 0 ]
fi
