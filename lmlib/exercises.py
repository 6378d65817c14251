"""Checkers for the chapters' exercises (연습문제).

Each checker recomputes the expected answer from the course corpus with lmlib (no
answer is typed in here) and returns a Result that says what is right or, for the
usual mistakes, what went wrong. In a notebook the Result prints itself.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

from .base import check_int
from .text import BOS, EOS


@dataclass(frozen=True)
class Result:
    """Outcome of one check: ok, and a message in Korean for the student."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return ("[O] 정답입니다. " if self.ok else "[X] 다시 해 보세요. ") + self.message


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-15)


_TODO = Result(False, "아직 답이 없습니다. 답을 채운 뒤 이 셀을 다시 실행하세요.")


def _number(answer, name: str = "answer") -> float:
    # numbers.Real, not (int, float): numpy/pandas scalars (np.int64 from a chain_rule table) count too.
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise TypeError(f"{name}: expected a number (int or float), got {type(answer).__name__}")
    return float(answer)


class _NotA(Exception):
    """What a student's function returned cannot be read as the kind of answer checked."""


def _as(convert, got, what: str):
    """convert(got), or _NotA with a message for the student when it cannot be converted."""
    try:
        return convert(got)
    except (TypeError, ValueError, RuntimeError, OverflowError) as err:
        short = repr(got) if len(repr(got)) <= 40 else repr(got)[:37] + "..."
        raise _NotA(f"fn이 돌려준 값 {short} ({type(got).__name__})을(를) {what}(으)로 읽을 수 없습니다: "
                    f"{err}") from None


def _student(check: Callable) -> Callable:
    """A checker whose student function returned something unreadable answers with a Result."""
    import functools

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except _NotA as err:
            return Result(False, str(err))
    return wrapper


def course_models(order: int = 2, smoothing: str = "mle", k: float = 1.0, direction: str = "forward"):
    """The reference n-gram model the exercises use: fitted on the course corpus's train split."""
    from .ngram import NGramLM

    NGramLM(order, smoothing=smoothing, k=k, direction=direction)  # the argument checks, by name
    return _course_models(order, smoothing, float(k), direction)


@lru_cache(maxsize=None)
def _course_models(order: int, smoothing: str, k: float, direction: str):
    from .data import course_split
    from .ngram import NGramLM

    train, _ = course_split()
    return NGramLM(order, smoothing=smoothing, k=k, direction=direction).fit(train)


# ---- chapter 1 -------------------------------------------------------------------

def ch1_conditional(answer) -> Result:
    """연습 1-1: P(운전 | 난폭) from the train split's bigram counts (MLE)."""
    if answer is None:
        return _TODO
    value = _number(answer)
    lm = course_models(2)
    c_pair, c_first = lm.count(["난폭", "운전"]), lm.count(["난폭"])
    want = lm.prob("운전", ["난폭"])
    if _close(value, want):
        return Result(True, f"P(운전 | 난폭) = count(난폭 운전) / count(난폭) = {c_pair}/{c_first} = {want:.4f}")
    if value == c_pair:
        return Result(False, "그 값은 count(난폭 운전)입니다. 확률이 되려면 무엇으로 나눠야 할까요?")
    n_bigrams = sum(lm.count([w]) for w in lm.vocab if w != BOS)  # every bigram ends on one token
    if _close(value, c_pair / n_bigrams, 1e-6):
        return Result(False, "그 값은 결합 확률 P(난폭, 운전)입니다. 조건부 확률은 P(난폭)으로 한 번 더 나눕니다.")
    if _close(value, c_pair / max(lm.count(["운전"]), 1), 1e-6):
        return Result(False, "count(운전)으로 나누면 P(난폭 | 운전)에 가깝습니다. 조건은 '난폭'입니다.")
    return Result(False, f"{value:.4g}은(는) 기대한 값과 다릅니다. count(난폭 운전)와 count(난폭)을 lm.count로 확인해 보세요.")


@_student
def ch1_sentence_logprob(fn: Callable) -> Result:
    """연습 1-2: fn(lm, tokens) -> log P(sentence) by the chain rule, checked on several sentences."""
    if not callable(fn):
        raise TypeError(f"fn: expected a function fn(lm, tokens), got {type(fn).__name__}")
    lm = course_models(2, "laplace")
    for sent in ("어제 카페 갔었어", "나는 버스정류장에서 방금 버스를 놓쳤다", "오늘 날씨 진짜 좋다"):
        tokens = sent.split()
        raw = fn(lm, list(tokens))
        if raw is None:
            return _TODO
        got, want = _as(float, raw, "숫자"), lm.sentence_logprob(tokens)
        if _close(got, want):
            continue
        no_eos = want - lm.logprob(EOS, tokens)
        if _close(got, no_eos):
            return Result(False, f"'{sent}': 마지막 인수 P(</s> | ...)가 빠졌습니다. 문장이 끝나는 것도 예측합니다.")
        if _close(got, want / math.log(10)) or _close(got, want / math.log(2)):
            return Result(False, "밑이 e인 자연로그(math.log)를 쓰세요.")
        if _close(got, math.exp(want)):
            return Result(False, "확률 자체가 아니라 로그 확률의 합을 돌려주세요.")
        return Result(False, f"'{sent}': {got:.6f}을(를) 돌려줬지만 {want:.6f}이어야 합니다.")
    return Result(True, "세 문장 모두 lm.sentence_logprob와 같습니다.")


@_student
def ch1_add_k(fn: Callable) -> Result:
    """연습 1-3: fn(count_xy, count_x, vocab_size, k) -> add-k probability."""
    if not callable(fn):
        raise TypeError(f"fn: expected a function fn(count_xy, count_x, vocab_size, k), got {type(fn).__name__}")
    cases = [(3, 10, 50, 1.0), (0, 10, 50, 1.0), (0, 0, 20, 0.5), (7, 7, 1000, 0.01)]
    for cxy, cx, v, k in cases:
        raw = fn(cxy, cx, v, k)
        if raw is None:
            return _TODO
        got, want = _as(float, raw, "숫자"), (cxy + k) / (cx + k * v)
        if _close(got, want):
            continue
        if _close(got, (cxy + k) / (cx + k)):
            return Result(False, "분모에 k × |V|를 더해야 합니다: 모든 단어에 k씩 더했으니까요.")
        if cx and _close(got, cxy / cx):
            return Result(False, "스무딩 없는 MLE입니다. 분자와 분모에 k를 반영하세요.")
        return Result(False, f"fn({cxy}, {cx}, {v}, {k}) = {got:.6g}, 기대값 {want:.6g}")
    v, k, cx = 40, 0.3, 12
    total = sum(fn(c, cx, v, k) for c in [cx] + [0] * (v - 1))
    if not _close(total, 1.0, 1e-9):
        return Result(False, f"한 문맥의 모든 단어 확률 합이 1이어야 하는데 {total:.6f}입니다.")
    return Result(True, "네 경우 모두 맞고, 한 문맥의 확률 합도 1입니다.")


