#!/usr/bin/python3
"""Independent reference check of gguf-convert output (needs numpy: run with /usr/bin/python3).

usage: convert_ref.py MODEL_DIR OUT.gguf TYPE      (TYPE: bf16 f16 f32 q8_0 q4_k_m)

Reads the safetensors shards and the GGUF file with its own parsers (nothing shared with the C
code) and checks, from the facts in FORMATS.md 5:
  - tensor names (HF -> GGUF map), order (shards sorted, names sorted in a shard), ggml shapes
    (HF shape reversed), types (1-D F32, 2-D the chosen type; q4_k_m: one of the K/fallback types);
  - values: bf16 bytes identical, f32 = bf16 << 16, f16 = numpy's round-to-nearest-even of the
    same float, q8_0 bit-identical to a numpy implementation of ggml's reference Q8_0;
  - metadata: architecture, hyperparameters from config.json, general.file_type, tokens and
    token types from tokenizer.json, merges, special ids, chat template.
Prints "ok: ..." and exits 0, or prints the first mismatch and exits 1.
"""
import json
import os
import struct
import sys

import numpy as np


def fail(msg):
    print("MISMATCH: " + msg)
    sys.exit(1)


# ------------------------------------------------------------------ safetensors
def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    hdr = json.loads(raw[8:8 + n])
    hdr.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for name, e in hdr.items():
        a, b = e["data_offsets"]
        out[name] = (e["dtype"], e["shape"], raw[base + a:base + b])
    return out


# ------------------------------------------------------------------ gguf
KV_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
TYPE_NAMES = {0: "F32", 1: "F16", 8: "Q8_0", 12: "Q4_K", 14: "Q6_K", 6: "Q5_0", 30: "BF16", 2: "Q4_0"}
BLOCK = {0: (1, 4), 1: (1, 2), 30: (1, 2), 8: (32, 34), 12: (256, 144), 14: (256, 210), 6: (32, 22), 2: (32, 18)}


class Reader:
    def __init__(self, buf):
        self.b, self.o = buf, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.o)
        self.o += struct.calcsize(fmt)
        return v[0]

    def string(self):
        n = self.take("<Q")
        s = self.b[self.o:self.o + n]
        self.o += n
        return s.decode("utf-8")

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<i"), self.take("<Q")
            return ("arr", et, [self.value(et) for _ in range(n)])
        return self.take(KV_FMT[t])


def read_gguf(path):
    with open(path, "rb") as f:
        buf = f.read()
    r = Reader(buf)
    if r.take("<I") != 0x46554747 or r.take("<I") != 3:
        fail("not a GGUF v3 file")
    nt, nkv = r.take("<q"), r.take("<q")
    kvs = []
    for _ in range(nkv):
        k = r.string()
        t = r.take("<i")
        kvs.append((k, t, r.value(t)))
    infos = []
    for _ in range(nt):
        name = r.string()
        nd = r.take("<I")
        ne = [r.take("<q") for _ in range(nd)]
        t = r.take("<i")
        off = r.take("<Q")
        infos.append((name, ne, t, off))
    data = (r.o + 31) // 32 * 32
    tensors = []
    expect = 0
    for name, ne, t, off in infos:
        be, bb = BLOCK[t]
        n = 1
        for x in ne:
            n *= x
        size = n // be * bb
        if off != expect:
            fail("tensor %s at offset %d, expected %d" % (name, off, expect))
        expect += (size + 31) // 32 * 32
        tensors.append((name, ne, t, buf[data + off:data + off + size]))
    return kvs, tensors


