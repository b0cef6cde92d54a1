#!/usr/bin/env python3
"""Generate the malformed-GGUF corpus testdata/bad/ (one defect per file) and its manifest
testdata/bad/EXPECTED ("<file> <GGUF_E_CODE>", or "<file> -" for the non-first shards of a
split set, which tools skip). Plain python3, no numpy. Deterministic: re-running rewrites
identical files.

Usage: python3 tests/gen_bad_gguf.py [OUTDIR]   (default: testdata/bad next to tests/)
"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'testdata', 'bad')

# KV value types (FORMATS.md 1.2) and tensor types (1.4)
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
T_F32, T_F16, T_Q8_0 = 0, 1, 8
BLOCK = {T_F32: (1, 4), T_F16: (1, 2), T_Q8_0: (32, 34)}


def u32(v): return struct.pack('<I', v & 0xffffffff)
def i32(v): return struct.pack('<i', v)
def u64(v): return struct.pack('<Q', v & 0xffffffffffffffff)
def i64(v): return struct.pack('<q', v)
def gstr(b):
    if isinstance(b, str):
        b = b.encode()
    return u64(len(b)) + b
def pad(n, a=32): return (n + a - 1) // a * a


def kv(key, t, val): return gstr(key) + i32(t) + val
def kv_str(key, s): return kv(key, STR, gstr(s))
def kv_u32(key, v): return kv(key, U32, u32(v))
def kv_u16(key, v): return kv(key, U16, struct.pack('<H', v))
def kv_i32(key, v): return kv(key, I32, i32(v))
def kv_arr_str(key, items): return kv(key, ARR, i32(STR) + u64(len(items)) + b''.join(gstr(s) for s in items))
def kv_arr_f32(key, vals): return kv(key, ARR, i32(F32) + u64(len(vals)) + b''.join(struct.pack('<f', v) for v in vals))


def nbytes(t, ne):
    be, bb = BLOCK[t]
    n = ne[0] // be * bb
    for d in ne[1:]:
        n *= d
    return n


def tinfo(name, ne, t, off):
    if isinstance(name, str):
        name = name.encode()
    return gstr(name) + u32(len(ne)) + b''.join(i64(d) for d in ne) + i32(t) + u64(off)


def layout(tensors):
    """tensors: [(name, ne, type)] -> [(name, ne, type, offset, size)] contiguous, padded to 32"""
    out, off = [], 0
    for name, ne, t in tensors:
        n = nbytes(t, ne)
        out.append((name, ne, t, off, n))
        off += pad(n)
    return out


def gguf(kvs, tensors, *, version=3, magic=b'GGUF', n_kv=None, n_t=None, offsets=None, infos=None, data=None,
         align=32):
    """Assemble a file. kvs: list of encoded KVs. tensors: [(name, ne, type)]. offsets: override
    the tensor offsets. infos: override the encoded tensor infos entirely."""
    lay = layout(tensors)
    if infos is None:
        infos = [tinfo(n, ne, t, offsets[i] if offsets else off) for i, (n, ne, t, off, sz) in enumerate(lay)]
    head = magic + u32(version) + i64(len(infos) if n_t is None else n_t) + i64(len(kvs) if n_kv is None else n_kv)
    meta = head + b''.join(kvs) + b''.join(infos)
    if not tensors and data is None:
        return meta + b'\0' * (pad(len(meta), align) - len(meta))
    body = meta + b'\0' * (pad(len(meta), align) - len(meta))
    if data is None:
        data = b''
        for i, (n, ne, t, off, sz) in enumerate(lay):
            # finite values: a byte pattern whose fp16/fp32 exponents never reach all-ones
            data += bytes((j * 7 + i) % 64 for j in range(sz)) + b'\0' * (pad(sz) - sz)
    return body + data


BASE_KVS = [kv_str('general.architecture', 'llama'), kv_u32('llama.block_count', 1),
            kv_arr_str('tokenizer.ggml.tokens', ['<s>', 'a', 'bc']), kv_arr_f32('tokenizer.ggml.scores', [0.0, -1.0, -2.0])]
BASE_T = [('tok_embd.weight', [8, 2], T_F32), ('blk.0.attn_q.weight', [32, 2], T_Q8_0), ('output_norm.weight', [4], T_F16)]

files = {}      # name -> bytes
expected = []   # (name, code)


def add(name, data, code):
    assert name not in files, name
    files[name] = data
    expected.append((name, code))


def meta_len(kvs, tensors):
    return 24 + sum(len(k) for k in kvs) + sum(len(tinfo(n, ne, t, 0)) for n, ne, t in tensors)


base = gguf(BASE_KVS, BASE_T)

# ---- bad magic / version
add('magic_bad.gguf', b'GGML' + base[4:], 'GGUF_E_NOT_GGUF')
add('magic_zero.gguf', b'\0\0\0\0' + base[4:], 'GGUF_E_NOT_GGUF')
add('version_0.gguf', gguf(BASE_KVS, BASE_T, version=0), 'GGUF_E_VERSION')
add('version_1.gguf', gguf(BASE_KVS, BASE_T, version=1), 'GGUF_E_VERSION')
add('version_4.gguf', gguf(BASE_KVS, BASE_T, version=4), 'GGUF_E_VERSION')
add('version_bigendian.gguf', gguf(BASE_KVS, BASE_T, version=0x03000000), 'GGUF_E_VERSION')

# ---- truncation at every structural point
add('trunc_magic.gguf', base[:2], 'GGUF_E_TRUNCATED')
add('trunc_empty.gguf', b'', 'GGUF_E_TRUNCATED')
add('trunc_version.gguf', base[:6], 'GGUF_E_TRUNCATED')
add('trunc_n_tensors.gguf', base[:12], 'GGUF_E_TRUNCATED')
add('trunc_n_kv.gguf', base[:20], 'GGUF_E_TRUNCATED')
# a KV-only file, cut inside each part of its KVs (counts stay plausible for the cut size)
kv1 = kv_str('general.architecture', 'llama')
kv2 = kv_u32('llama.block_count', 7)
kv3 = kv_arr_str('tokenizer.ggml.tokens', ['<s>', 'hello', 'world'])
kvonly = gguf([kv1, kv2, kv3], [])
p1 = 24
p2 = p1 + len(kv1)
p3 = p2 + len(kv2)
add('trunc_key_len.gguf', kvonly[:p2 + 4], 'GGUF_E_TRUNCATED')
add('trunc_key.gguf', kvonly[:p2 + 8 + 5], 'GGUF_E_TRUNCATED')
add('trunc_value_type.gguf', kvonly[:p2 + 8 + len('llama.block_count') + 2], 'GGUF_E_TRUNCATED')
add('trunc_value.gguf', kvonly[:p3 - 1], 'GGUF_E_TRUNCATED')
add('trunc_string_value.gguf', kvonly[:p1 + 8 + len('general.architecture') + 4 + 8 + 3], 'GGUF_E_TRUNCATED')
k3 = p3 + 8 + len('tokenizer.ggml.tokens') + 4
add('trunc_array_type.gguf', kvonly[:k3 + 2], 'GGUF_E_TRUNCATED')
add('trunc_array_count.gguf', kvonly[:k3 + 4 + 5], 'GGUF_E_TRUNCATED')
add('trunc_array_element.gguf', kvonly[:k3 + 12 + 11 + 8 + 2], 'GGUF_E_TRUNCATED')
# a file whose tensor infos come after a long KV, cut inside each field of the second info
tens = [('a.weight', [32, 2], T_F32), ('b.weight', [64, 3], T_F32)]
dlen = 160
while (24 + len(kv_str('general.description', 'x' * dlen)) + len(tinfo('a.weight', [32, 2], T_F32, 0)) +
       len(tinfo('b.weight', [64, 3], T_F32, 0))) % 32 in (0, 31):
    dlen += 1   # leave at least two padding bytes before the data section
longkv = [kv_str('general.description', 'x' * dlen)]
tfile = gguf(longkv, tens)
q = 24 + len(longkv[0]) + len(tinfo('a.weight', [32, 2], T_F32, 0))
add('trunc_tensor_name_len.gguf', tfile[:q + 5], 'GGUF_E_TRUNCATED')
add('trunc_tensor_name.gguf', tfile[:q + 8 + 3], 'GGUF_E_TRUNCATED')
q2 = q + 8 + len('b.weight')
add('trunc_n_dims.gguf', tfile[:q2 + 2], 'GGUF_E_TRUNCATED')
add('trunc_ne.gguf', tfile[:q2 + 4 + 8 + 3], 'GGUF_E_TRUNCATED')
add('trunc_tensor_type.gguf', tfile[:q2 + 4 + 16 + 1], 'GGUF_E_TRUNCATED')
add('trunc_offset.gguf', tfile[:q2 + 4 + 16 + 4 + 6], 'GGUF_E_TRUNCATED')
mend = q2 + 4 + 16 + 4 + 8
assert pad(mend) > mend + 1, 'need padding bytes to cut into'
add('trunc_padding.gguf', tfile[:mend + 1], 'GGUF_E_TRUNCATED')
add('trunc_data.gguf', tfile[:len(tfile) - 32 * 3 * 4 // 2 - 40], 'GGUF_E_TRUNCATED')

# ---- counts and lengths absurd or negative
add('count_tensors_negative.gguf', gguf(BASE_KVS, BASE_T, n_t=-1), 'GGUF_E_COUNT')
add('count_tensors_huge.gguf', gguf(BASE_KVS, BASE_T, n_t=1 << 62), 'GGUF_E_COUNT')
add('count_kv_negative.gguf', gguf(BASE_KVS, BASE_T, n_kv=-5), 'GGUF_E_COUNT')
add('count_kv_huge.gguf', gguf(BASE_KVS, BASE_T, n_kv=1 << 40), 'GGUF_E_COUNT')
add('count_array_huge.gguf', gguf([kv('a', ARR, i32(U32) + u64(1 << 61) + u32(1))] + BASE_KVS, BASE_T), 'GGUF_E_COUNT')
add('count_array_u64max.gguf', gguf([kv('a', ARR, i32(U8) + u64(2**64 - 1) + u32(1))] + BASE_KVS, BASE_T), 'GGUF_E_COUNT')
add('count_str_array_huge.gguf', gguf([kv('a', ARR, i32(STR) + u64(1 << 59) + gstr('x'))] + BASE_KVS, BASE_T), 'GGUF_E_COUNT')
add('len_key_huge.gguf', gguf([u64((1 << 63) - 1) + b'abc' + i32(U32) + u32(1)] + BASE_KVS, BASE_T), 'GGUF_E_STRING')
add('len_key_u64max.gguf', gguf([u64(2**64 - 1) + b'abc' + i32(U32) + u32(1)] + BASE_KVS, BASE_T), 'GGUF_E_STRING')
add('len_string_value_huge.gguf', gguf([kv('k', STR, u64(1 << 50) + b'abc')] + BASE_KVS, BASE_T), 'GGUF_E_STRING')
add('len_array_string_huge.gguf', gguf([kv('k', ARR, i32(STR) + u64(2) + gstr('ok') + u64(1 << 48) + b'zz')] + BASE_KVS, BASE_T), 'GGUF_E_STRING')
add('len_tensor_name_huge.gguf', gguf(BASE_KVS, BASE_T, infos=[u64(1 << 40) + b'name' + u32(1) + i64(8) + i32(0) + u64(0)]), 'GGUF_E_STRING')

# ---- KV types and keys
add('kv_type_unknown.gguf', gguf(BASE_KVS + [kv('x', 13, u32(0))], BASE_T), 'GGUF_E_KV_TYPE')
add('kv_type_negative.gguf', gguf(BASE_KVS + [kv('x', -1, u32(0))], BASE_T), 'GGUF_E_KV_TYPE')
add('kv_array_of_arrays.gguf', gguf(BASE_KVS + [kv('x', ARR, i32(ARR) + u64(1) + i32(U8) + u64(1) + b'\1')], BASE_T), 'GGUF_E_KV_TYPE')
add('kv_array_elem_unknown.gguf', gguf(BASE_KVS + [kv('x', ARR, i32(99) + u64(1) + b'\1')], BASE_T), 'GGUF_E_KV_TYPE')
add('key_empty.gguf', gguf(BASE_KVS + [kv('', U32, u32(1))], BASE_T), 'GGUF_E_KEY')
add('key_duplicate.gguf', gguf(BASE_KVS + [kv_u32('llama.block_count', 2)], BASE_T), 'GGUF_E_DUP_KEY')

# ---- tensor infos
def with_info(i, **kw):
    """BASE_T with tensor i's info changed: name/ne/type/off fields (raw)."""
    lay = layout(BASE_T)
    infos = []
    for j, (n, ne, t, off, sz) in enumerate(lay):
        if j == i:
            n = kw.get('name', n); ne = kw.get('ne', ne); t = kw.get('type', t); off = kw.get('off', off)
        infos.append(tinfo(n, ne, t, off))
    return gguf(BASE_KVS, BASE_T, infos=infos)