@_student
def ch1_perplexity(fn: Callable) -> Result:
    """연습 1-4: fn(probs) -> perplexity of a list of per-token probabilities."""
    if not callable(fn):
        raise TypeError(f"fn: expected a function fn(probs), got {type(fn).__name__}")
    for probs in ([0.5, 0.25, 0.125], [0.1] * 10, [1.0, 0.2]):
        raw = fn(list(probs))
        if raw is None:
            return _TODO
        got = _as(float, raw, "숫자")
        want = math.exp(-sum(math.log(p) for p in probs) / len(probs))
        if _close(got, want):
            continue
        if _close(got, math.exp(-sum(math.log(p) for p in probs))):
            return Result(False, "토큰 수로 나눠 평균을 내야 합니다(문장 길이와 무관한 값이 되도록).")
        if _close(got, -sum(math.log(p) for p in probs) / len(probs)):
            return Result(False, "평균 음의 로그 확률(교차 엔트로피)까지 맞았습니다. 지수(math.exp)를 취하세요.")
        return Result(False, f"fn({probs}) = {got:.6g}, 기대값 {want:.6g}")
    return Result(True, "세 경우 모두 맞습니다. 균등한 확률 0.1이 열 번이면 퍼플렉서티는 10입니다.")


# ---- chapter 2 -------------------------------------------------------------------

def _norm_factor(s: str) -> str:
    return " ".join(str(s).replace("|", " | ").replace("(", "( ").replace(")", " )").replace(",", " ").split())


def ch2_backward_factors(factors: Sequence[str]) -> Result:
    """연습 2-1: the backward chain-rule factors of '어제 카페 갔었어', in the order they are computed."""
    if factors is None:
        return _TODO
    if isinstance(factors, str) or not isinstance(factors, Sequence):
        raise TypeError("factors: expected a list of strings like ['P(갔었어)', ...]")
    for i, f in enumerate(factors):
        if not isinstance(f, str):
            raise TypeError(f"factors[{i}]: expected a str like 'P(갔었어)', got {type(f).__name__}")
    want = ["P(갔었어)", "P(카페 | 갔었어)", "P(어제 | 카페 갔었어)"]
    got = [_norm_factor(f) for f in factors]
    if got == [_norm_factor(f) for f in want]:
        return Result(True, "역방향은 '갔었어'부터, 뒤쪽 문맥을 조건으로 한 인수들을 곱합니다.")
    forward = ["P(어제)", "P(카페 | 어제)", "P(갔었어 | 어제 카페)"]
    if got == [_norm_factor(f) for f in forward]:
        return Result(False, "그것은 순방향 분해입니다. 문장의 끝에서 시작해 보세요.")
    if len(got) != 3:
        return Result(False, f"단어가 세 개이니 인수도 세 개입니다(지금 {len(got)}개).")
    return Result(False, "첫 인수는 P(갔었어)이고, 그다음 인수들은 오른쪽 단어들을 조건으로 합니다.")


def ch2_backward_sentence_prob(answer, sentence: str = "어제 카페 갔었어") -> Result:
    """연습 2-2: P(sentence) under the backward trigram model (add-k, k=0.01, train split)."""
    if answer is None:
        return _TODO
    value = _number(answer)
    if not isinstance(sentence, str):
        raise TypeError(f"sentence: expected a str such as '어제 카페 갔었어', got {type(sentence).__name__}")
    if not sentence.split():
        raise ValueError(f"sentence: expected some words, got {sentence!r}")
    bwd = course_models(3, "add-k", 0.01, "backward")
    fwd = course_models(3, "add-k", 0.01, "forward")
    tokens = sentence.split()
    want = bwd.sentence_prob(tokens)
    if _close(value, want):
        return Result(True, f"역방향 트라이그램으로 P = {want:.3e}, 순방향 트라이그램은 {fwd.sentence_prob(tokens):.3e}."
                            " 잘린 문맥이 다르니 값도 다릅니다.")
    if _close(value, fwd.sentence_prob(tokens)):
        return Result(False, "순방향 모델의 값입니다. direction='backward' 모델을 쓰세요.")
    table = bwd.chain_rule(tokens)
    if _close(value, math.prod(table["prob"][:-1])):
        return Result(False, "마지막 인수(문장의 시작을 알리는 </s>)가 빠졌습니다.")
    if _close(value, course_models(2, "add-k", 0.01, "backward").sentence_prob(tokens)):
        return Result(False, "바이그램 모델의 값입니다. order=3으로 만들어 보세요.")
    return Result(False, f"{value:.4g}은(는) 기대한 값과 다릅니다. chain_rule(...)의 prob 열을 모두 곱해 보세요.")


@lru_cache(maxsize=None)
def _ch2_blank_baselines() -> tuple:
    """The held-out blanks of exercise 2-3 and the one-sided scorers' top-1 accuracy (computed once)."""
    from .blanks import NGramBlankScorer, evaluate_blanks, make_blanks
    from .data import course_split

    fwd = course_models(2, "add-k", 0.01, "forward")
    bwd = course_models(2, "add-k", 0.01, "backward")
    _, test = course_split()
    blanks = tuple(make_blanks(test, vocab=fwd.vocab, seed=1)[:150])
    f1 = evaluate_blanks(NGramBlankScorer(forward=fwd), blanks)["top1"]
    b1 = evaluate_blanks(NGramBlankScorer(backward=bwd), blanks)["top1"]
    return blanks, f1, b1


