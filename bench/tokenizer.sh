#!/bin/sh
# Tokenizer speed on the WikiText-2 test split (1.29 MB, 299,078 tokens): verify/tokenizer.c
# (through the wikitext2 case of build/tests/test_tokenizer, which prints its timings) against the
# independent pure-Python reference tests/ref/qwen2_tokenize.py measured in the same run.
# Prints "name: value" lines for bench/run.sh.
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
B="$TOP/${BUILD:-build}/tests/test_tokenizer"
[ -x "$B" ] || { echo "tokenizer: $B not built (make test builds it)"; exit 1; }
T=$(mktemp -d "${BENCH_TMP:-/tmp}/bench-tok.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
gzip -dc "$TOP/testdata/qwen/tokenizer.json.gz" > "$T/tokenizer.json"
gzip -dc "$TOP/testdata/wikitext-2/wiki.test.raw.gz" > "$T/wiki.test.raw"
out=$(TH_TESTDATA="$TOP/testdata" TH_TMP="$T" "$B" wikitext2)
echo "$out" | grep -q '^PASS' || { echo "$out"; exit 1; }
load=$(echo "$out" | sed -n 's/.*tokenizer.json loaded in \([0-9.]*\) s.*/\1/p')
mt=$(echo "$out" | sed -n 's/.*encode_mt \([0-9.]*\) s.*/\1/p')
st=$(echo "$out" | sed -n 's/.*, encode \([0-9.]*\) s.*/\1/p')
ntok=$(echo "$out" | sed -n 's/.*wiki.test.raw: \([0-9]*\) tokens.*/\1/p')
echo "tokenizer.json load (s): $load"
echo "wikitext-2 tokens: $ntok"
echo "wikitext-2 encode, 1 thread (s): $st"
echo "wikitext-2 encode, all threads (s): $mt"
if [ -x /usr/bin/python3 ]; then
    t0=$(date +%s.%N)
    /usr/bin/python3 "$TOP/tests/ref/qwen2_tokenize.py" "$T/tokenizer.json" "$T/wiki.test.raw" >/dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v l="$load" -v s="$st" 'BEGIN {
        printf "python reference, load+encode (s): %.3f\n", b - a
        printf "speedup vs python reference, load+encode: %.1fx\n", (b - a) / (l + s) }'
fi
