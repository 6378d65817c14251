"""A well-trained Korean language model beside the counting n-gram model: Kiwi's CoNg.

Lecture (언어 모델): a language model gives a sentence a probability and predicts the
next word. :class:`lmlib.ngram.NGramLM` counts a small corpus; :class:`KiwiLM` asks the
morpheme language model that ships with the Korean analyser Kiwi (``kiwipiepy``,
``Kiwi(model_type='cong')``, the "CoNg" contextual n-gram model, trained on a large corpus
and working offline). Both use the chain rule over tokens; here the tokens are morphemes
(형태소) such as ``놓쳤다 -> 놓치/VV 었/EP 다/EF``.

What the numbers are (measured with kiwipiepy 0.24.1 and kiwipiepy_model 0.24.0):

- All log-probabilities are natural logs (nats), as in :mod:`lmlib.ngram`.
- Kiwi first finds the best morpheme analysis of the text (a beam search); the sentence
  score is that analysis's score, i.e. the log-probability of the best analysis, not of the
  text summed over all its analyses (that sum would be somewhat larger).
- That score is ``sum_i log P(m_i | m_<i)`` over the morphemes plus ``log P(</s> | ...)``
  for each end of sentence (a text with "." inside is split into sentences; each sentence
  starts afresh). With ``complete=False`` the text is an unfinished sentence: Kiwi analyses
  it as such (``open_ending=True``) and adds no final ``</s>`` term.
- Each morpheme's term is the CoNg log-probability of that morpheme after the morphemes
  before it, exactly what :meth:`KiwiLM.next_morphemes` returns for it, except for terms
  the analyser adds to the same number: a penalty of 5 nats when a space splits a word
  from its particle or ending ("먹었 다"; missing spaces cost nothing: "아버지가방에들어가신다"
  scores like the spaced sentence), a score from a character model for a word Kiwi does
  not know (e.g. "뷁쉙"), and small adjustments for colloquial or contracted forms that the
  model stores under another form (얘기 ~ 이야기, 거 ~ 것, 를 ~ 을). No typo correction is
  used, so there is no typo cost.
- The ``</s>`` term is Kiwi's own end-of-sentence estimate: the next-morpheme distribution
  has no ``</s>`` entry and sums to about 1 without it. The sentence score is therefore a
  model score in nats, not an exactly normalised probability over all sentences.
- Longer sentences get lower totals, as every extra morpheme multiplies in a probability
  below 1. To compare sentences of different lengths look at ``mean_logprob`` (per
  prediction, end of sentence included) or ``perplexity = exp(-mean_logprob)``, as
  :meth:`lmlib.ngram.NGramLM.perplexity` does.
- CoNg is a short-context model, n-gram-like: it conditions on at most the last 4
  morphemes (at 1,517 positions in 200 ko_daily sentences, the last 4 morphemes, often
  fewer, always gave the same prediction as the whole prefix), so what was said earlier
  in a long sentence does not reach the next morpheme.

Determinism: the numbers are the same on every run and for any ``num_workers`` (1, 4 and
all cores give identical scores). Kiwi picks a SIMD code path for the CPU; forcing each
x86 path with KIWI_ARCH_TYPE (sse2 to avx512vnni) changed them by at most about 1e-5, but
KIWI_ARCH_TYPE=none gives different numbers (-53.5 instead of -46.3 for one sentence):
leave it unset.

Kiwi is loaded once per process (about 3 s and 450 MB) and shared with
:class:`lmlib.text.MorphTokenizer`; importing this module does not import kiwipiepy,
creating a :class:`KiwiLM` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .base import _short, as_str_list, check_bool, check_int, check_str

if TYPE_CHECKING:  # pandas is imported lazily, only by chain_rule() and compare()
    import pandas

INSTALL_HINT = 'pip install "lm-coursebook[morph]"  (or: pip install kiwipiepy)'
LM_MODEL_TYPES = ("cong", "cong-global")  # Kiwi's model types that have a next-morpheme LM

_KIWI = None  # the Kiwi (with a CoNg model) every KiwiLM uses; loaded on first construction


def _load_kiwi():
    """Return the shared Kiwi with a CoNg model, loading it on first use."""
    global _KIWI
    if _KIWI is not None:
        return _KIWI
    try:
        from kiwipiepy import Kiwi  # imported lazily: only this model needs it
    except ImportError as err:
        raise ImportError(f"KiwiLM needs the Korean analyser Kiwi and its language model: "
                          f"{INSTALL_HINT}") from err
    from . import text

    kiwi = text._get_kiwi()  # one model in memory for tokenizer and LM
    # kiwipiepy 0.24 records dictionary changes (user words) here; they would change the
    # scores, so a modified analyser is not shared.
    if (getattr(kiwi, "model_type", None) not in LM_MODEL_TYPES
            or getattr(kiwi, "_dict_modified_by", None) is not None):
        try:
            # The scores do not depend on num_workers (checked for 1, 4 and all cores).
            kiwi = Kiwi(model_type="cong", num_workers=1)
        except Exception as err:  # older kiwipiepy: no CoNg model
            raise ImportError(f"KiwiLM needs kiwipiepy >= 0.22 with its CoNg model "
                              f"(Kiwi(model_type='cong')): {INSTALL_HINT}; the installed "
                              f"kiwipiepy could not load it ({err})") from err
    _KIWI = kiwi
    return _KIWI


# ---------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------

def _check_text(name: str, value: Any) -> str:
    if not check_str(value, name).strip():
        raise ValueError(f"{name} must be a non-empty str with some text, got {value!r}")
    return value


def _check_texts(name: str, values: Any) -> list[str]:
    """A list of non-empty str (a single str is refused, not split into characters)."""
    hint = f"wrap it in a list: [{values!r}]" if isinstance(values, str) else None
    return [_check_text(f"{name}[{i}]", v)
            for i, v in enumerate(as_str_list(values, name, what="str", hint=hint))]


def _check_pair(name: str, value: Any) -> tuple[str, str]:
    """A (form, tag) pair of non-empty str, e.g. ('먹', 'VV')."""
    if (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, str) and v for v in value)):
        return value[0], value[1]
    raise TypeError(f"{name} must be a (form, tag) pair of non-empty str such as ('먹', 'VV'), "
                    f"got {_short(value)}")


def _check_morpheme(name: str, value: Any) -> str | tuple[str, str]:
    """A morpheme for the similarity methods: a form ('사랑') or a (form, tag) pair."""
    if isinstance(value, str):
        if not value or value != value.strip() or " " in value:
            raise ValueError(f"{name} must be one morpheme form without spaces, such as '사랑', "
                             f"or a (form, tag) pair, got {value!r}")
        return value
    if isinstance(value, (tuple, list)):
        return _check_pair(name, value)
    raise TypeError(f"{name} must be a morpheme form (str, e.g. '사랑') or a (form, tag) pair "
                    f"(e.g. ('먹', 'VV')), got {type(value).__name__} ({_short(value)})")


# ---------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------

def _tagged(morphemes: Sequence[tuple[str, str]]) -> str:
    return " ".join(f"{form}/{tag}" for form, tag in morphemes)


@dataclass(frozen=True)
class SentenceScore:
    """The best morpheme analysis of a text and its log-probability under the CoNg model.

    ``logprob`` is Kiwi's score of the analysis: ``sum(logprobs) + eos_logprob`` (equal up to
    float32 rounding). ``logprobs[i]`` is the term of ``morphemes[i]`` (see the module
    docstring for what besides log P(m_i | m_<i) can be in it); ``eos_logprob`` is the sum of
    the end-of-sentence terms, 0.0 when there are none (``complete=False``, one sentence).
    """

    text: str
    complete: bool
    morphemes: tuple[tuple[str, str], ...]  # (form, tag), e.g. ("놓치", "VV")
    logprobs: tuple[float, ...]  # one term per morpheme
    eos_logprob: float  # the end-of-sentence terms together
    n_sentences: int  # sentences Kiwi found in the text
    logprob: float  # the whole score

    @property
    def n_eos(self) -> int:
        """How many end-of-sentence terms ``eos_logprob`` holds."""
        return self.n_sentences if self.complete else self.n_sentences - 1

    @property
    def n_predictions(self) -> int:
        """Predicted events: the morphemes plus the ends of sentence."""
        return len(self.morphemes) + self.n_eos

    @property
    def mean_logprob(self) -> float:
        """logprob / n_predictions: comparable between sentences of different lengths."""
        return self.logprob / self.n_predictions

    @property
    def perplexity(self) -> float:
        """exp(-mean_logprob): the model's average branching factor on this text."""
        return math.exp(-self.mean_logprob)

    @property
    def tagged(self) -> str:
        """The analysis as one string, e.g. ``"나/NP 는/JX 버스/NNG ..."``."""
        return _tagged(self.morphemes)