def ch2_weighted_scorer(make_scorer: Callable) -> Result:
    """연습 2-3: make_scorer(fwd, bwd) -> object with rank_blank; must beat both one-sided scorers."""
    from .blanks import evaluate_blanks

    if not callable(make_scorer):
        raise TypeError(f"make_scorer: expected a function make_scorer(fwd, bwd), got {type(make_scorer).__name__}")
    fwd = course_models(2, "add-k", 0.01, "forward")
    bwd = course_models(2, "add-k", 0.01, "backward")
    blanks, f1, b1 = _ch2_blank_baselines()
    scorer = make_scorer(fwd, bwd)
    if scorer is None:
        return _TODO
    if not hasattr(scorer, "rank_blank"):
        return Result(False, "돌려준 객체에 rank_blank(blank) 메서드가 없습니다.")
    mine = evaluate_blanks(scorer, blanks)["top1"]
    if mine > max(f1, b1):
        return Result(True, f"top-1 정확도 {mine:.3f} > 순방향 {f1:.3f}, 역방향 {b1:.3f}")
    return Result(False, f"top-1 정확도 {mine:.3f}: 순방향 {f1:.3f}, 역방향 {b1:.3f}보다 높아야 합니다.")


# ---- chapter 3 -------------------------------------------------------------------

def _torch_fn_check(fn: Callable, name: str) -> None:
    if not callable(fn):
        raise TypeError(f"{name}: expected a function, got {type(fn).__name__}")


def ch3_bottleneck_size(answer, src_len: int = 30, d_hidden: int = 64) -> Result:
    """연습 3-1: how many numbers the plain decoder receives about a source of `src_len` tokens."""
    check_int(src_len, "src_len", low=1)
    check_int(d_hidden, "d_hidden", low=1)
    if answer is None:
        return _TODO
    value = _number(answer)
    if value == d_hidden:
        return Result(True, f"길이 {src_len}인 문장이든 짧은 문장이든 최종 상태 {d_hidden}개가 전부입니다.")
    if value == src_len * d_hidden:
        return Result(False, "그것은 어텐션 디코더가 볼 수 있는 양(단어별 인코더 출력 전체)입니다.")
    return Result(False, "인코더의 최종 상태 벡터의 크기를 생각해 보세요(d_hidden).")


@_student
def ch3_masked_softmax(fn: Callable) -> Result:
    """연습 3-2: fn(scores (B, S), lengths (B,)) -> weights, softmax over the real keys, 0 on padding."""
    import torch

    _torch_fn_check(fn, "fn")
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(4, 7, generator=g) * 3
    lengths = torch.tensor([7, 5, 1, 3])
    got = fn(scores.clone(), lengths.clone())
    if got is None:
        return _TODO
    got = _as(lambda x: torch.as_tensor(x, dtype=torch.float32), got, "텐서")
    if got.shape != scores.shape:
        return Result(False, f"모양이 {tuple(got.shape)}입니다. 입력과 같은 {tuple(scores.shape)}이어야 합니다.")
    real = torch.arange(7)[None, :] < lengths[:, None]
    want = torch.softmax(scores.masked_fill(~real, float("-inf")), dim=-1)
    if torch.isnan(got).any():
        return Result(False, "NaN이 나왔습니다. 가린 위치를 -inf로 채운 뒤 softmax를 했는지 확인하세요.")
    if got[~real].abs().max() > 1e-6:
        return Result(False, "패딩 위치의 가중치가 0이 아닙니다. softmax 전에 가려야 합니다.")
    if torch.allclose(got, torch.softmax(scores, dim=0).masked_fill(~real, 0.0), atol=1e-5):
        return Result(False, "softmax를 배치 차원(dim=0)으로 했습니다. 키 차원(dim=-1)이어야 합니다.")
    if not torch.allclose(got, want, atol=1e-5):
        return Result(False, "실제 키 위치의 가중치가 기대값과 다릅니다. 각 행의 합이 1인지 확인하세요.")
    return Result(True, "각 행이 실제 키들 위의 확률 분포이고, 패딩은 정확히 0입니다.")


@_student
def ch3_reverse_alignment(fn: Callable) -> Result:
    """연습 3-3: fn(t, n) -> the source position output step t should attend to when reversing n tokens."""
    _torch_fn_check(fn, "fn")
    for n in (1, 4, 10):
        for t in range(n):
            got = fn(t, n)
            if got is None:
                return _TODO
            if got != n - 1 - t:
                if got == t:
                    return Result(False, "그것은 복사 과제의 정렬입니다. 뒤집기에서는 첫 출력이 마지막 입력을 봅니다.")
                if got == n - t:
                    return Result(False, "한 칸 어긋났습니다. 위치는 0부터 셉니다.")
                return Result(False, f"fn({t}, {n}) = {got}, 기대값 {n - 1 - t}")
    return Result(True, "3.4절 히트맵의 반대 대각선이 바로 이 정렬입니다.")


# ---- chapter 4 -------------------------------------------------------------------

@_student
def ch4_attention(fn: Callable) -> Result:
    """연습 4-1: fn(Q, K, V) -> (out, weights), softmax(Q K^T / sqrt(d)) V written out."""
    import torch

    from .attention import scaled_dot_product_attention

    _torch_fn_check(fn, "fn")
    g = torch.Generator().manual_seed(0)
    Q, K, V = (torch.randn(5, 8, generator=g) for _ in range(3))
    res = fn(Q.clone(), K.clone(), V.clone())
    if res is None:
        return _TODO
    if not (isinstance(res, tuple) and len(res) == 2):
        return Result(False, "(out, weights) 두 값을 튜플로 돌려주세요.")
    out, w = (_as(lambda t: torch.as_tensor(t, dtype=torch.float32), x, "텐서") for x in res)
    want_out, want_w = scaled_dot_product_attention(Q, K, V)
    if w.shape == want_w.shape and torch.allclose(w, torch.softmax(Q @ K.T, dim=-1), atol=1e-5):
        return Result(False, "sqrt(d)로 나누는 것을 빠뜨렸습니다.")
    if w.shape == want_w.shape and torch.allclose(w, torch.softmax(Q @ K.T / 8 ** 0.5, dim=0), atol=1e-5):
        return Result(False, "softmax의 차원이 틀렸습니다. 각 쿼리(행)마다 키들(열) 위에서 합이 1이어야 합니다.")
    if w.shape != want_w.shape or not torch.allclose(w, want_w, atol=1e-5):
        return Result(False, "가중치가 기대값과 다릅니다. Q @ K.T / sqrt(d)에 softmax(dim=-1)를 취하세요.")
    if out.shape != want_out.shape or not torch.allclose(out, want_out, atol=1e-5):
        return Result(False, "가중치는 맞지만 출력이 다릅니다. weights @ V 입니다.")
    return Result(True, "가중치와 출력 모두 lmlib.attention.scaled_dot_product_attention과 같습니다.")