# ------------------------------------------------------------------ reference conversions
def bf16_to_f32(raw):
    return (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def src_f32(dtype, raw):
    if dtype == "BF16":
        return bf16_to_f32(raw)
    if dtype == "F16":
        return np.frombuffer(raw, dtype=np.float16).astype(np.float32)
    return np.frombuffer(raw, dtype=np.float32)


def q8_0_ref(x):
    """ggml quantize_row_q8_0_ref: per 32: d = amax/127, q = roundf(x/d), d stored as fp16."""
    x = x.reshape(-1, 32).astype(np.float32)
    amax = np.max(np.abs(x), axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        idd = np.where(d != 0, np.float32(1) / d, np.float32(0)).astype(np.float32)
    v = (x * idd[:, None]).astype(np.float32).astype(np.float64)
    q = (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int8)
    out = np.zeros((x.shape[0], 34), dtype=np.uint8)
    out[:, 0:2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


LAYER_MAP = {
    "input_layernorm.weight": "attn_norm.weight", "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.q_proj.bias": "attn_q.bias", "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.k_proj.bias": "attn_k.bias", "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.v_proj.bias": "attn_v.bias", "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight", "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight", "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_name(hf):
    top = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
           "lm_head.weight": "output.weight"}
    if hf in top:
        return top[hf]
    p = hf.split(".", 3)
    return "blk.%s.%s" % (p[2], LAYER_MAP[p[3]])


def main():
    mdir, out, typ = sys.argv[1], sys.argv[2], sys.argv[3]
    cfg = json.load(open(os.path.join(mdir, "config.json")))
    idx_path = os.path.join(mdir, "model.safetensors.index.json")
    shards = sorted(set(json.load(open(idx_path))["weight_map"].values())) if os.path.exists(idx_path) else ["model.safetensors"]
    src = []  # convert order
    for s in shards:
        st = read_safetensors(os.path.join(mdir, s))
        for name in sorted(st):
            src.append((name,) + st[name])
    kvs, tensors = read_gguf(out)
    if len(tensors) != len(src):
        fail("%d tensors, source has %d" % (len(tensors), len(src)))
    want2d = {"bf16": 30, "f16": 1, "f32": 0, "q8_0": 8}.get(typ)
    for (hf, dtype, shape, raw), (name, ne, t, data) in zip(src, tensors):
        if gguf_name(hf) != name:
            fail("tensor order/name: %s where %s (%s) was expected" % (name, gguf_name(hf), hf))
        if ne != list(reversed(shape)):
            fail("%s: ne %s, HF shape %s" % (name, ne, shape))
        x = src_f32(dtype, raw)
        if len(shape) == 1:
            if t != 0:
                fail("%s: 1-D tensor is %s, not F32" % (name, TYPE_NAMES.get(t, t)))
        elif want2d is not None and t != want2d:
            fail("%s: type %s" % (name, TYPE_NAMES.get(t, t)))
        elif want2d is None and t not in (12, 14, 6, 8):
            fail("%s: q4_k_m gave type %s" % (name, TYPE_NAMES.get(t, t)))
        if t == 30:
            ok = data == raw
        elif t == 0:
            ok = data == x.astype(np.float32).tobytes()
        elif t == 1:
            ok = data == x.astype(np.float16).tobytes()
        elif t == 8:
            ok = data == q8_0_ref(x)
        else:
            ok = True  # K-quants: bit-exactness is quant's golden tests' job; sizes checked by the offsets
        if not ok:
            fail("%s: data differs from the reference conversion (%s)" % (name, TYPE_NAMES.get(t, t)))

    kv = {k: v for k, _, v in kvs}
    types = {k: t for k, t, _ in kvs}
    order = [k for k, _, _ in kvs]
    if order[:2] != ["general.architecture", "general.type"] or kv["general.architecture"] != "qwen2":
        fail("first keys %s" % order[:2])
    # general.sampling.* right after general.type, in gguf-py's order, from generation_config.json
    gpath = os.path.join(mdir, "generation_config.json")
    gen = json.load(open(gpath)) if os.path.exists(gpath) else {}
    want_s = [("general.sampling." + k, t, (v if t == 5 else float(np.float32(v))))
              for src_key, k, t in (("top_k", "top_k", 5), ("top_p", "top_p", 6), ("min_p", "min_p", 6),
                                    ("temperature", "temp", 6), ("repetition_penalty", "penalty_repeat", 6))
              for v in [gen.get(src_key)] if v is not None]
    got_s = [(k, t, v) for k, t, v in kvs if k.startswith("general.sampling.")]
    if got_s != want_s or order[2:2 + len(want_s)] != [k for k, _, _ in want_s]:
        fail("sampling keys %s, expected %s right after general.type" % (got_s, want_s))
    if order[2 + len(want_s)] != "general.name":
        fail("general.name does not follow the sampling keys")
    exp = {
        "qwen2.block_count": (4, cfg["num_hidden_layers"]), "qwen2.context_length": (4, cfg["max_position_embeddings"]),
        "qwen2.embedding_length": (4, cfg["hidden_size"]), "qwen2.feed_forward_length": (4, cfg["intermediate_size"]),
        "qwen2.attention.head_count": (4, cfg["num_attention_heads"]),
        "qwen2.attention.head_count_kv": (4, cfg["num_key_value_heads"]),
        "qwen2.rope.freq_base": (6, float(np.float32(cfg["rope_theta"]))),
        "qwen2.attention.layer_norm_rms_epsilon": (6, float(np.float32(cfg["rms_norm_eps"]))),
        "general.file_type": (4, {"bf16": 32, "f16": 1, "f32": 0, "q8_0": 7, "q4_k_m": 15}[typ]),
        "general.quantization_version": (4, 2), "tokenizer.ggml.model": (8, "gpt2"), "tokenizer.ggml.pre": (8, "qwen2"),
    }
    for k, (t, v) in exp.items():
        if types.get(k) != t or kv.get(k) != v:
            fail("%s = %r (type %s), expected %r (type %d)" % (k, kv.get(k), types.get(k), v, t))
    tok = json.load(open(os.path.join(mdir, "tokenizer.json")))
    tcfg = json.load(open(os.path.join(mdir, "tokenizer_config.json")))
    n_vocab = cfg["vocab_size"]
    tokens = kv["tokenizer.ggml.tokens"]
    ttypes = kv["tokenizer.ggml.token_type"]
    if tokens[1] != 8 or len(tokens[2]) != n_vocab or ttypes[1] != 5 or len(ttypes[2]) != n_vocab:
        fail("tokens/token_type arrays: wrong element type or length")
    want = ["[PAD%d]" % i for i in range(n_vocab)]
    wtype = [5] * n_vocab
    for s, i in tok["model"]["vocab"].items():
        want[i], wtype[i] = s, 1
    for a in tok["added_tokens"]:
        c = a["content"]
        want[a["id"]] = c
        wtype[a["id"]] = 3 if a["special"] or (c.startswith("<|") and c.endswith("|>")) else 4
    if tokens[2] != want:
        fail("token strings differ from tokenizer.json")
    if ttypes[2] != wtype:
        fail("token types differ")
    merges = [" ".join(m) if isinstance(m, list) else m for m in tok["model"]["merges"]]
    if kv["tokenizer.ggml.merges"][2] != merges:
        fail("merges differ")
    content_id = {a["content"]: a["id"] for a in reversed(tok["added_tokens"])}
    specials = []
    for kind, key in (("bos", "bos"), ("eos", "eos"), ("unk", "unknown"), ("sep", "seperator"), ("pad", "padding"),
                      ("cls", "cls"), ("mask", "mask")):
        e = tcfg.get(kind + "_token")
        if isinstance(e, dict):
            e = e.get("content")
        if isinstance(e, str) and e in content_id:
            specials.append(("tokenizer.ggml.%s_token_id" % key, content_id[e]))
    have = {k for k, _ in specials}
    for kind, key in (("bos", "bos"), ("eos", "eos"), ("unk", "unknown"), ("sep", "seperator"), ("pad", "padding"),
                      ("cls", "cls"), ("mask", "mask")):
        v = cfg.get(kind + "_token_id")
        k = "tokenizer.ggml.%s_token_id" % key
        if isinstance(v, int) and k not in have:
            specials.append((k, v))
            have.add(k)
    got = [(k, kv[k]) for k in order if k.endswith("_token_id")]
    if got != specials:
        fail("special ids %s, expected %s" % (got, specials))
    ct = tcfg.get("chat_template")
    if ct is None and os.path.exists(os.path.join(mdir, "chat_template.jinja")):
        ct = open(os.path.join(mdir, "chat_template.jinja")).read()
    if kv.get("tokenizer.chat_template") != ct:
        fail("chat template differs")
    print("ok: %d tensors, %d keys, %d tokens" % (len(tensors), len(kvs), n_vocab))


if __name__ == "__main__":
    main()
