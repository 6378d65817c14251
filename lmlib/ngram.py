"""N-gram language models: a sentence's probability by the chain rule, from counts.

Lecture (n-gram 언어 모델): a language model gives a sentence a probability. By the
chain rule (연쇄 법칙)

    P(w1 .. wn) = P(w1) P(w2 | w1) ... P(wn | w1 .. wn-1) = Π_i P(wi | w1 .. wi-1),

and an n-gram model approximates each factor by the last n-1 words only:

    P(wi | w1 .. wi-1) ≈ P(wi | wi-n+1 .. wi-1) = count(wi-n+1 .. wi) / count(wi-n+1 .. wi-1).

A forward LM reads left to right. A backward LM reads right to left and predicts
a word from the words that FOLLOW it; ELMo trains one of each and uses both.

Smoothing: "mle" (the formula above; 0 for anything unseen), "laplace" / "add-k" (add k to
every count, |V| includes BOS, EOS and UNK) and "kneser-ney" (interpolated Kneser-Ney with
an absolute discount; see NGramLM._kn_prob for the definition and where it differs from nltk).

Conventions (MLE and Laplace give exactly nltk.lm's numbers, Kneser-Ney nltk's
KneserNeyInterpolated except at the all-BOS context; see tests/test_ngram.py):
- fit() pads each sentence with order-1 BOS on the left and one EOS on the right
  and counts every n-gram of length 1..order in it. A backward model reverses the
  sentence first, so its BOS marks the sentence end and its EOS the start.
- "Processing order" is the order the model reads in: left to right for forward,
  right to left for backward. count() and the chain_rule() table use it.
- prob(word, context) always takes `context` in natural sentence order: for a
  backward model it is the words after `word`, e.g. prob("갔었어", ["거기", "사람"])
  is P(갔었어 | 거기 사람) read from the right. Only the order-1 words nearest to
  `word` are used; a shorter context is padded with BOS (a sentence boundary).
- Words never seen in training are mapped to UNK before any count is looked up. UNK is
  a vocabulary item like any other: it has counts only if training text contained the
  token UNK itself (e.g. rare words replaced by it). Without them Kneser-Ney gives UNK
  probability 0 (as nltk does), and perplexity() then raises instead of returning inf.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .base import _short, as_str_list
from .text import BOS, EOS, UNK

if TYPE_CHECKING:  # pandas is imported lazily, only by chain_rule()
    import pandas

SMOOTHINGS = ("mle", "laplace", "add-k", "kneser-ney")
DIRECTIONS = ("forward", "backward")


def _as_tokens(tokens: object, name: str) -> tuple[str, ...]:
    """Check that `tokens` is a list of str tokens (not one str) and return a tuple."""
    return tuple(as_str_list(tokens, name, allow_empty=True, what="tokens",
                             hint=f"split it into tokens first, e.g. {name}.split()"))


def _as_sentences(sentences: object, name: str = "sentences") -> list[tuple[str, ...]]:
    """Check that `sentences` is a list of token lists and return it as a list of tuples."""
    if isinstance(sentences, str) or not isinstance(sentences, Iterable):
        raise TypeError(f"{name} must be a list of token lists, e.g. [['나는', '갔다']], "
                        f"got {type(sentences).__name__}")
    sentences = sentences if isinstance(sentences, (list, tuple)) else list(sentences)
    # The common case checked at C speed (the types of all sentences, then of all tokens);
    # anything else goes through the loop below, which names the first bad item.
    if (sentences and set(map(type, sentences)) <= {list, tuple}
            and set(map(type, itertools.chain.from_iterable(sentences))) <= {str}):
        return list(map(tuple, sentences))
    out = []
    for i, s in enumerate(sentences):
        if isinstance(s, str):  # the common mistake: raw strings instead of token lists
            raise TypeError(f"{name}[{i}] is the str {_short(s)}, expected a list of tokens; "
                            f"tokenize first, e.g. [s.split() for s in {name}] "
                            f"(one sentence? wrap it: [tokens])")
        out.append(_as_tokens(s, f"{name}[{i}]"))
    if not out:
        raise ValueError(f"{name} is empty; expected at least one token list")
    return out


def _flat_tokens(sentences: object, name: str = "sentences") -> tuple[np.ndarray, list[str]]:
    """Check `sentences` as _as_sentences does -> (the sentence lengths, all tokens in order)."""
    if isinstance(sentences, (list, tuple)) and sentences and set(map(type, sentences)) <= {list, tuple}:
        flat = list(itertools.chain.from_iterable(sentences))
        if set(map(type, flat)) <= {str}:  # the common case, checked at C speed
            return np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences)), flat
    sents = _as_sentences(sentences, name)  # names the first bad item (or takes str subclasses)
    return (np.fromiter(map(len, sents), dtype=np.int64, count=len(sents)),
            list(itertools.chain.from_iterable(sents)))


def _padded(raw: np.ndarray, lengths: np.ndarray, k: int, bos: int, eos: int,
            backward: bool) -> tuple[np.ndarray, np.ndarray]:
    """The padded stream of word ids, sentence i as k BOS, its tokens (reversed for a
    backward model) and one EOS, built by position -> (stream, end of each sentence)."""
    ends = np.cumsum(lengths + k + 1)
    starts = ends - (lengths + k + 1)
    ids = np.empty(int(ends[-1]), dtype=np.int64)
    if k:
        ids[(starts[:, None] + np.arange(k)).ravel()] = bos
    ids[ends - 1] = eos
    offset = np.arange(len(raw)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if backward:
        offset = np.repeat(lengths, lengths) - 1 - offset
    ids[np.repeat(starts + k, lengths) + offset] = raw
    return ids, ends


class _NewIds(dict):
    """word -> id, where a word seen for the first time gets the next id (0, 1, 2, ...):
    one pass of C-speed lookups over a token stream, a Python call only per new word."""

    def __missing__(self, word: str) -> int:
        self[word] = i = len(self)
        return i


@dataclass
class _Level:
    """The n-grams of one length n, by rank (see _count_ngrams).

    An n-gram's rank is its place among the distinct n-grams of length n in the order of
    their integer codes; a unigram's rank is its word id. The last three fields are filled
    for smoothing="kneser-ney" only. A "context" of this level is an (n-1)-gram, indexed by
    its rank among the (n-1)-grams (the empty context of the unigrams by 0); `den` and
    `types` are the denominator and the number of distinct next words of _kn_prob's
    interpolation at this level.
    """

    counts: list[int]  # rank -> how often the n-gram occurs inside a padded sentence (a list:
    # one count at a time is read fastest from a list; counts_array is the same as an array)
    index: dict[int, int] | None  # code -> rank (None for unigrams: the code is the rank)
    cont: np.ndarray | None = None  # rank -> distinct words seen right before it (n < order)
    den: np.ndarray | None = None  # context rank -> sum of its next words' (continuation) counts
    types: np.ndarray | None = None  # context rank -> its next words with a count > 0
    counts_array: np.ndarray | None = None  # np.array(counts), made when _factor_probs needs it
    codes: np.ndarray | None = None  # rank -> code, ascending (n >= 2): index as an array

    def ranks(self, keys: np.ndarray) -> np.ndarray:
        """index[key] for many codes at once (-1 where absent or key < 0): a binary search
        in `codes`, which is sorted because ranks follow the codes' order."""
        order = np.argsort(keys)  # sorted keys search faster (each from the last one's place)
        i = np.empty(len(keys), dtype=np.int64)
        i[order] = np.searchsorted(self.codes, keys[order])
        i = np.minimum(i, len(self.codes) - 1)
        return np.where((self.codes[i] == keys) & (keys >= 0), i, -1)


