"""Tests for lmlib.ngram: hand-computed counts, nltk.lm parity, invariants, errors."""

import itertools
import math
import random
import warnings
from collections import Counter
from fractions import Fraction

import pytest

from lmlib.ngram import NGramLM
from lmlib.text import BOS, EOS, UNK
from toy_corpus import TOY


WORDS = ["나는", "너는", "어제", "오늘", "카페에", "학교에", "갔다", "왔다", "사람이", "많았다",
         "조용했다", "정말"]


def random_corpus(n: int = 300, seed: int = 0) -> list[list[str]]:
    """A deterministic random corpus of short sentences (some empty) over WORDS."""
    rng = random.Random(seed)
    return [[rng.choice(WORDS) for _ in range(rng.randint(0, 6))] for _ in range(n)]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


# 1. Textbook case, counted by hand ------------------------------------------------
def test_bigram_mle_by_hand():
    lm = NGramLM(2).fit(TOY)
    # <s> is followed by 나는 x3, 어제 x1, 오늘 x1
    assert close(lm.prob("나는"), Fraction(3, 5))
    # 나는 is followed by 어제 x2 (S1, S5), 오늘 x1 (S2)
    assert close(lm.prob("어제", ["나는"]), Fraction(2, 3))
    # 카페에 is followed by 갔다 x2 (S1, S4), 사람이 x1 (S3)
    assert close(lm.prob("갔다", ["카페에"]), Fraction(2, 3))
    assert close(lm.prob("사람이", ["카페에"]), Fraction(1, 3))
    # 갔다 always ends the sentence: 4 of 4
    assert lm.prob(EOS, ["갔다"]) == 1.0
    assert lm.prob("많았다", ["나는"]) == 0.0  # never seen after 나는
    assert lm.count(["어제", "카페에"]) == 2 and lm.count([BOS]) == 5 and lm.count([BOS, "나는"]) == 3
    # Only the last order-1 words matter; an empty context is a sentence start.
    assert lm.prob("카페에", ["나는", "어제"]) == lm.prob("카페에", ["어제"])
    assert lm.prob("나는", []) == lm.prob("나는", [BOS])
    # Chain rule: P(<s> 나는 어제 카페에 갔다 </s>) = 3/5 * 2/3 * 2/3 * 2/3 * 4/4 = 8/45
    s = TOY[0]
    assert close(lm.sentence_prob(s), Fraction(8, 45))
    assert close(lm.sentence_logprob(s), math.log(8 / 45))
    assert close(lm.perplexity([s]), (8 / 45) ** (-1 / 5))  # 5 predicted tokens incl. EOS


def test_chain_rule_table():
    table = NGramLM(2).fit(TOY).chain_rule(TOY[0])
    assert list(table["step"]) == [1, 2, 3, 4, 5]
    assert list(table["word"]) == ["나는", "어제", "카페에", "갔다", EOS]
    assert list(table["count(context+word)"]) == [3, 2, 2, 2, 4]
    assert list(table["count(context)"]) == [5, 3, 3, 3, 4]
    assert table["formula"].iloc[2] == "P(카페에 | 어제)"
    tri = NGramLM(3).fit(TOY).chain_rule(TOY[0])
    assert tri["formula"].iloc[1] == "P(어제 | <s> 나는)" and tri["context"].iloc[1] == "<s> 나는"


def test_backward_by_hand():
    back = NGramLM(2, direction="backward").fit(TOY)
    # Reading right to left, 갔다 is followed by 카페에 x2, 학교에 x2
    assert close(back.prob("카페에", ["갔다"]), Fraction(1, 2))
    assert back.count([BOS, "갔다"]) == 4  # 4 sentences END with 갔다
    tri = NGramLM(3, direction="backward").fit(TOY)
    # Context in natural order: the words AFTER the predicted one.
    # "... 카페에 갔다" is preceded by 어제 (S1) and 오늘 (S4)
    assert close(tri.prob("어제", ["카페에", "갔다"]), Fraction(1, 2))
    # "... 카페에 사람이" is preceded by 어제 (S3) only
    assert tri.prob("어제", ["카페에", "사람이"]) == 1.0
    assert tri.prob("어제", ["사람이", "카페에"]) == 0.0  # order matters
    assert list(tri.chain_rule(TOY[0])["word"]) == ["갔다", "카페에", "어제", "나는", EOS]