add('tensor_dup_name.gguf', with_info(2, name='tok_embd.weight'), 'GGUF_E_DUP_TENSOR')
add('tensor_name_64.gguf', with_info(1, name='n' * 64), 'GGUF_E_NAME')
add('tensor_name_empty.gguf', with_info(0, name=''), 'GGUF_E_NAME')
add('tensor_ndims_0.gguf', with_info(0, ne=[]), 'GGUF_E_DIMS')
add('tensor_ndims_5.gguf', with_info(0, ne=[8, 2, 1, 1, 1]), 'GGUF_E_DIMS')
add('tensor_ne_negative.gguf', with_info(0, ne=[8, -2]), 'GGUF_E_SHAPE')
add('tensor_ne_overflow.gguf', with_info(0, ne=[1 << 40, 1 << 40]), 'GGUF_E_SHAPE')
add('tensor_rows_overflow_ne0_zero.gguf', with_info(0, ne=[0, 1 << 62, 4]), 'GGUF_E_SHAPE')
add('tensor_bytes_overflow.gguf', with_info(0, ne=[1 << 61, 2]), 'GGUF_E_SHAPE')
add('tensor_type_unknown.gguf', with_info(0, type=43), 'GGUF_E_TYPE')
add('tensor_type_removed.gguf', with_info(0, type=4), 'GGUF_E_TYPE')
add('tensor_type_negative.gguf', with_info(0, type=-1), 'GGUF_E_TYPE')
add('tensor_block_misfit.gguf', with_info(1, ne=[48, 2]), 'GGUF_E_BLOCK')
add('tensor_huge_in_small_file.gguf', with_info(2, ne=[1 << 30, 1 << 10]), 'GGUF_E_TRUNCATED')

