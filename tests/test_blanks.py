"""Tests for lmlib.blanks: making blanks, scoring them from the left, the right or both, and evaluating."""

import math

import pytest

from lmlib.blanks import (Blank, NGramBlankScorer, blank_ranks, evaluate_blanks, make_blanks,
                          rank_summary)
from lmlib.ngram import NGramLM
from lmlib.text import BOS, EOS, UNK

SENTENCES = [s.split() for s in [
    "나는 어제 카페에 갔다",
    "오늘 학교에 갔다",
    "짧은 문장",                                   # 2 tokens: too short for a blank
    "나는 오늘 아침에 버스를 놓쳐서 학교에 늦었다",
    "어제 카페에 사람이 정말 많았다",
    "하나",
    "친구가 어제 새 책을 샀다",
    "우리는 내일 만난다",
]]

# Built so that each side of the blank decides a different case:
#   나는 ___ 먹었다 (사과를): after 나는, 책을 is more frequent; only 사과를 comes before 먹었다.
#   친구가 ___ 왔다 (일찍):   only 일찍 follows 친구가; before 왔다, 늦게 is more frequent.
#   그는 ___ 샀다 (우유를):   after 그는, 빵을 wins; before 샀다, 과자를 wins; only 우유를 fits both.
SIDES = [s.split() for s in (
    ["나는 책을 읽었다"] * 3 + ["나는 사과를 먹었다", "동생이 사과를 먹었다"]
    + ["친구가 일찍 왔다"] * 2 + ["손님이 늦게 왔다"] * 3
    + ["그는 빵을 구웠다"] * 3 + ["그는 우유를 샀다"] * 2 + ["누나가 과자를 샀다"] * 3
)]
RIGHT_DECIDES = Blank(("나는",), "사과를", ("먹었다",))
LEFT_DECIDES = Blank(("친구가",), "일찍", ("왔다",))
BOTH_NEEDED = Blank(("그는",), "우유를", ("샀다",))


@pytest.fixture(scope="module")
def models():
    fwd = NGramLM(2, "laplace").fit(SIDES)
    bwd = NGramLM(2, "laplace", direction="backward").fit(SIDES)
    return fwd, bwd


def top1(scorer, blank):
    return scorer.rank_blank(blank, top_k=1)[0][0]


# --- make_blanks --------------------------------------------------------------

def test_one_blank_per_long_enough_sentence_at_an_inner_position():
    blanks = make_blanks(SENTENCES, seed=0)
    long_enough = [s for s in SENTENCES if len(s) >= 3]
    assert len(blanks) == len(long_enough)
    for b, s in zip(blanks, long_enough):
        assert (*b.left, b.answer, *b.right) == tuple(s)  # the blank is cut out of its own sentence
        assert len(b.left) >= 1 and len(b.right) >= 1     # never the first or the last word


def test_min_len_skips_shorter_sentences():
    blanks = make_blanks(SENTENCES, min_len=5)
    assert [len(b.left) + 1 + len(b.right) for b in blanks] == [len(s) for s in SENTENCES if len(s) >= 5]


def test_answers_come_from_vocab_only():
    vocab = {"어제", "카페에", "학교에"}
    blanks = make_blanks(SENTENCES, vocab=vocab, seed=3)
    assert blanks and all(b.answer in vocab for b in blanks)
    # sentences with no inner word in vocab give no blank (우리는 내일 만난다)
    inner_hits = [s for s in SENTENCES if len(s) >= 3 and any(w in vocab for w in s[1:-1])]
    assert len(blanks) == len(inner_hits)
    # a vocab word at the edge of a sentence is never chosen ("오늘" starts 오늘 학교에 갔다)
    assert make_blanks([["오늘", "학교에", "갔다"]], vocab={"오늘", "갔다"}) == []


def test_same_seed_same_blanks_other_seed_other_blanks():
    many = [f"가{i} 나{i} 다{i} 라{i} 마{i} 바{i} 사{i} 아{i}".split() for i in range(40)]
    assert make_blanks(many, seed=7) == make_blanks(many, seed=7)
    assert make_blanks(many, seed=7) != make_blanks(many, seed=8)


def test_blank_str_shows_the_gap():
    assert str(Blank(("나는",), "사과를", ("먹었다",))) == "나는 ___ 먹었다"


