"""Filling a blank from its context: forward, backward, or both directions (ELMo's idea).

Lecture L8-L9: a forward LM predicts a word from the words before it, a backward LM
from the words after it; ELMo (Peters et al., 2018) uses both. The broad definition
of a language model, P(w | context), lets the context sit on both sides of the blank,
which is where BERT's masked language model goes next (chapter 7).

Here a scorer maps a Blank to a log-score for every candidate word:
- forward:  log P_f(w | left context)
- backward: log P_b(w | right context)
- both:     the sum of the two (a product of the two directional probabilities —
            a simple "product of experts", not the exact P(w | left, right)).
Any object with `rank_blank(blank) -> list[(word, score)]` works with evaluate_blanks(),
so later chapters (BERT's MLM) are measured on the same blanks.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Iterable, Sequence

from .base import as_str_list, check_int
from .text import BOS, EOS, UNK

_NOT_ANSWERS = (BOS, EOS, UNK)


@dataclass(frozen=True)
class Blank:
    """A sentence with one word hidden: left context, the hidden answer, right context."""

    left: tuple[str, ...]
    answer: str
    right: tuple[str, ...]

    def __post_init__(self) -> None:
        # frozen: the checked tuples are set with object.__setattr__ (a list becomes a tuple)
        for side in ("left", "right"):
            object.__setattr__(self, side, tuple(as_str_list(getattr(self, side), side, allow_empty=True)))
        if not isinstance(self.answer, str):
            raise TypeError(f"answer: expected the hidden word as a str, got {type(self.answer).__name__}")
        if not self.answer:
            raise ValueError("answer: expected the hidden word, got an empty str")

    def __str__(self) -> str:
        return " ".join((*self.left, "___", *self.right))


def make_blanks(sentences: Iterable[Sequence[str]], vocab: Iterable[str] | None = None,
                seed: int = 0, min_len: int = 3) -> list[Blank]:
    """One blank per sentence (of >= min_len tokens) at a random inner position.

    With `vocab`, only words in it are chosen as answers: a word the model never saw
    cannot be ranked, and counting it would measure the vocabulary, not the context.
    """
    if isinstance(min_len, bool) or not isinstance(min_len, int) or min_len < 3:
        raise ValueError(f"min_len: expected an int >= 3 (a blank needs a word on each side), got {min_len!r}")
    known = None if vocab is None else set(as_str_list(vocab, "vocab"))
    check_int(seed, "seed")
    if isinstance(sentences, str) or not isinstance(sentences, Iterable):
        raise TypeError(f"sentences: expected a list of token lists, got {type(sentences).__name__}")
    rng = random.Random(seed)
    blanks, n = [], 0
    for i, s in enumerate(sentences):
        if isinstance(s, str):
            raise TypeError(f"sentences[{i}]: expected a list of tokens, got a str; tokenize first")
        s = tuple(as_str_list(s, f"sentences[{i}]", allow_empty=True))
        n += 1
        if len(s) < min_len:
            continue
        positions = [j for j in range(1, len(s) - 1) if known is None or s[j] in known]
        if positions:
            j = rng.choice(positions)
            blanks.append(Blank(s[:j], s[j], s[j + 1:]))
    if not n:
        raise ValueError("sentences: expected at least one token list, got none")
    return blanks


class NGramBlankScorer:
    """Rank the words for a blank with a forward model, a backward model, or both."""

    def __init__(self, forward=None, backward=None, candidates: Iterable[str] | None = None
                 ) -> None:
        """candidates: the words to rank (default: every word both models know). Pass a
        shorter list, e.g. the most frequent words, when the vocabulary is large; each
        must be known to the models, and make_blanks(vocab=candidates) keeps the answers
        among them."""
        from .ngram import NGramLM

        if forward is None and backward is None:
            raise ValueError("forward, backward: expected at least one fitted NGramLM, got neither")
        for name, model in (("forward", forward), ("backward", backward)):
            if model is not None and not isinstance(model, NGramLM):
                raise TypeError(f"{name}: expected a fitted NGramLM or None, got {type(model).__name__}")
        if forward is not None and forward.direction != "forward":
            raise ValueError(f"forward: expected a model with direction='forward', got {forward.direction!r}")
        if backward is not None and backward.direction != "backward":
            raise ValueError(f"backward: expected a model with direction='backward', got {backward.direction!r}")
        self.forward, self.backward = forward, backward
        models = [m for m in (forward, backward) if m is not None]
        words = set.intersection(*(set(m.vocab) for m in models))
        if candidates is None:
            self.candidates = sorted(words - set(_NOT_ANSWERS))
            return
        if isinstance(candidates, str) or not isinstance(candidates, Iterable):
            raise TypeError("candidates: expected a list of words, got "
                            f"{type(candidates).__name__}" +
                            (" (a str would be split into characters)"
                             if isinstance(candidates, str) else ""))
        cands = list(candidates)
        bad = [w for w in cands if not isinstance(w, str)]
        if bad:
            raise TypeError(f"candidates: expected str words, got {bad[0]!r}")
        unknown = [w for w in cands if w not in words or w in _NOT_ANSWERS]
        if unknown:
            raise ValueError(f"candidates: {len(unknown)} word(s) unknown to the model(s) or "
                             f"special, e.g. {unknown[:3]}")
        if not cands:
            raise ValueError("candidates: expected at least one word, got none")
        self.candidates = sorted(set(cands))

    def scores(self, blank: Blank) -> dict[str, float]:
        """Log-score of every candidate word for this blank (natural log; -inf for probability 0)."""
        _check_blank(blank)
        total = dict.fromkeys(self.candidates, 0.0)
        for model, ctx in ((self.forward, blank.left), (self.backward, blank.right)):
            if model is None:
                continue
            # only the candidates' probabilities: the vocabulary may be far larger
            for w, p in zip(self.candidates, model.probs(self.candidates, list(ctx))):
                total[w] += math.log(p) if p > 0 else -math.inf
        return total

    def rank_blank(self, blank: Blank, top_k: int | None = None) -> list[tuple[str, float]]:
        """Candidates sorted by score, best first (ties broken by the word, for reproducibility)."""
        _check_blank(blank)
        check_int(top_k, "top_k", low=1, allow_none=True)
        ranked = sorted(self.scores(blank).items(), key=lambda ws: (-ws[1], ws[0]))
        return ranked[:top_k]


def _check_blank(blank) -> None:
    if not isinstance(blank, Blank):
        raise TypeError(f"blank: expected a lmlib.blanks.Blank (from make_blanks), got {type(blank).__name__}")


def blank_ranks(scorer, blanks: Sequence[Blank]) -> list[float]:
    """The answer's rank (1 = best) for each blank, ``math.inf`` when it is not ranked at all.

    Per-blank ranks are what a bootstrap interval needs (lmlib.stats); evaluate_blanks
    summarises them.
    """
    if isinstance(blanks, (str, Blank)) or not isinstance(blanks, Sequence):
        raise TypeError(f"blanks: expected a list of Blank, got {type(blanks).__name__}")
    if not blanks:
        raise ValueError("blanks: expected at least one Blank, got none")
    if not callable(getattr(scorer, "rank_blank", None)):
        raise TypeError(f"scorer: expected an object with rank_blank(blank) (e.g. an NGramBlankScorer), "
                        f"got {type(scorer).__name__}")
    ranks = []
    for i, b in enumerate(blanks):
        if not isinstance(b, Blank):
            raise TypeError(f"blanks[{i}]: expected a Blank, got {type(b).__name__}")
        ranked = [w for w, _ in scorer.rank_blank(b)]
        ranks.append(ranked.index(b.answer) + 1 if b.answer in ranked else math.inf)
    return ranks


def rank_summary(ranks: Sequence[float], ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """Accuracy@k for each k, mean reciprocal rank and n, from blank_ranks' ranks."""
    # ValueError for a str or None too: that is what this function has always raised (tests pin it)
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, Sequence) or not ranks:
        raise ValueError(f"ranks: expected a non-empty list of ranks, got {ranks!r:.60}")
    for i, r in enumerate(ranks):
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not (r >= 1):
            raise ValueError(f"ranks[{i}]: expected a rank >= 1 or math.inf, got {r!r}")
    _check_ks(ks)
    out = {f"top{k}": sum(r <= k for r in ranks) / len(ranks) for k in ks}
    out["mrr"] = sum(0.0 if r == math.inf else 1.0 / r for r in ranks) / len(ranks)
    out["n"] = len(ranks)
    return out


def _check_ks(ks) -> None:
    if isinstance(ks, (str, bytes)) or not isinstance(ks, Iterable):
        raise TypeError(f"ks: expected a list of ints >= 1, got {type(ks).__name__}")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"ks: expected ints >= 1, got {k!r}")


def evaluate_blanks(scorer, blanks: Sequence[Blank], ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """Accuracy@k for each k and mean reciprocal rank of the answer over `blanks`."""
    _check_ks(ks)  # before the (long) ranking, not after it
    return rank_summary(blank_ranks(scorer, blanks), ks)
