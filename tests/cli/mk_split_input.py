#!/usr/bin/env python3
"""GGUF fixtures for the gguf-split tests: an independent writer/reader in plain Python (struct only).

  mk_split_input.py make OUT [--seed S] [--prefix P] [--merged-keys] [--header-only] N[:NAME] ...
      A GGUF v3 file with KVs of every scalar type, a u32 general.alignment = 32, an i32 array and a
      string array, then one F32 tensor per argument with N elements (2-D [16, N/16] when 16 | N),
      filled with seeded random bytes, laid out contiguously and padded to 32 like llama.cpp.
      --merged-keys appends split.no=0, split.tensors.count, split.count=0 (a llama-gguf-split
      merge output). --header-only stops at the start of the data section (the bench appends data).
  mk_split_input.py dump FILE [--no-offsets]
      One line per header field, KV (key, type, value) and tensor (name, dims, type, offset,
      sha256 of its data); checks the layout rules of FORMATS.md 1.3 on the way.
  mk_split_input.py rewrite IN OUT [--order py|front] [--set KEY=TYPE:VALUE] [--del KEY]
                               [--rename OLD=NEW]
      Re-emit IN with changes: --order py puts the split keys in gguf-py's order (no, count,
      tensors.count) at the end, --order front moves them before every other KV; --set changes or
      adds a KV (TYPE u16/i32/u32/str); --rename renames a tensor. Tensor data is copied.
  mk_split_input.py llama-shards IN PREFIX N1 N2 ...
      The shards llama-gguf-split writes for IN when its split rule puts N1, N2, ... tensors into
      the shards (FORMATS.md 4.3): first shard = IN's KVs (old split.* dropped) + split.no u16,
      split.tensors.count i32, split.count u16; later shards only those three; tensor infos with
      ggml_n_dims (trailing 1s dropped), data padded to 32. For byte comparison with gguf-split.
"""
import hashlib
import random
import struct
import sys

T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64 = range(13)
FMT = {T_U8: '<B', T_I8: '<b', T_U16: '<H', T_I16: '<h', T_U32: '<I', T_I32: '<i', T_F32: '<f',
       T_BOOL: '<?', T_U64: '<Q', T_I64: '<q', T_F64: '<d'}
TNAME = {T_U8: 'u8', T_I8: 'i8', T_U16: 'u16', T_I16: 'i16', T_U32: 'u32', T_I32: 'i32', T_F32: 'f32',
         T_BOOL: 'bool', T_STR: 'str', T_ARR: 'arr', T_U64: 'u64', T_I64: 'i64', T_F64: 'f64'}
ALIGN = 32
SPLIT_KEYS = ('split.no', 'split.count', 'split.tensors.count')