@_student
def ch4_causal_mask(fn: Callable) -> Result:
    """연습 4-2: fn(T) -> bool (T, T), True where query i may attend to key j (j <= i)."""
    import torch

    from .attention import causal_mask

    _torch_fn_check(fn, "fn")
    for T in (1, 3, 6):
        got = fn(T)
        if got is None:
            return _TODO
        got = _as(lambda x: torch.as_tensor(x).bool(), got, "bool 텐서")
        want = causal_mask(T)
        if got.shape != want.shape:
            return Result(False, f"fn({T})의 모양이 {tuple(got.shape)}입니다. ({T}, {T})이어야 합니다.")
        if torch.equal(got, want.T) and T > 1:
            return Result(False, "뒤집혔습니다(전치). 행 i는 자기와 그 앞의 키 j <= i만 볼 수 있습니다.")
        if torch.equal(got, ~want):
            return Result(False, "True/False가 반대입니다. True가 '볼 수 있음'입니다.")
        if not torch.equal(got, want):
            return Result(False, f"fn({T})이 기대한 하삼각 행렬과 다릅니다.")
    return Result(True, "하삼각 마스크입니다. 디코더가 미래 단어를 보지 못하게 하는 바로 그 마스크입니다(5장).")


@_student
def ch4_receptive_field(fn: Callable) -> Result:
    """연습 4-3: fn(n_layers, kernel) -> how many input positions one output of a stacked CNN sees."""
    _torch_fn_check(fn, "fn")
    for layers, kernel in ((1, 3), (2, 3), (3, 5), (4, 3)):
        got = fn(layers, kernel)
        if got is None:
            return _TODO
        want = 1 + layers * (kernel - 1)
        if got == want:
            continue
        if got == layers * kernel:
            return Result(False, "층마다 k칸이 더해지는 것이 아니라, 이미 보던 1칸에 (k-1)칸씩 넓어집니다.")
        if got != want:
            return Result(False, f"fn({layers}, {kernel}) = {got}, 기대값 {want}")
    return Result(True, "커널 3을 두 층 쌓으면 5칸: 그보다 멀리 떨어진 두 단어는 한 출력에서 만나지 못합니다.")


# ---- chapter 5 -------------------------------------------------------------------

def ch5_decoder_input(tokens: Sequence[str]) -> Result:
    """연습 5-1: the decoder input when the model must predict 'went' (teacher forcing)."""
    if tokens is None:
        return _TODO
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError("tokens: expected a list of tokens like ['<s>', ...]")
    for i, t in enumerate(tokens):
        if not isinstance(t, str):
            raise TypeError(f"tokens[{i}]: expected a str token like '<s>', got {type(t).__name__}")
    got = list(tokens)
    if got == [BOS, "I"]:
        return Result(True, "학습 중에는 정답 앞부분 '<s> I'가 들어갑니다(모델이 'I'를 맞혔든 못 맞혔든).")
    if got == ["I"]:
        return Result(False, "디코더 입력은 문장 시작 토큰 <s>로 시작합니다.")
    if got == [BOS, "I", "went"]:
        return Result(False, "맞혀야 할 'went'까지 넣으면 답을 보여 주는 셈입니다.")
    return Result(False, "'went' 앞까지의 정답 타깃 시퀀스를 <s>부터 쓰세요.")


@_student
def ch5_shift(fn: Callable) -> Result:
    """연습 5-3: fn(tgt_ids, bos_id, eos_id) -> (decoder_input, decoder_output) for teacher forcing."""
    _torch_fn_check(fn, "fn")
    for tgt in ([7, 8, 9], [5], [4, 4, 6, 10]):
        res = fn(list(tgt), 2, 3)
        if res is None:
            return _TODO
        if not (isinstance(res, tuple) and len(res) == 2):
            return Result(False, "(decoder_input, decoder_output) 두 목록을 튜플로 돌려주세요.")
        dec_in, dec_out = (list(x) for x in res)
        if dec_in == [2] + tgt and dec_out == tgt + [3]:
            continue
        if dec_in == dec_out:
            return Result(False, "입력과 출력이 같으면 모델은 그냥 베끼면 됩니다. 출력은 입력보다 한 칸 앞서야 합니다.")
        if dec_in == [2] + tgt + [3]:
            return Result(False, "디코더 입력에는 </s>가 들어가지 않습니다(</s> 다음에 예측할 것이 없으니까요).")
        return Result(False, f"tgt={tgt}: 입력 {dec_in}, 출력 {dec_out}. 기대값은 입력 {[2] + tgt}, 출력 {tgt + [3]}")
    return Result(True, "입력은 <s> + 타깃, 출력은 타깃 + </s>: 한 칸씩 어긋난 두 시퀀스입니다.")


def ch5_step_loss(answer, prob: float = 0.25) -> Result:
    """연습 5-2: the cross-entropy loss of one step where the gold token got probability `prob`."""
    prob = _number(prob, "prob")
    if not 0 < prob <= 1:
        raise ValueError(f"prob: expected a probability in (0, 1], got {prob!r}")
    if answer is None:
        return _TODO
    value = _number(answer)
    want = -math.log(prob)
    if _close(value, want, 1e-6):
        return Result(True, f"-log {prob} = {want:.4f}. 정답 확률이 1에 가까워질수록 손실은 0에 가까워집니다.")
    if _close(value, math.log(prob), 1e-6):
        return Result(False, "부호가 반대입니다. 손실은 -log p입니다.")
    if _close(value, 1 - prob, 1e-6):
        return Result(False, "1 - p가 아니라 -log p입니다(교차 엔트로피).")
    if _close(value, -math.log10(prob), 1e-6) or _close(value, -math.log2(prob), 1e-6):
        return Result(False, "자연로그(math.log)를 쓰세요.")
    return Result(False, f"{value:.4g}은(는) 기대한 값과 다릅니다.")


# ---- chapter 6 -------------------------------------------------------------------

