#!/usr/bin/python3
"""Write one full-size QwQ-32B layer (hidden 5120, ffn 27648, 40/8 heads of 128) as an F16 GGUF
for bench/quantize.sh: 2-D weights F16 with values N(0,1)*0.02, norms and biases F32.
About 975 MB. Usage: gen_layer.py OUT.gguf [SEED]   (needs numpy: run with /usr/bin/python3)
"""
import struct, sys
import numpy as np

H, FF, KV = 5120, 27648, 1024
# (name, ne in ggml order, f16?)
TENSORS = [
    ("blk.0.attn_norm.weight", [H], False),
    ("blk.0.attn_q.weight", [H, H], True),
    ("blk.0.attn_q.bias", [H], False),
    ("blk.0.attn_k.weight", [H, KV], True),
    ("blk.0.attn_k.bias", [KV], False),
    ("blk.0.attn_v.weight", [H, KV], True),
    ("blk.0.attn_v.bias", [KV], False),
    ("blk.0.attn_output.weight", [H, H], True),
    ("blk.0.ffn_norm.weight", [H], False),
    ("blk.0.ffn_gate.weight", [H, FF], True),
    ("blk.0.ffn_up.weight", [H, FF], True),
    ("blk.0.ffn_down.weight", [FF, H], True),
]

def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b

def main():
    out = sys.argv[1]
    rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    kvs = [("general.architecture", 8, s("qwen2")), ("general.name", 8, s("bench-layer")),
           ("qwen2.block_count", 4, struct.pack("<I", 1)),
           ("qwen2.embedding_length", 4, struct.pack("<I", H)),
           ("qwen2.feed_forward_length", 4, struct.pack("<I", FF)),
           ("general.file_type", 4, struct.pack("<I", 1))]
    hdr = b"GGUF" + struct.pack("<IqQ", 3, len(TENSORS), len(kvs))
    for k, t, v in kvs:
        hdr += s(k) + struct.pack("<i", t) + v
    off = 0
    sizes = []
    for name, ne, f16 in TENSORS:
        n = 1
        for d in ne:
            n *= d
        nb = n * (2 if f16 else 4)
        hdr += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<q", d) for d in ne)
        hdr += struct.pack("<iQ", 1 if f16 else 0, off)
        sizes.append((n, nb))
        off += (nb + 31) // 32 * 32
    hdr += b"\0" * ((-len(hdr)) % 32)
    with open(out, "wb") as f:
        f.write(hdr)
        for (name, ne, f16), (n, nb) in zip(TENSORS, sizes):
            left = n
            while left:
                k = min(left, 1 << 24)
                x = rng.standard_normal(k, dtype=np.float32) * np.float32(0.02)
                f.write(x.astype(np.float16 if f16 else np.float32).tobytes())
                left -= k
            f.write(b"\0" * ((-nb) % 32))

if __name__ == "__main__":
    main()
