"""The classifier every BERT number stands beside: TF-IDF character n-grams + logistic regression.

Lecture (L24): a pretrained model pays off most when labelled data are few. Whether it pays
off at all is a question of a baseline measured on the same split: on NSMC, bag-of-character-
n-gram TF-IDF features with a linear classifier are hard to beat (Korean particles and endings
sit inside eojeol, and character 1-3-grams see them without a tokenizer).

    clf = tfidf_logreg(train_texts, train_labels, C=3.0)
    clf.accuracy(test_texts, test_labels)

scikit-learn does the work (TfidfVectorizer, LogisticRegression with the liblinear solver).
Its BLAS calls run on one thread inside :func:`tfidf_logreg` and
:meth:`TfidfLogReg.predict_proba`, so the result does not depend on the machine's thread
count, and liblinear's Newton steps converge far enough that it does not depend on the CPU
either: the same NSMC fit under OpenBLAS's SkylakeX, Haswell and Sandybridge kernels gave
weights equal to about 1e-7 and the same 43,687 correct test reviews, where lbfgs (stopping
at its default tolerance) gave 43,668 and 43,675 on two of them (2026-12-04).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import as_str_list


def _check_texts_labels(texts: Sequence[str], labels: Sequence[int] | None, name: str) -> None:
    as_str_list(texts, name, what="review strings")
    if labels is None:
        return
    if isinstance(labels, (str, bytes)) or not isinstance(labels, (Sequence, np.ndarray)):
        raise TypeError(f"labels must be a sequence of 0/1 labels as long as {name}, "
                        f"got {type(labels).__name__}")
    if len(labels) != len(texts):
        raise ValueError(f"labels must be a sequence as long as {name} ({len(texts)}), "
                         f"got {len(labels)}")
    for y in labels:
        if isinstance(y, bool) or not isinstance(y, (int, np.integer)) or y not in (0, 1):
            raise ValueError(f"labels must be 0 or 1, got {y!r}")


@dataclass
class TfidfLogReg:
    """A fitted TF-IDF + logistic-regression classifier (from :func:`tfidf_logreg`)."""

    vectorizer: Any
    model: Any

    @property
    def n_features(self) -> int:
        return len(self.vectorizer.vocabulary_)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) per text, shape (N,)."""
        from threadpoolctl import threadpool_limits

        _check_texts_labels(texts, None, "texts")
        with threadpool_limits(1):
            return self.model.predict_proba(self.vectorizer.transform(texts))[:, 1]

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Label 0/1 per text (positive when P >= 0.5)."""
        return (self.predict_proba(texts) >= 0.5).astype(int)

    def correct(self, texts: Sequence[str], labels: Sequence[int]) -> np.ndarray:
        """1.0 where the prediction equals the label, else 0.0 (for lmlib.stats intervals)."""
        if labels is None:
            raise TypeError("labels must be a sequence of 0/1 labels as long as texts, got None")
        _check_texts_labels(texts, labels, "texts")
        return (self.predict(texts) == np.asarray(labels)).astype(float)

    def accuracy(self, texts: Sequence[str], labels: Sequence[int]) -> float:
        return float(self.correct(texts, labels).mean())


def tfidf_logreg(texts: Sequence[str], labels: Sequence[int], *, C: float = 1.0,
                 ngram_range: tuple[int, int] = (1, 3), analyzer: str = "char",
                 min_df: int = 2, sublinear_tf: bool = True, max_iter: int = 1000
                 ) -> TfidfLogReg:
    """Fit TF-IDF features (character 1-3-grams by default, seen in >= ``min_df`` texts,
    log-scaled term frequency) and an L2 logistic regression with inverse strength ``C``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    if labels is None:
        raise TypeError("labels must be a sequence of 0/1 labels as long as texts, got None")
    _check_texts_labels(texts, labels, "texts")
    if len(set(int(y) for y in labels)) < 2:
        raise ValueError("labels must contain both classes 0 and 1")
    if isinstance(C, bool) or not isinstance(C, (int, float)) or not math.isfinite(C) or C <= 0:
        raise ValueError(f"C must be a finite number > 0, got {C!r}")
    if (not isinstance(ngram_range, tuple) or len(ngram_range) != 2
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in ngram_range)
            or not 1 <= ngram_range[0] <= ngram_range[1]):
        raise ValueError(f"ngram_range must be a tuple (lo, hi) of ints with 1 <= lo <= hi, "
                         f"got {ngram_range!r}")
    if analyzer not in ("char", "char_wb", "word"):
        raise ValueError(f"analyzer must be 'char', 'char_wb' or 'word', got {analyzer!r}")
    if isinstance(min_df, bool) or not isinstance(min_df, int) or min_df < 1:
        raise ValueError(f"min_df must be an int >= 1, got {min_df!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be an int >= 1, got {max_iter!r}")
    if not isinstance(sublinear_tf, (bool, np.bool_)):
        raise TypeError(f"sublinear_tf must be True or False, got {sublinear_tf!r}")
    if min_df > len(texts):
        raise ValueError(f"min_df={min_df} is more than the {len(texts)} texts: no n-gram can be "
                         f"seen in min_df texts; lower min_df")
    vectorizer = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, min_df=min_df,
                                 sublinear_tf=sublinear_tf)
    with threadpool_limits(1):
        X = vectorizer.fit_transform(texts)
        model = LogisticRegression(C=float(C), solver="liblinear", max_iter=max_iter).fit(
            X, np.asarray(labels))
    return TfidfLogReg(vectorizer, model)