@_student
def ch6_param_count(fn: Callable) -> Result:
    """연습 6-1: fn(vocab_size, max_len, d_model, n_layers) -> GPT parameters (d_ff = 4 d_model)."""
    from .gpt import PRESETS, GPTConfig, count_parameters

    _torch_fn_check(fn, "fn")
    cases = [dict(vocab_size=4000, max_len=64, d_model=128, n_layers=4),
             dict(vocab_size=100, max_len=8, d_model=16, n_layers=1),
             {k: PRESETS["gpt2"][k] for k in ("vocab_size", "max_len", "d_model", "n_layers")}]
    for case in cases:
        got = fn(**case)
        if got is None:
            return _TODO
        got = _as(lambda x: _number(x, "fn(...)"), got, "숫자")
        want = count_parameters(GPTConfig(**case, n_heads=1))
        C, L, V, T = case["d_model"], case["n_layers"], case["vocab_size"], case["max_len"]
        if got == want:
            continue
        if got == want + V * C:
            return Result(False, "출력층(lm_head)은 토큰 임베딩과 같은 행렬을 씁니다(묶인 가중치). 한 번만 세세요.")
        if got == 12 * L * C * C + (V + T) * C:
            return Result(False, "행렬만 셌습니다. 편향(bias)과 LayerNorm의 γ, β도 파라미터입니다: 층마다 13C, 끝에 2C.")
        if got == want - T * C:
            return Result(False, "위치 임베딩(wpe, max_len x d_model)을 빠뜨렸습니다.")
        return Result(False, f"{case}: {got:,.0f}개, 기대값 {want:,}개")
    return Result(True, "층마다 12C² + 13C, 임베딩 (V + T)C, 마지막 LayerNorm 2C. GPT-2 small은 124,439,808개입니다.")


@_student
def ch6_top_k(fn: Callable) -> Result:
    """연습 6-2: fn(probs (V,), k) -> the top-k distribution: other tokens 0, renormalised."""
    import torch

    from .gpt import next_token_probs

    _torch_fn_check(fn, "fn")
    g = torch.Generator().manual_seed(6)
    logits = torch.randn(12, generator=g) * 2
    probs = logits.softmax(-1)
    for k in (1, 3, 12):
        got = fn(probs.clone(), k)
        if got is None:
            return _TODO
        got = _as(lambda x: torch.as_tensor(x, dtype=torch.float32), got, "텐서")
        want = next_token_probs(logits, top_k=k)
        if got.shape != want.shape:
            return Result(False, f"모양이 {tuple(got.shape)}입니다. 어휘 크기 그대로 {tuple(want.shape)}여야 합니다.")
        kept = want > 0
        if torch.allclose(got, probs * kept, atol=1e-6) and k < 12:
            return Result(False, "남긴 확률들의 합이 1이 되도록 다시 나누세요(재정규화).")
        if not torch.allclose(got, want, atol=1e-6):
            return Result(False, f"k={k}: 기대한 분포와 다릅니다. 상위 k개만 남기고 나머지는 0, 그다음 합이 1이 되게 나누세요.")
    return Result(True, "lmlib.gpt.next_token_probs(logits, top_k=k)와 같습니다. k=1은 탐욕적 선택과 같아집니다.")


def ch6_gpt3_memory(answer) -> Result:
    """연습 6-3: gigabytes (10^9 bytes) to store GPT-3's weights in 16-bit floats."""
    from .gpt import PRESETS, GPTConfig, count_parameters

    if answer is None:
        return _TODO
    value = _number(answer)
    n = count_parameters(GPTConfig(**PRESETS["gpt3"]))
    want = 2 * n / 1e9
    if abs(value - want) <= 0.01 * want:
        return Result(True, f"{n:,}개 x 2바이트 ≈ {want:.0f} GB. 학습에는 기울기와 Adam의 모멘트까지 그 몇 배가 더 필요합니다.")
    if abs(value - 4 * n / 1e9) <= 0.01 * want * 2:
        return Result(False, "32비트(4바이트)로 계산했습니다. 16비트 실수는 2바이트입니다.")
    if abs(value - 2 * n / 2 ** 30) <= 0.01 * want:
        return Result(False, "GiB(2^30)로 계산했습니다. 여기서는 GB = 10^9 바이트로 답하세요.")
    if abs(value - n / 1e9) <= 0.01 * want:
        return Result(False, "파라미터 하나가 2바이트입니다.")
    return Result(False, f"{value:,.1f} GB는 기대한 값과 다릅니다(파라미터 수 x 2바이트 / 10^9).")


@_student
def ch6_gpt_block(fn: Callable) -> Result:
    """연습 6-4: fn(block, x) -> the output of a GPT block (lmlib.gpt.Block, pre-LN) on x (B, T, C),
    written with the block's own parts: block.ln_1, block.attn, block.ln_2, block.mlp."""
    import torch

    from .gpt import Block, GPTConfig

    _torch_fn_check(fn, "fn")
    torch.manual_seed(6)
    block = Block(GPTConfig(vocab_size=16, max_len=8, d_model=12, n_heads=3, n_layers=1,
                            dropout=0.0)).eval()
    x = torch.randn(2, 5, 12)
    with torch.no_grad():
        got = fn(block, x.clone())
        if got is None:
            return _TODO
        got = _as(lambda v: torch.as_tensor(v[0] if isinstance(v, tuple) else v), got, "텐서")
        want = block(x)[0]
        attn = lambda h: block.attn(h)[0]  # noqa: E731
        post_ln = block.ln_2(block.ln_1(x + attn(x)) + block.mlp(block.ln_1(x + attn(x))))
        no_residual = block.mlp(block.ln_2(attn(block.ln_1(x))))
        one_residual = attn(block.ln_1(x)) + block.mlp(block.ln_2(attn(block.ln_1(x))))
    if got.shape != want.shape:
        return Result(False, f"모양이 {tuple(got.shape)}입니다. 입력과 같은 (B, T, C) = {tuple(want.shape)}여야 합니다.")
    if torch.allclose(got, want, atol=1e-5):
        return Result(True, "x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)): GPT-2의 pre-LN 블록입니다. "
                            "잔차 연결 덕분에 층을 깊이 쌓아도 기울기가 곧바로 흐릅니다.")
    if torch.allclose(got, post_ln, atol=1e-5):
        return Result(False, "더한 뒤에 정규화했습니다(post-LN, 원래 트랜스포머와 BERT의 순서). GPT-2는 "
                             "정규화한 값을 변환해 더합니다: x + attn(ln_1(x)).")
    if torch.allclose(got, no_residual, atol=1e-5) or torch.allclose(got, one_residual, atol=1e-5):
        return Result(False, "잔차 연결(x + ...)이 빠졌습니다. 두 부분층 모두 입력에 결과를 더합니다.")
    return Result(False, "lmlib.gpt.Block과 다른 값입니다. 순서: ln_1 → attn → 더하기, ln_2 → mlp → 더하기.")


