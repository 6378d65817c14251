"""Tests for lmlib.exercises: every checker accepts the answer lmlib computes, names each
anticipated mistake, and rejects arguments of the wrong type.

The expected values are recomputed here from the packaged course corpus with lmlib,
never typed in, so the tests keep working when the corpus grows.
"""

import math

import numpy as np
import pytest

from lmlib import blanks as blanks_module
from lmlib import exercises as ex
from lmlib.blanks import NGramBlankScorer
from lmlib.data import available_corpora, course_split
from lmlib.exercises import Result
from lmlib.text import BOS, EOS


def test_course_corpus_is_packaged():
    assert "ko_daily" in available_corpora()


@pytest.fixture(scope="module")
def lm():
    """The MLE bigram model of exercise 1-1."""
    return ex.course_models(2)


def assert_wrong(result, fragment):
    assert isinstance(result, Result)
    assert result.ok is False, result
    assert fragment in result.message, result


def assert_right(result):
    assert isinstance(result, Result)
    assert result.ok is True, result


# --- Result and the reference models ---------------------------------------------

def test_result_prints_a_mark_and_is_truthy_only_when_ok():
    good, bad = Result(True, "설명"), Result(False, "힌트")
    assert repr(good).startswith("[O]") and repr(good).endswith("설명")
    assert repr(bad).startswith("[X]") and repr(bad).endswith("힌트")
    assert bool(good) is True and bool(bad) is False


def test_course_models_are_fitted_on_the_train_split(lm):
    train, test = course_split()
    assert lm.count([BOS]) == len(train)  # one BOS per training sentence: not the test part
    assert ex.course_models(2) is lm      # cached: checkers do not refit
    bwd = ex.course_models(2, "mle", direction="backward")
    assert bwd.direction == "backward" and bwd.count([BOS]) == len(train)


# --- 1-1: P(운전 | 난폭) ------------------------------------------------------------

def test_ch1_conditional(lm):
    c_pair, c_first = lm.count(["난폭", "운전"]), lm.count(["난폭"])
    assert c_pair > 0
    assert_right(ex.ch1_conditional(c_pair / c_first))
    assert repr(ex.ch1_conditional(c_pair / c_first)).startswith("[O] ")
    assert repr(ex.ch1_conditional(c_pair)).startswith("[X] ")
    assert_right(ex.ch1_conditional(lm.prob("운전", ["난폭"])))
    assert_wrong(ex.ch1_conditional(c_pair), "count(난폭 운전)입니다")
    n_bigrams = sum(lm.count([w]) for w in lm.vocab if w != BOS)
    assert_wrong(ex.ch1_conditional(c_pair / n_bigrams), "결합 확률")
    assert_wrong(ex.ch1_conditional(c_pair / lm.count(["운전"])), "P(난폭 | 운전)")
    assert_wrong(ex.ch1_conditional(c_pair / c_first + 0.01), "기대한 값과 다릅니다")
    assert_wrong(ex.ch1_conditional(None), "아직 답이 없습니다")


def test_ch1_conditional_accepts_numpy_scalars(lm):
    # e.g. read off a chain_rule() table, whose count columns hold np.int64
    c_pair, c_first = lm.count(["난폭", "운전"]), lm.count(["난폭"])
    assert_right(ex.ch1_conditional(np.float64(c_pair) / np.float64(c_first)))
    assert_wrong(ex.ch1_conditional(np.int64(c_pair)), "count(난폭 운전)입니다")


@pytest.mark.parametrize("answer", ["0.5", True, [0.5]])
def test_ch1_conditional_type_error(answer):
    with pytest.raises(TypeError, match="answer"):
        ex.ch1_conditional(answer)


# --- 1-2: log P(sentence) by the chain rule --------------------------------------

