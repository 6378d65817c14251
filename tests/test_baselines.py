"""lmlib.baselines: the TF-IDF + logistic-regression classifier beside every BERT number."""

import numpy as np
import pytest

from lmlib.baselines import tfidf_logreg

POS = ["정말 재밌어요", "최고의 영화 재밌다", "재밌고 감동적", "배우 연기 최고", "또 보고 싶다 최고"]
NEG = ["너무 지루해요", "최악의 영화 지루", "돈 아깝다 최악", "지루하고 별로", "다시는 안 봄 최악"]


def fitted():
    return tfidf_logreg(POS + NEG, [1] * len(POS) + [0] * len(NEG), C=10.0, min_df=1)


def test_learns_the_words_that_separate_the_classes():
    clf = fitted()
    assert clf.predict(["재밌어요 최고", "지루해요 최악"]).tolist() == [1, 0]
    p = clf.predict_proba(["재밌어요 최고", "지루해요 최악"])
    assert p.shape == (2,) and p[0] > 0.5 > p[1]
    assert clf.accuracy(POS + NEG, [1] * 5 + [0] * 5) == 1.0
    assert clf.correct(["최고", "최악"], [0, 0]).tolist() == [0.0, 1.0]
    assert clf.n_features > 10


def test_same_result_on_a_refit():
    a, b = fitted(), fitted()
    texts = ["그냥 그래요", "재밌는데 지루"]
    assert np.array_equal(a.predict_proba(texts), b.predict_proba(texts))


@pytest.mark.parametrize("kwargs, match", [
    (dict(C=0), "C must be"), (dict(C=float("nan")), "C must be"),
    (dict(ngram_range=(3, 1)), "ngram_range"), (dict(ngram_range=[1, 3]), "ngram_range"),
    (dict(analyzer="morph"), "analyzer"), (dict(min_df=0), "min_df"), (dict(max_iter=0), "max_iter"),
])
def test_bad_arguments_name_themselves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tfidf_logreg(POS + NEG, [1] * 5 + [0] * 5, **kwargs)


def test_bad_texts_and_labels():
    with pytest.raises(TypeError, match="list of review strings"):
        tfidf_logreg("재밌어요", [1])
    with pytest.raises(ValueError, match="empty"):
        tfidf_logreg([], [])
    with pytest.raises(ValueError, match="as long as"):
        tfidf_logreg(POS, [1])
    with pytest.raises(ValueError, match="0 or 1"):
        tfidf_logreg(POS + NEG, [2] * 10)
    with pytest.raises(ValueError, match="both classes"):
        tfidf_logreg(POS, [1] * 5)
    with pytest.raises(TypeError, match=r"texts\[0\] must be a str, got int"):
        fitted().predict([1, 2])
