#!/usr/bin/env python3
"""mkgguf.py - write small GGUF v2/v3 test files from a compact JSON description.

Independent of libgguf (plain Python, struct module only), so tests compare the C reader against
a second implementation of the format (FORMATS.md 1). Usage:

    mkgguf.py OUT DESC          DESC is JSON text, or @FILE, or - for stdin

DESC:
  {
    "version": 3,                       optional (2 or 3)
    "alignment": 32,                    layout alignment (write a matching general.alignment KV yourself)
    "kv": [[KEY, TYPE, VALUE], ...],    TYPE: u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 bool str,
                                        or "arr:ELEM" with a list VALUE (ELEM one of the above)
                                        f32/f64 values may be "nan", "inf", "-inf";
                                        a str value may be {"hex": "ff41"} (raw bytes)
    "tensors": [{
        "name": "blk.0.w", "type": "F32", "shape": [ne0, ne1, ...],   ggml order: ne0 = row length
        "seed": 0,                      changes the generated values
        "values": [..],                 F32/F16/BF16/F64/I*: explicit elements instead of generated ones
        "nan": [elem, ...],             put a NaN at these elements (F32/F16/BF16/F64)
        "inf": [elem, ...],             put +Inf at these elements
        "inf_scale": [block, ...],      put fp16 +Inf into the d scale of these blocks (quantized types)
        "patch": [[byte, "hex"], ...]   overwrite raw bytes of the tensor data
        "fill": "zero" | "random"       fast raw bytes instead of valid values (large files for benches)
    }, ...],
    "split": [n0, n1, ...]              write a split set OUT-0000i-of-0000N.gguf (OUT is the prefix):
                                        file i holds n_i tensors; file 0 all KVs then split.no,
                                        split.tensors.count, split.count; the others only the split keys
  }

Generated data is deterministic: floats are small multiples of 1/8 (exact in fp16 and bf16),
quantized blocks get finite fp16 scales and pseudo-random quants.
"""
import json
import os
import struct
import sys

KV_TYPES = {"u8": (0, "<B"), "i8": (1, "<b"), "u16": (2, "<H"), "i16": (3, "<h"), "u32": (4, "<I"),
            "i32": (5, "<i"), "f32": (6, "<f"), "bool": (7, "<?"), "str": (8, None), "arr": (9, None),
            "u64": (10, "<Q"), "i64": (11, "<q"), "f64": (12, "<d")}

# name: (id, elements per block, bytes per block, offsets of fp16 scales in a block)
TENSOR_TYPES = {
    "F32": (0, 1, 4, ()), "F16": (1, 1, 2, ()), "Q4_0": (2, 32, 18, (0,)), "Q4_1": (3, 32, 20, (0, 2)),
    "Q5_0": (6, 32, 22, (0,)), "Q5_1": (7, 32, 24, (0, 2)), "Q8_0": (8, 32, 34, (0,)),
    "Q8_1": (9, 32, 36, (0, 2)), "Q2_K": (10, 256, 84, (80, 82)), "Q3_K": (11, 256, 110, (108,)),
    "Q4_K": (12, 256, 144, (0, 2)), "Q5_K": (13, 256, 176, (0, 2)), "Q6_K": (14, 256, 210, (208,)),
    "I8": (24, 1, 1, ()), "I16": (25, 1, 2, ()), "I32": (26, 1, 4, ()), "I64": (27, 1, 8, ()),
    "F64": (28, 1, 8, ()), "BF16": (30, 1, 2, ()),
}
FLOAT_FMT = {"F32": "<f", "F16": "<e", "F64": "<d"}
INT_FMT = {"I8": "<b", "I16": "<h", "I32": "<i", "I64": "<q"}


def fval(v):
    return float(v) if isinstance(v, str) else v


def gstr(s):
    if isinstance(s, dict):  # {"hex": "ff41"}: raw bytes, e.g. invalid UTF-8
        b = bytes.fromhex(s["hex"])
    else:
        b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv_value(tname, value):
    if tname == "str":
        return gstr(value)
    fmt = KV_TYPES[tname][1]
    if tname in ("f32", "f64"):
        value = fval(value)
    return struct.pack(fmt, value)


def kv_bytes(key, tname, value):
    out = gstr(key)
    if tname.startswith("arr:"):
        et = tname[4:]
        out += struct.pack("<iiQ", 9, KV_TYPES[et][0], len(value))
        for v in value:
            out += kv_value(et, v)
        return out
    return out + struct.pack("<i", KV_TYPES[tname][0]) + kv_value(tname, value)


def bf16(x):
    return struct.pack("<H", struct.unpack("<I", struct.pack("<f", x))[0] >> 16)