def _count_ngrams(ids: np.ndarray, eos: int, order: int, V: int,
                  kneser_ney: bool = False) -> list[_Level]:
    """Count the n-grams of length 1..order inside the padded sentences of a joined id stream.

    Counting the same thing in plain Python, one dictionary update per n-gram (as nltk
    does), takes seconds on a 500k-word corpus; here the unigrams are one np.bincount over
    the word ids (0..V-1) and each longer length one np.unique over integer codes. An
    n-gram's code is (the rank of its first n-1 words among the (n-1)-grams) * V + (its
    last word's id), so codes stay below (number of distinct (n-1)-grams) * V <= len(ids) * V
    at any order.
    A window that crosses from one sentence into the next is dropped: its first and last
    positions lie in different sentences (sentence number = how many EOS come before).

    With kneser_ney=True it also fills the Kneser-Ney fields of _Level, with array
    operations only: an n-gram's continuation count (how many distinct words precede it)
    is a bincount of the (n-1)-gram suffixes of the distinct (n+1)-grams, and each
    context's sums are bincounts over the n-grams that extend it.
    """
    sentence = np.concatenate([[0], np.cumsum(ids == eos)[:-1]])  # position -> sentence number
    levels, uniqs = [], []
    for n in range(1, order + 1):
        m = len(ids) - n + 1  # windows of n tokens
        if n == 1:  # every word is inside its sentence; the id is the code and the rank
            inside = np.ones(m, dtype=bool)
            counts = np.bincount(ids, minlength=V)
            uniq, inverse = np.arange(V, dtype=np.int64), ids
            level = _Level(counts.tolist(), None)
        else:
            codes = prefix_rank[:m] * V + ids[n - 1:]
            inside = sentence[:m] == sentence[n - 1:]  # all n tokens in one sentence
            if n < order or kneser_ney:  # which distinct n-gram each window is: needed below
                uniq, inverse, counts = np.unique(codes[inside], return_inverse=True,
                                                  return_counts=True)
                inverse = inverse.reshape(-1)
            else:  # the longest n-grams of a plain count: a sort, without the inverse
                uniq, counts = np.unique(codes[inside], return_counts=True)
            level = _Level(counts.tolist(), dict(zip(uniq.tolist(), range(len(uniq)))),
                           codes=uniq)
        if kneser_ney:
            uniqs.append(uniq)
            if n > 1:  # continuation counts of the (n-1)-grams, from the distinct n-grams
                start = np.empty(len(uniq), dtype=np.int64)
                start[inverse] = np.flatnonzero(inside)  # one window of each distinct n-gram
                suffix = prefix_rank[start + 1]  # rank of its last n-1 words (same sentence)
                levels[-1].cont = np.bincount(suffix, minlength=len(levels[-1].counts))
            if n == order:  # the highest order interpolates raw counts
                _context_sums(level, uniq, counts, n, V, len(levels[-1].counts) if n > 1 else 1)
        if n < order:
            if n == 1:
                prefix_rank = ids
            else:
                prefix_rank = np.zeros(m, dtype=np.int64)
                prefix_rank[inside] = inverse  # windows across sentences: never read
        levels.append(level)
    if kneser_ney:  # lower orders interpolate continuation counts
        for n in range(1, order):
            n_contexts = len(levels[n - 2].counts) if n > 1 else 1
            _context_sums(levels[n - 1], uniqs[n - 1], levels[n - 1].cont, n, V, n_contexts)
    return levels


