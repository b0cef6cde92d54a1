# Fault injection for every tool that writes: a full disk (injected ENOSPC, and a real tiny tmpfs
# where mounting is allowed), SIGINT and SIGKILL while the temp file is half written, and an input
# that shrinks or is rewritten while being read. The rule under test: exit non-zero with a clear
# one-line message, nothing under the final name, no temp file left (except after SIGKILL, where
# the stale OUT.tmp must be recognisable and replaced by the next run).
# Hooks (libgguf/gguf_write.c): GGUF_FAULT_WRITE_AFTER=N fails writes with ENOSPC after N bytes;
# GGUF_FAULT_WRITE_DELAY_MS=N sleeps before every write so a signal lands mid-write.
. "$(dirname "$0")/lib.sh"

F32="$TD/golden-quant/edge-f32.gguf"
mkdir -p "$T/in" "$T/out"
cp "$F32" "$T/in/edge.gguf"

# a small HF model directory for convert (one layer; the real tokenizer needs vocab >= 151669)
"$BIN/gguf-synth" "$T/hf" --hidden 256 --ffn 256 --heads 2 --kv-heads 1 --layers 1 --shards 2 --seed 3 >/dev/null 2>&1 \
    || fail synth "gguf-synth failed"

# nothing_left NAME DIR: no file at all in DIR (neither final nor temp)
nothing_left() {
    left=$(find "$2" -mindepth 1 | head -5)
    if [ -z "$left" ]; then pass "$1"; else fail "$1" "left behind: $left"; fi
}

# each writer: name, output path (or prefix), command
writers() {
    echo "convert|$T/out/c.gguf|$BIN/gguf-convert $T/hf -o $T/out/c.gguf -q"
    echo "quantize|$T/out/q.gguf|$BIN/gguf-quantize -q $T/in/edge.gguf $T/out/q.gguf q8_0 1"
    echo "split|$T/out/s|$BIN/gguf-split --split-max-tensors 1 $T/in/edge.gguf $T/out/s"
    echo "merge|$T/out/m.gguf|$BIN/gguf-split --merge $T/set/edge-00001-of-00003.gguf $T/out/m.gguf"
}
mkdir -p "$T/set"
"$BIN/gguf-split" --split-max-tensors 1 "$T/in/edge.gguf" "$T/set/edge" >/dev/null 2>&1 || fail mkset "split failed"

writers | while IFS='|' read -r name out cmd; do
    rm -rf "$T/out"; mkdir -p "$T/out"
    # 1. injected ENOSPC after 4 KiB
    GGUF_FAULT_WRITE_AFTER=4096 run $cmd
    n=$(grep -c '' "$T/.err")
    if [ "$rc" = 1 ] && [ "$n" = 1 ] && grep -q "No space left on device" "$T/.err"; then pass "enospc_$name"
    else fail "enospc_$name" "exit $rc, $n lines: $(head -c 300 "$T/.err")"; fi
    nothing_left "enospc_${name}_no_output" "$T/out"

    # 2. SIGINT while the temp file is being written
    rm -rf "$T/out"; mkdir -p "$T/out"
    GGUF_FAULT_WRITE_DELAY_MS=300 $cmd >/dev/null 2>"$T/.err" &
    pid=$!
    i=0; while [ $i -lt 300 ] && [ -z "$(find "$T/out" -name '*.tmp' | head -1)" ]; do sleep 0.02; i=$((i + 1)); done
    sawtmp=$(find "$T/out" -name '*.tmp' | head -1)
    kill -INT $pid 2>/dev/null; wait $pid; rc=$?
    if [ -n "$sawtmp" ] && [ "$rc" = 130 ] && grep -q "interrupted" "$T/.err"; then pass "sigint_$name"
    else fail "sigint_$name" "tmp seen '$sawtmp', exit $rc: $(head -c 200 "$T/.err")"; fi
    nothing_left "sigint_${name}_no_output" "$T/out"

    # 3. SIGKILL mid-write: nothing under the final name; the stale OUT.tmp is replaced by the next run
    rm -rf "$T/out"; mkdir -p "$T/out"
    GGUF_FAULT_WRITE_DELAY_MS=300 $cmd >/dev/null 2>&1 &
    pid=$!
    i=0; while [ $i -lt 300 ] && [ -z "$(find "$T/out" -name '*.tmp' | head -1)" ]; do sleep 0.02; i=$((i + 1)); done
    kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
    finals=$(find "$T/out" -name '*.gguf' | head -3)
    stale=$(find "$T/out" -name '*.gguf.tmp' | head -1)
    if [ -z "$finals" ] && [ -n "$stale" ]; then pass "sigkill_${name}_no_final"
    else fail "sigkill_${name}_no_final" "finals '$finals', stale '$stale'"; fi
    run $cmd
    left=$(find "$T/out" -name '*.tmp' | head -1)
    if [ "$rc" = 0 ] && [ -z "$left" ]; then pass "sigkill_${name}_next_run_cleans"
    else fail "sigkill_${name}_next_run_cleans" "exit $rc, tmp '$left': $(head -c 200 "$T/.err")"; fi
    for g in $(find "$T/out" -name '*-00001-of-*.gguf' -o -name '*.gguf' ! -name '*-0000[2-9]-of-*' | head -1); do
        check "sigkill_${name}_output_valid" "$BIN/gguf-inspect" --check "$g"
    done
