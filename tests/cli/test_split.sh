#!/bin/bash
# gguf-split: split points, shard contents (key order/types, tensor infos and data), merge round
# trips, sets in other key orders, every defect of a set, --force/--dry-run, refusal to clobber.
# Fixtures come from mk_split_input.py (an independent Python writer/reader) and from real
# llama-quantize outputs in testdata/golden-quant.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
S=$BIN/gguf-split
export GGUF_TEST_NOSYNC=1 # fsync is what the C test and the bench exercise; here it only costs time
py() { python3 "$HERE/mk_split_input.py" "$@"; }
# the shards of a prefix, in order
shards() { ls "$1"-0*-of-0*.gguf 2>/dev/null; }
nshards() { shards "$1" | grep -c ''; }
# tensor lines of a set (names, shapes, types, data hashes) in shard order
set_tensors() { for f in $(shards "$1"); do py dump "$f" --no-offsets | grep '^tensor '; done; }
kv_lines() { py dump "$1" | grep '^kv '; }
# n_tensors straight from the header (int64 at offset 8): no Python start-up per shard
ntensors() { od -An -t d8 -j 8 -N 8 "$1" | tr -d ' '; }
# no temp file anywhere under $T (the blocker directories of the failure cases are not files)
no_leftovers() { [ -z "$(find "$T" -name '*.tmp' -type f)" ]; }

# ---------------------------------------------------------------- usage
# expect_usage NAME REGEX CMD...: exit 2, "gguf-split: <REGEX>" then "Try 'gguf-split --help'."
expect_usage() {
    local n=$1 re=$2; shift 2; run "$@"
    if [ "$rc" != 2 ]; then fail "$n" "exit $rc, wanted 2: $(head -c 300 "$T/.err")"
    elif ! head -1 "$T/.err" | grep -Eq -- "^gguf-split: .*$re"; then fail "$n" "stderr '$(head -1 "$T/.err")' does not match /$re/"
    elif [ "$(sed -n 2p "$T/.err")" != "Try 'gguf-split --help'." ] || [ "$(grep -c '' "$T/.err")" != 2 ]; then
        fail "$n" "stderr is not 2 lines ending in the --help hint: $(cat "$T/.err")"
    else pass "$n"; fi
}
expect help 0 "$S" --help
check help_stdout grep -q 'usage: gguf-split' "$T/.out"
expect_usage usage_noargs 'expected IN.gguf and OUT_PREFIX' "$S"
expect_usage usage_size_unit 'invalid --split-max-size' "$S" --split-max-size 100 a.gguf out
expect_usage usage_size_zero 'invalid --split-max-size' "$S" --split-max-size 0M a.gguf out
expect_usage usage_tensors_zero 'invalid --split-max-tensors' "$S" --split-max-tensors 0 a.gguf out
expect_usage usage_both_modes 'not both' "$S" --split-max-tensors 2 --split-max-size 1M a.gguf out
expect_usage usage_both_ops 'not both' "$S" --split --merge a.gguf out
expect_usage usage_merge_mode 'only apply to --split' "$S" --merge --split-max-tensors 2 a.gguf out
expect_usage usage_unknown "unknown option '--delete-splits'" "$S" --delete-splits a.gguf out
expect_err missing_input 1 "nonexistent.gguf" "$S" "$T/nonexistent.gguf" "$T/x"

# ---------------------------------------------------------------- split by tensors
py make "$T/in.gguf" 100 160 33 64 48 8 1000 17 320 5
mkdir "$T/a"
expect split_tensors 0 "$S" --split-max-tensors 4 "$T/in.gguf" "$T/a/out"
check split_tensors_names test "$(shards "$T/a/out" | xargs -n1 basename | tr '\n' ' ')" = \
    "out-00001-of-00003.gguf out-00002-of-00003.gguf out-00003-of-00003.gguf "