# 2. Parity with nltk.lm -----------------------------------------------------------
@pytest.mark.parametrize("order", [2, 3])
@pytest.mark.parametrize("smoothing", ["mle", "laplace"])
def test_nltk_parity(order, smoothing):
    from nltk.lm import MLE, Laplace
    from nltk.util import everygrams

    corpus = random_corpus()
    padded = [[BOS] * (order - 1) + s + [EOS] for s in corpus]
    ref = {"mle": MLE, "laplace": Laplace}[smoothing](order)
    ref.fit([list(everygrams(s, max_len=order)) for s in padded],
            vocabulary_text=[w for s in padded for w in s])
    lm = NGramLM(order, smoothing).fit(corpus)
    assert len(lm.vocab) == len(ref.vocab)

    def to_nltk(w):
        return "<UNK>" if w == UNK else w

    words = sorted(lm.vocab) + ["외계어"]  # plus an out-of-vocabulary word
    contexts = list(itertools.product(sorted(lm.vocab), repeat=order - 1))
    seen = [c for c in contexts if any(lm.count(c + (w,)) for w in lm.vocab)]
    assert 0 < len(seen) < len(contexts)  # the grid has seen and unseen contexts
    for ctx in contexts + [("외계어",) * (order - 1)]:
        for w in words:
            ours = lm.prob(w, list(ctx))
            theirs = ref.score(to_nltk(w), tuple(to_nltk(c) for c in ctx))
            assert abs(ours - theirs) <= 1e-12, (ctx, w, ours, theirs)


# 3. Probabilities over the vocabulary sum to 1 -------------------------------------
@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("smoothing,k", [("laplace", 1.0), ("add-k", 0.1), ("mle", 1.0),
                                        ("kneser-ney", 1.0)])
def test_distribution_sums_to_one(order, direction, smoothing, k):
    corpus = random_corpus(100, seed=1)
    lm = NGramLM(order, smoothing, k=k, direction=direction).fit(corpus)
    for s in corpus[:30]:
        for i in range(len(s) + 1):  # every context that occurs in training
            ctx = s[:i] if direction == "forward" else s[i:]
            dist = lm.next_word_distribution(ctx)
            assert set(dist) == lm.vocab
            assert abs(math.fsum(dist.values()) - 1) <= 1e-12
    if smoothing != "mle":  # smoothed models are distributions for unseen contexts too
        dist = lm.next_word_distribution(["외계어", EOS])
        assert abs(math.fsum(dist.values()) - 1) <= 1e-12


# 4. Forward and backward models ----------------------------------------------------
def test_forward_backward():
    for order in (1, 2):
        fwd = NGramLM(order).fit(TOY)
        bwd = NGramLM(order, direction="backward").fit(TOY)
        for s in TOY:
            pf, pb = fwd.sentence_prob(s), bwd.sentence_prob(s)
            assert pf > 0 and pb > 0
            # The factors differ, the product does not: for MLE both equal
            # Π count(n-gram) / Π count(context) over the same n-grams.
            assert close(pf, pb)
            for lm in (fwd, bwd):
                assert close(math.prod(lm.chain_rule(s)["prob"]), lm.sentence_prob(s))
    fwd, bwd = NGramLM(2).fit(TOY), NGramLM(2, direction="backward").fit(TOY)
    assert fwd.prob("갔다", ["카페에"]) != bwd.prob("카페에", ["갔다"])  # 2/3 vs 1/2
    # Add-k at order 3 breaks the symmetry (the padding differs at the two ends).
    fwd = NGramLM(3, "laplace").fit(TOY)
    bwd = NGramLM(3, "laplace", direction="backward").fit(TOY)
    assert not close(fwd.sentence_prob(TOY[0]), bwd.sentence_prob(TOY[0]))


