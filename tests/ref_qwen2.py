#!/usr/bin/python3
"""Independent float64 reference of the Qwen2 forward pass, for gguf-verify's tests.

It shares no code with the C implementation: it parses the GGUF file itself, dequantizes
F32/F16/BF16/Q8_0/Q4_0/Q5_0/Q4_K/Q6_K blocks itself (FORMATS.md 1.4, 3.4-3.7), and computes
every step in numpy float64.

usage: ref_qwen2.py MODEL.gguf TOKENS OUT.f64
  TOKENS  comma-separated token ids
  OUT     float64 little-endian logits of every position, [n_tokens][n_vocab]
Run with Debian's /usr/bin/python3 (the one with numpy).
"""
import struct
import sys

import numpy as np

# ---------------------------------------------------------------- GGUF parsing

KV_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
          10: "<Q", 11: "<q", 12: "<d"}
# ggml type id -> (elements per block, bytes per block)
BLOCK = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 2: (32, 18), 6: (32, 22),
         12: (256, 144), 14: (256, 210)}


class Reader:
    def __init__(self, buf):
        self.b = buf
        self.o = 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.o)[0]
        self.o += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = bytes(self.b[self.o:self.o + n])
        self.o += n
        return s.decode("utf-8", "replace")

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et = self.take("<i")
            n = self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(KV_FMT[t])


def read_gguf(path):
    buf = open(path, "rb").read()
    r = Reader(buf)
    assert buf[:4] == b"GGUF", "not a GGUF file"
    r.o = 4
    version = r.take("<I")
    assert version in (2, 3)
    n_tensors = r.take("<q")
    n_kv = r.take("<q")
    kv = {}
    for _ in range(n_kv):
        k = r.string()
        t = r.take("<i")
        kv[k] = r.value(t)
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<q") for _ in range(nd)]
        typ = r.take("<i")
        off = r.take("<Q")
        infos.append((name, ne, typ, off))
    align = kv.get("general.alignment", 32)
    data0 = (r.o + align - 1) // align * align
    tensors = {}
    for name, ne, typ, off in infos:
        n = int(np.prod(ne))
        be, bb = BLOCK[typ]
        nbytes = n // be * bb
        raw = np.frombuffer(buf, dtype=np.uint8, count=nbytes, offset=data0 + off)
        tensors[name] = (ne, typ, raw)
    return kv, tensors


# ---------------------------------------------------------------- dequantization

def f16(raw_u8):
    return raw_u8.view(np.float16).astype(np.float64).reshape(-1)


def dequant(typ, raw, n):
    if typ == 0:
        return raw.view("<f4").astype(np.float64)
    if typ == 1:
        return raw.view("<f2").astype(np.float64)
    if typ == 30:
        return (raw.view("<u2").astype(np.uint32) << 16).view("<f4").astype(np.float64)
    if typ == 8:  # Q8_0: d fp16, qs[32] int8
        b = raw.reshape(-1, 34)
        d = f16(b[:, 0:2].copy())
        q = b[:, 2:].view(np.int8).astype(np.float64)
        return (d[:, None] * q).reshape(-1)
    if typ in (2, 6):  # Q4_0 / Q5_0: d fp16, [qh u32], qs[16] nibbles (j low, j+16 high)
        bs = 18 if typ == 2 else 22
        b = raw.reshape(-1, bs)
        d = f16(b[:, 0:2].copy())
        qs = b[:, bs - 16:]
        q = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.int64)
        if typ == 2:
            q = q - 8
        else:
            qh = b[:, 2:6].copy().view("<u4").astype(np.int64)
            bits = (qh >> np.arange(32)) & 1
            q = (q | (bits << 4)) - 16
        return (d[:, None] * q).reshape(-1)
    if typ == 12:  # Q4_K: d, dmin fp16, scales[12], qs[128]
        b = raw.reshape(-1, 144)
        d = f16(b[:, 0:2].copy())
        dmin = f16(b[:, 2:4].copy())
        s = b[:, 4:16].astype(np.int64)
        qs = b[:, 16:].astype(np.int64)
        sc = np.zeros((b.shape[0], 8), np.int64)
        mn = np.zeros((b.shape[0], 8), np.int64)
        for j in range(8):
            if j < 4:
                sc[:, j] = s[:, j] & 63
                mn[:, j] = s[:, j + 4] & 63
            else:
                sc[:, j] = (s[:, j + 4] & 15) | ((s[:, j - 4] >> 6) << 4)
                mn[:, j] = (s[:, j + 4] >> 4) | ((s[:, j] >> 6) << 4)
        out = np.zeros((b.shape[0], 256))
        for g in range(4):
            q = qs[:, 32 * g:32 * g + 32]
            for half, nib in ((0, q & 15), (1, q >> 4)):
                j = 2 * g + half
                out[:, 32 * j:32 * j + 32] = (d * sc[:, j])[:, None] * nib - (dmin * mn[:, j])[:, None]
        return out.reshape(-1)
    if typ == 14:  # Q6_K: ql[128], qh[64], scales[16] int8, d fp16 (last)
        b = raw.reshape(-1, 210)
        ql = b[:, 0:128].astype(np.int64)
        qh = b[:, 128:192].astype(np.int64)
        sc = b[:, 192:208].view(np.int8).astype(np.float64)
        d = f16(b[:, 208:210].copy())
        L = np.zeros((b.shape[0], 256), np.int64)
        for h in range(2):
            j, lo, hi = 128 * h, 64 * h, 32 * h
            for l in range(32):
                a, c, qb = ql[:, lo + l], ql[:, lo + l + 32], qh[:, hi + l]
                L[:, j + l] = (a & 15) | ((qb & 3) << 4)
                L[:, j + l + 32] = (c & 15) | (((qb >> 2) & 3) << 4)
                L[:, j + l + 64] = (a >> 4) | (((qb >> 4) & 3) << 4)
                L[:, j + l + 96] = (c >> 4) | (((qb >> 6) & 3) << 4)
        scale = d[:, None] * np.repeat(sc, 16, axis=1)
        return (scale * (L - 32)).reshape(-1)
    raise SystemExit("ref_qwen2.py: unsupported tensor type %d" % typ)


