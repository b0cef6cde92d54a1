#!/usr/bin/env python3
"""readgguf.py - a second, independent GGUF reader (plain Python, struct only) for the tests.

    readgguf.py FILE        prints the document `gguf-inspect --json --full FILE` should print
                            for a single (non-split) file: header, metadata, tensors, totals

It trusts its input (test files only) and knows the tensor types mkgguf.py knows.
"""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mkgguf import TENSOR_TYPES  # noqa: E402

SCALAR = {0: ("u8", "<B"), 1: ("i8", "<b"), 2: ("u16", "<H"), 3: ("i16", "<h"), 4: ("u32", "<I"),
          5: ("i32", "<i"), 6: ("f32", "<f"), 7: ("bool", "<?"), 10: ("u64", "<Q"), 11: ("i64", "<q"),
          12: ("f64", "<d")}
TYPE_NAME = {v[0]: k for k, v in TENSOR_TYPES.items()}


class Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b.decode("utf-8", errors="replace")


def jsonable(tname, v):
    if tname in ("f32", "f64"):
        if v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
    if tname == "u64" and v > 2**63 - 1:
        return str(v)
    return v


def value(r, t):
    if t == 8:
        return "str", r.string()
    name, fmt = SCALAR[t]
    return name, jsonable(name, r.take(fmt))


def main():
    path = sys.argv[1]
    with open(path, "rb") as fp:
        buf = fp.read()
    r = Reader(buf)
    assert r.take("<I") == 0x46554747
    version = r.take("<I")
    n_tensors, n_kv = r.take("<q"), r.take("<q")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<i")
        if t == 9:
            et, n = r.take("<i"), r.take("<Q")
            items = [value(r, et)[1] for _ in range(n)]
            ename = "str" if et == 8 else SCALAR[et][0]
            meta[key] = {"type": "arr", "elem_type": ename, "n": n, "truncated": False, "value": items}
        else:
            tname, v = value(r, t)
            meta[key] = {"type": tname, "value": v}
    align = meta.get("general.alignment", {}).get("value", 32)
    tensors = []
    params = size_sum = 0
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take("<I")
        shape = [r.take("<q") for _ in range(nd)]
        tid = r.take("<i")
        off = r.take("<Q")
        tname = TYPE_NAME[tid]
        _, be, bb, _ = TENSOR_TYPES[tname]
        n = 1
        for d in shape:
            n *= d
        size = n // be * bb
        tensors.append({"name": name, "type": tname, "shape": shape, "offset": off, "size": size})
        params += n
        size_sum += size
    data_offset = (r.pos + align - 1) // align * align
    doc = {
        "header": {"file": path, "version": version, "alignment": align, "n_kv": n_kv, "n_tensors": n_tensors,
                   "data_offset": data_offset, "file_size": len(buf),
                   "files": [{"path": path, "n_tensors": n_tensors, "size": len(buf)}]},
        "metadata": meta,
        "tensors": tensors,
        "totals": {"n_tensors": n_tensors, "bytes": size_sum, "params": params,
                   "bits_per_weight": 8.0 * size_sum / params if params else None},
    }
    json.dump(doc, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