def test_ch1_sentence_logprob():
    assert_right(ex.ch1_sentence_logprob(lambda lm, tokens: lm.sentence_logprob(tokens)))

    def by_hand(lm, tokens):  # the chain rule written out, </s> included
        return sum(lm.logprob(w, tokens[:i]) for i, w in enumerate(tokens + [EOS]))

    assert_right(ex.ch1_sentence_logprob(by_hand))
    assert_wrong(ex.ch1_sentence_logprob(lambda lm, t: by_hand(lm, t) - lm.logprob(EOS, t)), "P(</s> | ...)가 빠졌습니다")
    assert_wrong(ex.ch1_sentence_logprob(lambda lm, t: by_hand(lm, t) / math.log(10)), "자연로그")
    assert_wrong(ex.ch1_sentence_logprob(lambda lm, t: by_hand(lm, t) / math.log(2)), "자연로그")
    assert_wrong(ex.ch1_sentence_logprob(lambda lm, t: math.exp(by_hand(lm, t))), "로그 확률의 합")
    assert_wrong(ex.ch1_sentence_logprob(lambda lm, t: by_hand(lm, t) + 1.0), "이어야 합니다")
    assert_wrong(ex.ch1_sentence_logprob(lambda lm, t: None), "아직 답이 없습니다")


# --- 1-3: add-k ------------------------------------------------------------------

def test_ch1_add_k():
    assert_right(ex.ch1_add_k(lambda cxy, cx, v, k: (cxy + k) / (cx + k * v)))
    assert_wrong(ex.ch1_add_k(lambda cxy, cx, v, k: (cxy + k) / (cx + k)), "k × |V|")
    assert_wrong(ex.ch1_add_k(lambda cxy, cx, v, k: cxy / cx), "스무딩 없는 MLE")
    assert_wrong(ex.ch1_add_k(lambda cxy, cx, v, k: (cxy + k) / (cx + v)), "기대값")
    # right on the four cases, but not a distribution: caught by the sum-to-one check
    sneaky = lambda cxy, cx, v, k: (cxy + k) / (cx + k * v) * (1.5 if v == 40 else 1.0)  # noqa: E731
    assert_wrong(ex.ch1_add_k(sneaky), "확률 합이 1")
    assert_wrong(ex.ch1_add_k(lambda *args: None), "아직 답이 없습니다")


# --- 1-4: perplexity -------------------------------------------------------------

def test_ch1_perplexity():
    def nll(probs):
        return -sum(math.log(p) for p in probs)

    assert_right(ex.ch1_perplexity(lambda probs: math.exp(nll(probs) / len(probs))))
    assert_right(ex.ch1_perplexity(lambda probs: math.prod(probs) ** (-1 / len(probs))))
    assert_wrong(ex.ch1_perplexity(lambda probs: math.exp(nll(probs))), "토큰 수로 나눠")
    assert_wrong(ex.ch1_perplexity(lambda probs: nll(probs) / len(probs)), "지수(math.exp)")
    assert_wrong(ex.ch1_perplexity(lambda probs: 2 ** (nll(probs) / len(probs))), "기대값")
    assert_wrong(ex.ch1_perplexity(lambda probs: None), "아직 답이 없습니다")


@pytest.mark.parametrize("checker", [ex.ch1_sentence_logprob, ex.ch1_add_k, ex.ch1_perplexity])
@pytest.mark.parametrize("not_a_function", [3.2, "lm.sentence_logprob", None])
def test_function_checkers_type_error(checker, not_a_function):
    with pytest.raises(TypeError, match="fn"):
        checker(not_a_function)


# --- 2-1: backward factors -------------------------------------------------------

def test_ch2_backward_factors():
    assert_right(ex.ch2_backward_factors(["P(갔었어)", "P(카페 | 갔었어)", "P(어제 | 카페 갔었어)"]))
    # spacing and commas do not matter
    assert_right(ex.ch2_backward_factors(("P( 갔었어 )", "P(카페|갔었어)", "P(어제 | 카페, 갔었어)")))
    assert_wrong(ex.ch2_backward_factors(["P(어제)", "P(카페 | 어제)", "P(갔었어 | 어제 카페)"]), "순방향 분해")
    assert_wrong(ex.ch2_backward_factors(["P(갔었어)", "P(카페 | 갔었어)"]), "지금 2개")
    assert_wrong(ex.ch2_backward_factors(["P(갔었어)", "P(카페 | 어제)", "P(어제 | 카페 갔었어)"]), "첫 인수는 P(갔었어)")
    assert_wrong(ex.ch2_backward_factors(None), "아직 답이 없습니다")