check split_tensors_counts test "$(for f in $(shards "$T/a/out"); do ntensors "$f"; done | tr '\n' ' ')" = "4 4 2 "
# first shard: every input KV in input order, then split.no u16, split.tensors.count i32, split.count u16
{ kv_lines "$T/in.gguf"; printf 'kv split.no u16 0\nkv split.tensors.count i32 10\nkv split.count u16 3\n'; } >"$T/want1"
kv_lines "$T/a/out-00001-of-00003.gguf" >"$T/got1"
check first_shard_kvs cmp -s "$T/want1" "$T/got1"
printf 'kv split.no u16 1\nkv split.tensors.count i32 10\nkv split.count u16 3\n' >"$T/want2"
kv_lines "$T/a/out-00002-of-00003.gguf" >"$T/got2"
check later_shard_kvs cmp -s "$T/want2" "$T/got2"
check later_shard_kvs_3 test "$(kv_lines "$T/a/out-00003-of-00003.gguf" | head -1)" = "kv split.no u16 2"
py dump "$T/in.gguf" --no-offsets | grep '^tensor ' >"$T/want_t"
set_tensors "$T/a/out" >"$T/got_t"
check tensors_unchanged cmp -s "$T/want_t" "$T/got_t"
# byte for byte what llama-gguf-split writes (an independent Python rendering of FORMATS.md 4.3)
same_as_llama() {  # same_as_llama PREFIX IN COUNTS...: every shard of PREFIX equals the Python one
    local pfx=$1 in=$2; shift 2
    rm -rf "$T/ll"; mkdir "$T/ll"
    py llama-shards "$in" "$T/ll/x" "$@" || return 1
    [ "$(ls "$T/ll" | wc -l)" = "$(nshards "$pfx")" ] || return 1
    for f in "$T"/ll/x-*; do cmp "$f" "$pfx${f##*/x}" || return 1; done
}
check split_tensors_bytes same_as_llama "$T/a/out" "$T/in.gguf" 4 4 2
check no_tmp_after_split no_leftovers
expect merge_roundtrip 0 "$S" --merge "$T/a/out-00001-of-00003.gguf" "$T/a/merged.gguf"
check merge_identical cmp "$T/in.gguf" "$T/a/merged.gguf"
check merge_not_empty test -s "$T/a/merged.gguf"

# default: 128 tensors per shard
args=(); for i in $(seq 130); do args+=(8); done
py make "$T/many.gguf" "${args[@]}"
mkdir "$T/d"
expect split_default 0 "$S" "$T/many.gguf" "$T/d/m"
check split_default_counts test "$(for f in $(shards "$T/d/m"); do ntensors "$f"; done | tr '\n' ' ')" = "128 2 "
expect merge_default 0 "$S" --merge "$T/d/m-00001-of-00002.gguf" "$T/d/merged.gguf"
check merge_default_identical cmp "$T/many.gguf" "$T/d/merged.gguf"

# ---------------------------------------------------------------- split by size
# F32 bytes 400k 400k 300k 1.5M 100k 100k with 1M per shard: [400k 400k] [300k] [1.5M alone] [100k 100k]
py make "$T/sz.gguf" 100000 100000 75000 375000 25000 25000
mkdir "$T/s"
expect dry_run 0 "$S" --split-max-size 1M --dry-run "$T/sz.gguf" "$T/s/p"
cp "$T/.out" "$T/plan"
check dry_run_writes_nothing test -z "$(ls -A "$T/s")"
check dry_run_plan_lines test "$(grep -c 'tensors,' "$T/plan")" = 4
expect split_size 0 "$S" --split-max-size 1M "$T/sz.gguf" "$T/s/p"
check split_size_counts test "$(for f in $(shards "$T/s/p"); do ntensors "$f"; done | tr '\n' ' ')" = "2 1 1 2 "
check split_size_bytes same_as_llama "$T/s/p" "$T/sz.gguf" 2 1 1 2
# the dry-run plan named exactly these files with exactly these sizes
for f in $(shards "$T/s/p"); do echo "$f: $(ntensors "$f") tensors, $(stat -c %s "$f") bytes"; done >"$T/actual"
check dry_run_plan_exact cmp -s <(grep 'tensors,' "$T/plan") "$T/actual"
expect merge_size 0 "$S" --merge "$T/s/p-00001-of-00004.gguf" "$T/s/merged.gguf"
check merge_size_identical cmp "$T/sz.gguf" "$T/s/merged.gguf"
expect merge_dry_run 0 "$S" --merge --dry-run "$T/s/p-00001-of-00004.gguf" "$T/s/m2.gguf"
check merge_dry_run_size grep -q "m2.gguf: 6 tensors, $(stat -c %s "$T/sz.gguf") bytes" "$T/.out"
check merge_dry_run_nothing test ! -e "$T/s/m2.gguf"