@dataclass(frozen=True)
class Continuation:
    """One choice scored by :meth:`KiwiLM.rank`: log P(choice | prefix) and its morphemes."""

    choice: str
    logprob: float  # score(prefix + sep + choice) - score(prefix as an unfinished sentence)
    morphemes: tuple[tuple[str, str], ...]  # the choice's morphemes in the full analysis
    prefix_reanalysed: bool  # the full text's best analysis splits the prefix differently
    text: str  # prefix + sep + choice, the text that was scored

    @property
    def prob(self) -> float:
        """exp(logprob)."""
        return math.exp(self.logprob)

    @property
    def tagged(self) -> str:
        """The choice's morphemes as one string, e.g. ``"놓치/VV 었/EP 다/EF"``."""
        return _tagged(self.morphemes)


@dataclass(frozen=True)
class NextMorpheme:
    """One prediction of :meth:`KiwiLM.next_morphemes`.

    ``form == ""`` stands for a whole class of tokens, named by the tag: SN any number,
    SF sentence-final punctuation, SSO/SSC opening/closing brackets and quotes, SL a Latin
    word, and so on (see ``label``).
    """

    form: str
    tag: str
    logprob: float  # natural log of P(morpheme | prefix), <= 0

    @property
    def prob(self) -> float:
        """P(morpheme | prefix), in (0, 1]."""
        return math.exp(self.logprob)

    @property
    def label(self) -> str:
        """``"form/TAG"``, or ``"<TAG>"`` for a class of tokens (empty form)."""
        return f"{self.form}/{self.tag}" if self.form else f"<{self.tag}>"


