"""Export the course GPT (chapter 6) for the web page that runs it without a kernel.

    python scripts/export_web_model.py --out _build/web_gpt [--checkpoint PATH] [--dtype auto]

Reads a GPT checkpoint folder written by lmlib (config.json, model.safetensors, and the
tokenizer files tokenizer.json + lmlib_tokenizer.json), loads it with ``lmlib.gpt.GPT.load``
and ``lmlib.tokenizer.Tokenizer.load``, and writes to ``--out``:

* ``model.bin``   every weight of the model's state_dict, little-endian, one after the
  other (each starting at a multiple of 8 bytes); a tied ``lm_head.weight`` is stored once
  and listed with the offset of ``transformer.wte.weight``.
* ``model.json``  the manifest: the GPT config, and for each state_dict name its dtype,
  shape, byte offset and byte length, plus the file's size and SHA-256.
* ``tokenizer.json``  what ``lmlib/views/gpt_live.js`` needs to reproduce
  ``Tokenizer.encode``/``decode``: the vocabulary in id order, the BPE merges as id pairs
  (rank = position in the list), the special (added) tokens and the pipeline settings.

``--dtype auto`` (the default) stores float16 only if it keeps the model's next-token
log-probabilities within 1e-3 and its attention weights within 1e-3 of the float32
checkpoint on fixed Korean probe sentences; otherwise float32. The measured drift is
printed and written into the manifest. The script refuses a tokenizer whose pipeline is
not exactly the one gpt_live.js implements (NFC, Metaspace, BPE with byte fallback).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from lmlib.gpt import GPT  # noqa: E402
from lmlib.tokenizer import Tokenizer  # noqa: E402

DEFAULT_CHECKPOINT = ROOT / "lmlib" / "checkpoints" / "gpt_nsmc"
FORMAT, VERSION = "lmcb-gpt-web", 1
FP16_TOLERANCE = 1e-3  # log-probability and attention: what the browser test allows for fp16
BUDGET_BYTES = 4 * 1024 * 1024  # the size one model may take on the book's site
ALIGN = 8
PROBES = ["어제 카페 갔었어 거기 사람 많더라", "발 없는 말이 천 리 간다",
          "이 영화 정말 재밌어요 배우들 연기가 최고", "스토리가 너무 지루하고 뻔했다 시간 아깝다 ㅠㅠ",
          "평점 10점 만점에 3점... 돈 아까움"]
DTYPES = {"float32": (torch.float32, "<f4"), "float16": (torch.float16, "<f2")}


def check_tokenizer_pipeline(hf: dict) -> None:
    """Refuse a tokenizer.json whose pipeline differs from the one gpt_live.js implements."""
    model = hf.get("model", {})
    expected = {
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                          "split": True},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "ByteFallback"},
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}]},
        "post_processor": None,
        "model.type": "BPE", "model.dropout": None, "model.unk_token": "<unk>",
        "model.continuing_subword_prefix": None, "model.end_of_word_suffix": None,
        "model.fuse_unk": False, "model.byte_fallback": True, "model.ignore_merges": False,
    }
    bad = []
    for key, want in expected.items():
        got = model.get(key[6:]) if key.startswith("model.") else hf.get(key)
        if got != want:
            bad.append(f"{key}: expected {want!r}, found {got!r}")
    for tok in hf.get("added_tokens", []):
        if tok.get("lstrip") or tok.get("rstrip") or tok.get("single_word") or tok.get("normalized"):
            bad.append(f"added token {tok.get('content')!r} uses lstrip/rstrip/single_word/normalized")
    if bad:
        raise SystemExit("tokenizer.json has a pipeline gpt_live.js does not implement:\n  "
                         + "\n  ".join(bad))


def tokenizer_data(tok: Tokenizer) -> dict:
    """The tokenizer as gpt_live.js reads it (ids exactly those of lmlib's Tokenizer)."""
    hf = json.loads(tok.hf.to_str())
    check_tokenizer_pipeline(hf)
    vocab: dict[str, int] = hf["model"]["vocab"]
    n = tok.vocab_size
    tokens = [None] * n
    for piece, i in vocab.items():
        tokens[i] = piece
    for added in hf["added_tokens"]:
        tokens[added["id"]] = added["content"]
    if any(t is None for t in tokens) or len(set(tokens)) != n:
        raise SystemExit(f"the vocabulary does not give each id 0..{n - 1} one distinct token")
    merges = []
    for rank, m in enumerate(hf["model"]["merges"]):
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a not in vocab or b not in vocab or a + b not in vocab:
            raise SystemExit(f"merge {rank} ({a!r}, {b!r}) names a piece outside the vocabulary")
        merges.append([vocab[a], vocab[b]])
    added = [{"id": t["id"], "content": t["content"], "special": bool(t["special"])}
             for t in hf["added_tokens"]]
    return {
        "format": "lmcb-bpe-web", "version": 1,
        "normalizer": "NFC",
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                          "split": True},
        "model": {"type": "BPE", "byte_fallback": True, "unk_id": vocab["<unk>"]},
        "decoder": ["ByteFallback", "Metaspace"],
        "added_tokens": added,
        # lmlib's decode(skip_special=True) drops these ids (every special but <unk>)
        "skip_on_decode": [t["id"] for t in added if t["special"] and t["content"] != "<unk>"],
        "eos_id": tok.eos_id, "bos_id": tok.bos_id, "unk_id": tok.unk_id,
        "vocab": tokens,
        "merges": merges,
    }


