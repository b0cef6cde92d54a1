#!/bin/bash
# gguf-quantize: whole output files byte-identical to llama-quantize's (testdata/golden-quant),
# thread-count independence, split input and output, refusals (requantize, overwrite, input as
# output), bad input (truncated, corrupt, non-finite) -> exit 1 with one line and no file,
# --dry-run writes nothing, usage errors exit 2.
. "$(dirname "$0")/lib.sh"
Q=$BIN/gguf-quantize
G=$TD/golden-quant
gzip -dc "$G/fallback-f32.gguf.gz" > "$T/fallback-f32.gguf"
EDGE=$G/edge-f32.gguf
FB=$T/fallback-f32.gguf
no_leftovers() { [ -z "$(find "$T" -name '*.tmp' -type f)" ]; }

# ---------------------------------------------------------------- usage
expect help 0 "$Q" --help
check help_stdout grep -q '^usage: gguf-quantize \[options\] IN.gguf OUT.gguf TYPE \[THREADS\]' "$T/.out"
expect usage_noargs 2 "$Q"
check usage_hint grep -q "Try 'gguf-quantize --help'" "$T/.err"
expect usage_type 2 "$Q" "$EDGE" "$T/x.gguf" q3_k_xl
expect usage_threads 2 "$Q" "$EDGE" "$T/x.gguf" q8_0 zero
expect usage_option 2 "$Q" --frobnicate "$EDGE" "$T/x.gguf" q8_0
expect usage_tensor_type 2 "$Q" --output-tensor-type iq2_xs "$EDGE" "$T/x.gguf" q8_0
expect usage_split_size 2 "$Q" --split-max-size 100 "$EDGE" "$T/x.gguf" q8_0
expect usage_split_both 2 "$Q" --keep-split --split-max-size 1M "$EDGE" "$T/x.gguf" q8_0
check usage_no_output test ! -e "$T/x.gguf"

