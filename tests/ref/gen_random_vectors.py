#!/usr/bin/python3
"""Write random tokenizer vectors in llama.cpp's .inp/.out layout, tokenized by the independent
pure-Python reference (qwen2_tokenize.py). Deterministic (fixed seed). The inputs mix what is hard
for a byte-level BPE: contractions in odd case, digits of several scripts, decomposed accents (NFC),
Hangul jamo, CJK, emoji ZWJ sequences, CR/LF/tab runs, no-break and other Unicode spaces, long
letter runs, punctuation clusters. Added tokens are left out (their policy is tested in C).

Usage: /usr/bin/python3 tests/ref/gen_random_vectors.py tokenizer.json OUT_PREFIX [N]
"""
import random
import sys

sys.path.insert(0, __file__.rsplit('/', 1)[0])
from qwen2_tokenize import Qwen2Ref  # noqa: E402

PIECES = [
    "'s", "'S", "'\u017f", "'t", "'RE", "'ve", "'Ll", "'d", "'m", "'x", "'", "don't", "I'M", "we'VE",
    "3", "42", "2024", "\u0663\u0664", "\u00bd", "\u00b2", "\u2167", "\uff11\uff12", "\u0967",
    "e\u0301", "A\u030a", "o\u0308", "\u1100\u1161\u11a8", "\u00e9", "\u212b",
    "\u6211\u60f3", "\u5728", "\u3053\u3093\u306b\u3061\u306f", "\u0928\u092e\u0938\u094d\u0924\u0947",
    "\U0001f680", "\U0001f636\u200d\U0001f32b\ufe0f", "\U0001f469\U0001f3fd\u200d\U0001f4bb", "\u2705",
    " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", " \n", "\t\n ", "\u00a0", "\u3000", "\u2028",
    "\u2009", "\u200b", "\x0b", "\x0c", "\x85",
    "Hello", "world", "THE", "tokenization", "\u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438",
    "\u03b1\u03b2\u03b3", "\u05e9\u05dc\u05d5\u05dd", "\u0645\u0631\u062d\u0628\u0627", "aaaaaaaaaaaaaaaaaaaaaaaa",
    "!", "...", "?!", "(", ")", "[]", "{}", "--", "==", "@", "#", "$", "%", "&&", "***", "\u2014", "\u00ab", "\u00bb",
    "http://example.com/a?b=c", "x=1;", "\\n", "\"", "``", "~", "\u00ad", "\ufeff",
]


def main(argv):
    tok = Qwen2Ref(argv[1])
    n = int(argv[3]) if len(argv) > 3 else 300
    rnd = random.Random(20261124)
    inputs = []
    for _ in range(n):
        k = rnd.randint(1, 12)
        s = ''.join(rnd.choice(PIECES) for _ in range(k))
        if '\n__ggml_vocab_test__\n' in s:
            continue
        inputs.append(s)
    with open(argv[2] + '.inp', 'w', encoding='utf-8', newline='') as f:
        for s in inputs:
            f.write(s + '\n__ggml_vocab_test__\n')
    with open(argv[2] + '.out', 'w', encoding='utf-8', newline='') as f:
        for s in inputs:
            f.write(''.join(' %d' % i for i in tok.encode(s)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
