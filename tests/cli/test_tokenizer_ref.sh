# Cross-check of verify/tokenizer.c's expectations by the independent pure-Python tokenizer in
# tests/ref/ (stdlib only, Debian's /usr/bin/python3): llama.cpp's vectors, the WikiText-2 token
# count and checksum that tests/test_tokenizer.c asserts, and the committed random vectors.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -x "$PY" ]; then
    skip reference "no $PY"
    exit 0
fi
gzip -dc "$TD/qwen/tokenizer.json.gz" > "$T/tokenizer.json"
gzip -dc "$TD/wikitext-2/wiki.test.raw.gz" > "$T/wiki.test.raw"
run "$PY" "$top/tests/ref/qwen2_tokenize.py" "$T/tokenizer.json" "$T/wiki.test.raw" \
    --vectors "$TD/vocab-tests/qwen2.inp" "$TD/vocab-tests/qwen2.out"
check llama_vectors grep -qx 'vectors 46/46' "$T/.out"
n=$(sed -n 's/^#define WIKI_N_TOKENS *\([0-9]*\)ull.*/\1/p' "$top/tests/test_tokenizer.c")
h=$(sed -n 's/^#define WIKI_FNV *0x\([0-9a-f]*\)ull.*/\1/p' "$top/tests/test_tokenizer.c")
check wikitext_matches_c_expectation grep -qx "tokens $n fnv1a64 $h" "$T/.out"
run "$PY" "$top/tests/ref/gen_random_vectors.py" "$T/tokenizer.json" "$T/rnd" 400
check random_vectors_reproducible cmp -s "$T/rnd.inp" "$TD/vocab-tests/qwen2-random.inp"
check random_ids_reproducible cmp -s "$T/rnd.out" "$TD/vocab-tests/qwen2-random.out"
