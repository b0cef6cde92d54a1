# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) and runs each for FUZZ_SECONDS (default 20)
# over its seed corpus. Only when GGUF_TEST_FUZZ=1 (CI sets it); otherwise SKIP.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${GGUF_TEST_FUZZ:-0}" != 1 ]; then skip fuzz "set GGUF_TEST_FUZZ=1 to run the fuzzers"; exit 0; fi
if ! command -v clang >/dev/null; then skip fuzz "clang not installed"; exit 0; fi
n=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    h=$(basename "$src" .c); n=$((n + 1))
    if ! make -s -C "$top" "build/fuzz/$h" >"$T/build-$h.log" 2>&1; then
        fail "build-$h" "$(tail -5 "$T/build-$h.log" | tr '\n' ' ')"; continue
    fi
    mkdir -p "$T/corpus-$h"
    seeds="$top/tests/fuzz/seeds/${h#fuzz_}"; [ -d "$seeds" ] || seeds=""
    if "$top/build/fuzz/$h" -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -artifact_prefix="$T/" \
        "$T/corpus-$h" $seeds >"$T/$h.log" 2>&1; then
        pass "$h ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$T/$h.log" | grep -o '[0-9]*$') runs)"
    else
        fail "$h" "$(grep -m3 -E 'ERROR|SUMMARY|crash-|leak' "$T/$h.log" | tr '\n' ' ')"
    fi
done
[ "$n" -gt 0 ] || skip fuzz "no harnesses yet"