# ---------------------------------------------------------------- byte-identical to llama-quantize
for ty in q4km:Q4_K_M q80:q8_0; do
    s=${ty%%:*} t=${ty##*:}
    expect "edge_$s" 0 "$Q" -q "$EDGE" "$T/edge-$s.gguf" "$t" 2
    check "edge_${s}_identical" cmp -s "$T/edge-$s.gguf" "$G/edge-$s.gguf"
    expect "fallback_$s" 0 "$Q" -q "$FB" "$T/fallback-$s.gguf" "$t" --threads 1
    check "fallback_${s}_identical" cmp -s "$T/fallback-$s.gguf" "$G/fallback-$s.gguf"
done
expect edge_q4km_3threads 0 "$Q" -q "$EDGE" "$T/e3.gguf" Q4_K_M 3
check threads_identical cmp -s "$T/e3.gguf" "$G/edge-q4km.gguf"
check fallback_warning_quiet test ! -s "$T/.err"
expect fallback_warns 0 "$Q" "$FB" "$T/fw.gguf" q4_k_m 1
check fallback_warning grep -q 'warning: 4 of 6 tensors required fallback' "$T/.err"

# ---------------------------------------------------------------- other types and options
expect f16 0 "$Q" -q "$FB" "$T/e16.gguf" f16
expect f16_back 0 "$Q" -q "$T/e16.gguf" "$T/e32.gguf" F32
check f16_size test "$(stat -c %s "$T/e16.gguf")" -lt "$(stat -c %s "$FB")"
expect bf16 0 "$Q" -q "$FB" "$T/ebf.gguf" bf16
# the edge file holds values beyond fp16's range: llama-quantize's validation fails there too
expect_err f16_overflow 1 "blk.0.attn_q.weight.*non-finite F16" "$Q" "$EDGE" "$T/eover.gguf" f16
expect pure 0 "$Q" -q --pure "$EDGE" "$T/pure.gguf" q4_k_m
check pure_differs sh -c "! cmp -s '$T/pure.gguf' '$G/edge-q4km.gguf'"
expect pure_dry 0 "$Q" --pure --dry-run "$EDGE" "$T/none.gguf" q4_k_m
check pure_all_q4k test "$(grep -c ' -> Q4_K ' "$T/.out")" = 2
expect out_type 0 "$Q" --dry-run --output-tensor-type q8_0 --token-embedding-type f16 "$FB" "$T/none.gguf" q4_k_m
check out_type_applied grep -Eq 'output.weight .* F32 -> Q8_0 ' "$T/.out"
check emb_type_applied grep -Eq 'token_embd.weight .* F32 -> F16 ' "$T/.out"
expect leave_output 0 "$Q" --dry-run --leave-output-tensor "$FB" "$T/none.gguf" q4_k_m
check leave_output_kept grep -Eq 'output.weight .* F32 -> F32 ' "$T/.out"

# ---------------------------------------------------------------- dry run
expect dry_run 0 "$Q" --dry-run "$EDGE" "$T/dry.gguf" q4_k_m
check dry_run_nothing_written test ! -e "$T/dry.gguf"
check dry_run_types grep -Eq 'blk.0.attn_v.weight +\[1024, 96\] +F32 -> Q6_K' "$T/.out"
check dry_run_total grep -q '^quant size: 0.13 MiB' "$T/.out"

# full QwQ-32B shapes (sparse F16 file, no data): llama-quantize --dry-run's numbers (FORMATS.md 2.5, 2.7)
python3 "$(dirname "$0")/mk_qwq_shape.py" "$T/qwq.gguf"
expect qwq_dry_q4km 0 "$Q" --dry-run "$T/qwq.gguf" "$T/none.gguf" q4_k_m
check qwq_q4km_in grep -q '^model size: 62494.27 MiB (16.00 BPW)$' "$T/.out"
check qwq_q4km_size grep -q '^quant size: 18926.01 MiB (4.85 BPW)' "$T/.out"
check qwq_q4km_tally grep -q '^types: F32 321, Q4_K 385, Q6_K 65$' "$T/.out"
check qwq_q4km_attn_v grep -Eq 'blk.13.attn_v.weight .* -> Q6_K' "$T/.out"
check qwq_q4km_attn_v_q4 grep -Eq 'blk.14.attn_v.weight .* -> Q4_K' "$T/.out"
expect qwq_dry_q80 0 "$Q" --dry-run "$T/qwq.gguf" "$T/none.gguf" Q8_0
check qwq_q80_size grep -q '^quant size: 33202.08 MiB (8.50 BPW)' "$T/.out"
check qwq_q80_tally grep -q '^types: F32 321, Q8_0 450$' "$T/.out"
python3 "$(dirname "$0")/mk_qwq_shape.py" "$T/qwq-tied.gguf" --tied
expect qwq_dry_tied 0 "$Q" --dry-run "$T/qwq-tied.gguf" "$T/none.gguf" q4_k_m
check qwq_tied_embd grep -Eq 'token_embd.weight .* F16 -> Q6_K' "$T/.out"
check qwq_tied_tally grep -q '^types: F32 321, Q4_K 384, Q6_K 65$' "$T/.out"
check qwq_nothing_written test ! -e "$T/none.gguf"
rm -f "$T/qwq.gguf" "$T/qwq-tied.gguf"

# memory does not grow with the tensor: one 256 MiB F16 matrix (sparse, reads as zeros) is
# quantized in row chunks with the input pages released, so peak RSS stays below the input size
# (holding the tensor, or its f32 copy, would need 256 MiB or 1 GiB)
if [ "${SAN:-0}" != 1 ] && [ -x /usr/bin/time ]; then
    python3 "$(dirname "$0")/mk_qwq_shape.py" "$T/big.gguf" --one-big
    expect big_tensor 0 /usr/bin/time -f '%M' -o "$T/rss" "$Q" -q "$T/big.gguf" "$T/big-q8.gguf" q8_0 2
    check big_tensor_rss test "$(cat "$T/rss")" -lt 200000
    check big_tensor_size test "$(stat -c %s "$T/big-q8.gguf")" -gt 142000000
    rm -f "$T/big.gguf" "$T/big-q8.gguf"
else
    skip big_tensor_rss "not under ASan (its shadow memory), needs /usr/bin/time"
fi

# ---------------------------------------------------------------- refusals
expect_err requantize_refused 1 "already quantized \(Q8_0\).*--allow-requantize" "$Q" "$G/edge-q80.gguf" "$T/rq.gguf" q4_k_m
check requantize_no_output test ! -e "$T/rq.gguf"
expect requantize_allowed 0 "$Q" -q --allow-requantize "$G/edge-q80.gguf" "$T/rq.gguf" q4_k_m
expect same_type_copies 0 "$Q" -q "$G/edge-q80.gguf" "$T/same.gguf" q8_0
check same_type_identical cmp -s "$T/same.gguf" "$G/edge-q80.gguf"
expect_err exists_refused 1 "exists" "$Q" "$EDGE" "$T/edge-q80.gguf" q8_0
expect force_overwrites 0 "$Q" -q --force "$EDGE" "$T/edge-q80.gguf" q4_k_m
check force_result cmp -s "$T/edge-q80.gguf" "$G/edge-q4km.gguf"
cp "$EDGE" "$T/in.gguf"
expect_err input_as_output 1 "refusing to overwrite an input" "$Q" --force "$T/in.gguf" "$T/in.gguf" q8_0
check input_untouched cmp -s "$T/in.gguf" "$EDGE"

# ---------------------------------------------------------------- bad input
expect_err missing_input 1 "nonexistent.gguf" "$Q" "$T/nonexistent.gguf" "$T/o.gguf" q8_0
head -c 500000 "$EDGE" > "$T/trunc.gguf"
expect_err truncated 1 "trunc.gguf" "$Q" "$T/trunc.gguf" "$T/o.gguf" q8_0
check truncated_no_output test ! -e "$T/o.gguf"
cp "$EDGE" "$T/magic.gguf"; printf 'GGUX' | dd of="$T/magic.gguf" conv=notrunc status=none
expect_err bad_magic 1 "magic.gguf" "$Q" "$T/magic.gguf" "$T/o.gguf" q8_0
check bad_magic_no_output test ! -e "$T/o.gguf"
cp "$EDGE" "$T/inf.gguf"   # +Inf as the first float of blk.0.attn_q.weight (data starts at 736)
printf '\000\000\200\177' | dd of="$T/inf.gguf" bs=1 seek=736 conv=notrunc status=none
expect_err nonfinite 1 "blk.0.attn_q.weight.*non-finite" "$Q" "$T/inf.gguf" "$T/o.gguf" q8_0
check nonfinite_no_output test ! -e "$T/o.gguf"
check no_temp_files no_leftovers

# ---------------------------------------------------------------- split input and output
# F32 copy split at 1 MB: output+token_embd+norm | attn_q | attn_v | ffn_down
expect split_out 0 "$Q" -q --split-max-size 1M "$FB" "$T/sp.gguf" f32
check split_out_names test -e "$T/sp-00001-of-00004.gguf" -a -e "$T/sp-00004-of-00004.gguf" -a ! -e "$T/sp.gguf"
check split_out_keys grep -q 'split.tensors.count' "$T/sp-00004-of-00004.gguf"
# the split F32 set quantizes to llama-quantize's single file
expect split_in 0 "$Q" -q "$T/sp-00001-of-00004.gguf" "$T/joined.gguf" q8_0
check split_in_identical cmp -s "$T/joined.gguf" "$G/fallback-q80.gguf"
# --keep-split: one output shard per input shard; joined again they are llama-quantize's file
expect keep_split 0 "$Q" -q --keep-split "$T/sp-00001-of-00004.gguf" "$T/ks.gguf" q8_0
check keep_split_names test -e "$T/ks-00004-of-00004.gguf" -a ! -e "$T/ks-00005-of-00004.gguf"
expect keep_split_join 0 "$Q" -q "$T/ks-00001-of-00004.gguf" "$T/ksj.gguf" q8_0
check keep_split_join_identical cmp -s "$T/ksj.gguf" "$G/fallback-q80.gguf"
# a Q8_0 set through --keep-split Q8_0 is copied shard for shard
expect keep_split_copy 0 "$Q" -q --keep-split "$T/ks-00001-of-00004.gguf" "$T/ks2.gguf" q8_0
for i in 1 2 3 4; do check "keep_split_copy_$i" cmp -s "$T/ks2-0000$i-of-00004.gguf" "$T/ks-0000$i-of-00004.gguf"; done
# a split F32 input written by gguf-split quantizes to llama-quantize's single file
if [ -x "$BIN/gguf-split" ]; then
    "$BIN/gguf-split" --split-max-tensors 1 "$EDGE" "$T/ef" >/dev/null 2>&1
    expect gguf_split_in 0 "$Q" -q "$T/ef-00001-of-00003.gguf" "$T/ef-q4km.gguf" q4_k_m
    check gguf_split_in_identical cmp -s "$T/ef-q4km.gguf" "$G/edge-q4km.gguf"
    # a metadata-only first shard (--no-tensor-first-split) through --keep-split: an empty
    # output shard first, and the set joins back to llama-quantize's file
    "$BIN/gguf-split" --split-max-tensors 2 --no-tensor-first-split "$FB" "$T/nt" >/dev/null 2>&1
    expect keep_split_empty_first 0 "$Q" -q --keep-split "$T/nt-00001-of-00004.gguf" "$T/ntq.gguf" q4_k_m
    expect keep_split_empty_join 0 "$Q" -q "$T/ntq-00001-of-00004.gguf" "$T/ntj.gguf" q4_k_m
    check keep_split_empty_identical cmp -s "$T/ntj.gguf" "$G/fallback-q4km.gguf"
else
    skip gguf_split_in "gguf-split not built"
fi
# an existing later shard is refused before anything is written
: > "$T/ex-00003-of-00004.gguf"
expect_err split_shard_exists 1 "ex-00003-of-00004.gguf.*exists" "$Q" --split-max-size 1M "$FB" "$T/ex.gguf" f32
check split_shard_exists_nothing_written test ! -e "$T/ex-00001-of-00004.gguf"
check no_temp_files_at_end no_leftovers