@pytest.mark.parametrize("factors", ["P(갔었어) P(카페 | 갔었어)", {"P(갔었어)"}, 3])
def test_ch2_backward_factors_type_error(factors):
    with pytest.raises(TypeError, match="factors"):
        ex.ch2_backward_factors(factors)


# --- 2-2: P(sentence) under the backward trigram model (add-k) ----------------------

def test_ch2_backward_sentence_prob():
    bwd = ex.course_models(3, "add-k", 0.01, direction="backward")
    fwd = ex.course_models(3, "add-k", 0.01, direction="forward")
    bwd2 = ex.course_models(2, "add-k", 0.01, direction="backward")
    tokens = "어제 카페 갔었어".split()
    by_factors = math.prod(bwd.chain_rule(tokens)["prob"])
    assert by_factors > 0
    assert_right(ex.ch2_backward_sentence_prob(by_factors))
    assert_right(ex.ch2_backward_sentence_prob(bwd.sentence_prob(tokens)))
    # the forward trigram disagrees with the backward one, so its value is a detectable mistake
    assert not math.isclose(fwd.sentence_prob(tokens), by_factors, rel_tol=1e-6)
    assert_wrong(ex.ch2_backward_sentence_prob(fwd.sentence_prob(tokens)), "순방향 모델의 값")
    assert_wrong(ex.ch2_backward_sentence_prob(bwd2.sentence_prob(tokens)), "바이그램 모델의 값")
    # forgetting the last factor (the sentence start, </s> for a backward model)
    without_boundary = math.prod(bwd.chain_rule(tokens)["prob"][:-1])
    assert_wrong(ex.ch2_backward_sentence_prob(without_boundary), "마지막 인수")
    # another sentence, through the keyword
    other = "오늘 날씨 진짜 좋다".split()
    assert_right(ex.ch2_backward_sentence_prob(bwd.sentence_prob(other), sentence="오늘 날씨 진짜 좋다"))
    assert_wrong(ex.ch2_backward_sentence_prob(by_factors * 2), "기대한 값과 다릅니다")
    assert_wrong(ex.ch2_backward_sentence_prob(None), "아직 답이 없습니다")


@pytest.mark.parametrize("answer", ["0.001", False])
def test_ch2_backward_sentence_prob_type_error(answer):
    with pytest.raises(TypeError, match="answer"):
        ex.ch2_backward_sentence_prob(answer)


# --- 2-3: a scorer that uses both directions ----------------------------------------

@pytest.fixture
def memo_evaluate(monkeypatch):
    """Remember evaluate_blanks() results for NGramBlankScorer: the checker recomputes both
    one-sided baselines on every call (about a second each); here they are computed once."""
    real = blanks_module.evaluate_blanks
    cache = {}

    def evaluate(scorer, blanks, ks=(1, 5)):
        if type(scorer) is not NGramBlankScorer:
            return real(scorer, blanks, ks)
        key = (id(scorer.forward), id(scorer.backward), tuple(blanks), tuple(ks))
        if key not in cache:
            cache[key] = real(scorer, blanks, ks)
        return cache[key]

    monkeypatch.setattr(blanks_module, "evaluate_blanks", evaluate)
    return cache


def test_ch2_weighted_scorer(memo_evaluate):
    # the plain sum of both directions is a correct answer
    right = ex.ch2_weighted_scorer(lambda fwd, bwd: NGramBlankScorer(forward=fwd, backward=bwd))
    assert_right(right)
    fwd = ex.course_models(2, "add-k", 0.01, "forward")
    bwd = ex.course_models(2, "add-k", 0.01, "backward")
    top1 = {(f, b): r["top1"] for (f, b, *_), r in memo_evaluate.items()}
    assert len(top1) == 3 and top1[id(fwd), id(bwd)] > max(top1[id(fwd), id(None)], top1[id(None), id(bwd)])
    assert f"순방향 {top1[id(fwd), id(None)]:.3f}, 역방향 {top1[id(None), id(bwd)]:.3f}" in right.message
    # one direction only ties its own baseline: not better than both
    assert_wrong(ex.ch2_weighted_scorer(lambda fwd, bwd: NGramBlankScorer(forward=fwd)), "보다 높아야 합니다")
    assert_wrong(ex.ch2_weighted_scorer(lambda fwd, bwd: NGramBlankScorer(backward=bwd)), "보다 높아야 합니다")
    assert_wrong(ex.ch2_weighted_scorer(lambda fwd, bwd: (fwd, bwd)), "rank_blank")
    assert_wrong(ex.ch2_weighted_scorer(lambda fwd, bwd: None), "아직 답이 없습니다")