# ---- alignment
add('align_not_pow2.gguf', gguf(BASE_KVS + [kv_u32('general.alignment', 48)], BASE_T), 'GGUF_E_ALIGNMENT')
add('align_zero.gguf', gguf(BASE_KVS + [kv_u32('general.alignment', 0)], BASE_T), 'GGUF_E_ALIGNMENT')
add('align_wrong_type.gguf', gguf(BASE_KVS + [kv('general.alignment', U64, u64(32))], BASE_T), 'GGUF_E_ALIGNMENT')
add('align_string.gguf', gguf(BASE_KVS + [kv_str('general.alignment', '32')], BASE_T), 'GGUF_E_ALIGNMENT')

# ---- offsets
lay = layout(BASE_T)
add('offset_misaligned.gguf', with_info(1, off=lay[1][3] + 8), 'GGUF_E_OFFSET')
add('offset_overlap.gguf', with_info(1, off=0), 'GGUF_E_OFFSET')
add('offset_first_nonzero.gguf', with_info(0, off=32), 'GGUF_E_OFFSET')
add('offset_out_of_order.gguf', gguf(BASE_KVS, BASE_T, offsets=[0, lay[2][3], lay[1][3]]), 'GGUF_E_OFFSET')
add('offset_past_end.gguf', with_info(2, off=1 << 40), 'GGUF_E_OFFSET')
add('offset_u64max.gguf', with_info(2, off=2**64 - 32), 'GGUF_E_OFFSET')
add('data_past_end.gguf', base[:len(base) - 32], 'GGUF_E_TRUNCATED')

