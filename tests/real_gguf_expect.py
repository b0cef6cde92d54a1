#!/usr/bin/env python3
# Independent GGUF parser (plain struct.unpack) that printed the expected values used in
# tests/test_gguf_real.c. Usage: python3 tests/real_gguf_expect.py FILE.gguf...
import struct, sys
def parse(path):
    b = open(path,'rb').read()
    pos = 0
    def rd(fmt):
        nonlocal pos
        v = struct.unpack_from('<'+fmt, b, pos); pos += struct.calcsize('<'+fmt); return v[0]
    def rs():
        n = rd('Q'); nonlocal pos
        s = b[pos:pos+n]; pos += n; return s
    fixed = {0:'B',1:'b',2:'H',3:'h',4:'I',5:'i',6:'f',7:'?',10:'Q',11:'q',12:'d'}
    def val(t):
        if t in fixed: return rd(fixed[t])
        if t == 8: return rs()
        if t == 9:
            et = rd('i'); n = rd('Q')
            return ('arr', et, [val(et) for _ in range(n)])
        raise ValueError(t)
    assert b[:4] == b'GGUF'; pos = 4
    ver = rd('I'); nt = rd('q'); nkv = rd('q')
    kvs = []
    for _ in range(nkv):
        k = rs().decode(); t = rd('i'); kvs.append((k, t, val(t)))
    return ver, nt, kvs, len(b)
for p in sys.argv[1:]:
    ver, nt, kvs, size = parse(p)
    print('==', p, 'version', ver, 'n_tensors', nt, 'n_kv', len(kvs), 'size', size)
    for k, t, v in kvs:
        if isinstance(v, tuple):
            _, et, arr = v
            print(' ', k, 'arr', et, len(arr), [arr[i] for i in (0, 1, len(arr)//2, len(arr)-1)] if arr else [])
        else:
            print(' ', k, t, v if not isinstance(v, bytes) or len(v) < 80 else v[:80])
print('--- aggregates')
for p in sys.argv[1:]:
    ver, nt, kvs, size = parse(p)
    d = {k: v for k, t, v in kvs}
    toks = d['tokenizer.ggml.tokens'][2]
    tt = d['tokenizer.ggml.token_type'][2]
    m = d.get('tokenizer.ggml.merges')
    print(p.split('/')[-1], 'tokbytes', sum(len(x) for x in toks), 'ttsum', sum(tt), 'tok[100]', toks[100], 'tok[1000]', toks[1000],
          'merges', (len(m[2]), sum(len(x) for x in m[2]), m[2][1000]) if m else None,
          'scores[1000]', d['tokenizer.ggml.scores'][2][1000] if 'tokenizer.ggml.scores' in d else None)