@pytest.mark.parametrize("min_len", [2, 0, True, 3.0, "3"])
def test_bad_min_len(min_len):
    with pytest.raises(ValueError, match="min_len"):
        make_blanks(SENTENCES, min_len=min_len)


def test_str_sentence_is_rejected():
    with pytest.raises(TypeError, match=r"sentences\[1\].*tokenize"):
        make_blanks([["나는", "어제", "갔다"], "나는 오늘 갔다"])


# --- NGramBlankScorer ----------------------------------------------------------

def test_scorer_needs_a_model(models):
    with pytest.raises(ValueError, match="forward, backward"):
        NGramBlankScorer()


def test_scorer_checks_directions(models):
    fwd, bwd = models
    with pytest.raises(ValueError, match="forward: .*direction='forward'"):
        NGramBlankScorer(forward=bwd)
    with pytest.raises(ValueError, match="backward: .*direction='backward'"):
        NGramBlankScorer(backward=fwd)
    with pytest.raises(ValueError, match="forward:"):
        NGramBlankScorer(forward=bwd, backward=bwd)


def test_candidates_exclude_special_tokens(models):
    fwd, bwd = models
    cands = NGramBlankScorer(fwd, bwd).candidates
    assert not {BOS, EOS, UNK} & set(cands)
    assert set(cands) == set(fwd.vocab) - {BOS, EOS, UNK}
    assert cands == sorted(cands)


def test_candidates_are_words_both_models_know(models):
    fwd, _ = models
    bwd = NGramLM(2, "laplace", direction="backward").fit(SIDES + [["새", "단어가", "왔다"]])
    assert {"새", "단어가"} <= bwd.vocab and not {"새", "단어가"} & fwd.vocab
    cands = set(NGramBlankScorer(fwd, bwd).candidates)
    assert cands == set(fwd.vocab) - {BOS, EOS, UNK}
    assert set(NGramBlankScorer(backward=bwd).candidates) == cands | {"새", "단어가"}


@pytest.mark.parametrize("blank", [RIGHT_DECIDES, LEFT_DECIDES, BOTH_NEEDED,
                                   Blank(("어제", "나는"), "책을", ("읽었다", "정말"))])
def test_scores_are_sums_of_directional_logprobs(models, blank):
    fwd, bwd = models
    both = NGramBlankScorer(fwd, bwd).scores(blank)
    left = NGramBlankScorer(forward=fwd).scores(blank)
    right = NGramBlankScorer(backward=bwd).scores(blank)
    for w in both:
        f = fwd.logprob(w, list(blank.left))   # log P_f(w | left context)
        b = bwd.logprob(w, list(blank.right))  # log P_b(w | right context)
        assert math.isclose(left[w], f, rel_tol=1e-12)
        assert math.isclose(right[w], b, rel_tol=1e-12)
        assert math.isclose(both[w], f + b, rel_tol=1e-12)


def test_zero_probability_scores_minus_inf():
    fwd = NGramLM(2).fit(SIDES)  # MLE: 과자를 never follows 나는
    scores = NGramBlankScorer(forward=fwd).scores(RIGHT_DECIDES)
    assert scores["과자를"] == -math.inf
    assert math.isfinite(scores["책을"])


def test_rank_blank_is_sorted_with_ties_by_word(models):
    fwd, bwd = models
    ranked = NGramBlankScorer(fwd, bwd).rank_blank(BOTH_NEEDED)
    keys = [(-s, w) for w, s in ranked]
    assert keys == sorted(keys)
    assert NGramBlankScorer(fwd, bwd).rank_blank(BOTH_NEEDED, top_k=3) == ranked[:3]


def test_left_alone_misses_when_only_the_right_context_decides(models):
    fwd, bwd = models
    assert top1(NGramBlankScorer(forward=fwd), RIGHT_DECIDES) == "책을"
    assert top1(NGramBlankScorer(backward=bwd), RIGHT_DECIDES) == "사과를"
    assert top1(NGramBlankScorer(fwd, bwd), RIGHT_DECIDES) == "사과를"


def test_right_alone_misses_when_only_the_left_context_decides(models):
    fwd, bwd = models
    assert top1(NGramBlankScorer(forward=fwd), LEFT_DECIDES) == "일찍"
    assert top1(NGramBlankScorer(backward=bwd), LEFT_DECIDES) == "늦게"
    assert top1(NGramBlankScorer(fwd, bwd), LEFT_DECIDES) == "일찍"