# ---- split sets (the first file is the one to open; the others are listed with "-")
def shard(no, count, total, tensors, extra=None, first=True):
    kvs = []
    if first and no == 0:
        kvs += [kv_str('general.architecture', 'llama')]
    keys = {'split.no': kv_u16('split.no', no), 'split.count': kv_u16('split.count', count),
            'split.tensors.count': kv_i32('split.tensors.count', total)}
    if extra:
        keys.update(extra)
    kvs += [v for v in keys.values() if v is not None]
    return gguf(kvs, tensors)

SA = [('a.weight', [8], T_F32)]
SB = [('b.weight', [16], T_F32)]
SC = [('c.weight', [32], T_F32)]

def split_set(prefix, shards, code, skip=()):
    n = len(shards)
    for i, data in enumerate(shards):
        if i in skip:
            continue
        name = '%s-%05d-of-%05d.gguf' % (prefix, i + 1, n)
        add(name, data, code if i == 0 else '-')

split_set('split_missing', [shard(0, 3, 3, SA), shard(1, 3, 3, SB), shard(2, 3, 3, SC)], 'GGUF_E_SPLIT', skip=(1,))
split_set('split_wrong_no', [shard(0, 3, 3, SA), shard(2, 3, 3, SB), shard(2, 3, 3, SC)], 'GGUF_E_SPLIT')
split_set('split_count_mismatch', [shard(0, 2, 2, SA), shard(1, 3, 2, SB)], 'GGUF_E_SPLIT')
split_set('split_tensors_count', [shard(0, 2, 3, SA), shard(1, 2, 3, SB)], 'GGUF_E_SPLIT')
split_set('split_dup_tensor', [shard(0, 2, 2, SA), shard(1, 2, 2, SA)], 'GGUF_E_DUP_TENSOR')
split_set('split_first_no', [shard(1, 2, 2, SA), shard(1, 2, 2, SB)], 'GGUF_E_SPLIT')
split_set('split_count_type', [shard(0, 2, 2, SA, extra={'split.count': kv_u32('split.count', 2)}), shard(1, 2, 2, SB)], 'GGUF_E_SPLIT')
split_set('split_no_keys', [gguf([kv_str('general.architecture', 'llama')], SA), shard(1, 2, 2, SB)], 'GGUF_E_SPLIT')
split_set('split_shard_no_missing', [shard(0, 2, 2, SA), shard(1, 2, 2, SB, extra={'split.no': None})], 'GGUF_E_SPLIT')
split_set('split_bad_shard', [shard(0, 2, 2, SA), shard(1, 2, 2, SB)[:80]], 'GGUF_E_TRUNCATED')