# exactly at the limit stays in the shard (the rule is "exceeds"): 500k + 500k = 1M, then 32 bytes
py make "$T/edge.gguf" 125000 125000 8
mkdir "$T/e"
expect split_size_edge 0 "$S" --split-max-size 1M "$T/edge.gguf" "$T/e/p"
check split_size_edge_counts test "$(for f in $(shards "$T/e/p"); do ntensors "$f"; done | tr '\n' ' ')" = "2 1 "

# the very first tensor larger than the limit: no shard can hold it first
py make "$T/big.gguf" 375000 100
mkdir "$T/b"
expect_err split_first_too_big 1 "blk.0.weight.*0 tensors" "$S" --split-max-size 1M "$T/big.gguf" "$T/b/p"
check split_first_too_big_no_output test -z "$(ls -A "$T/b")"

# ---------------------------------------------------------------- --no-tensor-first-split
mkdir "$T/n"
expect no_tensor_first 0 "$S" --no-tensor-first-split --split-max-tensors 4 "$T/in.gguf" "$T/n/q"
check no_tensor_first_counts test "$(for f in $(shards "$T/n/q"); do ntensors "$f"; done | tr '\n' ' ')" = "0 4 4 2 "
check no_tensor_first_bytes same_as_llama "$T/n/q" "$T/in.gguf" 0 4 4 2
{ kv_lines "$T/in.gguf"; printf 'kv split.no u16 0\nkv split.tensors.count i32 10\nkv split.count u16 4\n'; } >"$T/wantn"
check no_tensor_first_kvs cmp -s "$T/wantn" <(kv_lines "$T/n/q-00001-of-00004.gguf")
expect merge_no_tensor_first 0 "$S" --merge "$T/n/q-00001-of-00004.gguf" "$T/n/merged.gguf"
check merge_no_tensor_first_identical cmp "$T/in.gguf" "$T/n/merged.gguf"
# size mode with a metadata-only first shard: the first data shard still may not be empty
mkdir "$T/nb"
expect_err no_tensor_first_too_big 1 "0 tensors" "$S" --no-tensor-first-split --split-max-size 1M "$T/big.gguf" "$T/nb/p"
check no_tensor_first_too_big_no_output test -z "$(ls -A "$T/nb")"

# ---------------------------------------------------------------- existing outputs, --force
mkdir "$T/f"
echo keep >"$T/f/out-00002-of-00003.gguf"
expect_err split_exists 1 "out-00002-of-00003.gguf'?: output file exists" \
    "$S" --split-max-tensors 4 "$T/in.gguf" "$T/f/out"
check split_exists_untouched test "$(cat "$T/f/out-00002-of-00003.gguf")" = keep
check split_exists_nothing_else test "$(ls "$T/f" | wc -l)" = 1
expect split_force 0 "$S" --force --split-max-tensors 4 "$T/in.gguf" "$T/f/out"
check split_force_replaced test "$(ntensors "$T/f/out-00002-of-00003.gguf")" = 4
echo keep >"$T/f/merged.gguf"
expect_err merge_exists 1 "merged.gguf'?: output file exists" "$S" --merge "$T/f/out-00001-of-00003.gguf" "$T/f/merged.gguf"
check merge_exists_untouched test "$(cat "$T/f/merged.gguf")" = keep
expect merge_force 0 "$S" --merge --force "$T/f/out-00001-of-00003.gguf" "$T/f/merged.gguf"
check merge_force_identical cmp "$T/in.gguf" "$T/f/merged.gguf"
# never an input, --force or not
expect_err merge_onto_shard 1 "overwrite an input" "$S" --merge --force "$T/f/out-00001-of-00003.gguf" "$T/f/out-00002-of-00003.gguf"
check merge_onto_shard_kept test "$(ntensors "$T/f/out-00002-of-00003.gguf")" = 4
"$S" --split-max-tensors 100 "$T/in.gguf" "$T/f/x" 2>/dev/null
cp "$T/f/x-00001-of-00001.gguf" "$T/x.bak"
expect_err split_onto_input 1 "x-00001-of-00001.gguf'?: output would overwrite an input" \
    "$S" --force --split-max-tensors 100 "$T/f/x-00001-of-00001.gguf" "$T/f/x"