def _causal_reference():
    """A tiny GPT's logits as a function of ids (1, T), and two functions that look ahead
    (one from every position, one only from position 2 into position 0)."""
    import torch

    from .gpt import GPT, GPTConfig

    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab_size=20, max_len=8, d_model=16, n_heads=2, n_layers=2,
                        dropout=0.0)).eval()

    def causal(ids):
        with torch.no_grad():
            return gpt(ids).logits  # (1, T, V)

    def averaged(ids):  # every position also reads the mean over all positions
        out = causal(ids)
        return out + out.mean(dim=1, keepdim=True)

    def first_peeks(ids):  # only position 0 reads position 2: a small leak, not from the end
        out = causal(ids).clone()
        out[:, 0] += 0.01 * out[:, 2]
        return out

    return causal, averaged, first_peeks


@_student
def ch6_is_causal(fn: Callable) -> Result:
    """연습 6-5: fn(logits_fn, T) -> True if no output position depends on a later input token
    (logits_fn: ids (1, T) LongTensor -> logits (1, T, V), vocabulary 20)."""
    _torch_fn_check(fn, "fn")
    causal, averaged, first_peeks = _causal_reference()
    got = fn(causal, 6)
    if got is None:
        return _TODO
    if not isinstance(got, bool):
        got = _as(lambda v: bool(v.item() if hasattr(v, "item") else v), got, "True/False")
    if not got:
        return Result(False, "인과적인 GPT를 '미래를 본다'고 판정했습니다. 자리 t의 토큰을 바꾸면 자리 t의 "
                             "출력도 바뀝니다(자기 자신은 봅니다). t보다 앞의 출력만 비교하세요.")
    for leaky, what in ((averaged, "모든 자리의 평균을 섞는 모델"),
                        (first_peeks, "첫 자리만 셋째 자리를 조금 보는 모델")):
        verdict = fn(leaky, 6)
        verdict = verdict if isinstance(verdict, bool) else _as(
            lambda v: bool(v.item() if hasattr(v, "item") else v), verdict, "True/False")
        if verdict:
            return Result(False, f"{what}을(를) 인과적이라고 판정했습니다. 모든 자리 t에 대해, t의 토큰만 바꾸고 "
                                 "t보다 앞의 모든 출력이 그대로인지 보세요(작은 차이도 셉니다).")
    return Result(True, "자리마다 토큰을 바꿔 앞의 출력이 그대로인지 보는 검사: 인과 마스크가 제대로 "
                        "씌워졌는지 모델을 열지 않고도 확인합니다.")


# ---- chapter 7 -------------------------------------------------------------------

def ch7_embedding_params(answer) -> Result:
    """연습 7-1: parameters of BERT-Base's embedding module (word + position + segment + LayerNorm)."""
    import torch

    from .bert import PRESETS, BertConfig, BertModel

    if answer is None:
        return _TODO
    value = _number(answer)
    with torch.device("meta"):  # shapes only, no memory
        want = sum(p.numel() for p in BertModel(BertConfig(**PRESETS["bert-base"])).embeddings.parameters())
    C = PRESETS["bert-base"]["d_model"]
    if value == want:
        return Result(True, f"{want:,}개: (30522 + 512 + 2) x 768 + LayerNorm 2 x 768.")
    if value == want - 2 * C:
        return Result(False, "LayerNorm의 γ와 β(각각 768개)를 빠뜨렸습니다.")
    if value == want - 2 * C - 2 * C:
        return Result(False, "세그먼트 임베딩(2 x 768)과 LayerNorm을 빠뜨렸습니다.")
    if value == 30522 * C:
        return Result(False, "토큰 임베딩만 셌습니다. 위치(512 x 768)와 세그먼트(2 x 768) 임베딩, LayerNorm도 있습니다.")
    return Result(False, f"{value:,.0f}개는 기대한 값과 다릅니다.")


@_student
def ch7_mask_rule(fn: Callable) -> Result:
    """연습 7-2: fn(u) for u ~ U[0, 1) -> "mask" (80%), "random" (10%) or "keep" (10%)."""
    _torch_fn_check(fn, "fn")
    grid = [(i + 0.5) / 1000 for i in range(1000)]
    got = [fn(u) for u in grid]
    if any(g is None for g in got):
        return _TODO
    bad = sorted({g for g in got if g not in ("mask", "random", "keep")}, key=str)
    if bad:
        return Result(False, f"\"mask\", \"random\", \"keep\" 가운데 하나를 돌려주세요. 받은 값: {bad[:3]}")
    share = {k: got.count(k) / len(got) for k in ("mask", "random", "keep")}
    if abs(share["mask"] - 0.8) < 0.01 and abs(share["random"] - 0.1) < 0.01 and abs(share["keep"] - 0.1) < 0.01:
        return Result(True, "80% [MASK], 10% 다른 토큰, 10% 그대로: BERT 논문의 규칙입니다.")
    if abs(share["mask"] - 0.15) < 0.01:
        return Result(False, "15%는 '고를 위치'의 비율입니다. 고른 위치 안에서는 80%를 [MASK]로 바꿉니다.")
    return Result(False, "비율이 다릅니다: " + ", ".join(f"{k} {v:.0%}" for k, v in share.items()) + " (기대: 80/10/10)")


@_student
def ch7_segments(fn: Callable) -> Result:
    """연습 7-3: fn(ids, sep_id) -> token_type_ids: 0 up to and including the first [SEP], then 1."""
    _torch_fn_check(fn, "fn")
    cases = [[4, 10, 11, 5, 12, 13, 14, 5], [4, 9, 5, 8, 5], [4, 10, 5]]
    for ids in cases:
        got = fn(list(ids), 5)
        if got is None:
            return _TODO
        got = _as(lambda x: [int(v) for v in x], got, "정수 목록")
        first = ids.index(5)
        want = [0] * (first + 1) + [1] * (len(ids) - first - 1)
        if got == want:
            continue
        if got == [0] * first + [1] * (len(ids) - first):
            return Result(False, "첫 [SEP]는 문장 A 쪽(세그먼트 0)에 속합니다.")
        return Result(False, f"ids={ids}: {got}, 기대값 {want}")
    return Result(True, "[CLS] A [SEP]는 0, B [SEP]는 1: lmlib.bert_data.encode_pair가 만드는 세그먼트와 같습니다.")