# ---- regression inputs found by the fuzzer (tests/fuzz/fuzz_gguf.c) are added below as
# literal bytes, one file each, with the code the fixed reader gives.
FUZZ = [
    # ne[0] = 0 made the element count 0 while ne[1] * ne[2] still overflowed int64 (UBSan)
    ('fuzz_rows_overflow.gguf', bytes.fromhex(
    '4747554603000000010000000000000003000000000000000800000000000000736c7069742e6e6f0200000001000b00'
    '00000000000073706c69742e636f0e6e74020000000200130000000000000073706c69742e74656e736f72732e636f75'
    '6e7405000000020000000800000000000000622e776547475546030000000000000000000000736c7069742e6e6f0200'
    '000001000b0000000000000073706c69742e636f0e6e74020000000200130000000000000073706c69742e74656e736f'
    '72732e636f756e7405000000020000000800000000000000622e77654747000000000000000000000000000069676874'
    '010000000000000000000000000000000000000000000000000026000000000000000000000000000000000000000000'
    '00000000000000000000'), 'GGUF_E_SHAPE'),
]
for name, data, code in FUZZ:
    add(name, data, code)

# ---- fuzzer seeds (tests/fuzz/seeds/gguf/): small valid files of every shape, a few bad ones
every_kv = [kv('u8', U8, b'\xfe'), kv('i8', I8, b'\x80'), kv('u16', U16, struct.pack('<H', 65535)),
            kv('i16', I16, struct.pack('<h', -2)), kv_u32('u32', 7), kv_i32('i32', -7), kv('f32', F32, struct.pack('<f', 0.5)),
            kv('bool', BOOL, b'\1'), kv_str('str', 'hello'), kv('u64', U64, u64(1 << 40)), kv('i64', I64, i64(-1)),
            kv('f64', F64, struct.pack('<d', 2.5)), kv_arr_str('arr.str', ['', 'x', 'yz']), kv_arr_f32('arr.f32', [1.0, 2.0]),
            kv('arr.empty', ARR, i32(U8) + u64(0)), kv('arr.bool', ARR, i32(BOOL) + u64(2) + b'\1\0'),
            kv_u32('general.alignment', 32)]