check split_onto_input_kept cmp "$T/x.bak" "$T/f/x-00001-of-00001.gguf"
check no_tmp_after_refusals no_leftovers

# ---------------------------------------------------------------- failures mid-run leave no partial set
# shard 2's temp file cannot be created (a directory sits on its name): fails while writing
mkdir -p "$T/w1/p-00002-of-00004.gguf.tmp/blocker"
expect_err fail_writing 1 "p-00002-of-00004.gguf" "$S" --split-max-size 1M "$T/sz.gguf" "$T/w1/p"
check fail_writing_no_shards test "$(ls "$T/w1")" = "p-00002-of-00004.gguf.tmp"
# shard 3 cannot be renamed into place (a directory has its name; --force lets the run start):
# shards 1 and 2 are already renamed by then and must be removed again
mkdir -p "$T/w2/p-00003-of-00004.gguf/blocker"
expect_err fail_renaming 1 "p-00003-of-00004.gguf" "$S" --force --split-max-size 1M "$T/sz.gguf" "$T/w2/p"
check fail_renaming_no_shards test "$(ls "$T/w2")" = "p-00003-of-00004.gguf"
check fail_renaming_no_tmp test -z "$(ls "$T/w2" | grep tmp)"

# the disk fills up while shard 3 is written (libgguf's fault hook: ENOSPC after N bytes of one
# writer; shards 1 and 2 are ~0.8 MB and ~0.3 MB, shard 3 ~1.5 MB): shards 1 and 2 are complete
# in their temp files by then, and all of them must go
mkdir "$T/w3"
expect_err fail_disk_full 1 "p-00003-of-00004.gguf.*(No space|space)" \
    env GGUF_FAULT_WRITE_AFTER=1000000 "$S" --split-max-size 1M "$T/sz.gguf" "$T/w3/p"
check fail_disk_full_nothing_left test -z "$(ls -A "$T/w3")"
# and during a merge
expect_err fail_disk_full_merge 1 "merged.gguf.*(No space|space)" \
    env GGUF_FAULT_WRITE_AFTER=1000000 "$S" --merge "$T/s/p-00001-of-00004.gguf" "$T/w3/merged.gguf"
check fail_disk_full_merge_nothing_left test -z "$(ls -A "$T/w3")"

# ---------------------------------------------------------------- inputs that already carry split keys
# a llama-gguf-split merge output (split.no=0, split.tensors.count, split.count=0 at the end)
py make "$T/lm.gguf" --merged-keys 100 160 33 64 48 8 1000 17 320 5
mkdir "$T/k"
expect split_merged_input 0 "$S" --split-max-tensors 4 "$T/lm.gguf" "$T/k/o"
check split_merged_input_kvs cmp -s "$T/want1" <(kv_lines "$T/k/o-00001-of-00003.gguf")
check split_merged_input_bytes same_as_llama "$T/k/o" "$T/lm.gguf" 4 4 2
expect merge_merged_input 0 "$S" --merge "$T/k/o-00001-of-00003.gguf" "$T/k/merged.gguf"
check merge_merged_input_identical cmp "$T/in.gguf" "$T/k/merged.gguf"
expect_err merge_of_merged 1 "lm.gguf'?: split.count is 0" "$S" --merge "$T/lm.gguf" "$T/k/x.gguf"
# re-split a set (given its first shard, the set is the input) with another limit
mkdir "$T/r"
expect resplit_set 0 "$S" --split-max-tensors 3 "$T/a/out-00001-of-00003.gguf" "$T/r/o"
check resplit_counts test "$(for f in $(shards "$T/r/o"); do ntensors "$f"; done | tr '\n' ' ')" = "3 3 3 1 "
check resplit_kvs cmp -s <(sed 's/split.count u16 3/split.count u16 4/' "$T/want1") <(kv_lines "$T/r/o-00001-of-00004.gguf")
expect merge_resplit 0 "$S" --merge "$T/r/o-00001-of-00004.gguf" "$T/r/merged.gguf"
check merge_resplit_identical cmp "$T/in.gguf" "$T/r/merged.gguf"