def test_only_both_directions_find_the_word_that_fits_both_sides(models):
    fwd, bwd = models
    assert top1(NGramBlankScorer(forward=fwd), BOTH_NEEDED) == "빵을"
    assert top1(NGramBlankScorer(backward=bwd), BOTH_NEEDED) == "과자를"
    assert top1(NGramBlankScorer(fwd, bwd), BOTH_NEEDED) == "우유를"


def test_evaluate_both_directions_beats_each_side(models):
    fwd, bwd = models
    blanks = [RIGHT_DECIDES, LEFT_DECIDES, BOTH_NEEDED]
    assert evaluate_blanks(NGramBlankScorer(fwd, bwd), blanks, ks=(1,))["top1"] == 1.0
    assert evaluate_blanks(NGramBlankScorer(forward=fwd), blanks, ks=(1,))["top1"] == pytest.approx(1 / 3)
    assert evaluate_blanks(NGramBlankScorer(backward=bwd), blanks, ks=(1,))["top1"] == pytest.approx(1 / 3)


# --- evaluate_blanks -----------------------------------------------------------

class FixedRanking:
    """A scorer whose ranking is given by hand: the answer lands at a known rank."""

    def __init__(self, rankings):
        self.rankings = rankings

    def rank_blank(self, blank):
        return [(w, -float(i)) for i, w in enumerate(self.rankings[blank.answer])]


def test_evaluate_blanks_by_hand():
    words = ["가", "나", "다", "라", "마", "바", "사"]
    blanks = [Blank(("x",), a, ("y",)) for a in ("가", "다", "바", "없음")]
    scorer = FixedRanking({
        "가": words,                                # rank 1
        "다": ["나", "가", "다", "라", "마", "바"],  # rank 3
        "바": ["사", "마", "라", "다", "나", "바"],  # rank 6: outside the top 5
        "없음": words,                              # not ranked at all: reciprocal rank 0
    })
    got = evaluate_blanks(scorer, blanks)
    assert set(got) == {"top1", "top5", "mrr", "n"}
    assert got["n"] == 4
    assert got["top1"] == pytest.approx(1 / 4)
    assert got["top5"] == pytest.approx(2 / 4)
    assert got["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 6 + 0) / 4)
    assert blank_ranks(scorer, blanks) == [1, 3, 6, math.inf]
    other = evaluate_blanks(scorer, blanks, ks=(3, 6))
    assert (other["top3"], other["top6"]) == (pytest.approx(2 / 4), pytest.approx(3 / 4))


def test_evaluate_blanks_needs_blanks(models):
    with pytest.raises(ValueError, match="blanks"):
        evaluate_blanks(NGramBlankScorer(forward=models[0]), [])


def test_blank_ranks_refuses_what_is_not_a_list_of_blanks(models):
    scorer = NGramBlankScorer(forward=models[0])
    with pytest.raises(TypeError, match="blanks: expected a list of Blank"):
        blank_ranks(scorer, Blank(("x",), "y", ("z",)))
    with pytest.raises(TypeError, match=r"blanks\[1\]: expected a Blank"):
        blank_ranks(scorer, [Blank(("x",), "y", ("z",)), "y"])


@pytest.mark.parametrize("ranks", [[], "12", [0], [1, -3], [1, True], [float("nan")]])
def test_rank_summary_refuses_what_is_not_ranks(ranks):
    with pytest.raises(ValueError, match="ranks"):
        rank_summary(ranks)


def test_rank_summary_refuses_bad_ks():
    with pytest.raises(ValueError, match="ks"):
        rank_summary([1, 2], ks=(0,))


def test_scorer_ranks_only_the_given_candidates(models):
    fwd, bwd = models
    words = sorted(fwd.vocab - {BOS, EOS, UNK})[:3]
    scorer = NGramBlankScorer(fwd, bwd, candidates=words)
    assert sorted(w for w, _ in scorer.rank_blank(BOTH_NEEDED)) == words


@pytest.mark.parametrize("candidates, error, match", [
    ("우유를", TypeError, "split into characters"),
    ([1], TypeError, "str words"),
    (["없는단어"], ValueError, "unknown"),
    ([EOS], ValueError, "special"),
    ([], ValueError, "at least one"),
])
def test_scorer_refuses_bad_candidates(models, candidates, error, match):
    with pytest.raises(error, match=match):
        NGramBlankScorer(forward=models[0], candidates=candidates)