@torch.no_grad()
def drift(model: GPT, tok: Tokenizer, dtype: torch.dtype) -> dict:
    """Max |difference| of log-probabilities and attention weights after rounding to dtype."""
    rounded = GPT(model.config).eval()
    rounded.load_state_dict({k: v.to(dtype).float() for k, v in model.state_dict().items()})
    logp = attn = 0.0
    for text in PROBES:
        idx = torch.tensor([tok.encode(text)])
        a, b = model(idx, return_attn=True), rounded(idx, return_attn=True)
        logp = max(logp, float((a.logits.log_softmax(-1) - b.logits.log_softmax(-1)).abs().max()))
        attn = max(attn, max(float((x - y).abs().max()) for x, y in zip(a.attentions, b.attentions)))
    return {"dtype": str(dtype).replace("torch.", ""), "max_abs_logprob": logp, "max_abs_attention": attn,
            "probes": len(PROBES)}


def export(checkpoint: Path, out: Path, dtype: str = "auto", quiet: bool = False) -> dict:
    """Write model.bin, model.json and tokenizer.json to `out`; returns the manifest."""
    say = (lambda *a, **k: None) if quiet else print
    model = GPT.load(checkpoint).eval()
    tok = Tokenizer.load(checkpoint)
    if tok.kind != "bpe" or tok.pre_tokenize != "none":
        raise SystemExit(f"gpt_live.js implements the bpe tokenizer without morph pre-tokenizing; "
                         f"this one is kind={tok.kind!r}, pre_tokenize={tok.pre_tokenize!r}")
    if tok.vocab_size != model.config.vocab_size:
        raise SystemExit(f"tokenizer has {tok.vocab_size} ids, the model {model.config.vocab_size}")

    fp16 = drift(model, tok, torch.float16)
    if dtype == "auto":
        ok = fp16["max_abs_logprob"] <= FP16_TOLERANCE and fp16["max_abs_attention"] <= FP16_TOLERANCE
        dtype = "float16" if ok else "float32"
        say(f"float16 drift on {len(PROBES)} probes: log-prob {fp16['max_abs_logprob']:.2e}, "
            f"attention {fp16['max_abs_attention']:.2e} (tolerance {FP16_TOLERANCE:g}) -> {dtype}")
    torch_dtype, np_dtype = DTYPES[dtype]

    out.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    tensors, chunks, offset, seen = [], [], 0, {}
    for name, t in state.items():
        entry = {"name": name, "dtype": dtype, "shape": list(t.shape)}
        key = (t.data_ptr(), tuple(t.shape), t.stride())  # tied weights share their storage
        if key in seen:
            first = seen[key]
            entry.update(offset=first["offset"], nbytes=first["nbytes"], tied_to=first["name"])
        else:
            data = t.detach().to(torch_dtype).cpu().numpy().astype(np_dtype, copy=False).tobytes()
            pad = (-offset) % ALIGN
            if pad:
                chunks.append(b"\0" * pad)
                offset += pad
            entry.update(offset=offset, nbytes=len(data))
            chunks.append(data)
            offset += len(data)
            seen[key] = entry
        tensors.append(entry)
    blob = b"".join(chunks)
    (out / "model.bin").write_bytes(blob)
    tok_json = json.dumps(tokenizer_data(tok), ensure_ascii=False, separators=(",", ":"))
    (out / "tokenizer.json").write_text(tok_json, encoding="utf-8")

    source = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    c = model.config
    manifest = {
        "format": FORMAT, "version": VERSION, "model": "GPT",
        "config": {"vocab_size": c.vocab_size, "max_len": c.max_len, "d_model": c.d_model,
                   "n_heads": c.n_heads, "n_layers": c.n_layers, "d_ff": c.d_ff,
                   "layer_norm_eps": c.layer_norm_eps, "eos_id": c.eos_id,
                   "activation": "gelu_tanh", "tied_lm_head": any("tied_to" in t for t in tensors)},
        "dtype": dtype, "byte_order": "little",
        "weights": {"file": "model.bin", "nbytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()},
        "tokenizer": {"file": "tokenizer.json"},
        "source": {"checkpoint": checkpoint.name, "sha256": source.get("sha256", {}).get("model.safetensors")},
        "float16_drift": fp16,
        "tensors": tensors,
    }
    (out / "model.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    total = sum((out / f).stat().st_size for f in ("model.bin", "model.json", "tokenizer.json"))
    manifest["total_bytes"] = total
    n_params = sum(int(np.prod(t["shape"])) for t in tensors if "tied_to" not in t)
    say(f"wrote {out}: {n_params:,} parameters as {dtype}, model.bin {len(blob) / 1e6:.2f} MB, "
        f"total {total / 1e6:.2f} MB ({total / 2**20:.2f} MiB)")
    if total > BUDGET_BYTES:
        say(f"warning: {total / 2**20:.2f} MiB is over the {BUDGET_BYTES / 2**20:.0f} MiB budget of a "
            f"web model", file=sys.stderr)
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="folder to write the web model into")
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT,
                    help="lmlib GPT checkpoint folder (default: the shipped gpt_nsmc)")
    ap.add_argument("--dtype", choices=["auto", *DTYPES], default="auto",
                    help="weight storage: auto = float16 if within 1e-3 of float32, else float32")
    args = ap.parse_args(argv)
    export(args.checkpoint, args.out, args.dtype)
    return 0


if __name__ == "__main__":
    sys.exit(main())