def test_ch2_weighted_scorer_type_error():
    with pytest.raises(TypeError, match="make_scorer"):
        ex.ch2_weighted_scorer("NGramBlankScorer(fwd, bwd)")
    with pytest.raises(TypeError, match="make_scorer"):
        ex.ch2_weighted_scorer(NGramBlankScorer(forward=ex.course_models(2)))  # a scorer, not a function


# --- chapters 3-4 ----------------------------------------------------------------------

def test_ch3_bottleneck_size():
    assert_right(ex.ch3_bottleneck_size(64))
    assert_wrong(ex.ch3_bottleneck_size(30 * 64), "어텐션 디코더")
    assert_wrong(ex.ch3_bottleneck_size(30), "d_hidden")
    assert_wrong(ex.ch3_bottleneck_size(None), "아직 답이 없습니다")


def test_ch3_masked_softmax():
    import torch

    def right(scores, lengths):
        pad = torch.arange(scores.shape[1])[None, :] >= lengths[:, None]
        return torch.softmax(scores.masked_fill(pad, float("-inf")), dim=-1)

    def zero_after(scores, lengths):  # masks after the softmax: rows no longer sum to 1
        pad = torch.arange(scores.shape[1])[None, :] >= lengths[:, None]
        return torch.softmax(scores, dim=-1).masked_fill(pad, 0.0)

    assert_right(ex.ch3_masked_softmax(right))
    assert_wrong(ex.ch3_masked_softmax(lambda s, n: torch.softmax(s, dim=-1)), "패딩 위치")
    assert_wrong(ex.ch3_masked_softmax(zero_after), "행의 합이 1")
    assert_wrong(ex.ch3_masked_softmax(lambda s, n: s[:, :3]), "모양")
    assert_wrong(ex.ch3_masked_softmax(lambda s, n: None), "아직 답이 없습니다")
    with pytest.raises(TypeError, match="fn"):
        ex.ch3_masked_softmax(3)


def test_ch3_reverse_alignment():
    assert_right(ex.ch3_reverse_alignment(lambda t, n: n - 1 - t))
    assert_wrong(ex.ch3_reverse_alignment(lambda t, n: t), "복사 과제")
    assert_wrong(ex.ch3_reverse_alignment(lambda t, n: n - t), "한 칸")


def test_ch4_attention():
    import torch

    from lmlib.attention import scaled_dot_product_attention

    assert_right(ex.ch4_attention(scaled_dot_product_attention))
    no_scale = lambda q, k, v: (torch.softmax(q @ k.T, -1) @ v, torch.softmax(q @ k.T, -1))  # noqa: E731
    assert_wrong(ex.ch4_attention(no_scale), "sqrt(d)")
    wrong_dim = lambda q, k, v: (None, torch.softmax(q @ k.T / 8 ** 0.5, 0))  # noqa: E731
    assert_wrong(ex.ch4_attention(lambda q, k, v: (torch.zeros(5, 8), wrong_dim(q, k, v)[1])), "softmax의 차원")
    w_only = lambda q, k, v: (v, scaled_dot_product_attention(q, k, v)[1])  # noqa: E731
    assert_wrong(ex.ch4_attention(w_only), "weights @ V")
    assert_wrong(ex.ch4_attention(lambda q, k, v: q), "튜플")


def test_ch4_causal_mask():
    from lmlib.attention import causal_mask

    assert_right(ex.ch4_causal_mask(causal_mask))
    assert_wrong(ex.ch4_causal_mask(lambda T: causal_mask(T).T), "전치")
    assert_wrong(ex.ch4_causal_mask(lambda T: ~causal_mask(T)), "반대")


def test_ch4_receptive_field():
    assert_right(ex.ch4_receptive_field(lambda n, k: 1 + n * (k - 1)))
    assert_wrong(ex.ch4_receptive_field(lambda n, k: n * k), "(k-1)")
    assert_wrong(ex.ch4_receptive_field(lambda n, k: None), "아직 답이 없습니다")