@_student
def ch7_mlm_loss(fn: Callable) -> Result:
    """연습 7-4: fn(logits (B, T, V), labels (B, T)) -> the MLM loss: mean cross-entropy over the
    masked positions only (labels -100 elsewhere)."""
    import torch
    import torch.nn.functional as F

    _torch_fn_check(fn, "fn")
    g = torch.Generator().manual_seed(7)
    for B, T, V, share in ((2, 6, 11, 0.3), (3, 9, 7, 0.15), (1, 4, 5, 1.0)):
        logits = torch.randn(B, T, V, generator=g)
        labels = torch.randint(0, V, (B, T), generator=g)
        labels[torch.rand(B, T, generator=g) > share] = -100
        labels[0, 0] = int(torch.randint(0, V, (1,), generator=g))  # at least one masked position
        got = fn(logits.clone(), labels.clone())
        if got is None:
            return _TODO
        got = _as(lambda v: float(v), got, "숫자 하나")
        want = F.cross_entropy(logits.view(-1, V), labels.view(-1), ignore_index=-100).item()
        if abs(got - want) < 1e-5:
            continue
        chosen = labels != -100
        per = F.cross_entropy(logits.view(-1, V), labels.clamp(min=0).view(-1), reduction="none")
        if abs(got - (per.view(B, T) * chosen).sum().item() / (B * T)) < 1e-5:
            return Result(False, "가린 자리의 손실을 모든 자리 수(B x T)로 나눴습니다. 가린 자리의 개수로 나누세요.")
        if abs(got - per.mean().item()) < 1e-5:
            return Result(False, "가리지 않은 자리(-100)까지 손실에 넣었습니다. labels != -100인 자리만 쓰세요.")
        return Result(False, f"(B, T, V) = {(B, T, V)}: {got:.4f}, 기대값 {want:.4f} "
                             "(F.cross_entropy(..., ignore_index=-100)와 같은 값)")
    return Result(True, "가린 자리에서만 평균한 교차 엔트로피: F.cross_entropy(logits.view(-1, V), labels.view(-1), "
                        "ignore_index=-100)와 같습니다. BertForPreTraining의 MLM 손실입니다.")


# ---- chapter 8 -------------------------------------------------------------------

@_student
def ch8_cosine(fn: Callable) -> Result:
    """연습 8-1: fn(u, v) -> cosine similarity of two 1-D tensors."""
    import torch

    _torch_fn_check(fn, "fn")
    g = torch.Generator().manual_seed(8)
    for u, v in ((torch.randn(16, generator=g), torch.randn(16, generator=g)),
                 (torch.tensor([1.0, 0.0]), torch.tensor([3.0, 0.0])),
                 (torch.tensor([1.0, 2.0, 3.0]), torch.tensor([-2.0, 0.0, 5.0]))):
        got = fn(u.clone(), v.clone())
        if got is None:
            return _TODO
        got = _as(float, got, "숫자")
        want = torch.cosine_similarity(u, v, dim=0).item()
        if abs(got - want) < 1e-5:
            continue
        if abs(got - float(u @ v)) < 1e-5:
            return Result(False, "내적만 구했습니다. 두 벡터의 길이(노름)의 곱으로 나누세요.")
        return Result(False, f"u={u.tolist()[:3]}...: {got:.4f}, 기대값 {want:.4f}")
    return Result(True, "torch.cosine_similarity와 같습니다. 크기가 달라도 방향이 같으면 1입니다.")


@_student
def ch8_adapter_params(fn: Callable) -> Result:
    """연습 8-2: fn(C, n) -> parameters of the adapter Linear(C, n) (weights and biases)."""
    from .bert import BertConfig, BertForSequenceClassification

    _torch_fn_check(fn, "fn")
    for C, n in ((128, 2), (768, 2), (64, 5)):
        got = fn(C, n)
        if got is None:
            return _TODO
        got = _as(lambda x: _number(x, "fn(C, n)"), got, "숫자")
        model = BertForSequenceClassification(
            BertConfig(vocab_size=16, max_len=8, d_model=C, n_heads=1, n_layers=1), n_labels=n)
        want = sum(p.numel() for p in model.freeze_base().parameters() if p.requires_grad)
        if got == want:
            continue
        if got == C * n:
            return Result(False, "편향(클래스마다 하나)을 빠뜨렸습니다.")
        return Result(False, f"C={C}, n={n}: {got:,.0f}개, 기대값 {want:,}개")
    return Result(True, "n x C + n. 본체를 고정하면 이것만 학습합니다(BERT-Base라도 1,538개).")



def _sst_batches(tok, reviews, max_len: int, batch_size: int):
    import torch

    from .bert_data import collate_pairs, encode_pair

    out = []
    for i in range(0, len(reviews), batch_size):
        part = reviews[i:i + batch_size]
        ids, seg, mask = collate_pairs([encode_pair(tok, r.document, None, max_len) for r in part])
        out.append((ids, seg, mask, torch.tensor([r.label for r in part])))
    return out


def _nsmc_finetune_data(n_train: int = 2000, n_test: int = 500):
    """The course BERT, its tokenizer, n_train labelled train reviews, n_test test reviews."""
    from .bert import BertForPreTraining
    from .data import checkpoint_dir, load_nsmc
    from .tokenizer import Tokenizer

    path = checkpoint_dir("bert_nsmc")
    train = [r for r in load_nsmc("train", limit=n_train + 100) if r.document.strip()][:n_train]
    test = [r for r in load_nsmc("test", limit=n_test + 100) if r.document.strip()][:n_test]
    return BertForPreTraining.load(path), Tokenizer.load(path), train, test


def _empty_body(model, batches, optimizer):
    ...