def _context_sums(level: _Level, uniq: np.ndarray, counts: np.ndarray, n: int, V: int,
                  n_contexts: int) -> None:
    """Set level.den / level.types: per context, the sum of `counts` over the n-grams that
    extend it, and how many of them have a count > 0 (a context never extended: 0 and 0)."""
    context = uniq // V if n > 1 else np.zeros(len(uniq), dtype=np.int64)  # its rank
    level.den = np.bincount(context, weights=counts, minlength=n_contexts)
    level.types = np.bincount(context[counts > 0], minlength=n_contexts)


class NGramLM:
    """A count-based n-gram language model (MLE, Laplace, add-k or interpolated Kneser-Ney;
    forward or backward).

    `k` is the add-k constant (smoothing="add-k"; "laplace" is k=1); `discount` is the
    absolute discount of smoothing="kneser-ney" (default 0.75), a float in (0, 1).
    """

    def __init__(self, order: int, smoothing: str = "mle", k: float = 1.0,
                 direction: str = "forward", discount: float | None = None) -> None:
        if isinstance(order, bool) or not isinstance(order, int):
            raise TypeError(f"order must be an int >= 1, got {_short(order)}")
        if order < 1:
            raise ValueError(f"order must be an int >= 1, got {order}")
        if smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {_short(smoothing)}")
        if isinstance(k, bool) or not isinstance(k, (int, float)):
            raise TypeError(f"k must be a number > 0, got {_short(k)}")
        if not (k > 0 and math.isfinite(k)):
            raise ValueError(f"k must be a finite number > 0, got {k}")
        if smoothing == "laplace" and k != 1:
            raise ValueError(f"smoothing='laplace' means k=1, got k={k}; "
                             f"use smoothing='add-k' for another k")
        if smoothing == "kneser-ney" and k != 1:
            raise ValueError(f"k is the add-k constant, got k={k} with smoothing='kneser-ney'; "
                             f"Kneser-Ney takes discount= instead (a float in (0, 1))")
        if discount is not None and smoothing != "kneser-ney":
            raise ValueError(f"discount is used by smoothing='kneser-ney' only, got "
                             f"discount={_short(discount)} with smoothing={smoothing!r}")
        if discount is None:
            discount = 0.75
        if isinstance(discount, bool) or not isinstance(discount, (int, float)):
            raise TypeError(f"discount must be a float in (0, 1), got {_short(discount)}")
        if not 0 < discount < 1:  # NaN fails this too
            raise ValueError(f"discount must be a float in (0, 1) (0 is MLE at the highest "
                             f"order; 1 or more removes whole counts), got {discount}")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {_short(direction)}")
        self.order, self.smoothing, self.k, self.direction = order, smoothing, float(k), direction
        self.discount = float(discount)  # used by smoothing="kneser-ney" only
        self._levels: list[_Level] | None = None  # counts of n-grams of length 1..order
        self._n_tokens = 0  # tokens in the padded training stream
        self._words: list[str] = []  # word id -> word (ids 0..V-1 in order of first occurrence)
        self._ids: dict[str, int] = {}  # word -> word id
        self._next: dict[tuple[str, ...], dict[str, int]] | None = None  # see continuations()
        self._vocab: frozenset[str] | None = None  # see the vocab property
        self._vocab_size = 0

    def __repr__(self) -> str:
        fitted = f", |V|={len(self.vocab)}" if self._levels is not None else ", not fitted"
        param = f"discount={self.discount}" if self.smoothing == "kneser-ney" else f"k={self.k}"
        return (f"NGramLM(order={self.order}, smoothing={self.smoothing!r}, {param}, "
                f"direction={self.direction!r}{fitted})")

    # ---- training -------------------------------------------------------------
    def _pad(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        """Reverse (backward models) and pad one sentence: order-1 BOS, tokens, one EOS."""
        seq = tokens[::-1] if self.direction == "backward" else tokens
        return (BOS,) * (self.order - 1) + seq + (EOS,)

    def fit(self, sentences: Iterable[Sequence[str]]) -> NGramLM:
        """Count every n-gram of length 1..order in the padded sentences; return self."""
        lengths, flat = _flat_tokens(sentences)
        # Word ids in the order of first occurrence, BOS (the padding) and EOS first: one pass
        # of C-speed lookups over the tokens (_NewIds).
        index = _NewIds()
        bos = index[BOS] if self.order > 1 else None
        eos = index[EOS]
        raw = np.fromiter(map(index.__getitem__, flat), dtype=np.int64, count=len(flat))
        bad = raw == eos
        if bos is not None or BOS in index:
            bad |= raw == index[BOS]
        if bad.any():  # padding them by hand would count them twice
            i = int(np.searchsorted(np.cumsum(lengths), np.flatnonzero(bad)[0], side="right"))
            raise ValueError(f"sentences[{i}] contains {BOS!r} or {EOS!r}; pass raw "
                             f"tokens, fit() adds the padding itself")
        index = dict(index)
        words = list(index)  # id -> word
        ids, _ = _padded(raw, lengths, self.order - 1, bos, eos, self.direction == "backward")
        levels = _count_ngrams(ids, eos, self.order, len(words),
                               kneser_ney=self.smoothing == "kneser-ney")
        self._words, self._ids, self._levels = words, index, levels
        self._n_tokens = len(ids)
        self._vocab_size = len(words) + (UNK not in index)  # |V| of add-k: the words and UNK
        self._vocab = None  # frozenset(self._ids) | {UNK}, built when first asked for
        self._next = None  # context -> next-word counts, built by continuations() when asked
        return self

    def with_smoothing(self, smoothing: str | None = None, k: float = 1.0,
                       discount: float | None = None) -> NGramLM:
        """A model with other smoothing settings that shares this fitted model's counts.

        Choosing k (add-k) or the discount (kneser-ney) on a validation split then costs one
        fit, not one per value. Any smoothing can be derived from a "kneser-ney" fit (its
        counts include the continuation counts); from another fit, any but "kneser-ney".
        The arguments mean what they mean in NGramLM(); the order and direction stay.
        """
        self._check_fitted()
        smoothing = self.smoothing if smoothing is None else smoothing
        other = NGramLM(self.order, smoothing, k=k, direction=self.direction, discount=discount)
        if smoothing == "kneser-ney" and self._levels[-1].den is None:
            raise ValueError(f"smoothing='kneser-ney' needs continuation counts, which a "
                             f"{self.smoothing!r} fit does not keep; fit an "
                             f"NGramLM(..., 'kneser-ney') and derive the others from it")
        for name in ("_levels", "_n_tokens", "_words", "_ids", "_vocab_size", "_vocab"):
            setattr(other, name, getattr(self, name))  # read-only after fit: safe to share
        return other

    def _check_fitted(self) -> None:
        if self._levels is None:
            raise RuntimeError("this NGramLM is not fitted yet; call fit() first")

    @property
    def vocab(self) -> frozenset[str]:
        """Every type in the padded training sentences, plus UNK."""
        self._check_fitted()
        if self._vocab is None:
            self._vocab = frozenset(self._ids) | {UNK}
        return self._vocab

    def count(self, ngram: Sequence[str]) -> int:
        """Raw training count of an n-gram of length 1..order, given in processing order."""
        self._check_fitted()
        g = _as_tokens(ngram, "ngram")
        if not 1 <= len(g) <= self.order:
            raise ValueError(f"ngram must have 1..{self.order} tokens (order={self.order}), "
                             f"got {len(g)}")
        return self._lookup(g[:-1], g[-1])[0]

    def _lookup(self, ctx: tuple[str, ...], word: str) -> tuple[int, int]:
        """(count(ctx + word), count(ctx) as a context), both 0 where unseen.

        Walks the integer codes of _count_ngrams: a word's code is its id; a longer n-gram's
        code is (the rank of its prefix among the shorter n-grams) * |V| + (its last word's id).
        """
        rank = self._rank(ctx) if ctx else 0
        if rank is None:  # the context never occurred
            return 0, 0
        # count(context) is how often the context is FOLLOWED by a word, not its raw count:
        # every occurrence is, except where it ends with EOS (nothing follows a sentence's
        # end), so ("</s>",) counts 0 as a context (as in nltk).
        if not ctx:
            total = self._n_tokens  # the empty context precedes every token
        elif ctx[-1] == EOS:
            total = 0
        else:
            total = self._levels[len(ctx) - 1].counts[rank]
        r = self._rank(ctx + (word,), rank)
        return (0 if r is None else self._levels[len(ctx)].counts[r]), total

    # ---- probabilities ----------------------------------------------------------
    def _map(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """Map out-of-vocabulary tokens to UNK."""
        ids = self._ids  # the vocabulary is these words and UNK
        return tuple([t if t in ids else UNK for t in tokens])

    def _proc_context(self, ctx: Sequence[str]) -> tuple[str, ...]:
        """Last order-1 tokens of a processing-order context, BOS-padded, OOV -> UNK."""
        m = self.order - 1
        ctx = tuple(ctx)[max(0, len(ctx) - m):] if m else ()  # ctx[-0:] would keep everything
        return self._map((BOS,) * (m - len(ctx)) + ctx)

    def _context(self, context: Sequence[str]) -> tuple[str, ...]:
        """Validate a natural-order context and turn it into the model's context."""
        ctx = _as_tokens(context, "context")
        return self._proc_context(ctx[::-1] if self.direction == "backward" else ctx)

    def _prob(self, word: str, ctx: tuple[str, ...]) -> float:
        """P(word | ctx) for an already mapped word and processing-order context."""
        if self.smoothing == "kneser-ney":
            return self._kn_prob(word, ctx)
        c, total = self._lookup(ctx, word)
        if self.smoothing == "mle":
            return c / total if total else 0.0  # unseen context: 0, never 0/0 = NaN
        return (c + self.k) / (total + self.k * self._vocab_size)  # add-k; laplace is k=1

    def _rank(self, gram: tuple[str, ...], prefix_rank: int | None = None) -> int | None:
        """Rank of an n-gram (1 <= n <= order) among the n-grams of length n; None if unseen.

        prefix_rank: the rank of gram[:-1], when the caller knows it already.
        """
        V, ids, levels = len(self._words), self._ids, self._levels
        start, rank = 0, 0
        if prefix_rank is not None:
            start, rank = len(gram) - 1, prefix_rank
        for n in range(start, len(gram)):
            wid = ids.get(gram[n])
            if wid is None:
                return None
            rank = wid if n == 0 else levels[n].index.get(rank * V + wid)
            if rank is None:
                return None
        return rank

    def _kn_prob(self, word: str, ctx: tuple[str, ...]) -> float:
        """Interpolated Kneser-Ney P(word | ctx), as nltk's KneserNeyInterpolated defines it.

        Each order subtracts an absolute discount D from every positive count and gives the
        freed mass, gamma(ctx) = D * (distinct next words of ctx) / den(ctx), to the next
        lower order (context one word shorter): P(w | ctx) = max(c(ctx w) - D, 0) / den(ctx)
        + gamma(ctx) * P(w | ctx[1:]). Only the highest order uses raw counts; lower orders
        use continuation counts, c(ctx w) = the number of distinct words seen right before
        "ctx w", so a word frequent after one context only gets little lower-order mass.
        den(ctx) is the sum of these counts over w; the lowest order is the continuation
        unigram c(w) / (number of distinct bigrams), mixed with nothing else.

        Edge cases (each one tested):
        - An unseen context (never seen with a next word: unknown words in it, or it ends
          with EOS) skips its order: alpha = 0, gamma = 1, as in nltk.
        - A word without a continuation count (UNK when training never contained the UNK
          token; BOS at order 2) gets probability 0, as in nltk; perplexity() raises for it.
        - Where nltk counts the distinct next words of a lower-order context with raw counts,
          we count those with a continuation count > 0. They differ only for all-BOS
          contexts (order >= 3): nltk counts BOS after them (from the padding n-gram BOS..BOS,
          which no longer n-gram continues), so at order 3 its P(. | BOS BOS) sums to
          1 + D**2 / (number of sentences); every distribution of ours sums to 1.
        - order=1: no lower order to interpolate with, so nothing is discounted and the model
          is the MLE unigram c(w) / N (nltk's order 1 divides 0 by 0: there are no bigrams).
        """
        if self.order == 1:
            c, total = self._lookup((), word)
            return c / total
        V, D, levels = len(self._words), self.discount, self._levels
        wid = self._ids.get(word)
        p = 0.0 if wid is None else float(levels[0].cont[wid] / levels[0].den[0])
        for n in range(2, self.order + 1):  # from bigrams up to the highest order
            level = levels[n - 1]
            r = self._rank(ctx[len(ctx) - (n - 1):])  # the last n-1 words of the context
            if r is None or level.den[r] == 0:  # unseen context: alpha = 0, gamma = 1
                continue
            c = 0
            rr = None if wid is None else level.index.get(r * V + wid)
            if rr is not None:  # the highest order counts, the lower ones continue
                c = level.counts[rr] if n == self.order else int(level.cont[rr])
            den = float(level.den[r])
            alpha = max(c - D, 0.0) / den
            gamma = D * int(level.types[r]) / den
            p = alpha + gamma * p
        return p

    def prob(self, word: str, context: Sequence[str] = ()) -> float:
        """P(word | context); context in natural sentence order (see module docstring)."""
        self._check_fitted()
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {_short(word)}")
        return self._prob(word if word in self._ids else UNK, self._context(context))

    def logprob(self, word: str, context: Sequence[str] = ()) -> float:
        """Natural log of prob(word, context); -inf where the probability is 0."""
        p = self.prob(word, context)
        return math.log(p) if p > 0 else -math.inf

    def _factors(self, tokens: Sequence[str]) -> list[tuple[str, tuple[str, ...], float]]:
        """Chain-rule factors (word, context, prob) in processing order, EOS last."""
        self._check_fitted()
        padded = self._pad(_as_tokens(tokens, "tokens"))
        rows = []
        for j in range(self.order - 1, len(padded)):
            ctx = padded[j - self.order + 1:j]
            rows.append((padded[j], ctx, self._prob(self._map([padded[j]])[0], self._map(ctx))))
        return rows

    def sentence_prob(self, tokens: Sequence[str]) -> float:
        """P(sentence) as the product of its chain-rule factors, the final EOS included."""
        return math.prod(p for _, _, p in self._factors(tokens))

    def sentence_logprob(self, tokens: Sequence[str]) -> float:
        """Natural log of sentence_prob, summed factor by factor (no underflow)."""
        return sum(math.log(p) if p > 0 else -math.inf for _, _, p in self._factors(tokens))

    def chain_rule(self, tokens: Sequence[str]) -> pandas.DataFrame:
        """One table row per chain-rule factor of a sentence, with its counts; EOS last."""
        import pandas as pd

        rows = []
        for step, (word, ctx, p) in enumerate(self._factors(tokens), start=1):
            shown = " ".join(ctx)  # processing order, original tokens (not UNK-mapped)
            rows.append({
                "step": step, "word": word, "context": shown,
                "formula": f"P({word} | {shown})" if ctx else f"P({word})",
                "count(context+word)": self._lookup(self._map(ctx), self._map([word])[0])[0],
                "count(context)": self._lookup(self._map(ctx), UNK)[1],
                "prob": p, "logprob": math.log(p) if p > 0 else -math.inf,
            })
        return pd.DataFrame(rows)

    def _factor_probs(self, sentences: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """Every chain-rule factor of many sentences at once, as _factors computes them one by
        one (the same float operations in the same order, so the same numbers): the word ids
        and contexts as arrays, their ranks by binary search (_Level.ranks), the smoothing
        in numpy.
        -> (probs, predicted word ids, end of each sentence's factors, the tokens); an id of
        -1 is a word outside the training vocabulary (UNK where training had no UNK)."""
        self._check_fitted()
        lengths, flat = _flat_tokens(sentences)
        ids, V, levels, k = self._ids, len(self._words), self._levels, self.order - 1
        unk = ids.get(UNK, -1)  # out-of-vocabulary words are UNK (_map); -1 if UNK is unseen
        raw = np.fromiter(map(ids.get, flat, itertools.repeat(unk)), dtype=np.int64,
                          count=len(flat))
        seq, ends = _padded(raw, lengths, k, ids.get(BOS, -1), ids[EOS],
                            self.direction == "backward")
        keep = np.ones(len(seq), dtype=bool)  # predicted positions: all but each sentence's BOS
        if k:
            keep[((ends - lengths - k - 1)[:, None] + np.arange(k)).ravel()] = False
        pos = np.flatnonzero(keep)
        word = seq[pos]

        known: dict[tuple[int, int], np.ndarray] = {}

        def rank_of(first: int, n: int) -> np.ndarray:
            """Rank of the n-gram seq[pos+first : pos+first+n] among the n-grams of length n
            (-1 where unseen): the first word's id, then one search per extra word (the
            shorter n-gram's ranks are kept for the next call)."""
            if n == 1:
                return seq[pos + first]
            if (first, n) not in known:
                r, w = rank_of(first, n - 1), seq[pos + first + n - 1]
                known[first, n] = levels[n - 1].ranks(np.where((r >= 0) & (w >= 0), r * V + w, -1))
            return known[first, n]

        def lookup(table: np.ndarray, r: np.ndarray) -> np.ndarray:
            """table[r] where r >= 0, else 0."""
            return np.where(r >= 0, table[np.maximum(r, 0)], 0)

        for level in levels:
            if level.counts_array is None:
                level.counts_array = np.array(level.counts, dtype=np.int64)
        if self.smoothing != "kneser-ney" or self.order == 1:
            c = lookup(levels[k].counts_array, rank_of(-k, k + 1))  # count(ctx + word)
            if k == 0:
                total = np.full(len(pos), self._n_tokens)
            else:  # contexts never end with EOS inside a padded sentence (see _lookup)
                total = lookup(levels[k - 1].counts_array, rank_of(-k, k))
            if self.smoothing in ("mle", "kneser-ney"):  # (order 1 Kneser-Ney is the MLE)
                probs = np.divide(c, total, out=np.zeros(len(pos)), where=total > 0)
            else:
                probs = (c + self.k) / (total + self.k * self._vocab_size)
        else:
            D = self.discount
            probs = np.where(word >= 0, lookup(levels[0].cont, word) / levels[0].den[0], 0.0)
            for n in range(2, self.order + 1):  # as _kn_prob: bigrams up to the highest order
                level = levels[n - 1]
                r = rank_of(-(n - 1), n - 1)  # the last n-1 words of the context
                den = lookup(level.den, r).astype(np.float64)
                seen = den > 0  # else: unseen context, alpha = 0 and gamma = 1
                rr = rank_of(-(n - 1), n)
                c = lookup(level.counts_array if n == self.order else level.cont, rr)
                safe = np.where(seen, den, 1.0)
                alpha = np.maximum(c - D, 0.0) / safe
                gamma = D * lookup(level.types, r) / safe
                probs = np.where(seen, alpha + gamma * probs, probs)
        factor_ends = ends - (k * np.arange(1, len(ends) + 1))  # k BOS per sentence not predicted
        return probs, word, factor_ends, flat

    def write_arpa(self, path) -> None:
        """Write the model in the ARPA format that KenLM and SRILM read (smoothing="kneser-ney").

        Interpolated Kneser-Ney is a back-off model in disguise: for every n-gram seen in
        training, the file stores its interpolated probability at its own order (raw counts
        at the highest order, continuation counts below, as _kn_prob), and for every shorter
        one its back-off weight gamma, the mass its order passes down; an n-gram the file
        lacks gets gamma(context) x P(word | shorter context), which is what interpolation
        gives it too. Probabilities are written as log10 (-99 where 0, e.g. BOS, which is
        never predicted).

        The padding needs one adjustment: this model starts a sentence with order-1 BOS, an
        ARPA reader with the single context <s>. So an n-gram "<s> w1 .. wj" below the highest
        order holds what this model gives wj after BOS...BOS w1 .. wj-1 (all order-1 BOS
        there), and its back-off weight is the product of the weights this model applies on
        the way from BOS...BOS w1 .. wj down to w1 .. wj. A reader then scores every sentence
        as sentence_logprob does (KenLM: to its float32 precision).
        """
        from pathlib import Path

        self._check_fitted()
        if self.smoothing != "kneser-ney":
            raise ValueError(f"write_arpa needs smoothing='kneser-ney' (a back-off model), got "
                             f"{self.smoothing!r}; fit an NGramLM(..., 'kneser-ney')")
        path = Path(path)
        V, D, levels, N = len(self._words), self.discount, self._levels, self.order
        grams = [np.arange(V, dtype=np.int64)[:, None]]  # per order: its n-grams' word ids
        if N == 1:
            probs = [np.asarray(levels[0].counts, dtype=np.float64) / self._n_tokens]
        else:
            probs = [levels[0].cont / levels[0].den[0]]  # continuation unigrams
        for n in range(2, N + 1):
            level = levels[n - 1]
            prefix, last = np.divmod(level.codes, V)  # in rank order
            g = np.hstack([grams[-1][prefix], last[:, None]])  # (n-grams, n) word ids
            suffix = g[:, 1]  # rank of the last n-1 words among the (n-1)-grams
            for j in range(2, n):  # (every suffix of a seen n-gram was seen)
                suffix = levels[j - 1].ranks(suffix * V + g[:, j])
            lower = probs[-1][suffix]
            den = level.den[prefix]
            c = np.asarray(level.counts, dtype=np.float64) if n == N else level.cont
            seen = den > 0
            safe = np.where(seen, den, 1.0)
            p = np.maximum(c - D, 0.0) / safe + D * level.types[prefix] / safe * lower
            probs.append(np.where(seen, p, lower))
            grams.append(g)
        backs = []
        for n in range(1, N):  # the back-off weight of each n-gram as a context of order n+1
            den, types = levels[n].den, levels[n].types
            back = np.ones(len(grams[n - 1]))
            has = den > 0
            back[has] = D * types[has] / den[has]
            backs.append(back)
        bos = self._ids.get(BOS)
        for n in range(1, N):  # "<s> w1 .. w(n-1)": the padded sentence start (see above)
            starts = np.flatnonzero((grams[n - 1][:, 0] == bos)
                                    & ((grams[n - 1][:, 1] != bos) if n > 1 else True))
            for i in starts.tolist():
                rest = tuple(self._words[w] for w in grams[n - 1][i, 1:].tolist())
                if n > 1:
                    probs[n - 1][i] = self._kn_prob(rest[-1], (BOS,) * (N - n + 1) + rest[:-1])
                weight = 1.0
                for m in range(1, N - n + 1):
                    weight *= self._kn_gamma((BOS,) * m + rest)
                backs[n - 1][i] = weight
        with path.open("w", encoding="utf-8") as f:
            f.write("\\data\\\n")
            for n in range(1, N + 1):
                f.write(f"ngram {n}={len(grams[n - 1])}\n")
            for n in range(1, N + 1):
                f.write(f"\n\\{n}-grams:\n")
                logp = np.full(len(probs[n - 1]), -99.0)
                np.log10(probs[n - 1], out=logp, where=probs[n - 1] > 0)
                if n < N:
                    back = np.log10(backs[n - 1])
                words = self._words
                for i, row in enumerate(grams[n - 1].tolist()):
                    text = " ".join(words[w] for w in row)
                    f.write(f"{logp[i]:.9g}\t{text}\t{back[i]:.9g}\n" if n < N
                            else f"{logp[i]:.9g}\t{text}\n")
            f.write("\n\\end\\\n")

    def _kn_gamma(self, ctx: tuple[str, ...]) -> float:
        """The mass that the order len(ctx)+1 of _kn_prob passes to the next lower order
        after ctx: D * (distinct next words) / den, 1 where ctx is unseen as a context."""
        level = self._levels[len(ctx)]
        r = self._rank(ctx)
        if r is None or level.den[r] == 0:
            return 1.0
        return self.discount * int(level.types[r]) / float(level.den[r])

    def sentence_logprobs(self, sentences: Iterable[Sequence[str]]) -> list[float]:
        """[sentence_logprob(s) for s in sentences], computed for all sentences at once."""
        probs, _, ends, _ = self._factor_probs(sentences)
        logs = (list(map(math.log, probs.tolist())) if probs.all()
                else [math.log(p) if p > 0 else -math.inf for p in probs.tolist()])
        return [sum(logs[a:b]) for a, b in zip([0, *ends[:-1].tolist()], ends.tolist())]

    def perplexity(self, sentences: Iterable[Sequence[str]]) -> float:
        """exp(-mean logprob) over all predicted tokens, EOS included; inf if any is 0.

        Kneser-Ney gives 0 only to a word without any count (in practice an unknown word,
        UNK never seen in training), so it raises ValueError there instead of returning inf.
        """
        probs, _, ends, flat = self._factor_probs(sentences)
        zero = np.flatnonzero(probs == 0)
        if len(zero) and self.smoothing == "kneser-ney":
            z = int(zero[0])  # the first one: which sentence, which of its tokens
            i = int(np.searchsorted(ends, z, side="right"))
            start = int(ends[i - 1]) if i else 0
            j, n = z - start, int(ends[i]) - start - 1  # factor j of n tokens + EOS
            first = start - i  # the sentence's first token in flat (one EOS per sentence before)
            word = EOS if j == n else flat[first + (n - 1 - j if self.direction == "backward"
                                                    else j)]
            why = (f"it is not in the training vocabulary, so it maps to {UNK!r}, "
                   f"which training never contained" if word not in self._ids
                   else "it never follows another token in training")
            raise ValueError(
                f"sentences[{i}] has the token {word!r}, which kneser-ney gives "
                f"probability 0: {why}. Replace rare training words by {UNK!r} "
                f"before fit() so that unknown words get probability mass")
        if len(zero):
            return math.inf
        total_logprob, n_tokens = sum(map(math.log, probs.tolist())), len(probs)
        return math.exp(-total_logprob / n_tokens)

    # ---- using the model --------------------------------------------------------
    def rank(self, context: Sequence[str], candidates: Sequence[str] | None = None,
             top_k: int | None = None) -> list[tuple[str, float]]:
        """Candidate next words with their probabilities, most probable first."""
        self._check_fitted()
        ctx = self._context(context)
        if candidates is None:  # only words the model can actually predict
            words = sorted(self.vocab - {BOS, UNK})
        else:
            words = list(dict.fromkeys(_as_tokens(candidates, "candidates")))  # drop repeats
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                                  or top_k < 1):
            raise ValueError(f"top_k must be None or an int >= 1, got {_short(top_k)}")
        scored = [(w, self._prob(self._map([w])[0], ctx)) for w in words]
        scored.sort(key=lambda wp: (-wp[1], wp[0]))  # ties by the word, so output is reproducible
        return scored[:top_k]

    def continuations(self, context: Sequence[str]) -> list[tuple[str, int]]:
        """Words seen right after `context` in training, with their counts, most frequent first."""
        self._check_fitted()
        if self._next is None:  # built once, on first use: fit() keeps only integer codes
            self._next = self._continuation_table()
        seen = self._next.get(self._context(context), {})
        return sorted(seen.items(), key=lambda wc: (-wc[1], wc[0]))

    def _continuation_table(self) -> dict[tuple[str, ...], dict[str, int]]:
        """context -> {next word: count} for every n-gram, decoded from the integer codes."""
        V, table = len(self._words), defaultdict(dict)
        prefixes: list[tuple[str, ...]] = [()]  # rank -> the n-gram, for the level below
        for level in self._levels:
            codes = range(V) if level.index is None else level.index  # in rank order
            grams = [prefixes[code // V] + (self._words[code % V],) for code in codes]
            for gram, c in zip(grams, level.counts):
                table[gram[:-1]][gram[-1]] = c
            prefixes = grams
        return dict(table)

    def probs(self, words: Sequence[str], context: Sequence[str] = ()) -> list[float]:
        """[P(w | context) for w in words]: prob() for many words, the context mapped once."""
        self._check_fitted()
        ctx = self._context(context)
        return [self._prob(w, ctx) for w in self._map(_as_tokens(words, "words"))]

    def next_word_distribution(self, context: Sequence[str]) -> dict[str, float]:
        """P(w | context) for every w in the vocabulary (sums to 1 over the vocabulary)."""
        self._check_fitted()
        ctx = self._context(context)
        # BOS is never a next word, but add-k still gives it k/(count(ctx)+k|V|) because
        # |V| counts it (as nltk does); leaving it out would make the sum fall short of 1.
        # Kneser-Ney gives BOS mass too at order >= 3 (the padding bigram BOS BOS).
        return {w: self._prob(w, ctx) for w in sorted(self.vocab)}

    def generate(self, context: Sequence[str] = (), max_tokens: int = 20,
                 seed: int | None = None, greedy: bool = False,
                 temperature: float = 1.0) -> list[str]:
        """Sample next words after `context` until EOS or max_tokens; never BOS or UNK."""
        self._check_fitted()
        ctx = _as_tokens(context, "context")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be an int >= 1, got {_short(max_tokens)}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be None or an int, got {_short(seed)}")
        if (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                or not (temperature > 0 and math.isfinite(temperature))):
            raise ValueError(f"temperature must be a finite number > 0 (greedy=True is the "
                             f"limit of temperature -> 0), got {_short(temperature)}")
        rng = random.Random(seed)  # own generator: the global random state is untouched
        words = sorted(self.vocab - {BOS, UNK})
        history = list(ctx[::-1] if self.direction == "backward" else ctx)  # processing order
        out: list[str] = []
        while len(out) < max_tokens:
            pctx = self._proc_context(history)
            probs = [self._prob(w, pctx) for w in words]
            if max(probs) == 0:
                raise ValueError(f"context {list(ctx)} gives probability 0 to every word "
                                 f"(an unseen context under MLE); try smoothing='laplace'")
            if greedy:
                word = min(zip(words, probs), key=lambda wp: (-wp[1], wp[0]))[0]
            else:
                # p ** (1/T), computed in log space relative to the best word to stay in range
                top = math.log(max(probs))
                weights = [math.exp((math.log(p) - top) / temperature) if p > 0 else 0.0
                           for p in probs]
                word = rng.choices(words, weights=weights)[0]
            out.append(word)
            history.append(word)
            if word == EOS:
                break
        # Generation order; for a backward model that runs right to left.
        return out


def rare_to_unk(train: Sequence[Sequence[str]], *others: Sequence[Sequence[str]],
                min_count: int = 2) -> tuple[list[list[str]], ...]:
    """Replace tokens seen fewer than ``min_count`` times in ``train`` by ``<unk>``, in
    ``train`` and in every other split (where unseen tokens become ``<unk>`` too).

    A smoothed n-gram model then learns how often *some* rare token follows a context, and
    gives a token it never saw that probability instead of a bare back-off guess. Merging
    rare tokens into one class can only lower the n-gram's perplexity, so a comparison with
    another model on the same tokens favours the n-gram. Returns (train, *others).
    """
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
    splits = [_as_sentences(s, name) for s, name in
              zip((train, *others), ["train"] + [f"others[{i}]" for i in range(len(others))])]
    from collections import Counter

    freq = Counter(t for s in splits[0] for t in s)
    keep = {t for t, c in freq.items() if c >= min_count}
    return tuple([[t if t in keep else UNK for t in s] for s in split] for split in splits)
