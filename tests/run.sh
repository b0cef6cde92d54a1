#!/bin/sh
# Runs every unit-test binary (build/tests/test_*) and every CLI test (tests/cli/test_*.sh),
# counts their PASS/FAIL/SKIP lines and ends with "N passed, N failed[, N skipped]".
# A program that crashes or exits non-zero without reporting a FAIL counts as one failure.
# Env: BUILD (default build), TESTS (a grep -E filter on program names), GGUF_TEST_GPU=1.
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export TH_TESTDATA="$top/testdata" TH_BIN="$top/$BUILD/bin" TH_BUILD="$top/$BUILD"
if [ -d "$top/../shared/testdata" ]; then export TH_SHARED="$top/../shared/testdata"; fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
log=$(mktemp -d "${TMPDIR:-/tmp}/gguf-tests.XXXXXX")
pass=0 fail=0 skip=0
for t in "$BUILD"/tests/test_* tests/cli/test_*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t")
    if [ -n "$TESTS" ] && ! echo "$name" | grep -Eq "$TESTS"; then continue; fi
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/gguf-t.XXXXXX")
    start=$(date +%s)
    case "$t" in
        *.sh) TH_TMP="$tmp" bash "$t" >"$log/$name.out" 2>&1 ;;
        *)    TH_TMP="$tmp" "$t" >"$log/$name.out" 2>&1 ;;
    esac
    rc=$?
    secs=$(( $(date +%s) - start ))
    p=$(grep -c '^PASS ' "$log/$name.out"); f=$(grep -c '^FAIL ' "$log/$name.out"); s=$(grep -c '^SKIP ' "$log/$name.out")
    grep -E '^(FAIL|SKIP) ' "$log/$name.out"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exited with status $rc without reporting a failure; last output:"
        tail -20 "$log/$name.out" | sed 's/^/    /'
        f=$((f + 1))
    elif [ "$f" -gt 0 ]; then
        grep -B2 -A8 -E '^(FAIL|ERROR|==[0-9]+==)' "$log/$name.out" | grep -vE '^(PASS) ' | head -40 | sed 's/^/    /'
    fi
    echo "  $name: $p passed, $f failed, $s skipped (${secs}s)"
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    rm -rf "$tmp"
done
rm -rf "$log"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