# 5. Unknown words and unseen contexts ----------------------------------------------
def test_unknown_words_and_unseen_contexts():
    mle, lap = NGramLM(2).fit(TOY), NGramLM(2, "laplace").fit(TOY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from log(0) or 0/0
        assert mle.prob("외계어", ["나는"]) == 0.0
        assert mle.prob("나는", ["외계어"]) == 0.0  # unseen context: 0, not NaN
        assert mle.prob("나는", [EOS]) == 0.0  # EOS occurs but is never followed
        assert mle.logprob("외계어", ["나는"]) == -math.inf
        assert lap.prob("외계어", ["나는"]) == lap.prob(UNK, ["나는"]) > 0
        assert lap.prob("나는", ["외계어"]) == 1 / len(lap.vocab)
        bad = ["나는", "외계어", "갔다"]
        assert mle.sentence_prob(bad) == 0.0 and mle.sentence_logprob(bad) == -math.inf
        assert mle.perplexity(TOY + [bad]) == math.inf
        ppl = lap.perplexity(TOY + [bad])
        assert math.isfinite(ppl) and ppl > 1
        table = mle.chain_rule(bad)
        assert not table["prob"].isna().any() and table["logprob"].iloc[1] == -math.inf


# 6. Errors name the argument ---------------------------------------------------------
@pytest.mark.parametrize("make,exc,match", [
    (lambda: NGramLM(0), ValueError, "order must be an int >= 1"),
    (lambda: NGramLM(2.0), TypeError, "order"),
    (lambda: NGramLM(2, "witten-bell"), ValueError, "smoothing must be one of"),
    (lambda: NGramLM(2, "add-k", k=0), ValueError, "k must be"),
    (lambda: NGramLM(2, "add-k", k=-0.5), ValueError, "k must be"),
    (lambda: NGramLM(2, "laplace", k=0.5), ValueError, "add-k"),
    (lambda: NGramLM(2, direction="sideways"), ValueError, "direction must be one of"),
    (lambda: NGramLM(2).fit("나는 갔다"), TypeError, "sentences must be a list of token lists"),
    (lambda: NGramLM(2).fit(["나는 갔다"]), TypeError, r"sentences\[0\] is the str.*split"),
    (lambda: NGramLM(2).fit([]), ValueError, "sentences is empty"),
    (lambda: NGramLM(2).fit([["나는", 3]]), TypeError, r"sentences\[0\]\[1\] must be a str, got int 3"),
    (lambda: NGramLM(2).fit([[BOS, "나는"]]), ValueError, "padding"),
    (lambda: NGramLM(2).prob("나는"), RuntimeError, r"call fit\(\) first"),
    (lambda: NGramLM(2).vocab, RuntimeError, r"call fit\(\) first"),
    (lambda: NGramLM(2).fit(TOY).prob("카페에", "어제"), TypeError, "context must be a list of tokens"),
    (lambda: NGramLM(2).fit(TOY).prob(3), TypeError, "word must be a str"),
    (lambda: NGramLM(2).fit(TOY).count(["나는", "어제", "카페에"]), ValueError, "ngram must have"),
    (lambda: NGramLM(2).fit(TOY).count("나는"), TypeError, "ngram must be a list of tokens"),
    (lambda: NGramLM(2).fit(TOY).sentence_prob("나는 갔다"), TypeError, "tokens must be a list"),
    (lambda: NGramLM(2).fit(TOY).perplexity([]), ValueError, "sentences is empty"),
    (lambda: NGramLM(2).fit(TOY).rank(["나는"], top_k=0), ValueError, "top_k"),
    (lambda: NGramLM(2).fit(TOY).generate(max_tokens=0), ValueError, "max_tokens"),
    (lambda: NGramLM(2).fit(TOY).generate(temperature=0), ValueError, "temperature"),
    (lambda: NGramLM(2).fit(TOY).generate(seed="a"), TypeError, "seed"),
    (lambda: NGramLM(2).fit(TOY).generate(["외계어"]), ValueError, "context.*laplace"),
])
def test_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


# 7. Generation ------------------------------------------------------------------------
def test_generate():
    lm = NGramLM(2, "laplace").fit(TOY)  # laplace gives UNK and BOS mass: they must be skipped
    outs = [lm.generate(["나는"], max_tokens=8, seed=s) for s in range(20)]
    assert outs[3] == lm.generate(["나는"], max_tokens=8, seed=3)  # same seed, same words
    assert len({tuple(o) for o in outs}) > 1  # different seeds do differ
    for out in outs:
        assert BOS not in out and UNK not in out
        assert 1 <= len(out) <= 8
        assert out[-1] == EOS or len(out) == 8  # stops at EOS or at max_tokens
        assert EOS not in out[:-1]
    mle = NGramLM(2).fit(TOY)
    assert mle.generate(seed=1) == ["나는", "오늘", "학교에", "갔다", EOS]  # golden
    greedy = mle.generate(["나는"], greedy=True, seed=0)
    assert greedy == mle.generate(["나는"], greedy=True, seed=99)
    # Greedy takes the top of rank() at every step: 어제 (2/3), 카페에 (2/3), 갔다 (2/3), </s>
    assert greedy == ["어제", "카페에", "갔다", EOS]
    # A very low temperature puts (almost) all mass on the most probable word.
    assert mle.generate(["나는"], temperature=0.01, seed=5) == greedy
    back = NGramLM(2, direction="backward").fit(TOY)
    assert back.generate(["갔다"], greedy=True) == ["카페에", "어제", "나는", EOS]  # right to left


# 8. Ranking ---------------------------------------------------------------------------
def test_rank():
    lm = NGramLM(2).fit(TOY)
    ranked = lm.rank(["카페에"])
    assert ranked[:2] == [("갔다", 2 / 3), ("사람이", 1 / 3)]
    zeros = [w for w, p in ranked[2:]]
    assert all(p == 0 for _, p in ranked[2:]) and zeros == sorted(zeros)  # ties by word
    assert {w for w, _ in ranked} == lm.vocab - {BOS, UNK} and EOS in zeros
    assert lm.rank(["카페에"], top_k=1) == [("갔다", 2 / 3)]
    # 오늘 is followed by 학교에 and 카페에 once each: the tie is broken by the word
    assert lm.rank(["오늘"], candidates=["학교에", "나는", "카페에"]) == [
        ("카페에", 0.5), ("학교에", 0.5), ("나는", 0.0)]
    assert lm.rank(["나는"], candidates=["학교에", "오늘", "어제"]) == [
        ("어제", 2 / 3), ("오늘", 1 / 3), ("학교에", 0.0)]


def test_continuations_are_the_seen_next_words_with_counts():
    lm = NGramLM(2, "add-k", k=0.1).fit([["a", "b"], ["a", "b"], ["a", "c"], ["b", "a"]])
    assert lm.continuations(["a"]) == [("b", 2), ("</s>", 1), ("c", 1)]  # ties by the word
    assert lm.continuations(["zzz"]) == []  # unseen word -> UNK context, never followed
    back = NGramLM(2, direction="backward").fit([["a", "b"], ["c", "b"]])
    assert back.continuations(["b"]) == [("a", 1), ("c", 1)]  # words seen before "b"


def test_probs_equals_prob_for_each_word():
    lm = NGramLM(2, "add-k", k=0.5).fit([["a", "b", "c"], ["a", "c"], ["b", "b"]])
    words = ["a", "b", "c", "zzz"]
    assert lm.probs(words, ["a"]) == [lm.prob(w, ["a"]) for w in words]
    with pytest.raises(TypeError, match="words"):
        lm.probs("abc", ["a"])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_counts_equal_a_loop_over_each_sentence(order, direction):
    """fit() counts over one joined stream; the result must equal counting sentence by sentence
    (no n-gram across a sentence boundary), short and empty sentences included."""
    corpus = random_corpus(200, seed=3) + [[], ["가"], ["가", "가"]]
    lm = NGramLM(order, direction=direction).fit(corpus)
    naive = Counter()
    for s in corpus:
        seq = s[::-1] if direction == "backward" else s
        padded = [BOS] * (order - 1) + seq + [EOS]
        for n in range(1, order + 1):
            for j in range(n - 1, len(padded)):
                naive[tuple(padded[j - n + 1:j + 1])] += 1
    for g, c in naive.items():
        assert lm.count(g) == c
    assert sum(len(level.counts) for level in lm._levels) == len(naive)  # nothing else counted
    if order >= 2:
        assert lm.count((EOS, BOS)) == 0  # the window across two sentences is not counted
    # count(context) = how often it is followed by a word: the sum of its continuations
    contexts = {g[:-1] for g in naive} | {g for g in naive if len(g) < order}
    for ctx in contexts:
        total = sum(c for g, c in naive.items() if len(g) == len(ctx) + 1 and g[:-1] == ctx)
        assert lm._lookup(ctx, EOS)[1] == total, ctx
    start = (BOS,) * (order - 1)  # continuations of the sentence start
    assert dict(lm.continuations([])) == {g[-1]: c for g, c in naive.items()
                                          if len(g) == order and g[:-1] == start}


# 9. Interpolated Kneser-Ney --------------------------------------------------------------
D = 0.75


def nltk_kneser_ney(corpus, order, discount=D):
    """nltk's KneserNeyInterpolated on the padded corpus, the vocabulary convention of MLE above."""
    from nltk.lm import KneserNeyInterpolated
    from nltk.util import everygrams

    padded = [[BOS] * (order - 1) + s + [EOS] for s in corpus]
    ref = KneserNeyInterpolated(order, discount=discount)
    ref.fit([list(everygrams(s, max_len=order)) for s in padded],
            vocabulary_text=[w for s in padded for w in s])
    return ref


def nltk_extra(corpus, ctx, discount=D):
    """How much more than ours nltk gives a word after `ctx`, in units of nltk's continuation
    unigram P(w) (order 3; see NGramLM._kn_prob). nltk's weight of the lower-order context
    (BOS,) counts BOS as one of its next words (from the padding bigram BOS BOS), although
    no trigram ends in BOS BOS: gamma is D * (n_first + 1) / n_first instead of
    D * n_first / n_first, n_first = the distinct first tokens (EOS for an empty sentence)."""
    if ctx[-1] != BOS:
        return 0.0
    n_first = len({(s + [EOS])[0] for s in corpus})
    if ctx == (BOS, BOS):  # seen: the trigram weight D * n_first / #sentences comes first
        return discount * n_first / len(corpus) * discount / n_first
    return discount / n_first  # (x, BOS) never occurs: the trigram order is skipped


def test_kneser_ney_by_hand():
    lm = NGramLM(2, "kneser-ney").fit(TOY)  # discount 0.75 by default
    # 카페에 is followed by 갔다 x2, 사람이 x1: alpha = (2 - 0.75) / 3, gamma = 0.75 * 2 / 3.
    # 15 distinct bigrams, 2 of them end in 갔다 (카페에 갔다, 학교에 갔다): P_cont(갔다) = 2/15.
    assert close(lm.prob("갔다", ["카페에"]), Fraction(5, 12) + Fraction(1, 2) * Fraction(2, 15))
    # 갔다 is followed by EOS only (4 times): gamma = 0.75 * 1 / 4. 나는 follows only <s>,
    # three times: its continuation count is 1, not 3.
    assert close(lm.prob("나는", ["갔다"]), Fraction(3, 16) * Fraction(1, 15))
    # An unseen context (unknown word, or EOS, which is never followed) skips its order.
    assert lm.prob("나는", ["외계어"]) == lm.prob("나는", [EOS]) == 1 / 15
    assert lm.count(["카페에", "갔다"]) == 2 == NGramLM(2).fit(TOY).count(["카페에", "갔다"])


@pytest.mark.parametrize("order", [2, 3])
def test_kneser_ney_nltk_parity(order):
    corpus = random_corpus()
    ref = nltk_kneser_ney(corpus, order)
    lm = NGramLM(order, "kneser-ney", discount=D).fit(corpus)
    assert len(lm.vocab) == len(ref.vocab)

    def to_nltk(w):
        return "<UNK>" if w == UNK else w

    words = sorted(lm.vocab) + ["외계어"]
    contexts = list(itertools.product(sorted(lm.vocab), repeat=order - 1))
    seen = [c for c in contexts if any(lm.count(c + (w,)) for w in lm.vocab)]
    assert 0 < len(seen) < len(contexts)
    n_equal = 0
    for ctx in contexts + [("외계어",) * (order - 1)]:
        extra = nltk_extra(corpus, ctx) if order == 3 else 0.0
        n_equal += extra == 0
        for w in words:
            ours = lm.prob(w, list(ctx))
            theirs = ref.score(to_nltk(w), tuple(to_nltk(c) for c in ctx))
            assert abs(ours + extra * ref.score(to_nltk(w)) - theirs) <= 1e-12, (ctx, w)
    assert n_equal >= len(contexts) - len(lm.vocab)  # all but the (x, BOS) contexts agree as is
    if order == 3:  # nltk's sentence start is no distribution; ours is
        vocab = sorted(lm.vocab)
        assert close(math.fsum(ref.score(to_nltk(w), (BOS, BOS)) for w in vocab),
                     1 + D ** 2 / len(corpus))
        assert abs(math.fsum(lm.probs(vocab, [])) - 1) <= 1e-12


@pytest.mark.parametrize("order", [2, 3])
def test_kneser_ney_nltk_parity_course_corpus(order):
    """Within 1e-9 of nltk on test-split words of the course corpus (see scripts/nltk_parity.py
    for the whole test split): unknown words (0 on both sides) and unseen contexts included."""
    from lmlib.data import course_split

    train, test = course_split()
    ref = nltk_kneser_ney(train, order)
    lm = NGramLM(order, "kneser-ney").fit(train)

    def to_nltk(w):
        return w if w in ref.vocab else "<UNK>"

    n_unseen = n_unknown = n_start = 0
    for s in test[:25]:
        padded = [BOS] * (order - 1) + s + [EOS]
        for j in range(order - 1, len(padded)):
            ctx, w = tuple(padded[j - order + 1:j]), padded[j]
            ours = lm.prob(w, [t for t in ctx if t != BOS])
            theirs = ref.score(to_nltk(w), [to_nltk(c) for c in ctx])
            n_unseen += not ref.counts[tuple(map(to_nltk, ctx))]
            n_unknown += w not in lm.vocab
            if order == 3 and ctx == (BOS, BOS):
                n_start += 1
                assert abs(ours - theirs) > 1e-9 or w not in lm.vocab  # the difference...
                ours += D ** 2 / len(train) * ref.score(to_nltk(w))  # ...and nothing else
            assert abs(ours - theirs) <= 1e-9, (ctx, w, ours, theirs)
    assert n_unseen > 0 and n_unknown > 0 and n_start == (25 if order == 3 else 0)


def test_kneser_ney_continuation_counts_equal_a_loop():
    corpus = random_corpus(200, seed=3) + [[], ["가"], ["가", "가"]]
    for order, direction in itertools.product([2, 3, 4], ["forward", "backward"]):
        lm = NGramLM(order, "kneser-ney", direction=direction).fit(corpus)
        grams = set()
        for s in corpus:
            seq = s[::-1] if direction == "backward" else s
            padded = [BOS] * (order - 1) + seq + [EOS]
            grams |= {tuple(padded[j - n + 1:j + 1])
                      for n in range(1, order + 1) for j in range(n - 1, len(padded))}
        for g in grams:
            if len(g) < order:  # N1+(. g): distinct words seen right before g
                before = sum(1 for h in grams if len(h) == len(g) + 1 and h[1:] == g)
                assert lm._levels[len(g) - 1].cont[lm._rank(g)] == before, g
        assert NGramLM(order, "mle").fit(corpus)._levels[0].cont is None  # only KN pays


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("discount", [0.1, 0.75, 0.99])
def test_kneser_ney_sums_to_one(order, discount):
    lm = NGramLM(order, "kneser-ney", discount=discount).fit(TOY + random_corpus(50, seed=2))
    contexts = [[], ["나는"], ["나는", "어제"], ["카페에"], ["외계어"], ["외계어", "나는"],
                ["나는", "외계어"], [EOS], ["갔다", EOS]]
    for ctx in contexts:  # seen, unseen and never-followed contexts
        assert abs(math.fsum(lm.next_word_distribution(ctx).values()) - 1) <= 1e-12, ctx


def test_kneser_ney_order_1_is_the_mle_unigram():
    kn, mle = NGramLM(1, "kneser-ney", discount=0.3).fit(TOY), NGramLM(1).fit(TOY)
    for w in sorted(mle.vocab) + ["외계어"]:
        assert kn.prob(w) == kn.prob(w, ["나는"]) == mle.prob(w)
    assert close(kn.prob("갔다"), Fraction(4, 24))  # 갔다 is 4 of the 24 tokens (EOS included)
    assert kn.perplexity(TOY) == mle.perplexity(TOY)
    with pytest.raises(ValueError, match="not in the training vocabulary"):
        kn.perplexity([["나는", "외계어"]])


def test_kneser_ney_unknown_words():
    lm = NGramLM(3, "kneser-ney").fit(TOY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from log(0) or 0/0
        assert lm.prob("외계어", ["나는"]) == lm.prob(UNK, ["나는"]) == 0.0  # as nltk
        assert lm.logprob("외계어", ["나는"]) == -math.inf
        assert lm.sentence_logprob(["나는", "외계어"]) == -math.inf
        assert lm.prob("나는", ["외계어", "외계어"]) > 0  # unknown context: lower orders
        assert lm.perplexity(TOY) < math.inf
        with pytest.raises(ValueError, match=r"sentences\[1\] has the token '외계어'.*<unk>"):
            lm.perplexity([TOY[0], ["나는", "외계어"]])
    # With UNK in the training text (rare words replaced by it) unknown words get its mass.
    rare = {w for w, c in Counter(w for s in TOY for w in s).items() if c == 1}
    lm = NGramLM(3, "kneser-ney").fit([[UNK if w in rare else w for w in s] for s in TOY])
    assert lm.prob("외계어", ["나는"]) == lm.prob(UNK, ["나는"]) > 0
    assert math.isfinite(lm.perplexity([["나는", "외계어", "갔다"]]))


def test_kneser_ney_methods():
    lm = NGramLM(3, "kneser-ney").fit(TOY)
    s = TOY[0]
    table = lm.chain_rule(s)
    assert close(math.prod(table["prob"]), lm.sentence_prob(s))
    assert close(lm.sentence_logprob(s), math.log(lm.sentence_prob(s)))
    assert close(lm.perplexity([s]), lm.sentence_prob(s) ** (-1 / 5))
    assert list(table["count(context+word)"]) == list(NGramLM(3).fit(TOY).chain_rule(s)[
        "count(context+word)"])  # the table shows raw counts
    ranked = lm.rank(["나는", "어제"])
    assert ranked[0][0] == "카페에" and [p for _, p in ranked] == sorted(
        (p for _, p in ranked), reverse=True)
    assert all(p > 0 for _, p in ranked)  # every known word gets mass
    words = ["카페에", "학교에", "외계어"]
    assert lm.probs(words, ["어제"]) == [lm.prob(w, ["어제"]) for w in words]
    assert lm.generate(["나는"], greedy=True) == ["어제", "카페에", "갔다", EOS]
    outs = [lm.generate(seed=i, max_tokens=6) for i in range(10)]
    assert all(BOS not in o and UNK not in o for o in outs) and len(set(map(tuple, outs))) > 1
    assert outs[4] == lm.generate(seed=4, max_tokens=6)
    back = NGramLM(2, "kneser-ney", direction="backward").fit(TOY)
    assert back.rank(["갔다"], top_k=2)[0][0] in {"카페에", "학교에"}
    assert repr(lm) == ("NGramLM(order=3, smoothing='kneser-ney', discount=0.75, "
                        "direction='forward', |V|=11)")
    assert repr(NGramLM(2, "add-k", k=0.1)) == (
        "NGramLM(order=2, smoothing='add-k', k=0.1, direction='forward', not fitted)")


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"discount": 0}, ValueError, r"discount must be a float in \(0, 1\)"),
    ({"discount": 0.0}, ValueError, r"discount must be a float in \(0, 1\)"),
    ({"discount": 1}, ValueError, r"discount must be a float in \(0, 1\)"),
    ({"discount": 1.5}, ValueError, r"discount must be a float in \(0, 1\)"),
    ({"discount": -0.25}, ValueError, r"discount must be a float in \(0, 1\)"),
    ({"discount": float("nan")}, ValueError, r"discount must be a float in \(0, 1\)"),
    ({"discount": float("inf")}, ValueError, r"discount must be a float in \(0, 1\)"),
    ({"discount": "0.5"}, TypeError, r"discount must be a float in \(0, 1\)"),
    ({"discount": True}, TypeError, r"discount must be a float in \(0, 1\)"),
    ({"k": 0.5}, ValueError, "k is the add-k constant.*discount"),
    ({"k": 0}, ValueError, "k must be"),
])
def test_kneser_ney_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        NGramLM(2, "kneser-ney", **kwargs)


