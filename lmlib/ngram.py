"""N-gram language models: a sentence's probability by the chain rule, from counts.

Lecture (n-gram 언어 모델): a language model gives a sentence a probability. By the
chain rule (연쇄 법칙)

    P(w1 .. wn) = P(w1) P(w2 | w1) ... P(wn | w1 .. wn-1) = Π_i P(wi | w1 .. wi-1),

and an n-gram model approximates each factor by the last n-1 words only:

    P(wi | w1 .. wi-1) ≈ P(wi | wi-n+1 .. wi-1) = count(wi-n+1 .. wi) / count(wi-n+1 .. wi-1).

A forward LM reads left to right. A backward LM reads right to left and predicts
a word from the words that FOLLOW it; ELMo trains one of each and uses both.

Conventions (MLE and Laplace give exactly nltk.lm's numbers; see tests/test_ngram.py):
- fit() pads each sentence with order-1 BOS on the left and one EOS on the right
  and counts every n-gram of length 1..order in it. A backward model reverses the
  sentence first, so its BOS marks the sentence end and its EOS the start.
- "Processing order" is the order the model reads in: left to right for forward,
  right to left for backward. count() and the chain_rule() table use it.
- prob(word, context) always takes `context` in natural sentence order: for a
  backward model it is the words after `word`, e.g. prob("갔었어", ["거기", "사람"])
  is P(갔었어 | 거기 사람) read from the right. Only the order-1 words nearest to
  `word` are used; a shorter context is padded with BOS (a sentence boundary).
- Words never seen in training are mapped to UNK before any count is looked up.
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

from .text import BOS, EOS, UNK

if TYPE_CHECKING:  # pandas is imported lazily, only by chain_rule()
    import pandas

SMOOTHINGS = ("mle", "laplace", "add-k")
DIRECTIONS = ("forward", "backward")


def _short(x: object) -> str:
    """repr() cut to a readable length for error messages."""
    r = repr(x)
    return r if len(r) <= 40 else r[:37] + "..."


def _as_tokens(tokens: object, name: str) -> tuple[str, ...]:
    """Check that `tokens` is a sequence of str tokens (not one str) and return a tuple."""
    if isinstance(tokens, str):
        raise TypeError(f"{name} must be a list of tokens, got the str {_short(tokens)}; "
                        f"split it into tokens first, e.g. {name}.split()")
    if not isinstance(tokens, Sequence):
        raise TypeError(f"{name} must be a list of str tokens, got {type(tokens).__name__}")
    tokens = tuple(tokens)
    if not set(map(type, tokens)) <= {str}:  # the fast check; the loop finds the culprit
        for t in tokens:
            if not isinstance(t, str):
                raise TypeError(f"{name} must contain only str tokens, got {_short(t)}")
    return tokens


def _as_sentences(sentences: object, name: str = "sentences") -> list[tuple[str, ...]]:
    """Check that `sentences` is a list of token lists and return it as a list of tuples."""
    if isinstance(sentences, str) or not isinstance(sentences, Iterable):
        raise TypeError(f"{name} must be a list of token lists, e.g. [['나는', '갔다']], "
                        f"got {type(sentences).__name__}")
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


@dataclass
class _Level:
    """The n-grams of one length n, by integer code (see _count_ngrams)."""

    count: dict[int, int]  # code -> how often the n-gram occurs inside a padded sentence
    rank: dict[int, int]  # code -> its rank among the n-grams of length n (n < order only)


def _count_ngrams(ids: np.ndarray, eos: int, order: int, V: int) -> list[_Level]:
    """Count the n-grams of length 1..order inside the padded sentences of a joined id stream.

    Counting the same thing in plain Python, one dictionary update per n-gram (as nltk
    does), takes seconds on a 500k-word corpus; here each length is one np.unique over
    integer codes. An n-gram's code is (the rank of its first n-1 words among the
    (n-1)-grams) * V + (its last word's id), word ids < V, so codes stay below len(ids) * V
    at any order.
    A window that crosses from one sentence into the next is dropped: its first and last
    positions lie in different sentences (sentence number = how many EOS come before).
    """
    sentence = np.concatenate([[0], np.cumsum(ids == eos)[:-1]])  # position -> sentence number
    levels, codes = [], ids
    for n in range(1, order + 1):
        m = len(ids) - n + 1  # windows of n tokens
        if n > 1:
            codes = prefix_rank[:m] * V + ids[n - 1:]
        inside = sentence[:m] == sentence[n - 1:]  # all n tokens in one sentence
        uniq, inverse, counts = np.unique(codes[inside], return_inverse=True, return_counts=True)
        uniq_l = uniq.tolist()
        level = _Level(dict(zip(uniq_l, counts.tolist())), {})
        if n < order:
            level.rank = dict(zip(uniq_l, range(len(uniq_l))))
            prefix_rank = np.zeros(m, dtype=np.int64)
            prefix_rank[inside] = inverse.reshape(-1)  # windows across sentences: never read
        levels.append(level)
    return levels


class NGramLM:
    """A count-based n-gram language model (MLE, Laplace or add-k; forward or backward)."""

    def __init__(self, order: int, smoothing: str = "mle", k: float = 1.0,
                 direction: str = "forward") -> None:
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
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {DIRECTIONS}, got {_short(direction)}")
        self.order, self.smoothing, self.k, self.direction = order, smoothing, float(k), direction
        self._levels: list[_Level] | None = None  # counts of n-grams of length 1..order
        self._n_tokens = 0
        self._words: dict[int, str] = {}  # word id -> word
        self._ids: dict[str, int] = {}  # word -> word id
        self._next: dict[tuple[str, ...], dict[str, int]] | None = None  # see continuations()
        self._vocab: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        fitted = f", |V|={len(self._vocab)}" if self._levels is not None else ", not fitted"
        return (f"NGramLM(order={self.order}, smoothing={self.smoothing!r}, k={self.k}, "
                f"direction={self.direction!r}{fitted})")

    # ---- training -------------------------------------------------------------
    def _pad(self, tokens: tuple[str, ...]) -> tuple[str, ...]:
        """Reverse (backward models) and pad one sentence: order-1 BOS, tokens, one EOS."""
        seq = tokens[::-1] if self.direction == "backward" else tokens
        return (BOS,) * (self.order - 1) + seq + (EOS,)

    def fit(self, sentences: Iterable[Sequence[str]]) -> NGramLM:
        """Count every n-gram of length 1..order in the padded sentences; return self."""
        sents = _as_sentences(sentences)
        for i, s in enumerate(sents):
            if BOS in s or EOS in s:  # padding them by hand would count them twice
                raise ValueError(f"sentences[{i}] contains {BOS!r} or {EOS!r}; pass raw "
                                 f"tokens, fit() adds the padding itself")
        # All padded sentences, joined into one stream of word ids.
        # A word's id is the stream position where it first occurs (setdefault at C speed).
        stream = list(itertools.chain.from_iterable(map(self._pad, sents)))
        self._ids = {}  # word -> id
        ids = np.array(list(map(self._ids.setdefault, stream, range(len(stream)))), dtype=np.int64)
        self._words = {i: w for w, i in self._ids.items()}  # id -> word
        self._vocab = frozenset(self._ids) | {UNK}
        self._levels = _count_ngrams(ids, self._ids[EOS], self.order, len(stream))
        self._n_tokens = len(stream)  # also V, the word-id bound of the codes
        self._next = None  # context -> next-word counts, built by continuations() when asked
        return self

    def _check_fitted(self) -> None:
        if self._levels is None:
            raise RuntimeError("this NGramLM is not fitted yet; call fit() first")

    @property
    def vocab(self) -> frozenset[str]:
        """Every type in the padded training sentences, plus UNK."""
        self._check_fitted()
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
        V, code, rank = self._n_tokens, None, 0
        for n, w in enumerate(ctx, start=1):
            wid = self._ids.get(w)
            if wid is None:
                return 0, 0
            code = rank * V + wid
            rank = self._levels[n - 1].rank.get(code)
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
            total = self._levels[len(ctx) - 1].count[code]
        wid = self._ids.get(word)
        if wid is None:
            return 0, total
        return self._levels[len(ctx)].count.get(rank * V + wid, 0), total

    # ---- probabilities ----------------------------------------------------------
    def _map(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """Map out-of-vocabulary tokens to UNK."""
        return tuple(t if t in self._vocab else UNK for t in tokens)

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
        c, total = self._lookup(ctx, word)
        if self.smoothing == "mle":
            return c / total if total else 0.0  # unseen context: 0, never 0/0 = NaN
        return (c + self.k) / (total + self.k * len(self._vocab))  # add-k; laplace is k=1

    def prob(self, word: str, context: Sequence[str] = ()) -> float:
        """P(word | context); context in natural sentence order (see module docstring)."""
        self._check_fitted()
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {_short(word)}")
        return self._prob(self._map([word])[0], self._context(context))

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

    def perplexity(self, sentences: Iterable[Sequence[str]]) -> float:
        """exp(-mean logprob) over all predicted tokens, EOS included; inf if any is 0."""
        self._check_fitted()
        total_logprob, n_tokens = 0.0, 0
        for s in _as_sentences(sentences):
            for _, _, p in self._factors(s):
                if p == 0:
                    return math.inf
                total_logprob += math.log(p)
                n_tokens += 1
        return math.exp(-total_logprob / n_tokens)

    # ---- using the model --------------------------------------------------------
    def rank(self, context: Sequence[str], candidates: Sequence[str] | None = None,
             top_k: int | None = None) -> list[tuple[str, float]]:
        """Candidate next words with their probabilities, most probable first."""
        self._check_fitted()
        ctx = self._context(context)
        if candidates is None:  # only words the model can actually predict
            words = sorted(self._vocab - {BOS, UNK})
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
        V, table = self._n_tokens, defaultdict(dict)
        prefixes: list[tuple[str, ...]] = [()]  # rank -> the n-gram, for the level below
        for level in self._levels:
            grams: list[tuple[str, ...]] = [()] * len(level.rank)
            for code, c in level.count.items():
                gram = prefixes[code // V] + (self._words[code % V],)
                table[gram[:-1]][gram[-1]] = c
                if level.rank:  # (not kept for the longest n-grams: nothing extends them)
                    grams[level.rank[code]] = gram
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
        return {w: self._prob(w, ctx) for w in sorted(self._vocab)}

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
        words = sorted(self._vocab - {BOS, UNK})
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
