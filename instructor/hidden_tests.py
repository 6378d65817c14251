"""Checks that scripts/grade.py runs inside a submitted notebook's kernel, after its cells.

Each exercise is graded twice: by the checker the student sees (the call in the chapter's
own checker cell, re-run here from the course's copy of the chapter, so deleting or editing
that cell changes nothing), and, for exercises whose answer is a function, by hidden cases:
inputs the visible checker does not try. Students never see this file (it is not in the
notebooks or the student book).
"""

from __future__ import annotations

import math
import random
import traceback
from typing import Callable

Check = Callable[[dict], tuple[bool, str]]


def _approx(a, b, rel=1e-9) -> bool:
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-12)


def _h_add_k(ns):
    f = ns["add_k"]
    cases = [(0, 0, 1, 1.0), (3, 10, 7, 0.5), (0, 5, 1000, 0.01), (12, 12, 1, 2.0)]
    bad = [c for c in cases if not _approx(f(*c), (c[0] + c[3]) / (c[1] + c[3] * c[2]))]
    return not bad, f"add_k가 틀린 입력: {bad[:2]}" if bad else "숨은 입력 4개 통과"


def _h_perplexity(ns):
    f, rng = ns["perplexity"], random.Random(7)
    for n in (1, 3, 50):
        probs = [rng.uniform(0.01, 1.0) for _ in range(n)]
        want = math.exp(-sum(math.log(p) for p in probs) / n)
        if not _approx(f(probs), want, 1e-7):
            return False, f"길이 {n}의 확률 목록에서 {f(probs)!r} (기대 {want:.6g})"
    return True, "숨은 입력 3개 통과"


def _h_reverse(ns):
    f = ns["reverse_alignment"]
    bad = [(t, n) for n in (1, 2, 9, 20) for t in range(n) if f(t, n) != n - 1 - t]
    return not bad, f"틀린 (t, n): {bad[:3]}" if bad else "n = 1, 2, 9, 20 통과"


def _h_causal(ns):
    import torch
    f = ns["my_causal_mask"]
    for T in (1, 2, 9):
        got = f(T)
        if not isinstance(got, torch.Tensor) or got.dtype != torch.bool or not torch.equal(
                got, torch.tril(torch.ones(T, T, dtype=torch.bool))):
            return False, f"T={T}에서 다른 마스크"
    return True, "T = 1, 2, 9 통과"


def _h_receptive(ns):
    f = ns["receptive_field"]
    bad = [(l, k) for l in (1, 2, 5) for k in (1, 3, 7) if f(l, k) != 1 + l * (k - 1)]
    return not bad, f"틀린 (n_layers, kernel): {bad[:3]}" if bad else "9개 조합 통과"


def _h_shift(ns):
    f = ns["shift"]
    for ids, bos, eos in (([], 1, 2), ([7], 0, 9), ([5, 5, 5, 3], 1, 2)):
        got = f(list(ids), bos, eos)
        if [list(x) for x in got] != [[bos] + ids, ids + [eos]]:
            return False, f"tgt_ids={ids}에서 {got!r}"
    return True, "빈 목록을 포함한 3개 통과"


def _h_top_k(ns):
    import torch
    f = ns["top_k_probs"]
    g = torch.Generator().manual_seed(3)
    for V, k in ((5, 1), (50, 5), (50, 50)):
        p = torch.softmax(torch.randn(V, generator=g), dim=0)
        got = f(p.clone(), k)
        top = torch.topk(p, k)
        want = torch.zeros_like(p)
        want[top.indices] = top.values
        want = want / want.sum()
        if not torch.allclose(got, want, atol=1e-6):
            return False, f"V={V}, k={k}에서 다른 벡터"
    return True, "k = 1, 5, V 통과"


def _h_corrupt(ns):
    f = ns["corrupt"]
    cases = {0.0: "mask", 0.7999: "mask", 0.8: "random", 0.8999: "random", 0.9: "keep", 0.99999: "keep"}
    bad = {u: f(u) for u, want in cases.items() if f(u) != want}
    return not bad, f"경계에서 틀림: {bad}" if bad else "경계값 6개 통과"


def _h_segments(ns):
    f = ns["segment_ids"]
    for ids, sep in (([1, 9], 9), ([1, 4, 9, 9], 9), ([1, 4, 5, 9, 6, 9], 9)):
        first = ids.index(sep)
        want = [0] * (first + 1) + [1] * (len(ids) - first - 1)
        if list(f(list(ids), sep)) != want:
            return False, f"ids={ids}에서 {f(list(ids), sep)!r}"
    return True, "숨은 입력 3개 통과"


def _h_cosine(ns):
    import torch
    f = ns["cosine"]
    g = torch.Generator().manual_seed(5)
    for n in (1, 3, 64):
        u, v = torch.randn(n, generator=g), torch.randn(n, generator=g)
        want = torch.nn.functional.cosine_similarity(u, v, dim=0)
        if not _approx(float(f(u, v)), float(want), 1e-5):
            return False, f"길이 {n}에서 {float(f(u, v)):.6g} (기대 {float(want):.6g})"
        if not _approx(float(f(3 * u, u)), 1.0, 1e-5):
            return False, "같은 방향의 두 벡터가 1이 아님"
    return True, "숨은 입력 3개 통과"


def _h_adapter(ns):
    f = ns["adapter_params"]
    bad = [(C, n) for C in (1, 64, 768) for n in (1, 2, 5) if f(C, n) != n * C + n]
    return not bad, f"틀린 (C, n): {bad[:3]}" if bad else "9개 조합 통과"


HIDDEN: dict[str, Check] = {
    "1-3": _h_add_k, "1-4": _h_perplexity, "3-3": _h_reverse, "4-2": _h_causal,
    "4-3": _h_receptive, "5-3": _h_shift, "6-2": _h_top_k, "7-2": _h_corrupt,
    "7-3": _h_segments, "8-1": _h_cosine, "8-2": _h_adapter,
}


def _run(check: Callable[[], object]) -> tuple[bool, str]:
    try:
        out = check()
    except Exception as e:  # a student's function may raise anything
        last = traceback.extract_tb(e.__traceback__)[-1]
        return False, f"{type(e).__name__}: {e} (line {last.lineno})"[:300]
    if isinstance(out, tuple):
        return bool(out[0]), str(out[1])
    return bool(out), repr(out)[:300]


def grade(exercises: list[tuple[str, str]], ns: dict) -> dict[str, dict]:
    """Grade each (exercise id, visible checker call) in the kernel namespace `ns`.

    Returns {id: {"ok", "visible", "hidden", "message"}}: ok only if the visible checker
    and the hidden cases (where there are any) both pass.
    """
    results = {}
    for ex_id, call in exercises:
        visible_ok, visible_msg = _run(lambda: eval(call, ns))
        hidden = HIDDEN.get(ex_id)
        hidden_ok, hidden_msg = _run(lambda: hidden(ns)) if hidden and visible_ok else (None, "")
        results[ex_id] = {"ok": visible_ok and hidden_ok is not False, "visible": visible_ok,
                          "hidden": hidden_ok, "message": visible_msg if not visible_ok else hidden_msg}
    return results