SEEDS = {
    'valid_base.gguf': base,
    'valid_kv_only.gguf': kvonly,
    'valid_every_kv.gguf': gguf(every_kv, [('q.weight', [32, 1], T_Q8_0), ('f.weight', [3, 1, 1, 2], T_F16)]),
    'valid_v2.gguf': gguf(BASE_KVS, BASE_T, version=2),
    'valid_shard.gguf': shard(1, 2, 2, SB),
    'valid_shard_first.gguf': shard(0, 2, 2, SA),   # with the fuzzer's fixed second shard: a valid set
    'valid_empty.gguf': gguf([], []),
}
# alignment 64, laid out by hand (layout() pads to 32)
a64 = [('a', [3], T_F32, 0, 12), ('b', [5], T_F32, 64, 20)]
meta = b'GGUF' + u32(3) + i64(2) + i64(1) + kv_u32('general.alignment', 64) + b''.join(tinfo(n, ne, t, o) for n, ne, t, o, z in a64)
body = meta + b'\0' * (pad(len(meta), 64) - len(meta))
SEEDS['valid_align64.gguf'] = body + bytes(range(12)) + b'\0' * 52 + bytes(range(20)) + b'\0' * 44
for name in ('trunc_ne.gguf', 'kv_array_of_arrays.gguf', 'tensor_block_misfit.gguf', 'offset_out_of_order.gguf',
             'count_str_array_huge.gguf', 'align_not_pow2.gguf'):
    SEEDS['bad_' + name] = files[name]
SEED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fuzz', 'seeds', 'gguf')
os.makedirs(SEED_DIR, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(SEED_DIR, name), 'wb') as fp:
        fp.write(data)

os.makedirs(OUT, exist_ok=True)
for name in os.listdir(OUT):
    if name.endswith('.gguf'):
        os.unlink(os.path.join(OUT, name))
for name, data in files.items():
    with open(os.path.join(OUT, name), 'wb') as fp:
        fp.write(data)
with open(os.path.join(OUT, 'EXPECTED'), 'w') as fp:
    fp.write('# <file> <expected gguf_status name>; "-" marks a non-first shard of a split set (open the first)\n')
    fp.write('# generated by tests/gen_bad_gguf.py; one defect per file\n')
    for name, code in expected:
        fp.write('%s %s\n' % (name, code))
print('%d files (%d to open) written to %s' % (len(files), sum(1 for _, c in expected if c != '-'), OUT))