@_student
def ch8_finetune_loop(fn: Callable, data=None, lr: float = 2e-4) -> Result:
    """연습 8-3: fn(model, batches, optimizer) trains `model` one pass over `batches` of
    (ids, segments, mask, labels); checked on 2,000 NSMC train reviews with the course BERT
    (about 10 s on a CPU). `data` = (pretrained, tokenizer, train reviews, test reviews)
    replaces the course data and lr the optimizer's learning rate (tests: a tiny model)."""
    import torch

    from .bert import BertForSequenceClassification

    _torch_fn_check(fn, "fn")
    code = getattr(fn, "__code__", None)
    if code is not None and code.co_code == _empty_body.__code__.co_code and not code.co_names:
        return _TODO  # the notebook's stub (body `...`): no need to load the data first
    pre, tok, train, test = data if data is not None else _nsmc_finetune_data()
    torch.manual_seed(8)
    model = BertForSequenceClassification.from_pretraining(pre, n_labels=2, dropout=0.1)
    max_len = min(64, model.config.max_len)
    batches = _sst_batches(tok, train, max_len, 32)
    held_out = _sst_batches(tok, test, max_len, 250)

    def accuracy() -> float:
        model.eval()
        with torch.no_grad():
            right = sum(int((model(i, s, m).logits.argmax(-1) == y).sum()) for i, s, m, y in held_out)
        return right / sum(len(y) for *_, y in held_out)

    before = accuracy()
    model.eval()  # the student's loop must switch to training mode itself

    class Watched(torch.optim.AdamW):
        steps = zeroed = 0
        eval_steps = 0

        def step(self, closure=None):
            Watched.steps += 1
            Watched.eval_steps += not model.training
            return super().step(closure)

        def zero_grad(self, set_to_none: bool = True):
            Watched.zeroed += 1
            return super().zero_grad(set_to_none)

    optimizer = Watched(model.parameters(), lr=lr)
    start = [p.detach().clone() for p in model.parameters()]
    got = fn(model, batches, optimizer)
    if got is None and Watched.steps == 0 and all(torch.equal(a, b) for a, b in
                                                  zip(start, model.parameters())):
        return _TODO
    if Watched.steps == 0:
        return Result(False, "optimizer.step()을 부르지 않았습니다. 기울기를 구한 뒤 가중치를 고치는 단계입니다.")
    if Watched.steps != len(batches):
        return Result(False, f"배치 {len(batches)}개에 optimizer.step()을 {Watched.steps}번 불렀습니다. 배치마다 한 번씩입니다.")
    if Watched.zeroed < Watched.steps:
        return Result(False, "optimizer.zero_grad()를 배치마다 부르지 않았습니다. 부르지 않으면 앞 배치의 "
                             "기울기가 계속 더해집니다.")
    if Watched.eval_steps:
        return Result(False, "model.train()을 부르지 않아 평가 모드(드롭아웃 꺼짐)로 학습했습니다. 학습 전에 model.train()을 부르세요.")
    after = accuracy()
    n = sum(len(y) for *_, y in held_out)
    if after < before + 0.05:
        return Result(False, f"한 번 훑은 뒤 평가 리뷰 {n}개 정확도가 {before:.3f}에서 {after:.3f}로, 거의 오르지 "
                             "않았습니다. loss.backward()로 기울기를 구했는지, 손실이 라벨과 비교한 값인지 보세요.")
    return Result(True, f"리뷰 {len(train):,}개를 한 번 훑어 평가 리뷰 {n}개 정확도가 {before:.3f}에서 {after:.3f}로 "
                        "올랐습니다. train → zero_grad → 손실 → backward → step: 8.1절의 분류기도 이 고리로 학습했습니다.")


def _reading_review():
    return "배우들 연기는 좋았지만 스토리가 너무 지루했다"


def ch8_read_attention(answer: dict, clf=None, tok=None) -> Result:
    """연습 8-4: {"token": the token the [CLS] row of the LAST layer attends to most, averaged over
    heads ([CLS] and [SEP] excluded), in the 8.3 review; "explanation": two sentences on what
    the heatmap does and does not show}. clf, tok: the classifier (default: the chapter's)."""
    import re

    import torch

    from .bert import BertForSequenceClassification
    from .bert_data import encode_pair
    from .data import checkpoint_dir
    from .tokenizer import Tokenizer

    if answer is None:
        return _TODO
    if not isinstance(answer, dict) or not {"token", "explanation"} <= set(answer):
        raise TypeError('answer: expected {"token": "...", "explanation": "..."}, '
                        f"got {type(answer).__name__}")
    if clf is None:
        path = checkpoint_dir("bert_nsmc_sentiment")
        clf, tok = BertForSequenceClassification.load(path).eval(), Tokenizer.load(path)
    ids, seg = encode_pair(tok, _reading_review(), None, clf.config.max_len)
    with torch.no_grad():
        att = clf(torch.tensor([ids]), torch.tensor([seg]), return_attn=True).attentions
    tokens = [tok.id_to_token(i) for i in ids]
    inner = list(range(1, len(ids) - 1))  # without [CLS] and [SEP]

    def top(layer: int) -> str:
        row = att[layer][0, :, 0].mean(0)  # (T,): [CLS]'s row, mean over heads
        return tokens[max(inner, key=lambda j: float(row[j]))]

    want = top(-1)
    token = str(answer["token"]).strip()
    if token != want:
        if token == top(0):
            return Result(False, f"'{token}'은(는) 첫 층에서 가장 큰 칸입니다. 마지막 층(분류기에 가장 가까운 층)을 보세요.")
        if token in ("[CLS]", "[SEP]"):
            return Result(False, "[CLS]와 [SEP]는 빼고, 리뷰의 토큰 가운데에서 고르세요.")
        if token not in tokens:
            return Result(False, f"'{token}'은(는) 이 리뷰의 토큰이 아닙니다. 토큰 목록: {tokens[1:-1]}")
        return Result(False, f"'{token}'보다 더 큰 칸이 있습니다. 마지막 층, 헤드 평균의 [CLS] 행을 보세요.")
    text = str(answer["explanation"]).strip()
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|(?<=다)\s+(?=\S)", text) if len(s.strip()) >= 5]
    if len(sentences) < 2:
        return Result(False, "설명을 두 문장으로 쓰세요. 하나는 히트맵이 보여 주는 것, 하나는 보여 주지 않는 것입니다.")
    return Result(True, f"'{want}'. 설명은 교사가 읽습니다. 어텐션은 정보가 어디서 섞였는지의 단서일 뿐 "
                        "판단의 원인을 증명하지 않는다는 점이 들어 있으면 좋습니다.")