# ---------------------------------------------------------------- sets written in other key orders
for order in py front; do
    mkdir "$T/o_$order"
    for f in $(shards "$T/a/out"); do py rewrite "$f" "$T/o_$order/$(basename "$f")" --order $order; done
    expect merge_order_$order 0 "$S" --merge "$T/o_$order/out-00001-of-00003.gguf" "$T/o_$order/merged.gguf"
    check merge_order_${order}_identical cmp "$T/in.gguf" "$T/o_$order/merged.gguf"
done
check order_py_really_differs test "$(kv_lines "$T/o_py/out-00002-of-00003.gguf" | tail -1)" = "kv split.tensors.count i32 10"

# ---------------------------------------------------------------- defects of a set: exit 1, one line naming the file, no output
# fresh copy of the good set in $T/x; each case breaks one thing
defect() {  # defect NAME REGEX SETUP...  (SETUP runs in $T/x on a fresh copy)
    local name=$1 re=$2; shift 2
    rm -rf "$T/x"; cp -r "$T/a" "$T/x"; rm -f "$T/x/merged.gguf"
    (cd "$T/x" && "$@")
    expect_err "$name" 1 "$re" "$S" --merge "$T/x/out-00001-of-00003.gguf" "$T/x/merged.gguf"
    check "${name}_no_output" test ! -e "$T/x/merged.gguf"
    check "${name}_no_tmp" no_leftovers
}
rw() { py rewrite "$1" "$1.new" "${@:2}" && mv "$1.new" "$1"; }
defect missing_shard "out-00002-of-00003.gguf'?: missing shard 2 of 3" rm out-00002-of-00003.gguf
defect missing_last "out-00003-of-00003.gguf'?: missing shard 3 of 3" rm out-00003-of-00003.gguf
defect duplicated_shard "out-00003-of-00003.gguf'?: split.no is 1" cp out-00002-of-00003.gguf out-00003-of-00003.gguf
defect wrong_split_no "out-00002-of-00003.gguf'?: split.no is 2" rw out-00002-of-00003.gguf --set split.no=u16:2
defect wrong_split_count "out-00002-of-00003.gguf'?: split.count is 4" rw out-00002-of-00003.gguf --set split.count=u16:4
defect wrong_count_type "out-00003-of-00003.gguf'?: split.count has type u32" rw out-00003-of-00003.gguf --set split.count=u32:3
defect no_split_keys "out-00002-of-00003.gguf'?: no split.no key" rw out-00002-of-00003.gguf --del split.no
defect wrong_tensor_total "out-00002-of-00003.gguf'?: split.tensors.count is 11" rw out-00002-of-00003.gguf --set split.tensors.count=i32:11
all_eleven() { for f in out-0000?-of-00003.gguf; do rw "$f" --set split.tensors.count=i32:11; done; }
defect tensor_total_vs_shards "out-00001-of-00003.gguf'?: split.tensors.count is 11 but the 3 shards hold 10" all_eleven
defect duplicated_tensor "out-00003-of-00003.gguf'?: tensor 'blk.0.weight' is also in '.*out-00001-of-00003.gguf'" \
    rw out-00003-of-00003.gguf --rename blk.8.weight=blk.0.weight
defect truncated_shard "out-00002-of-00003.gguf" truncate -s -100 out-00002-of-00003.gguf
defect truncated_header "out-00003-of-00003.gguf" truncate -s 40 out-00003-of-00003.gguf
defect garbage_shard "out-00002-of-00003.gguf" sh -c 'head -c 4096 /dev/zero >out-00002-of-00003.gguf'
# a first shard from another model (9 tensors in 3 shards) among this set's shards
py make "$T/other.gguf" --seed 7 --prefix other 10 20 30 40 50 60 70 80 90
mkdir "$T/oth"
"$S" --split-max-tensors 4 "$T/other.gguf" "$T/oth/out" >/dev/null 2>&1
defect foreign_first "out-00002-of-00003.gguf'?: split.tensors.count is 10, expected 9" cp "$T/oth/out-00001-of-00003.gguf" .
# wrong file given as first
rm -rf "$T/x"; cp -r "$T/a" "$T/x"; rm -f "$T/x/merged.gguf"
expect_err merge_second_given 1 "out-00002-of-00003.gguf'?: split.no is 1: give the first shard" \
    "$S" --merge "$T/x/out-00002-of-00003.gguf" "$T/x/merged.gguf"
