#!/usr/bin/env python3
"""Write a sparse, full-shape QwQ-32B F16 GGUF (64 layers, hidden 5120, ffn 27648, 8 KV heads of
128, vocab 152064; 2-D weights F16, norms and biases F32): real header and tensor infos, data
left as a hole (the file is ~62 GB long but uses a few KB of disk). For --dry-run tests of the
type policy on the real model's shapes. Usage: mk_qwq_shape.py OUT.gguf [--tied | --one-big]"""
import struct, sys

H, FF, KV, V, NL = 5120, 27648, 1024, 152064, 64

def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b

def main():
    out, tied = sys.argv[1], "--tied" in sys.argv[2:]
    if "--one-big" in sys.argv[2:]:   # a single 256 MiB F16 matrix, for the memory test
        write(out, [("blk.0.ffn_down.weight", [16384, 8192], 1)], 1)
        return
    t = [("token_embd.weight", [H, V], 1)]
    for l in range(NL):
        p = "blk.%d." % l
        t += [(p + "attn_norm.weight", [H], 0), (p + "ffn_down.weight", [FF, H], 1),
              (p + "ffn_gate.weight", [H, FF], 1), (p + "ffn_up.weight", [H, FF], 1),
              (p + "ffn_norm.weight", [H], 0), (p + "attn_k.bias", [KV], 0),
              (p + "attn_k.weight", [H, KV], 1), (p + "attn_output.weight", [H, H], 1),
              (p + "attn_q.bias", [H], 0), (p + "attn_q.weight", [H, H], 1),
              (p + "attn_v.bias", [KV], 0), (p + "attn_v.weight", [H, KV], 1)]
    t.append(("output_norm.weight", [H], 0))
    if not tied:
        t.append(("output.weight", [H, V], 1))
    write(out, t, NL)

def write(out, t, nl):
    kvs = [("general.architecture", 8, s("qwen2")), ("qwen2.block_count", 4, struct.pack("<I", nl)),
           ("general.file_type", 4, struct.pack("<I", 1))]
    hdr = b"GGUF" + struct.pack("<IqQ", 3, len(t), len(kvs))
    for k, ty, v in kvs:
        hdr += s(k) + struct.pack("<i", ty) + v
    off = 0
    for name, ne, f16 in t:
        n = 1
        for d in ne:
            n *= d
        hdr += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<q", d) for d in ne)
        hdr += struct.pack("<iQ", 1 if f16 else 0, off)
        off += (n * (2 if f16 else 4) + 31) // 32 * 32
    hdr += b"\0" * ((-len(hdr)) % 32)
    with open(out, "wb") as f:
        f.write(hdr)
        f.truncate(len(hdr) + off)

if __name__ == "__main__":
    main()