@pytest.mark.parametrize("smoothing", ["mle", "laplace", "add-k"])
def test_discount_is_for_kneser_ney_only(smoothing):
    with pytest.raises(ValueError, match="discount is used by smoothing='kneser-ney' only"):
        NGramLM(2, smoothing, discount=0.5)
    assert NGramLM(2, smoothing).discount == 0.75  # the default, unused


# --- with_smoothing: one fit, many smoothing settings -----------------------------

@pytest.mark.parametrize("order", [1, 2, 3])
def test_with_smoothing_equals_a_fresh_fit(order):
    sents = [s.split() for s in ["나는 밥을 먹었다", "나는 빵을 먹었다", "너는 밥을 샀다",
                                 "나는 밥을 샀다"]]
    kn = NGramLM(order, "kneser-ney").fit(sents)
    probe = [(w, ctx) for w in ["밥을", "먹었다", "샀다", "없는말", "</s>"]
             for ctx in ([], ["나는"], ["너는", "밥을"], ["없는", "문맥"])]
    for smoothing, kw in [("add-k", {"k": 0.1}), ("mle", {}), ("laplace", {}),
                          ("kneser-ney", {"discount": 0.3})]:
        derived = kn.with_smoothing(smoothing, **kw)
        fresh = NGramLM(order, smoothing, **kw).fit(sents)
        for w, ctx in probe:
            assert derived.prob(w, ctx) == pytest.approx(fresh.prob(w, ctx), abs=1e-15)
    assert kn.with_smoothing(discount=0.5).discount == 0.5 and kn.discount == 0.75