# --- chapter 5 ---------------------------------------------------------------------------

def test_ch5_decoder_input():
    assert_right(ex.ch5_decoder_input(["<s>", "I"]))
    assert_wrong(ex.ch5_decoder_input(["I"]), "<s>")
    assert_wrong(ex.ch5_decoder_input(["<s>", "I", "went"]), "답을 보여")
    assert_wrong(ex.ch5_decoder_input(None), "아직 답이 없습니다")
    with pytest.raises(TypeError, match="tokens"):
        ex.ch5_decoder_input("<s> I")


def test_ch5_shift():
    assert_right(ex.ch5_shift(lambda t, b, e: ([b] + t, t + [e])))
    assert_wrong(ex.ch5_shift(lambda t, b, e: (t, t)), "한 칸")
    assert_wrong(ex.ch5_shift(lambda t, b, e: ([b] + t + [e], t + [e])), "</s>가 들어가지")
    assert_wrong(ex.ch5_shift(lambda t, b, e: None), "아직 답이 없습니다")


def test_ch5_step_loss():
    assert_right(ex.ch5_step_loss(math.log(4)))
    assert_wrong(ex.ch5_step_loss(-math.log(4)), "부호")
    assert_wrong(ex.ch5_step_loss(0.75), "1 - p")
    assert_wrong(ex.ch5_step_loss(2.0), "자연로그")


def test_ch6_param_count():
    def right(vocab_size, max_len, d_model, n_layers):
        return n_layers * (12 * d_model ** 2 + 13 * d_model) + (vocab_size + max_len) * d_model + 2 * d_model

    assert_right(ex.ch6_param_count(right))
    assert_wrong(ex.ch6_param_count(lambda vocab_size, max_len, d_model, n_layers:
                                    right(vocab_size, max_len, d_model, n_layers) + vocab_size * d_model), "묶인")
    assert_wrong(ex.ch6_param_count(lambda vocab_size, max_len, d_model, n_layers:
                                    12 * n_layers * d_model ** 2 + (vocab_size + max_len) * d_model), "편향")
    assert_wrong(ex.ch6_param_count(lambda **kw: None), "아직 답이 없습니다")


def test_ch6_top_k():
    import torch

    def right(probs, k):
        kept = torch.zeros_like(probs)
        top = torch.topk(probs, k)
        kept[top.indices] = top.values
        return kept / kept.sum()

    def unnormalised(probs, k):
        return right(probs, k) * probs[torch.topk(probs, k).indices].sum()

    assert_right(ex.ch6_top_k(right))
    assert_wrong(ex.ch6_top_k(unnormalised), "재정규화")
    assert_wrong(ex.ch6_top_k(lambda p, k: p), "기대한 분포")
    assert_wrong(ex.ch6_top_k(lambda p, k: None), "아직 답이 없습니다")


def test_ch6_gpt3_memory():
    from lmlib.gpt import PRESETS, GPTConfig, count_parameters

    n = count_parameters(GPTConfig(**PRESETS["gpt3"]))
    assert_right(ex.ch6_gpt3_memory(2 * n / 1e9))
    assert_right(ex.ch6_gpt3_memory(350))
    assert_wrong(ex.ch6_gpt3_memory(4 * n / 1e9), "32비트")
    assert_wrong(ex.ch6_gpt3_memory(2 * n / 2 ** 30), "GiB")
    assert_wrong(ex.ch6_gpt3_memory(None), "아직 답이 없습니다")


def test_ch7_checkers():
    assert_right(ex.ch7_embedding_params((30522 + 512 + 2) * 768 + 2 * 768))
    assert_wrong(ex.ch7_embedding_params((30522 + 512 + 2) * 768), "LayerNorm")
    assert_wrong(ex.ch7_embedding_params(None), "아직 답이 없습니다")
    assert_right(ex.ch7_mask_rule(lambda u: "mask" if u < 0.8 else ("random" if u < 0.9 else "keep")))
    assert_wrong(ex.ch7_mask_rule(lambda u: "mask" if u < 0.15 else "keep"), "15%")
    assert_wrong(ex.ch7_mask_rule(lambda u: None), "아직 답이 없습니다")

    def seg(ids, sep):
        first = ids.index(sep)
        return [0] * (first + 1) + [1] * (len(ids) - first - 1)

    assert_right(ex.ch7_segments(seg))
    assert_wrong(ex.ch7_segments(lambda ids, sep: [0] * ids.index(sep) + [1] * (len(ids) - ids.index(sep))), "첫 [SEP]")