# ---------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------

class KiwiLM:
    """Kiwi's CoNg morpheme language model: sentence scores, continuations, next morphemes.

    Every method takes raw text (Kiwi analyses it into morphemes); see the module
    docstring for exactly what the scores measure. Creating the object loads Kiwi once per
    process (a clear ImportError names the package to install when kiwipiepy is missing).
    """

    def __init__(self) -> None:
        self._kiwi = _load_kiwi()

    def __repr__(self) -> str:
        import kiwipiepy

        return f"KiwiLM(model_type={self._kiwi.model_type!r}, kiwipiepy {kiwipiepy.__version__})"

    # ---- sentence scores ------------------------------------------------------
    def _analyze(self, text: str, complete: bool):
        """Kiwi's best analysis (tokens, score) of an already checked text."""
        tokens, score = self._kiwi.analyze(text, top_n=1, open_ending=not complete)[0]
        if not tokens:  # only whitespace or nothing Kiwi keeps: refuse rather than score 0
            raise ValueError(f"text {_short(text)} has no morphemes to score")
        return tokens, float(score)

    def score(self, text: str, complete: bool = True) -> SentenceScore:
        """The best analysis of ``text`` with its log-probability, morpheme by morpheme.

        ``complete=True``: ``text`` is a whole sentence and the end-of-sentence term is
        included; ``complete=False``: an unfinished sentence (a prefix), no final ``</s>``.
        """
        text = _check_text("text", text)
        complete = check_bool(complete, "complete")
        tokens, total = self._analyze(text, complete)
        logprobs = tuple(float(t.score) for t in tokens)
        n_sentences = len({t.sent_position for t in tokens})
        n_eos = n_sentences if complete else n_sentences - 1
        eos = total - math.fsum(logprobs) if n_eos else 0.0
        return SentenceScore(text=text, complete=complete,
                             morphemes=tuple((t.form, t.tag) for t in tokens),
                             logprobs=logprobs, eos_logprob=eos, n_sentences=n_sentences,
                             logprob=total)

    def sentence_logprob(self, text: str, complete: bool = True) -> float:
        """log P of the best analysis of ``text`` (nats): ``score(text, complete).logprob``."""
        return self.score(text, complete).logprob

    def chain_rule(self, text: str, complete: bool = True) -> pandas.DataFrame:
        """One table row per morpheme of the best analysis, then ``</s>``; like NGramLM's."""
        import pandas as pd

        s = self.score(text, complete)
        rows = [{"step": i, "morpheme": f"{form}/{tag}", "logprob": lp, "prob": math.exp(lp)}
                for i, ((form, tag), lp) in enumerate(zip(s.morphemes, s.logprobs), start=1)]
        if s.n_eos:
            rows.append({"step": len(rows) + 1,
                         "morpheme": "</s>" if s.n_eos == 1 else f"</s> x{s.n_eos}",
                         "logprob": s.eos_logprob, "prob": math.exp(s.eos_logprob)})
        return pd.DataFrame(rows)

    def compare(self, sentences: Sequence[str], complete: bool = True) -> pandas.DataFrame:
        """A table of sentences, in the order given, with their scores.

        Columns: sentence, logprob (the total), n_predictions, mean_logprob and perplexity
        (per prediction: use these between sentences of different lengths), morphemes.
        """
        import pandas as pd

        sentences = _check_texts("sentences", sentences)
        complete = check_bool(complete, "complete")
        rows = []
        for text in sentences:
            s = self.score(text, complete)
            rows.append({"sentence": text, "logprob": s.logprob,
                         "n_predictions": s.n_predictions, "mean_logprob": s.mean_logprob,
                         "perplexity": s.perplexity, "morphemes": s.tagged})
        return pd.DataFrame(rows)

    # ---- continuations ----------------------------------------------------------
    def rank(self, prefix: str, choices: Sequence[str], sep: str = " ",
             complete: bool = True) -> list[Continuation]:
        """Score each choice as a continuation of ``prefix``, most probable first.

        ``logprob = score(prefix + sep + choice, complete) - score(prefix, complete=False)``:
        the log of (best-analysis probability of the whole text) / (that of the prefix as an
        unfinished sentence). When the whole text's analysis starts with the prefix's own
        analysis (``prefix_reanalysed`` is False) this is exactly the chain-rule sum over the
        choice's morphemes, plus log P(</s>) if ``complete``. The prefix term is the same for
        every choice, so the order is that of the whole texts' scores. No length
        normalisation: a choice of more morphemes multiplies in more probabilities.
        Repeated choices are scored once; ties keep the order given.
        """
        prefix = _check_text("prefix", prefix)
        choices = list(dict.fromkeys(_check_texts("choices", choices)))  # drop repeats
        if not isinstance(sep, str):
            raise TypeError(f"sep must be a str (the text between prefix and choice), "
                            f"got {_short(sep)}")
        complete = check_bool(complete, "complete")
        prefix_tokens, prefix_score = self._analyze(prefix, complete=False)
        prefix_morphemes = [(t.form, t.tag) for t in prefix_tokens]
        start = len(prefix) + len(sep)
        out = []
        for choice in choices:
            text = prefix + sep + choice
            tokens, total = self._analyze(text, complete)
            head = [(t.form, t.tag) for t in tokens if t.start < len(prefix)]
            straddles = any(t.start < len(prefix) < t.start + t.len for t in tokens)
            out.append(Continuation(
                choice=choice, logprob=total - prefix_score,
                morphemes=tuple((t.form, t.tag) for t in tokens if t.start >= start),
                prefix_reanalysed=straddles or head != prefix_morphemes, text=text))
        out.sort(key=lambda c: -c.logprob)  # stable: ties keep the order given
        return out

    # ---- next morphemes ---------------------------------------------------------
    def _in_lm(self, key) -> bool:
        # Kiwi's dictionary has more morphemes than its LM; for one without an LM entry the
        # similarity is NaN (and predict_next_morpheme would silently drop the context).
        return not math.isnan(self._kiwi.morpheme_similarity(key, key))

    def _lm_context(self, prefix) -> list:
        """The prefix as LM keys (morpheme ids or (form, tag) pairs) for predict_next_morpheme."""
        if isinstance(prefix, str):
            prefix = _check_text("prefix", prefix)
            tokens, _ = self._analyze(prefix, complete=False)
            context = []
            for t in tokens:
                # Token.id is the LM's id for most morphemes, but variants such as 는/JX, 를/JKO,
                # 가/JKS have ids the LM lacks; by (form, tag) Kiwi finds their entry (은, 을, 이).
                if self._in_lm(t.id):
                    context.append(t.id)
                    continue
                key = (t.form, t.tag)
                try:
                    ok = self._in_lm(key)
                except ValueError:  # the form is ambiguous or unknown as a dictionary entry
                    ok = False
                if not ok:
                    analysis = _tagged((x.form, x.tag) for x in tokens)
                    raise ValueError(
                        f"prefix {_short(prefix)} is analysed as {analysis}, "
                        f"and {t.form}/{t.tag} has no entry in the language model, so the "
                        f"prediction would ignore the context; rephrase the prefix or give it "
                        f"as (form, tag) pairs")
                context.append(key)
            return context
        if not isinstance(prefix, Sequence):
            raise TypeError(f"prefix must be a str or a list of (form, tag) pairs, "
                            f"got {type(prefix).__name__}")
        if not prefix:
            raise ValueError("prefix is empty; expected a str or at least one (form, tag) pair")
        context = []
        for i, item in enumerate(prefix):
            if isinstance(item, str):
                raise TypeError(f"prefix[{i}] is the str {item!r}, but a list prefix must hold "
                                f"(form, tag) pairs such as ('말', 'NNG') (one pair? wrap it: "
                                f"[('말', 'NNG')]); to let Kiwi analyse text, give the prefix "
                                f"as one str")
            key = _check_pair(f"prefix[{i}]", item)
            try:
                ok = self._in_lm(key)
            except ValueError as err:  # unknown tag, unknown form, or several morphemes
                raise ValueError(f"prefix[{i}] {key!r}: {err}") from None
            if not ok:
                raise ValueError(f"prefix[{i}] {key!r} has no entry in the language model")
            context.append(key)
        return context

    def next_morphemes(self, prefix: str | Sequence[tuple[str, str]],
                       top_k: int = 10) -> list[NextMorpheme]:
        """The ``top_k`` most probable next morphemes after ``prefix``, most probable first.

        ``prefix`` is text (Kiwi uses its best analysis as an unfinished sentence, the
        analysis ``score(prefix, complete=False)`` shows) or a list of (form, tag) pairs to
        fix the analysis yourself, e.g. ``[("말", "NNG"), ("이", "JKS")]``. The prefix should
        end at a morpheme boundary (a whole eojeol). Probabilities are over the model's
        morphemes (no ``</s>``), summing to about 1 over all of them; variants are merged
        into one entry (을 stands for 을/를, 것 for 거). Sorted by probability; ties keep
        Kiwi's order.
        """
        top_k = check_int(top_k, "top_k", low=1)
        context = self._lm_context(prefix)
        predicted = self._kiwi.predict_next_morpheme(context, top_n=top_k)
        # float32 rounding could put a near-certain prediction a hair above log 1 = 0
        out = [NextMorpheme(m.form, m.tag, min(float(m.score), 0.0)) for m in predicted]
        out.sort(key=lambda m: -m.logprob)  # Kiwi sorts already; stable sort keeps its ties
        return out

    # ---- morpheme similarity ------------------------------------------------------
    def _similarity_key(self, name: str, value: Any):
        key = _check_morpheme(name, value)
        try:
            ok = self._in_lm(key)
        except ValueError as err:  # e.g. "Multiple morphemes found for the given form: ..."
            hint = "; give a (form, tag) pair such as ('먹', 'VV')" if "Multiple" in str(err) else ""
            raise ValueError(f"{name} {key!r}: {err}{hint}") from None
        if not ok:
            raise ValueError(f"{name} {key!r} has no embedding in the language model")
        return key

    def similarity(self, morpheme1: str | tuple[str, str],
                   morpheme2: str | tuple[str, str]) -> float:
        """Cosine similarity of two morphemes' CoNg embeddings, in [-1, 1].

        A morpheme is a form (``'사랑'``) when only one morpheme has it, else a (form, tag)
        pair (``('먹', 'VV')``).
        """
        key1 = self._similarity_key("morpheme1", morpheme1)
        key2 = self._similarity_key("morpheme2", morpheme2)
        # float32 rounding can give 1.0002 for a morpheme and its variant (는 vs 은)
        return max(-1.0, min(1.0, float(self._kiwi.morpheme_similarity(key1, key2))))

    def most_similar(self, morpheme: str | tuple[str, str],
                     top_k: int = 10) -> list[tuple[str, str, float]]:
        """The ``top_k`` morphemes nearest to ``morpheme``: (form, tag, cosine similarity)."""
        key = self._similarity_key("morpheme", morpheme)
        top_k = check_int(top_k, "top_k", low=1)
        return [(m.form, m.tag, max(-1.0, min(1.0, float(m.score))))
                for m in self._kiwi.most_similar_morphemes(key, top_n=top_k)]
