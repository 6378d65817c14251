"""lmlib.base: the shared argument checks, and the public functions that use them."""

import pytest

from lmlib.base import as_str_list, check_int


def test_as_str_list_refuses_a_single_str_and_names_the_argument():
    assert as_str_list(("가", "나"), "words") == ["가", "나"]
    with pytest.raises(TypeError, match="words must be a list of strings, got the str '카페'"):
        as_str_list("카페", "words")
    with pytest.raises(TypeError, match=r"words\[1\] must be a str, got int"):
        as_str_list(["가", 3], "words")
    with pytest.raises(ValueError, match="words is empty"):
        as_str_list([], "words")
    assert as_str_list([], "words", allow_empty=True) == []
    with pytest.raises(TypeError, match="got int"):
        as_str_list(5, "words")


@pytest.mark.parametrize("bad", [0, -1, 1.0, True, "3"])
def test_check_int(bad):
    with pytest.raises(ValueError, match="top_k must be an int >= 1"):
        check_int(bad, "top_k", low=1)
    assert check_int(None, "top_k", low=1, allow_none=True) is None
    assert check_int(2, "top_k", low=1) == 2


def test_public_functions_refuse_a_str_where_a_list_of_words_is_expected():
    from lmlib import viz
    from lmlib.blanks import make_blanks

    sentences = [["나는", "어제", "카페에", "갔다"]]
    with pytest.raises(TypeError, match="vocab must be a list of strings"):
        make_blanks(sentences, vocab="카페에")
    with pytest.raises(TypeError, match="tokens must be a list of strings"):
        viz.direction_diagram("어제 카페 갔었어")
    with pytest.raises(TypeError, match="words must be a list of strings"):
        viz.chain_rule_plot("어제", ["<s>"], [0.5])


def test_ngram_blank_scorer_rank_blank_checks_top_k():
    from lmlib.blanks import NGramBlankScorer, make_blanks
    from lmlib.ngram import NGramLM

    sents = [["나는", "어제", "카페에", "갔다"], ["나는", "오늘", "학교에", "갔다"]]
    fwd = NGramLM(2, "add-k", k=0.1).fit(sents)
    bwd = NGramLM(2, "add-k", k=0.1, direction="backward").fit(sents)
    scorer = NGramBlankScorer(fwd, bwd)
    blank = make_blanks(sents, seed=0)[0]
    assert len(scorer.rank_blank(blank, top_k=2)) == 2
    for bad in (0, -1):
        with pytest.raises(ValueError, match="top_k must be an int >= 1 or None"):
            scorer.rank_blank(blank, top_k=bad)