def test_ch8_checkers():
    assert_right(ex.ch8_cosine(lambda u, v: (u @ v) / (u.norm() * v.norm())))
    assert_wrong(ex.ch8_cosine(lambda u, v: u @ v), "노름")
    assert_wrong(ex.ch8_cosine(lambda u, v: None), "아직 답이 없습니다")
    assert_right(ex.ch8_adapter_params(lambda C, n: n * C + n))
    assert_wrong(ex.ch8_adapter_params(lambda C, n: n * C), "편향")


def test_ch6_model_level_checkers():
    def block_right(block, x):
        x = x + block.attn(block.ln_1(x))[0]
        return x + block.mlp(block.ln_2(x))

    def block_post_ln(block, x):
        x = block.ln_1(x + block.attn(x)[0])
        return block.ln_2(x + block.mlp(x))

    assert_right(ex.ch6_gpt_block(block_right))
    assert_wrong(ex.ch6_gpt_block(block_post_ln), "post-LN")
    assert_wrong(ex.ch6_gpt_block(lambda b, x: b.mlp(b.ln_2(b.attn(b.ln_1(x))[0]))), "잔차")
    assert_wrong(ex.ch6_gpt_block(lambda b, x: None), "아직 답이 없습니다")

    import torch

    def causal_check(logits_fn, T, inclusive=False):
        ids = torch.randint(0, 20, (1, T), generator=torch.Generator().manual_seed(1))
        base = logits_fn(ids)
        for t in range(T):
            changed = ids.clone()
            changed[0, t] = (changed[0, t] + 1) % 20
            upto = t + 1 if inclusive else t
            if not torch.equal(logits_fn(changed)[:, :upto], base[:, :upto]):
                return False
        return True

    def last_only(logits_fn, T):  # the usual shortcut: only the last position is compared
        ids = torch.zeros(1, T, dtype=torch.long)
        changed = ids.clone()
        changed[0, -1] = 1
        return torch.equal(logits_fn(changed)[:, :-1], logits_fn(ids)[:, :-1])

    assert_right(ex.ch6_is_causal(causal_check))
    assert_wrong(ex.ch6_is_causal(lambda f, T: causal_check(f, T, inclusive=True)), "자기 자신")
    assert_wrong(ex.ch6_is_causal(last_only), "첫 자리만")
    assert_wrong(ex.ch6_is_causal(lambda f, T: None), "아직 답이 없습니다")


def test_ch7_mlm_loss_checker():
    import torch
    import torch.nn.functional as F

    def right(logits, labels):
        return F.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100)

    def over_all(logits, labels):
        per = F.cross_entropy(logits.view(-1, logits.size(-1)), labels.clamp(min=0).view(-1),
                              reduction="none").view(labels.shape)
        return (per * (labels != -100)).sum() / labels.numel()

    def manual(logits, labels):
        chosen = labels != -100
        return -logits.log_softmax(-1)[chosen].gather(-1, labels[chosen][:, None]).mean()

    assert_right(ex.ch7_mlm_loss(right))
    assert_right(ex.ch7_mlm_loss(manual))
    assert_wrong(ex.ch7_mlm_loss(over_all), "B x T")
    assert_wrong(ex.ch7_mlm_loss(lambda l, y: F.cross_entropy(l.view(-1, l.size(-1)), y.clamp(min=0).view(-1))), "-100")
    assert_wrong(ex.ch7_mlm_loss(lambda l, y: None), "아직 답이 없습니다")