def test_with_smoothing_refuses_kneser_ney_from_other_counts_and_unfitted():
    sents = [["가", "나"]]
    with pytest.raises(ValueError, match="continuation counts"):
        NGramLM(2, "add-k", k=0.1).fit(sents).with_smoothing("kneser-ney")
    with pytest.raises(RuntimeError, match="not fitted"):
        NGramLM(2).with_smoothing("add-k", k=0.1)
    with pytest.raises(ValueError, match="smoothing must be one of"):
        NGramLM(2).fit(sents).with_smoothing("witten-bell")


def test_rare_to_unk_maps_rare_and_unseen_tokens_on_every_split():
    from lmlib.ngram import rare_to_unk
    from lmlib.text import UNK

    train, test = rare_to_unk([["a", "b"], ["a", "c"]], [["a", "d", "b"]])
    assert train == [["a", UNK], ["a", UNK]] and test == [["a", UNK, UNK]]
    (same,) = rare_to_unk([["a", "b"]], min_count=1)
    assert same == [["a", "b"]]
    with pytest.raises(ValueError, match="min_count"):
        rare_to_unk([["a"]], min_count=0)
    with pytest.raises(TypeError, match="others\\[0\\]"):
        rare_to_unk([["a"]], ["a b"])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("smoothing", ["mle", "laplace", "add-k", "kneser-ney"])
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_many_sentences_at_once_give_exactly_the_one_by_one_numbers(order, smoothing, direction):
    """sentence_logprobs and perplexity score all sentences in numpy; every number must be
    the one the chain rule gives factor by factor (_factors), bit for bit."""
    from lmlib.ngram import rare_to_unk

    rng = random.Random(order)
    words = [f"w{i}" for i in range(30)]
    train = [rng.choices(words[:20], k=rng.randint(0, 7)) for _ in range(200)]
    test = [rng.choices(words, k=rng.randint(0, 7)) for _ in range(60)]  # unseen words too
    kw = {"k": 0.3} if smoothing == "add-k" else {}
    for tr, te in ((train, test), rare_to_unk(train, test, min_count=3)):
        lm = NGramLM(order, smoothing, direction=direction, **kw).fit(tr)
        assert lm.sentence_logprobs(te) == [lm.sentence_logprob(s) for s in te]
        logs = [math.log(p) for s in te for _, _, p in lm._factors(s) if p > 0]
        if all(p > 0 for s in te for _, _, p in lm._factors(s)):
            assert lm.perplexity(te) == math.exp(-sum(logs) / len(logs))