done

# 4. a real full filesystem: a 256 KiB tmpfs (the output is ~790 KB) (needs mount permission; skipped otherwise)
mkdir -p "$T/small"
if mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
    run "$BIN/gguf-quantize" -q "$T/in/edge.gguf" "$T/small/q.gguf" f32 1
    n=$(grep -c '' "$T/.err")
    if [ "$rc" = 1 ] && [ "$n" = 1 ] && grep -q "No space left on device" "$T/.err"; then pass tmpfs_full
    else fail tmpfs_full "exit $rc: $(head -c 300 "$T/.err")"; fi
    nothing_left tmpfs_full_no_output "$T/small"
    umount "$T/small"
else
    skip tmpfs_full "cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN)"
fi

# 5. the input shrinks while being read: an error naming the problem, not garbage or a crash
rm -rf "$T/out"; mkdir -p "$T/out"
cp "$F32" "$T/in/shrink.gguf"
GGUF_FAULT_WRITE_DELAY_MS=200 "$BIN/gguf-quantize" -q "$T/in/shrink.gguf" "$T/out/q.gguf" q8_0 1 >/dev/null 2>"$T/.err" &
pid=$!
i=0; while [ $i -lt 300 ] && [ ! -e "$T/out/q.gguf.tmp" ]; do sleep 0.02; i=$((i + 1)); done
truncate -s 4096 "$T/in/shrink.gguf"
wait $pid; rc=$?
n=$(grep -c '' "$T/.err")
if [ "$rc" = 1 ] && [ "$n" = 1 ] && grep -Eq "shrank|changed|modified|ends early" "$T/.err"; then pass input_shrinks
else fail input_shrinks "exit $rc, $n lines: $(head -c 300 "$T/.err")"; fi
nothing_left input_shrinks_no_output "$T/out"

# 6. the input is rewritten in place (same size) while being read: detected by its mtime
rm -rf "$T/out"; mkdir -p "$T/out"
cp "$F32" "$T/in/rewrite.gguf"
GGUF_FAULT_WRITE_DELAY_MS=200 "$BIN/gguf-quantize" -q "$T/in/rewrite.gguf" "$T/out/q.gguf" q8_0 1 >/dev/null 2>"$T/.err" &
pid=$!
i=0; while [ $i -lt 300 ] && [ ! -e "$T/out/q.gguf.tmp" ]; do sleep 0.02; i=$((i + 1)); done
# four zero bytes: still a finite float, so only the mtime check can notice
dd if=/dev/zero of="$T/in/rewrite.gguf" bs=1 count=4 seek=100000 conv=notrunc 2>/dev/null
wait $pid; rc=$?
if [ "$rc" = 1 ] && grep -Eq "modified|changed" "$T/.err"; then pass input_rewritten
else fail input_rewritten "exit $rc: $(head -c 300 "$T/.err")"; fi
nothing_left input_rewritten_no_output "$T/out"
