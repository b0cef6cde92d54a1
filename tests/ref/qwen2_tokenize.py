#!/usr/bin/python3
"""Independent reference for verify/tokenizer.c: a Qwen2 byte-level BPE tokenizer in pure Python
(stdlib only: json, re, unicodedata), written separately from the C code and with another
algorithm, to cross-check the expected WikiText-2 token count and checksum in
tests/test_tokenizer.c.

Differences from the C implementation on purpose:
  * the pre-tokenizer regex runs on Python's `re`, with \\p{L}, \\p{N} and \\s spelled out as
    explicit character classes built from unicodedata (PCRE2 is not used);
  * BPE is OpenAI's original GPT-2 loop on strings (merge every occurrence of the best bigram per
    pass), not a heap over ids;
  * the checksum is computed here from the ids alone.

Usage: /usr/bin/python3 tests/ref/qwen2_tokenize.py tokenizer.json [text-file] [--vectors inp out]
Prints "tokens N fnv1a64 HEX" for the text file; with --vectors, checks llama.cpp's vectors.
"""
import json
import re
import sys
import unicodedata


def char_class(pred):
    """A regex character-class body ('a-z...') for every code point where pred(cp) holds."""
    out, start = [], None
    for cp in range(0x110000 + 1):
        ok = cp < 0x110000 and not (0xD800 <= cp <= 0xDFFF) and pred(cp)
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            a, b = start, cp - 1
            out.append(re.escape(chr(a)) if a == b else re.escape(chr(a)) + '-' + re.escape(chr(b)))
            start = None
    return ''.join(out)


def build_regex():
    cat = unicodedata.category
    L = char_class(lambda c: cat(chr(c)).startswith('L'))
    N = char_class(lambda c: cat(chr(c)).startswith('N'))
    # PCRE2 with UCP: \s is \p{Z} plus \h and \v (tab, LF, VT, FF, CR, NEL, U+180E)
    S = char_class(lambda c: cat(chr(c)) in ('Zs', 'Zl', 'Zp') or c in (9, 10, 11, 12, 13, 0x85, 0x180E))
    pat = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
           r"|[^\r\n" + L + N + r"]?[" + L + r"]+"
           r"|[" + N + r"]"
           r"| ?[^" + S + L + N + r"]+[\r\n]*"
           r"|[" + S + r"]*[\r\n]+"
           r"|[" + S + r"]+(?![^" + S + r"])"
           r"|[" + S + r"]+")
    return re.compile(pat)


def bytes_to_unicode():
    keep = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    m, n = {}, 0
    for b in range(256):
        if b in keep:
            m[b] = chr(b)
        else:
            m[b] = chr(256 + n)
            n += 1
    return m


class Qwen2Ref:
    def __init__(self, path):
        j = json.load(open(path, encoding='utf-8'))
        self.vocab = j['model']['vocab']
        self.ranks = {}
        for i, m in enumerate(j['model']['merges']):
            a, b = m.split(' ', 1) if isinstance(m, str) else m
            self.ranks.setdefault((a, b), i)
        self.added = {}
        for a in j['added_tokens']:
            c = a['content']
            control = a.get('special') or (c.startswith('<|') and c.endswith('|>'))
            self.added[c] = (a['id'], control)
        self.b2u = bytes_to_unicode()
        self.re = build_regex()
        self.cache = {}

    def bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            pairs = set(zip(parts, parts[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float('inf')))
            if best not in self.ranks:
                break
            a, b = best
            new, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    new.append(a + b)
                    i += 2
                else:
                    new.append(parts[i])
                    i += 1
            parts = new
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode_plain(self, text):
        text = unicodedata.normalize('NFC', text)
        ids, pos = [], 0
        for m in self.re.finditer(text):
            pieces = [text[pos:m.start()]] if m.start() > pos else []
            pieces.append(m.group(0))
            pos = m.end()
            for p in pieces:
                ids += self.bpe(''.join(self.b2u[b] for b in p.encode('utf-8')))
        if pos < len(text):
            ids += self.bpe(''.join(self.b2u[b] for b in text[pos:].encode('utf-8')))
        return ids

    def encode(self, text, parse_special=False):
        """Added tokens first (longest match; CONTROL ones only with parse_special)."""
        toks = sorted((c for c, (i, ctl) in self.added.items() if parse_special or not ctl), key=len, reverse=True)
        if not toks:
            return self.encode_plain(text)
        split = re.compile('(' + '|'.join(re.escape(t) for t in toks) + ')')
        ids = []
        for k, seg in enumerate(split.split(text)):
            if k % 2:
                ids.append(self.added[seg][0])
            elif seg:
                ids += self.encode_plain(seg)
        return ids


def fnv1a64(ids):
    h = 0xcbf29ce484222325
    for i in ids:
        for k in range(4):
            h ^= (i >> (8 * k)) & 0xFF
            h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    tok = Qwen2Ref(argv[1])
    rc = 0
    if '--vectors' in argv:
        k = argv.index('--vectors')
        inp = open(argv[k + 1], encoding='utf-8').read()
        out = open(argv[k + 2], encoding='utf-8').read().split('\n')
        tests = inp.split('\n__ggml_vocab_test__\n')
        if tests and tests[-1] == '':
            tests.pop()
        ok = sum(tok.encode(t) == [int(x) for x in o.split()] for t, o in zip(tests, out))
        print('vectors %d/%d' % (ok, len(tests)))
        rc = 0 if ok == len(tests) else 1
        argv = argv[:k] + argv[k + 3:]
    if len(argv) > 2:
        text = open(argv[2], 'rb').read().decode('utf-8')
        ids = tok.encode(text)
        print('tokens %d fnv1a64 %016x' % (len(ids), fnv1a64(ids)))
    return rc


if __name__ == '__main__':
    sys.exit(main(sys.argv))