@pytest.fixture(scope="module")
def tiny_sentiment():
    """A tiny BERT and reviews whose words decide the label, for ch8_finetune_loop."""
    import random

    from lmlib.bert import BertConfig, BertForPreTraining
    from lmlib.data import Review
    from lmlib.tokenizer import train_tokenizer

    good, bad = ["최고", "감동", "추천", "명작"], ["최악", "지루", "별로", "실망"]
    rng = random.Random(0)
    reviews = []
    for i in range(700):
        label = i % 2
        words = rng.choices(good if label else bad, k=3)
        reviews.append(Review(str(i), "영화 " + " ".join(words), label))
    tok = train_tokenizer([r.document for r in reviews], kind="wordpiece", vocab_size=60,
                          min_frequency=1)
    pre = BertForPreTraining(BertConfig(vocab_size=tok.vocab_size, max_len=16, d_model=16,
                                        n_heads=2, n_layers=1, pad_id=tok.pad_id))
    return pre, tok, reviews[:600], reviews[600:]


def test_ch8_finetune_loop_checker(tiny_sentiment):
    import torch

    def right(model, batches, optimizer):
        model.train()
        for ids, seg, mask, labels in batches:
            optimizer.zero_grad()
            model(ids, seg, mask, labels=labels).loss.backward()
            optimizer.step()

    def no_zero_grad(model, batches, optimizer):
        model.train()
        for ids, seg, mask, labels in batches:
            model(ids, seg, mask, labels=labels).loss.backward()
            optimizer.step()

    def no_train_mode(model, batches, optimizer):
        for ids, seg, mask, labels in batches:
            optimizer.zero_grad()
            model(ids, seg, mask, labels=labels).loss.backward()
            optimizer.step()

    def once(model, batches, optimizer):
        model.train()
        optimizer.zero_grad()
        for ids, seg, mask, labels in batches:
            model(ids, seg, mask, labels=labels).loss.backward()
        optimizer.step()

    def no_backward(model, batches, optimizer):
        model.train()
        for ids, seg, mask, labels in batches:
            optimizer.zero_grad()
            with torch.no_grad():
                model(ids, seg, mask, labels=labels)
            optimizer.step()

    data = tiny_sentiment
    assert_right(ex.ch8_finetune_loop(right, data=data, lr=3e-3))
    assert_wrong(ex.ch8_finetune_loop(no_zero_grad, data=data, lr=3e-3), "zero_grad")
    assert_wrong(ex.ch8_finetune_loop(no_train_mode, data=data, lr=3e-3), "model.train()")
    assert_wrong(ex.ch8_finetune_loop(once, data=data, lr=3e-3), "배치마다 한 번")
    assert_wrong(ex.ch8_finetune_loop(no_backward, data=data, lr=3e-3), "backward")
    assert_wrong(ex.ch8_finetune_loop(lambda m, b, o: None, data=data, lr=3e-3), "아직 답이 없습니다")


def test_ch8_read_attention_checker(tiny_sentiment):
    import torch

    from lmlib.bert import BertForSequenceClassification
    from lmlib.bert_data import encode_pair

    pre, tok, _, _ = tiny_sentiment
    clf = BertForSequenceClassification.from_pretraining(pre).eval()
    ids, seg = encode_pair(tok, ex._reading_review(), None, clf.config.max_len)
    with torch.no_grad():
        att = clf(torch.tensor([ids]), torch.tensor([seg]), return_attn=True).attentions
    tokens = [tok.id_to_token(i) for i in ids]
    row = att[-1][0, :, 0].mean(0)
    want = tokens[max(range(1, len(ids) - 1), key=lambda j: float(row[j]))]
    two = "이 토큰에 가장 큰 가중치가 갔다. 그렇다고 이 토큰이 판단의 원인이라고 단정할 수는 없다."
    assert_right(ex.ch8_read_attention({"token": want, "explanation": two}, clf=clf, tok=tok))
    assert_wrong(ex.ch8_read_attention({"token": want, "explanation": "가장 크다."}, clf=clf, tok=tok),
                 "두 문장")
    assert_wrong(ex.ch8_read_attention({"token": "[CLS]", "explanation": two}, clf=clf, tok=tok),
                 "[CLS]")
    assert_wrong(ex.ch8_read_attention({"token": "없는말", "explanation": two}, clf=clf, tok=tok),
                 "토큰이 아닙니다")
    assert_wrong(ex.ch8_read_attention(None), "아직 답이 없습니다")
    with pytest.raises(TypeError, match="explanation"):
        ex.ch8_read_attention("최고")