expect_err merge_unsplit_given 1 "in.gguf'?: no split.count key" "$S" --merge "$T/in.gguf" "$T/x/merged.gguf"
cp "$T/x/out-00001-of-00003.gguf" "$T/x/renamed.gguf"
expect_err merge_bad_name 1 "renamed.gguf'?: name does not end in -00001-of-00003.gguf" \
    "$S" --merge "$T/x/renamed.gguf" "$T/x/merged.gguf"
cp "$T/x/out-00001-of-00003.gguf" "$T/x/out-00001-of-00004.gguf"
expect_err merge_count_vs_name 1 "out-00001-of-00004.gguf'?: name does not end in -00001-of-00003.gguf" \
    "$S" --merge "$T/x/out-00001-of-00004.gguf" "$T/x/merged.gguf"
check merge_wrong_first_no_output test ! -e "$T/x/merged.gguf"

# ---------------------------------------------------------------- real llama-quantize outputs
# FILE:COUNTS - the tensors per shard of --split-max-tensors 2 (6 and 3 tensors)
for gc in "fallback-q80:2 2 2" "edge-q4km:2 1"; do
    g=${gc%%:*} counts=${gc#*:}
    mkdir "$T/g_$g"
    expect real_split_$g 0 "$S" --split-max-tensors 2 "$TD/golden-quant/$g.gguf" "$T/g_$g/p"
    py dump "$TD/golden-quant/$g.gguf" --no-offsets | grep '^tensor ' >"$T/want_$g"
    check real_tensors_$g cmp -s "$T/want_$g" <(set_tensors "$T/g_$g/p")
    check real_bytes_$g same_as_llama "$T/g_$g/p" "$TD/golden-quant/$g.gguf" $counts
    first=$(shards "$T/g_$g/p" | head -1)
    expect real_merge_$g 0 "$S" --merge "$first" "$T/g_$g/merged.gguf"
    check real_roundtrip_$g cmp "$TD/golden-quant/$g.gguf" "$T/g_$g/merged.gguf"
    mkdir "$T/gs_$g"
    expect real_split_size_$g 0 "$S" --split-max-size 1M --no-tensor-first-split "$TD/golden-quant/$g.gguf" "$T/gs_$g/p"
    expect real_merge_size_$g 0 "$S" --merge "$(shards "$T/gs_$g/p" | head -1)" "$T/gs_$g/merged.gguf"
    check real_roundtrip_size_$g cmp "$TD/golden-quant/$g.gguf" "$T/gs_$g/merged.gguf"
done
# a real vocab-only file (no tensors; its writer did not pad the end): one shard, KVs intact;
# the merge pads the metadata to 32 as every current writer does, and is otherwise identical
gzip -dc "$TD/real-gguf/ggml-vocab-llama-spm.gguf.gz" >"$T/spm.gguf"
mkdir "$T/v"
expect real_vocab_split 0 "$S" "$T/spm.gguf" "$T/v/p"
check real_vocab_one_shard test "$(nshards "$T/v/p")" = 1
{ kv_lines "$T/spm.gguf"; printf 'kv split.no u16 0\nkv split.tensors.count i32 0\nkv split.count u16 1\n'; } >"$T/wantv"
check real_vocab_kvs cmp -s "$T/wantv" <(kv_lines "$T/v/p-00001-of-00001.gguf")
expect real_vocab_merge 0 "$S" --merge "$T/v/p-00001-of-00001.gguf" "$T/v/merged.gguf"
vs=$(stat -c %s "$T/spm.gguf")
check real_vocab_merge_prefix cmp -n "$vs" "$T/spm.gguf" "$T/v/merged.gguf"
check real_vocab_merge_padded test "$(stat -c %s "$T/v/merged.gguf")" = $(( (vs + 31) / 32 * 32 ))
check real_vocab_merge_zeros test -z "$(tail -c +$((vs + 1)) "$T/v/merged.gguf" | tr -d '\0')"
check no_tmp_at_end no_leftovers