def pad(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def enc_str(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack('<Q', len(b)) + b


def enc_value(t, v):
    if t == T_STR:
        return enc_str(v)
    if t == T_ARR:
        et, items = v
        out = struct.pack('<iQ', et, len(items))
        return out + b''.join(enc_value(et, x) for x in items)
    return struct.pack(FMT[t], v)


class Gguf:
    """kvs: list of (key, type, value); tensors: list of dict(name, ne, type, data)."""

    def __init__(self):
        self.kvs, self.tensors = [], []

    def header(self):
        out = [b'GGUF', struct.pack('<IqQ', 3, len(self.tensors), len(self.kvs))]
        for k, t, v in self.kvs:
            out += [enc_str(k), struct.pack('<i', t), enc_value(t, v)]
        off = 0
        for ti in self.tensors:
            out += [enc_str(ti['name']), struct.pack('<I', len(ti['ne'])),
                    b''.join(struct.pack('<q', n) for n in ti['ne']), struct.pack('<iQ', ti['type'], off)]
            off += pad(ti['nbytes'])
        h = b''.join(out)
        return h + b'\0' * (pad(len(h)) - len(h))

    def write(self, path, header_only=False):
        with open(path, 'wb') as f:
            f.write(self.header())
            if header_only:
                return
            for ti in self.tensors:
                f.write(ti['data'])
                f.write(b'\0' * (pad(ti['nbytes']) - ti['nbytes']))


class Reader:
    def __init__(self, buf, pos=0):
        self.b, self.p = buf, pos

    def take(self, n):
        if self.p + n > len(self.b):
            raise ValueError('truncated at offset %d' % self.p)
        r = self.b[self.p:self.p + n]
        self.p += n
        return r

    def u(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def s(self):
        return self.take(self.u('<Q')).decode('utf-8', 'surrogateescape')

    def value(self, t):
        if t == T_STR:
            return self.s()
        if t == T_ARR:
            et, n = self.u('<i'), self.u('<Q')
            return (et, [self.value(et) for _ in range(n)])
        return self.u(FMT[t])


def type_bytes(ttype, ne):
    n = 1
    for x in ne:
        n *= x
    sizes = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 12: (256, 144), 14: (256, 210),
             6: (32, 22), 2: (32, 18), 24: (1, 1), 26: (1, 4)}
    if ttype not in sizes:
        raise ValueError('type %d not known to this script' % ttype)
    blk, bb = sizes[ttype]
    return n // blk * bb


def load(path):
    buf = open(path, 'rb').read()
    r = Reader(buf)
    if r.take(4) != b'GGUF':
        raise ValueError('bad magic')
    g = Gguf()
    g.version = r.u('<I')
    nt, nkv = r.u('<q'), r.u('<q')
    for _ in range(nkv):
        k = r.s()
        t = r.u('<i')
        g.kvs.append((k, t, r.value(t)))
    for _ in range(nt):
        name = r.s()
        nd = r.u('<I')
        ne = [r.u('<q') for _ in range(nd)]
        g.tensors.append({'name': name, 'ne': ne, 'type': r.u('<i'), 'offset': r.u('<Q')})
    g.data_start = pad(r.p)
    if any(buf[r.p:g.data_start]):
        raise ValueError('non-zero header padding')
    off = 0
    for ti in g.tensors:
        ti['nbytes'] = type_bytes(ti['type'], ti['ne'])
        if ti['offset'] != off:
            raise ValueError("tensor '%s' has offset %d, expected %d" % (ti['name'], ti['offset'], off))
        a = g.data_start + off
        ti['data'] = buf[a:a + ti['nbytes']]
        if len(ti['data']) != ti['nbytes']:
            raise ValueError("tensor '%s' data truncated" % ti['name'])
        if any(buf[a + ti['nbytes']:a + pad(ti['nbytes'])]):
            raise ValueError("non-zero padding after '%s'" % ti['name'])
        off += pad(ti['nbytes'])
    g.size = len(buf)
    # old writers end a file without tensors right after the KVs, unpadded
    if g.size != g.data_start + off and (nt or g.size != r.p):
        raise ValueError('file is %d bytes, layout says %d' % (g.size, g.data_start + off))
    return g


def fmt_value(t, v):
    if t == T_ARR:
        et, items = v
        h = hashlib.sha256(repr(items).encode()).hexdigest()[:12]
        return 'arr[%s] n=%d sha=%s' % (TNAME.get(et, '?'), len(items), h)
    if t == T_STR:
        return repr(v) if len(v) < 80 else 'str len=%d' % len(v)
    if t == T_F32 or t == T_F64:
        return repr(v)
    return str(v)


def cmd_make(args):
    out, seed, prefix, merged, header_only, specs = None, 1, 'blk', False, False, []
    i = 0
    while i < len(args):
        a = args[i]
        if a == '--seed':
            seed = int(args[i + 1]); i += 1
        elif a == '--prefix':
            prefix = args[i + 1]; i += 1
        elif a == '--merged-keys':
            merged = True
        elif a == '--header-only':
            header_only = True
        elif out is None:
            out = a
        else:
            specs.append(a)
        i += 1
    rnd = random.Random(seed)
    g = Gguf()
    g.kvs = [
        ('general.architecture', T_STR, 'splittest'),
        ('general.name', T_STR, 'split fixture seed %d' % seed),
        ('general.alignment', T_U32, 32),
        ('test.u8', T_U8, 200), ('test.i8', T_I8, -100), ('test.u16', T_U16, 65000),
        ('test.i16', T_I16, -32000), ('test.u32', T_U32, 4000000000), ('test.i32', T_I32, -2000000000),
        ('test.f32', T_F32, 0.5), ('test.bool', T_BOOL, True), ('test.u64', T_U64, 2**63 + 5),
        ('test.i64', T_I64, -2**62), ('test.f64', T_F64, 3.25),
        ('test.arr_i32', T_ARR, (T_I32, [rnd.randrange(-1000, 1000) for _ in range(37)])),
        ('test.arr_str', T_ARR, (T_STR, ['tok%d' % j for j in range(23)] + ['\u00e9\u4e2d', ''])),
        ('test.utf8', T_STR, 'gr\u00fc\u00dfe \U0001f600'),
    ]
    for j, spec in enumerate(specs):
        n, _, name = spec.partition(':')
        n = int(n)
        ne = [16, n // 16] if n % 16 == 0 else [n]
        nbytes = 4 * n
        data = b'' if header_only else rnd.randbytes(nbytes)
        g.tensors.append({'name': name or '%s.%d.weight' % (prefix, j), 'ne': ne, 'type': 0,
                          'nbytes': nbytes, 'data': data})
    if merged:
        g.kvs += [('split.no', T_U16, 0), ('split.tensors.count', T_I32, len(g.tensors)),
                  ('split.count', T_U16, 0)]
    g.write(out, header_only)


def cmd_dump(args):
    g = load(args[0])
    offsets = '--no-offsets' not in args
    print('version %d' % g.version)
    print('n_tensors %d' % len(g.tensors))
    print('n_kv %d' % len(g.kvs))
    for k, t, v in g.kvs:
        print('kv %s %s %s' % (k, TNAME.get(t, '?'), fmt_value(t, v)))
    for ti in g.tensors:
        line = 'tensor %s ne=%s type=%d sha=%s' % (ti['name'], 'x'.join(map(str, ti['ne'])), ti['type'],
                                                   hashlib.sha256(ti['data']).hexdigest()[:16])
        if offsets:
            line += ' offset=%d' % ti['offset']
        print(line)
    if offsets:
        print('data_start %d' % g.data_start)
        print('size %d' % g.size)


def cmd_rewrite(args):
    src, dst = args[0], args[1]
    g = load(src)
    i = 2
    while i < len(args):
        a, v = args[i], args[i + 1]
        i += 2
        if a == '--order':
            split = {k: (k, t, x) for k, t, x in g.kvs if k in SPLIT_KEYS}
            rest = [kv for kv in g.kvs if kv[0] not in SPLIT_KEYS]
            if v == 'py':
                g.kvs = rest + [split[k] for k in SPLIT_KEYS if k in split]
            elif v == 'front':
                g.kvs = [split[k] for k in ('split.no', 'split.tensors.count', 'split.count') if k in split] + rest
            else:
                raise SystemExit('unknown order ' + v)
        elif a == '--set':
            key, _, tv = v.partition('=')
            tn, _, val = tv.partition(':')
            t = {n: c for c, n in TNAME.items()}[tn]
            val = val if t == T_STR else int(val)
            for j, kv in enumerate(g.kvs):
                if kv[0] == key:
                    g.kvs[j] = (key, t, val)
                    break
            else:
                g.kvs.append((key, t, val))
        elif a == '--del':
            g.kvs = [kv for kv in g.kvs if kv[0] != v]
        elif a == '--rename':
            old, _, new = v.partition('=')
            for ti in g.tensors:
                if ti['name'] == old:
                    ti['name'] = new
        else:
            raise SystemExit('unknown option ' + a)
    g.write(dst)


def cmd_llama_shards(args):
    src, prefix, counts = args[0], args[1], [int(x) for x in args[2:]]
    g = load(src)
    if sum(counts) != len(g.tensors):
        raise SystemExit('counts add up to %d, input has %d tensors' % (sum(counts), len(g.tensors)))
    first = 0
    for i, n in enumerate(counts):
        o = Gguf()
        if i == 0:
            o.kvs = [kv for kv in g.kvs if kv[0] not in SPLIT_KEYS]
        o.kvs += [('split.no', T_U16, i), ('split.tensors.count', T_I32, len(g.tensors)),
                  ('split.count', T_U16, len(counts))]
        for ti in g.tensors[first:first + n]:
            ne = list(ti['ne'])
            while len(ne) > 1 and ne[-1] == 1:
                ne.pop()
            o.tensors.append(dict(ti, ne=ne))
        first += n
        o.write('%s-%05d-of-%05d.gguf' % (prefix, i + 1, len(counts)))


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    cmd = {'make': cmd_make, 'dump': cmd_dump, 'rewrite': cmd_rewrite,
           'llama-shards': cmd_llama_shards}.get(sys.argv[1])
    if not cmd:
        raise SystemExit(__doc__)
    try:
        cmd(sys.argv[2:])
    except ValueError as e:
        raise SystemExit('%s: %s' % (sys.argv[2], e))


if __name__ == '__main__':
    main()