def tensor(tensors, name):
    ne, typ, raw = tensors[name]
    n = int(np.prod(ne))
    x = dequant(typ, raw, n)
    assert x.size == n
    # ggml ne = [cols, rows]; numpy shape (rows, cols)
    return x.reshape(list(reversed(ne))) if len(ne) > 1 else x


# ---------------------------------------------------------------- forward

def rms(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope_neox(x, pos, theta):
    # x: [T, heads, hd]; pairs (i, i + hd/2)
    hd = x.shape[-1]
    half = hd // 2
    inv = theta ** (-2.0 * np.arange(half) / hd)
    ang = pos[:, None] * inv[None, :]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x0, x1 = x[..., :half], x[..., half:]
    return np.concatenate([x0 * c - x1 * s, x0 * s + x1 * c], axis=-1)


def forward(kv, t, tokens):
    a = "qwen2"
    n_layer = kv[a + ".block_count"]
    n_embd = kv[a + ".embedding_length"]
    n_head = kv[a + ".attention.head_count"]
    n_kv = kv.get(a + ".attention.head_count_kv", n_head)
    hd = kv.get(a + ".attention.key_length", n_embd // n_head)
    theta = float(kv.get(a + ".rope.freq_base", 10000.0))
    eps = float(kv[a + ".attention.layer_norm_rms_epsilon"])
    T = len(tokens)
    emb = tensor(t, "token_embd.weight")
    x = emb[np.array(tokens)]
    pos = np.arange(T, dtype=np.float64)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for il in range(n_layer):
        p = "blk.%d." % il
        h = rms(x, tensor(t, p + "attn_norm.weight"), eps)
        q = h @ tensor(t, p + "attn_q.weight").T + tensor(t, p + "attn_q.bias")
        k = h @ tensor(t, p + "attn_k.weight").T + tensor(t, p + "attn_k.bias")
        v = h @ tensor(t, p + "attn_v.weight").T + tensor(t, p + "attn_v.bias")
        q = rope_neox(q.reshape(T, n_head, hd), pos, theta)
        k = rope_neox(k.reshape(T, n_kv, hd), pos, theta)
        v = v.reshape(T, n_kv, hd)
        out = np.zeros((T, n_head, hd))
        g = n_head // n_kv
        for hh in range(n_head):
            s = q[:, hh, :] @ k[:, hh // g, :].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            out[:, hh, :] = s @ v[:, hh // g, :]
        x = x + out.reshape(T, n_head * hd) @ tensor(t, p + "attn_output.weight").T
        h = rms(x, tensor(t, p + "ffn_norm.weight"), eps)
        gate = h @ tensor(t, p + "ffn_gate.weight").T
        up = h @ tensor(t, p + "ffn_up.weight").T
        x = x + (gate / (1.0 + np.exp(-gate)) * up) @ tensor(t, p + "ffn_down.weight").T
    h = rms(x, tensor(t, "output_norm.weight"), eps)
    out_w = tensor(t, "output.weight") if "output.weight" in t else emb
    return h @ out_w.T


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    kv, t = read_gguf(sys.argv[1])
    assert kv["general.architecture"] == "qwen2"
    tokens = [int(s) for s in sys.argv[2].split(",")]
    logits = forward(kv, t, tokens)
    logits.astype("<f8").tofile(sys.argv[3])


if __name__ == "__main__":
    main()
