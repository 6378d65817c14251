"""The chapter-6 GPT in the browser (lmlib/views/gpt_live.js) against lmlib in Python.

scripts/export_web_model.py writes the shipped checkpoint gpt_nsmc to pytest's tmp folder,
a tiny page served on 127.0.0.1 loads gpt_live.js and the export, and headless Chromium
must reproduce lmlib: the same token ids and decoded text, next-token log-probabilities
and attention weights at every position, the same greedy continuation; Korean errors for
empty and unknown-only text, and a left-truncation notice for overlong text.
Skipped where /usr/bin/chromium is missing (the `_chromium` fixture of conftest.py).
"""

from __future__ import annotations

import base64
import json
import random
import re
import sys

import numpy as np
import pytest
import torch

from helpers import REPO_ROOT, serve_folder
from lmlib.gpt import GPT, next_token_probs
from lmlib.tokenizer import Tokenizer

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import export_web_model  # noqa: E402

CHECKPOINT = REPO_ROOT / "lmlib" / "checkpoints" / "gpt_nsmc"
JS = REPO_ROOT / "lmlib" / "views" / "gpt_live.js"
HANGUL = re.compile("[가-힣]")
OVERLONG = "스토리가 너무 지루하고 뻔했다. 배우들 연기는 좋았는데 시간이 아깝다 ㅠㅠ " * 12

CASES = [
    "어제 카페 갔었어 거기 사람 많더라",  # the lecture's sentence
    "발 없는 말이 천 리 간다",
    "이 영화 정말 재밌어요 배우들 연기가 최고",
    "스토리가 너무 지루하고 뻔했다. 시간 아깝다 ㅠㅠ",
    "평점 10점 만점에 3점... 돈 아까움",
    "ㅋㅋㅋㅋㅋㅋㅋ 완전 웃김",
    "최고의 영화!!! 강력 추천합니다^^",
    "연기는 좋은데 결말이 좀... 별로였음",
    "CG가 2019년 작품치고는 훌륭함 👍",
    "Marvel 영화 중에 best 3 안에 듦",
    "  앞뒤에   공백이  많은   문장  ",
    "줄\n바꿈과\t탭",
    "가나다라마바사 1234567890",
    "왜 이렇게 평점이 낮지?? 난 재밌게 봤는데",
    "아이들과 함께 보기 좋은 가족 영화입니다.",
    "이딴 걸 영화라고 만들었냐 ;;",
    "배우 이름이 뭐였더라... 김OO?",
    "한자 漢字 와 일본어 カタカナ 섞기",
    "emoji만 😀🎬🍿 있는 리뷰",
    "분해된 한글 \u1100\u1161\u11a8 정규화",  # NFD jamo: NFC makes 각
    "<s>특수 토큰</s> 문자열 [MASK]",
    "E=mc² 그리고 ½ 조각 ▁표시",
    "a",
    OVERLONG,
]
TRICKY = ["", " ", "   ", "😀", "😀😀", "\u00e9", "e\u0301", "한\u3000글", "ﾊﾝｶｸ", "<unk>", "<s></s>",
          "<s", "a<s>b", "\u2581\u2581", "x" * 300, "가" * 200, "\ud7a3\uac00", "\U0001F9D1\u200d\U0001F4BB"]

PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<script src="gpt_live.js"></script>
<script>
// Float32Array -> base64 of its little-endian bytes (compact for the trip to Python)
window.b64 = function (f32) {
  const u8 = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(s);
};
window.tryIt = function (f) {
  try { return {ok: true, value: f()}; } catch (e) { return {ok: false, name: e.name, code: e.code, message: e.message}; }
};
</script></body></html>
"""


def f32(b64: str, shape) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4").reshape(shape)


def make_site(folder, dtype):
    manifest = export_web_model.export(CHECKPOINT, folder / "model", dtype=dtype, quiet=True)
    (folder / "gpt_live.js").write_text(JS.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    return manifest


class LivePage:
    """A Chromium page with gpt_live.js and one export loaded; JS errors are collected."""

    def __init__(self, browser, url):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.set_default_timeout(120_000)
        self.errors = []
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.goto(url + "index.html")
        self.info = self.page.evaluate("lmcbGPT.load('model/model.json')")

    def js(self, expr, arg=None):
        return self.page.evaluate(expr, arg)

    def close(self):
        self.context.close()
        assert not self.errors, f"JavaScript errors on the page: {self.errors}"


@pytest.fixture(scope="module")
def lm():
    return GPT.load(CHECKPOINT).eval(), Tokenizer.load(CHECKPOINT)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("web_gpt")
    manifest = make_site(folder, "auto")
    print(f"\nexport ({manifest['dtype']}): {manifest['total_bytes'] / 2**20:.2f} MiB "
          f"(model.bin {manifest['weights']['nbytes'] / 2**20:.2f} MiB); float16 would drift "
          f"log-prob {manifest['float16_drift']['max_abs_logprob']:.1e}")
    return folder, manifest


@pytest.fixture(scope="module")
def live(_chromium, site):
    folder, _ = site
    with serve_folder(folder) as url:
        page = LivePage(_chromium, url)
        yield page
        page.close()


def tolerance(dtype):
    return 1e-4 if dtype == "float32" else 1e-3


def test_export_manifest(site, lm):
    folder, manifest = site
    model, _ = lm
    state = model.state_dict()
    assert [t["name"] for t in manifest["tensors"]] == list(state)  # lmlib's names, in order
    blob = (folder / "model" / "model.bin").read_bytes()
    np_dtype = {"float32": "<f4", "float16": "<f2"}[manifest["dtype"]]
    for t in manifest["tensors"]:
        assert t["shape"] == list(state[t["name"]].shape)
        arr = np.frombuffer(blob, dtype=np_dtype, count=int(np.prod(t["shape"])), offset=t["offset"])
        ref = state[t["name"]].numpy().astype(np_dtype).ravel()
        assert np.array_equal(arr, ref), t["name"]
    tied = {t["name"]: t.get("tied_to") for t in manifest["tensors"]}
    assert tied["lm_head.weight"] == "transformer.wte.weight"  # lmlib ties: stored once
    if manifest["dtype"] == "float16":
        assert manifest["float16_drift"]["max_abs_logprob"] <= 1e-3
    else:  # auto chose float32 because float16 would not keep the 1e-3 tolerance
        assert manifest["float16_drift"]["max_abs_logprob"] > 1e-3


def test_token_ids_and_decode_match_lmlib(live, lm):
    _, tok = lm
    texts = CASES + TRICKY
    got = live.js("ts => ts.map(t => [lmcbGPT.encode(t), lmcbGPT.tokens(t)])", texts)
    for text, (ids, pieces) in zip(texts, got):
        assert ids == tok.encode(text), repr(text)
        assert pieces == tok.tokens(text), repr(text)
    decoded = live.js("idss => idss.map(ids => lmcbGPT.decode(ids))", [tok.encode(t) for t in texts])
    assert decoded == [tok.decode(tok.encode(t)) for t in texts]
    # any id sequence (broken byte runs, specials, <unk>) decodes as lmlib decodes it
    rng = random.Random(0)
    idss = [[rng.randrange(tok.vocab_size) for _ in range(rng.randrange(1, 12))] for _ in range(300)]
    idss += [[rng.choice([1, 2, 3, 263, 3476, 1288] + list(range(7, 263))) for _ in range(8)] for _ in range(300)]
    assert live.js("idss => idss.map(ids => lmcbGPT.decode(ids))", idss) == [tok.decode(ids) for ids in idss]


def compare_forward(live, model, tok, texts, dtype):
    """Max |JS - lmlib| of log-probs and attention over `texts`; asserts greedy argmax too."""
    worst_lp = worst_att = 0.0
    for text in texts:
        ids = tok.encode(text)[-model.config.max_len:]  # what prepare() keeps of overlong text
        out = live.js("""ids => { const o = lmcbGPT.forward(ids);
            return {lp: b64(o.logprobs), att: o.attentions.map(l => l.map(h => b64(h)))}; }""", ids)
        T, V = len(ids), model.config.vocab_size
        with torch.no_grad():
            ref = model(torch.tensor([ids]), return_attn=True)
        ref_lp = ref.logits.log_softmax(-1)[0].numpy()
        lp = f32(out["lp"], (T, V))
        worst_lp = max(worst_lp, float(np.abs(lp - ref_lp).max()))
        for layer, ref_w in zip(out["att"], ref.attentions):
            for head, ref_h in zip(layer, ref_w[0].numpy()):
                worst_att = max(worst_att, float(np.abs(f32(head, (T, T)) - ref_h).max()))
        assert (lp.argmax(-1) == ref_lp.argmax(-1)).all(), repr(text)
    assert worst_lp <= tolerance(dtype), worst_lp
    assert worst_att <= 1e-3, worst_att
    return worst_lp, worst_att


def test_forward_matches_lmlib(live, lm, site):
    model, tok = lm
    dtype = site[1]["dtype"]
    assert live.info["dtype"] == dtype
    worst_lp, worst_att = compare_forward(live, model, tok, [t for t in CASES if t], dtype)
    print(f"\n{len(CASES)} inputs, {dtype}: max |log-prob diff| {worst_lp:.2e}, "
          f"max |attention diff| {worst_att:.2e}")


def test_greedy_continuation_matches_lmlib(live, lm):
    model, tok = lm
    got = live.js("ts => ts.map(t => lmcbGPT.generate(t, {maxNewTokens: 10, greedy: true}))", CASES[:-1] + [OVERLONG])
    for text, g in zip(CASES[:-1] + [OVERLONG], got):
        ids = tok.encode(text)
        ref = model.generate(ids, 10, greedy=True, crop=True)[0].tolist()
        assert g["ids"] == ref, repr(text)
        assert g["newIds"] == ref[len(ids):]
        assert g["text"] == tok.decode(ref[len(ids):])


def test_korean_errors_and_truncation(live, lm):
    model, tok = lm
    for text, code in [("", "empty"), ("   \n", "empty"), ("😀😀", "unknown_only"), ("🤖 🦄", "unknown_only")]:
        for call in ("lmcbGPT.prepare(t)", "lmcbGPT.generate(t, {greedy: true})", "lmcbGPT.nextToken(t)"):
            r = live.js(f"t => tryIt(() => {call})", text)
            assert not r["ok"] and r["code"] == code and HANGUL.search(r["message"]), (text, call, r)
    for ids, code in [([], "empty"), (list(range(model.config.max_len + 1)), "too_long"), ([4000], "bad_ids")]:
        r = live.js("ids => tryIt(() => lmcbGPT.forward(ids))", ids)
        assert not r["ok"] and r["code"] == code and HANGUL.search(r["message"]), r
    # overlong text: cut from the left to the last max_len tokens, and the caller is told
    n = len(tok.encode(OVERLONG))
    assert n > model.config.max_len
    r = live.js("t => lmcbGPT.prepare(t)", OVERLONG)
    assert r["ids"] == tok.encode(OVERLONG)[-model.config.max_len:]
    assert r["truncated"] == n - model.config.max_len and HANGUL.search(r["notice"])
    assert live.js("t => lmcbGPT.prepare(t).notice", CASES[0]) is None
    r = live.js("t => lmcbGPT.nextToken(t, {k: 3})", OVERLONG)
    assert r["truncated"] == n - model.config.max_len and len(r["top"]) == 3
    # a character outside the vocabulary next to known ones is fine (spelled as bytes)
    r = live.js("t => lmcbGPT.prepare(t)", "좋아요 😀")
    assert r["ids"] == tok.encode("좋아요 😀") and r["unknown"] == ["😀"]


def test_sampling(live, lm):
    model, tok = lm
    text = CASES[0]
    r = live.js("""t => ({a: lmcbGPT.generate(t, {maxNewTokens: 12, temperature: 0.9, topK: 20, seed: 7, stopAtEos: false}),
                         b: lmcbGPT.generate(t, {maxNewTokens: 12, temperature: 0.9, topK: 20, seed: 7, stopAtEos: false}),
                         c: lmcbGPT.generate(t, {maxNewTokens: 12, temperature: 0.9, topK: 20, seed: 8, stopAtEos: false}),
                         k1: lmcbGPT.generate(t, {maxNewTokens: 10, topK: 1, seed: 3}),
                         g: lmcbGPT.generate(t, {maxNewTokens: 10, greedy: true})})""", text)
    assert r["a"]["newIds"] == r["b"]["newIds"]  # same seed, same text
    assert r["a"]["newIds"] != r["c"]["newIds"]
    assert len(r["a"]["newIds"]) == 12
    assert r["k1"]["newIds"] == r["g"]["newIds"]  # top-k 1 is greedy
    # each sampled token is among the top 20 of lmlib's distribution at its step
    ids = tok.encode(text)
    seq = ids + r["a"]["newIds"]
    with torch.no_grad():
        logits = model(torch.tensor([seq])).logits[0]
    for step, nxt in enumerate(r["a"]["newIds"]):
        assert nxt in logits[len(ids) + step - 1].topk(20).indices.tolist()
    # the sampling distribution itself equals lmlib.gpt.next_token_probs
    logit_row = logits[len(ids) - 1]
    for opts in [dict(temperature=0.7), dict(temperature=1.3, top_k=5), dict(temperature=1.0, top_p=0.9),
                 dict(temperature=0.8, top_k=50, top_p=0.5)]:
        js_opts = {"temperature": opts["temperature"], "topK": opts.get("top_k"), "topP": opts.get("top_p")}
        p = np.array(live.js("([l, o]) => Array.from(lmcbGPT.nextTokenProbs(Float32Array.from(l), o))",
                             [logit_row.tolist(), js_opts]))
        ref = next_token_probs(logit_row, **opts).numpy()
        assert np.abs(p - ref).max() <= 1e-5, opts
        assert ((p > 0) == (ref > 0)).all(), opts
    bad = live.js("t => tryIt(() => lmcbGPT.generate(t, {temperature: 0}))", text)
    assert not bad["ok"] and HANGUL.search(bad["message"])


def test_step_time_in_the_page(live):
    """A measurement, printed, never asserted: one next-token step (with the key/value cache)."""
    r = live.js("""t => {
        const ids = lmcbGPT.encode(t), now = () => performance.now();
        lmcbGPT.generate(ids, {maxNewTokens: 3, greedy: true});  // warm up the JIT
        let t0 = now(); lmcbGPT.generate(ids, {maxNewTokens: 1, greedy: true, stopAtEos: false});
        const first = now() - t0;
        t0 = now(); lmcbGPT.generate(ids, {maxNewTokens: 21, greedy: true, stopAtEos: false});
        const many = now() - t0;
        t0 = now(); lmcbGPT.forward(ids);
        const fwd = now() - t0;
        return {T: ids.length, first, step: (many - first) / 20, forward: fwd};
    }""", CASES[2])
    print(f"\nChromium: prompt of {r['T']} tokens {r['first']:.1f} ms, then "
          f"{r['step']:.1f} ms per next-token step (cache); forward with attention {r['forward']:.1f} ms")


def test_float16_export_matches_lmlib_on_the_same_weights(_chromium, tmp_path, lm):
    """float16 storage (half the bytes): the page equals lmlib run on the rounded weights;
    what rounding costs against the float32 checkpoint is printed."""
    model, tok = lm
    manifest = make_site(tmp_path, "float16")
    rounded = GPT(model.config).eval()
    rounded.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    texts = CASES[:4] + [CASES[8]]
    with serve_folder(tmp_path) as url:
        page = LivePage(_chromium, url)
        try:
            assert page.info["dtype"] == "float16"
            lp, att = compare_forward(page, rounded, tok, texts, "float32")  # same weights: 1e-4
        finally:
            page.close()
    print(f"\nfloat16 export {manifest['total_bytes'] / 2**20:.2f} MiB: vs lmlib on the same weights "
          f"log-prob {lp:.2e}, attention {att:.2e}; vs the float32 checkpoint log-prob "
          f"{manifest['float16_drift']['max_abs_logprob']:.2e}")
    assert json.loads((tmp_path / "model" / "model.json").read_text())["dtype"] == "float16"