def test_kneser_ney_perplexity_names_the_first_token_it_gives_zero():
    lm = NGramLM(2, "kneser-ney").fit([["a", "b"], ["b", "a"]])
    with pytest.raises(ValueError, match=r"sentences\[1\] has the token 'z'"):
        lm.perplexity([["a"], ["b", "z", "y"]])
    back = NGramLM(2, "kneser-ney", direction="backward").fit([["a", "b"], ["b", "a"]])
    with pytest.raises(ValueError, match=r"sentences\[1\] has the token 'y'"):  # read from the end
        back.perplexity([["a"], ["b", "z", "y"]])
    with pytest.raises(TypeError, match=r"sentences\[1\]"):
        lm.sentence_logprobs([["a"], "b a"])


def _arpa_logprob(path, tokens):
    """log10 P(tokens) from an ARPA file, read as any back-off reader does: P(w | h) is the
    stored value of "h w" if present, else back-off(h) (0 if h is absent) + P(w | h[1:]);
    each sentence starts from the context <s> alone and ends with </s>."""
    table, order = {}, 0
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            gram = tuple(parts[1].split(" "))
            table[gram] = (float(parts[0]), float(parts[2]) if len(parts) == 3 else 0.0)
            order = max(order, len(gram))

    def query(h, w):
        if h + (w,) in table:
            return table[h + (w,)][0]
        return (table[h][1] if h in table else 0.0) + query(h[1:], w) if h else table[(w,)][0]

    context, total = (BOS,), 0.0
    for w in list(tokens) + [EOS]:
        total += query(context, w)
        context = (context + (w,))[-(order - 1):] if order > 1 else ()
    return total


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_the_arpa_file_scores_every_sentence_as_the_model_does(order, tmp_path):
    from lmlib.ngram import rare_to_unk

    rng = random.Random(order)
    words = [f"w{i}" for i in range(25)]
    train = [rng.choices(words[:18], k=rng.randint(0, 6)) for _ in range(150)]
    test = [rng.choices(words, k=rng.randint(0, 6)) for _ in range(40)]
    train, test = rare_to_unk(train + [["once"]], test, min_count=2)  # "once" -> <unk>
    lm = NGramLM(order, "kneser-ney", discount=0.8).fit(train)
    lm.write_arpa(tmp_path / "lm.arpa")
    text = (tmp_path / "lm.arpa").read_text(encoding="utf-8")
    assert text.startswith("\\data\\\n") and text.endswith("\\end\\\n")
    for s in test:
        assert _arpa_logprob(tmp_path / "lm.arpa", s) == pytest.approx(
            lm.sentence_logprob(s) / math.log(10), abs=1e-7)
    with pytest.raises(ValueError, match="kneser-ney"):
        NGramLM(order, "laplace").fit(train).write_arpa(tmp_path / "x.arpa")