def tensor_size(t):
    tid, be, bb, _ = TENSOR_TYPES[t["type"]]
    n = 1
    for d in t["shape"]:
        n *= d
    if t["shape"][0] % be:
        raise SystemExit("mkgguf: tensor %s: ne0 %d not a multiple of %d" % (t["name"], t["shape"][0], be))
    return tid, n, n // be * bb


def tensor_data(t):
    tname = t["type"]
    tid, be, bb, scales = TENSOR_TYPES[tname]
    _, n, size = tensor_size(t)
    seed = t.get("seed", 0)
    if t.get("fill") == "zero":
        data = bytearray(size)
    elif t.get("fill") == "random":
        data = bytearray(os.urandom(size))
    elif be == 1:
        vals = t.get("values")
        if vals is None:
            vals = [((i * 7 + seed * 13) % 23 - 11) * 0.125 for i in range(n)]
            if tname in INT_FMT:
                vals = [int(v * 8) for v in vals]
        if len(vals) != n:
            raise SystemExit("mkgguf: tensor %s: %d values for %d elements" % (t["name"], len(vals), n))
        if tname == "BF16":
            data = bytearray(b"".join(bf16(fval(v)) for v in vals))
        elif tname in FLOAT_FMT:
            data = bytearray(b"".join(struct.pack(FLOAT_FMT[tname], fval(v)) for v in vals))
        else:
            data = bytearray(b"".join(struct.pack(INT_FMT[tname], v) for v in vals))
        esz = bb
        for key, val in (("nan", "nan"), ("inf", "inf")):
            for e in t.get(key, []):
                if tname == "BF16":
                    data[e * 2:e * 2 + 2] = bf16(float(val)) if val == "inf" else struct.pack("<H", 0x7FC0)
                else:
                    data[e * esz:(e + 1) * esz] = struct.pack(FLOAT_FMT[tname], float(val))
    else:
        nb = n // be
        data = bytearray(nb * bb)
        x = (seed * 2654435761 + 12345) & 0xFFFFFFFF
        for i in range(len(data)):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            data[i] = (x >> 16) & 0xFF
        for b in range(nb):
            for k, off in enumerate(scales):
                data[b * bb + off:b * bb + off + 2] = struct.pack("<e", 0.0078125 * (1 + (b + k) % 7))
        for b in t.get("inf_scale", []):
            off = b * bb + scales[0]
            data[off:off + 2] = struct.pack("<H", 0x7C00)
    for off, hx in t.get("patch", []):
        raw = bytes.fromhex(hx)
        data[off:off + len(raw)] = raw
    return data


def pad(n, a):
    return (n + a - 1) // a * a


def write_gguf(path, version, align, kvs, tensors):
    """Write the metadata, then each tensor's data as it is generated (large files stream)."""
    infos = []
    off = 0
    for t in tensors:
        tid, _, size = tensor_size(t)
        info = gstr(t["name"]) + struct.pack("<I", len(t["shape"]))
        info += b"".join(struct.pack("<q", d) for d in t["shape"])
        info += struct.pack("<iQ", tid, off)
        infos.append(info)
        off += pad(size, align)
    head = b"GGUF" + struct.pack("<Iqq", version, len(tensors), len(kvs))
    meta = head + b"".join(kv_bytes(*kv) for kv in kvs) + b"".join(infos)
    with open(path, "wb") as fp:
        fp.write(meta + b"\0" * (pad(len(meta), align) - len(meta)))
        for t in tensors:
            data = tensor_data(t)
            fp.write(data)
            fp.write(b"\0" * (pad(len(data), align) - len(data)))


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: mkgguf.py OUT DESC (JSON text, @FILE or -)")
    out, desc = sys.argv[1], sys.argv[2]
    if desc == "-":
        desc = sys.stdin.read()
    elif desc.startswith("@"):
        with open(desc[1:]) as fp:
            desc = fp.read()
    d = json.loads(desc)
    version = d.get("version", 3)
    align = d.get("alignment", 32)
    kvs = [tuple(kv) for kv in d.get("kv", [])]
    tensors = d.get("tensors", [])
    split = d.get("split")
    if not split:
        write_gguf(out, version, align, kvs, tensors)
        return
    if sum(split) != len(tensors):
        raise SystemExit("mkgguf: split counts add up to %d, not %d tensors" % (sum(split), len(tensors)))
    start = 0
    for i, cnt in enumerate(split):
        keys = [("split.no", "u16", i), ("split.tensors.count", "i32", len(tensors)), ("split.count", "u16", len(split))]
        write_gguf("%s-%05d-of-%05d.gguf" % (out, i + 1, len(split)), version, align,
                   (kvs if i == 0 else []) + keys, tensors[start:start + cnt])
        start += cnt


if __name__ == "__main__":
    main()
