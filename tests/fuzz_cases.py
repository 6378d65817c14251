"""The bad-input table behind tests/test_fuzz.py (issue 15, item 6).

Every case is (callable, args, kwargs, expectation):

* ``Err(types, name)``: a clear lmlib error: an exception of one of ``types`` whose message
  names the argument the caller passed (``name`` as a whole word: "k" is not found in
  "top_k"), raised from lmlib's own code (the traceback's last frame lies in lmlib/).
  Wrong *types* want TypeError and wrong *values* ValueError; for scalar numbers
  (an int or float argument given a bool, a str, a float, None) either is accepted,
  because lmlib.base.check_int, the shared checker, answers those with ValueError.
* ``Ok(check, what)``: a correct result; ``check(result)`` must hold (not merely return).
* ``Foreign(types, why)``: an error raised outside lmlib that the table accepts, each one
  justified in ``why`` (outcome class (c); the issue allows at most 2 % of the cases).

Outcome classes (``classify``): (a) the clear lmlib error expected, (b) the correct result,
(c) an error raised outside lmlib or one that does not name the argument (or the wrong
type of error), (d) a silent wrong result: bad input accepted, or a wrong result.

Objects the cases call (tiny models, tokenizers, fitted n-gram models) are built once, on
first use, by ``obj(name)``; a case refers to them by name (``M("gpt", "generate")`` is
the bound method, ``L("gpt")`` the object as an argument), so collecting the table builds
nothing. Cases that fail now in modules this suite may not fix are listed in XFAIL with
what they do now; tests/test_fuzz.py marks them xfail(strict=True).

Run ``python tests/fuzz_cases.py`` for the count by module and outcome class.
"""

from __future__ import annotations

import math
import re
import sys
import traceback
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

LMLIB_DIR = str(Path(__file__).resolve().parents[1] / "lmlib")
NAN, INF = float("nan"), float("inf")
TE, VE = (TypeError,), (ValueError,)
TV = (TypeError, ValueError)  # a wrong type of scalar number: check_int answers ValueError


# ---------------------------------------------------------------------------
# expectations
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Err:
    types: tuple
    name: str

    def __repr__(self):
        return f"Err({'/'.join(t.__name__ for t in self.types)}, {self.name!r})"


@dataclass(frozen=True)
class Ok:
    check: Callable[[Any], bool]
    what: str

    def __repr__(self):
        return f"Ok({self.what})"


@dataclass(frozen=True)
class Foreign:
    types: tuple
    why: str

    def __repr__(self):
        return f"Foreign({'/'.join(t.__name__ for t in self.types)})"


@dataclass
class Case:
    id: str
    module: str  # the lmlib module whose code the case exercises
    fn: Any
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expect: Any = None


CASES: list[Case] = []


def add(id, module, fn, args=(), kwargs=None, expect=None):
    if any(c.id == id for c in CASES):
        raise AssertionError(f"duplicate case id {id}")
    CASES.append(Case(id, module, fn, tuple(args), dict(kwargs or {}), expect))


# ---------------------------------------------------------------------------
# lazily built objects
# ---------------------------------------------------------------------------

TEXTS = ["나는 어제 카페에 갔다", "나는 오늘 학교에 갔다", "어제 카페에 사람이 많았다",
         "오늘 카페에 갔다", "나는 어제 학교에 갔다", "카페에 사람이 많았다 정말"]
TOKS = [s.split() for s in TEXTS]
_BUILDERS: dict[str, Callable[[], Any]] = {}


def builder(name):
    def deco(f):
        _BUILDERS[name] = f
        return f
    return deco


@lru_cache(maxsize=None)
def obj(name: str):
    return _BUILDERS[name]()


class L:
    """An object of the table, resolved when the case runs."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.name}>"


class M:
    """The bound method `attr` of a table object, resolved when the case runs."""

    def __init__(self, name, attr):
        self.name, self.attr = name, attr

    def __call__(self, *args, **kwargs):
        return getattr(obj(self.name), self.attr)(*args, **kwargs)

    def __repr__(self):
        return f"{self.name}.{self.attr}"


class Lazy:
    """A value computed when the case runs (e.g. a tensor), to keep collection light."""

    def __init__(self, make, label):
        self.make, self.label = make, label

    def __repr__(self):
        return self.label


def _resolve(v):
    if isinstance(v, L):
        return obj(v.name)
    if isinstance(v, Lazy):
        return v.make()
    if type(v) in (list, tuple) and any(isinstance(x, (L, Lazy, list, tuple)) for x in v):
        return type(v)(_resolve(x) for x in v)
    return v


@builder("vocab")
def _vocab():
    from lmlib.text import Vocab
    return Vocab.build(TOKS)


@builder("bpe")
def _bpe():
    from lmlib.tokenizer import train_tokenizer
    return train_tokenizer(TEXTS, "bpe", vocab_size=300, min_frequency=1)


@builder("wp")
def _wp():
    from lmlib.tokenizer import train_tokenizer
    return train_tokenizer(TEXTS, "wordpiece", vocab_size=80, min_frequency=1)


@builder("lm2")
def _lm2():
    from lmlib.ngram import NGramLM
    return NGramLM(2, "laplace").fit(TOKS)


@builder("lm2_mle")
def _lm2_mle():
    from lmlib.ngram import NGramLM
    return NGramLM(2).fit(TOKS)


@builder("lm3_kn")
def _lm3_kn():
    from lmlib.ngram import NGramLM
    return NGramLM(3, "kneser-ney").fit(TOKS)


@builder("lm2_back")
def _lm2_back():
    from lmlib.ngram import NGramLM
    return NGramLM(2, "laplace", direction="backward").fit(TOKS)


@builder("scorer")
def _scorer():
    from lmlib.blanks import NGramBlankScorer
    return NGramBlankScorer(obj("lm2"), obj("lm2_back"))


@builder("blank")
def _blank():
    from lmlib.blanks import Blank
    return Blank(("나는", "어제"), "카페에", ("갔다",))


GPT_V = 40


@builder("gpt")
def _gpt():
    import torch
    from lmlib.gpt import GPT, GPTConfig
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=GPT_V, max_len=12, d_model=16, n_heads=2, n_layers=1)).eval()


@builder("gpt_bpe")
def _gpt_bpe():
    import torch
    from lmlib.gpt import GPT, GPTConfig
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=obj("bpe").vocab_size, max_len=16, d_model=16, n_heads=2,
                         n_layers=1)).eval()


@builder("bert_cfg")
def _bert_cfg():
    from lmlib.bert import BertConfig
    return BertConfig(vocab_size=obj("wp").vocab_size, max_len=12, d_model=16, n_heads=2,
                      n_layers=1, d_ff=32, dropout=0.0)


@builder("bert_pt")
def _bert_pt():
    import torch
    from lmlib.bert import BertForPreTraining
    torch.manual_seed(0)
    return BertForPreTraining(obj("bert_cfg")).eval()


@builder("bert_base")
def _bert_base():
    import torch
    from lmlib.bert import BertModel
    torch.manual_seed(0)
    return BertModel(obj("bert_cfg")).eval()


@builder("bert_clf")
def _bert_clf():
    import torch
    from lmlib.bert import BertForSequenceClassification
    torch.manual_seed(0)
    return BertForSequenceClassification(obj("bert_cfg"), n_labels=2).eval()


TR_V = 12


@builder("tr")
def _tr():
    from lmlib.transformer import Transformer, TransformerConfig
    return Transformer(TransformerConfig(TR_V, TR_V, d_model=16, n_heads=2, n_layers=1, d_ff=16,
                                         max_len=10, dropout=0.0)).eval()


@builder("s2s")
def _s2s():
    import torch
    from lmlib.seq2seq import Seq2Seq, Seq2SeqConfig
    torch.manual_seed(0)
    return Seq2Seq(Seq2SeqConfig(TR_V, TR_V, d_model=8, d_hidden=8, attention=True)).eval()


@builder("mha")
def _mha():
    from lmlib.attention import MultiHeadAttention
    return MultiHeadAttention(8, 2).eval()


@builder("add_att")
def _add_att():
    from lmlib.attention import AdditiveAttention
    return AdditiveAttention(4, 6, 5)


@builder("cnn")
def _cnn():
    from lmlib.tasks import ClassifierConfig, CNNClassifier
    return CNNClassifier(ClassifierConfig(vocab_size=10, d_model=8, n_classes=4, max_len=8))


@builder("gru")
def _gru():
    from lmlib.tasks import ClassifierConfig, GRUClassifier
    return GRUClassifier(ClassifierConfig(vocab_size=10, d_model=8, n_classes=4, max_len=8))


@builder("satt")
def _satt():
    from lmlib.tasks import ClassifierConfig, SelfAttentionClassifier
    return SelfAttentionClassifier(ClassifierConfig(vocab_size=10, d_model=8, n_classes=4,
                                                    max_len=8, n_heads=2, d_ff=8))


@builder("clf")
def _clf():
    from lmlib.baselines import tfidf_logreg
    texts = ["좋아요 최고", "정말 좋아요", "최고 최고", "별로 싫어요", "정말 싫어요", "별로 별로"]
    return tfidf_logreg(texts, [1, 1, 1, 0, 0, 0], min_df=1)


@builder("kiwi")
def _kiwi():
    from lmlib.kiwi_lm import KiwiLM
    return KiwiLM()


@builder("machine")
def _machine():
    from lmlib.distributed import Machine
    return Machine()


@builder("interval")
def _interval():
    from lmlib.stats import bootstrap_ci
    return bootstrap_ci([1.0, 0.0, 1.0, 1.0], n_boot=200)


@builder("stream")
def _stream():
    import torch
    return torch.arange(50, dtype=torch.long) % GPT_V


@builder("fig")
def _fig():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [1, 4, 9])
    return fig


@builder("ax")
def _ax():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt.subplots()[1]


def T(*shape_or_data, dtype="long", label=None):
    """A tensor made when the case runs: T([[1, 2]]) or T(shape=...)."""
    data = shape_or_data[0]

    def make():
        import torch
        return torch.tensor(data, dtype=getattr(torch, dtype))
    return Lazy(make, label or f"tensor({data!r}, {dtype})")


def Z(*shape, dtype="long", fill=0, label=None):
    def make():
        import torch
        return torch.full(shape, fill, dtype=getattr(torch, dtype))
    return Lazy(make, label or f"full({shape}, {fill}, {dtype})")


def R(*shape, dtype="float32", label=None):
    def make():
        import torch
        g = torch.Generator().manual_seed(0)
        return torch.randn(*shape, generator=g, dtype=getattr(torch, dtype))
    return Lazy(make, label or f"randn{shape}")


# ---------------------------------------------------------------------------
# systematic bad values by parameter kind: (label, value, exception types)
# ---------------------------------------------------------------------------

def bad_int(low=1, none_ok=False, high=None):
    out = []
    for v in dict.fromkeys((low - 1, -1) if low > -1 else (low - 1,)):
        out.append((f"{v}", v, VE))
    if high is not None:
        out.append((f"{high + 1}", high + 1, VE))
    out += [("1.5", 1.5 + max(low, 0), TV), ("True", True, TV), ("str", str(max(low, 1)), TV)]
    if not none_ok:
        out.append(("None", None, TV))
    return out


def bad_float(lo=0.0, hi=None, lo_open=True, hi_open=True, none_ok=False, finite=True):
    out = [("nan", NAN, VE)]
    if hi is None and finite:
        out.append(("inf", INF, VE))
    if hi is not None:
        out.append(("inf", INF, VE))
    if lo is not None:
        out.append(("below", lo - 0.5, VE))
        if lo_open:
            out.append(("lo", lo, VE))
    if hi is not None:
        out.append(("above", hi + 0.5, VE))
        if hi_open:
            out.append(("hi", hi, VE))
    out += [("str", "0.5", TV)]
    if not none_ok:
        out.append(("None", None, TV))
    return out


def bad_str_list(empty_ok=False, none_ok=False):
    out = [("bare-str", "나는 간다", TE), ("ints", [1, 2], TE)]
    if not empty_ok:
        out.append(("empty", [], VE))
    if not none_ok:
        out.append(("None", None, TE))
    return out


def bad_tokens(empty_ok=True):
    out = [("bare-str", "나는 간다", TE), ("ints", ["나는", 2], TE), ("None", None, TE), ("int", 5, TE)]
    if not empty_ok:
        out.append(("empty", [], VE))
    return out


def bad_token_lists():
    return [("bare-str", "나는 간다", TE), ("list-of-str", ["나는 간다", "오늘 갔다"], TE),
            ("ints", [[1, 2]], TE), ("empty", [], VE), ("None", None, TE)]


def bad_str(empty_bad=False, none_ok=False):
    out = [("int", 123, TE), ("bytes", b"abc", TE)]
    if not none_ok:
        out.append(("None", None, TE))
    if empty_bad:
        out.append(("empty", "", VE))
    return out


def bad_choice(none_ok=False):
    out = [("bogus", "bogus", VE), ("int", 3, TV)]
    if not none_ok:
        out.append(("None", None, TV))
    return out


def bad_ids(V, ndim=2, none_ok=False, maxlen=None):
    shape_ok = [[4, 5, 6]] if ndim == 2 else [4, 5, 6]
    wrong_ndim = [4, 5, 6] if ndim == 2 else [[4, 5, 6]]
    out = [("float", T(shape_ok, dtype="float32"), TV),
           ("ndim", T(wrong_ndim), VE),
           ("3d", T([[[4, 5]]]), VE),
           ("id=V", T([[4, V]] if ndim == 2 else [4, V]), VE),
           ("id=-1", T([[4, -1]] if ndim == 2 else [4, -1]), VE),
           ("empty", Z(1, 0) if ndim == 2 else Z(0), VE),
           ("list", shape_ok, TE)]
    if maxlen is not None:
        out.append(("too-long", Z(1, maxlen + 1, fill=4), VE))
    if not none_ok:
        out.append(("None", None, TE))
    return out


def bad_callable():
    return [("int", 42, TE), ("str", "fn", TE), ("None", None, TE)]


def bad_generator():
    return [("int", 42, TE), ("str", "seed", TE)]


def bad_path():
    return [("int", 123, TE), ("None", None, TE)]


def bad_bool():
    return [("str", "no", TE), ("None", None, TE)]


KINDS = {"int": bad_int, "float": bad_float, "str_list": bad_str_list, "tokens": bad_tokens,
         "token_lists": bad_token_lists, "str": bad_str, "choice": bad_choice, "ids": bad_ids,
         "callable": bad_callable, "generator": bad_generator, "path": bad_path,
         "bool": bad_bool}


def sweep(module, qual, fn, base: dict, params: dict, args=()):
    """One case per (parameter, bad value): the valid call `base` with that value swapped in."""
    for pname, spec in params.items():
        kind, opts = (spec, {}) if isinstance(spec, str) else (spec[0], spec[1])
        for label, value, types in KINDS[kind](**opts):
            add(f"{module}.{qual}:{pname}={label}", module, fn, args, {**base, pname: value},
                Err(types, pname))


# ---------------------------------------------------------------------------
# running and classifying one case
# ---------------------------------------------------------------------------

def names_arg(message: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def _last_frame_in_lmlib(exc: BaseException) -> bool:
    tb = traceback.extract_tb(exc.__traceback__)
    return bool(tb) and tb[-1].filename.startswith(LMLIB_DIR)


def call(case: Case):
    return case.fn(*[_resolve(a) for a in case.args],
                   **{k: _resolve(v) for k, v in case.kwargs.items()})


def classify(case: Case) -> tuple[str, str]:
    """(outcome class a/b/c/d, what happened) of one case as lmlib behaves now."""
    e = case.expect
    try:
        result = call(case)
    except Exception as exc:  # noqa: BLE001 - what an error is, is the point here
        where = "lmlib" if _last_frame_in_lmlib(exc) else "outside lmlib"
        what = f"{type(exc).__name__} from {where}: {str(exc)[:160]}"
        if isinstance(e, Err):
            if isinstance(exc, e.types) and names_arg(str(exc), e.name) and where == "lmlib":
                return "a", what
            if names_arg(str(exc), e.name) and where == "lmlib" and isinstance(exc, (TypeError, ValueError)):
                return "c", "[type only] " + what  # clear and named, but the other of TypeError/ValueError
            return "c", what
        if isinstance(e, Foreign):
            return ("c", what) if isinstance(exc, e.types) else ("c", "unexpected " + what)
        return "c", "raised where a result was expected: " + what
    shown = repr(result)
    shown = shown if len(shown) < 120 else shown[:117] + "..."
    if isinstance(e, Ok):
        try:
            good = bool(e.check(result))
        except Exception as exc:  # noqa: BLE001
            good, shown = False, f"{shown} (check raised {type(exc).__name__}: {exc})"
        return ("b", f"returned {shown}") if good else ("d", f"WRONG result {shown}")
    return "d", f"accepted silently, returned {shown}"


def check(case: Case) -> None:
    """Assert the case's expectation (what tests/test_fuzz.py runs)."""
    import pytest

    e = case.expect
    if isinstance(e, (Err, Foreign)):
        with pytest.raises(e.types) as info:
            call(case)
        if isinstance(e, Err):
            msg = str(info.value)
            assert names_arg(msg, e.name), f"the message does not name {e.name!r}: {msg!r}"
            assert _last_frame_in_lmlib(info.value), (
                f"raised outside lmlib: {traceback.format_exception(info.value)[-2:]}")
    else:
        result = call(case)
        assert e.check(result), f"wrong result for {case.id} ({e.what}): {result!r}"


def build() -> list[Case]:
    """Fill CASES (once)."""
    if not CASES:
        register()
    return CASES


def xfail_reason(case: Case) -> str | None:
    return XFAIL.get(case.id)


# ===========================================================================
# THE TABLE
# ===========================================================================

def _torch():
    import torch
    return torch


def _close(a, b, tol=1e-6):
    return abs(a - b) <= tol * max(1.0, abs(b))


def register() -> None:
    _base()
    _text()
    _tokenizer()
    _ngram()
    _blanks()
    _stats()
    _baselines()
    _hub_runtime()
    _viz()
    _widgets()
    _exercises()
    _kiwi_lm()
    _attention()
    _transformer()
    _seq2seq()
    _gpt()
    _bert()
    _bert_data()
    _pretrain()
    _training()
    _tasks()
    _distributed()
    _data()
    _checkpoint_api()


# ---- base (the shared checkers themselves) --------------------------------------------

def _base():
    from lmlib import base
    m = "base"
    for label, value, types in [("str", "abc", TE), ("int", 5, TE), ("None", None, TE), ("ints", [1], TE),
                                ("empty", [], VE)]:
        add(f"base.as_str_list:value={label}", m, base.as_str_list, (value, "my_words"), {},
            Err(types, "my_words"))
    add("base.as_str_list:empty-allowed", m, base.as_str_list, ([], "w"), {"allow_empty": True},
        expect=Ok(lambda r: r == [], "[]"))
    add("base.as_str_list:tuple", m, base.as_str_list, (("a", "b"), "w"), expect=Ok(lambda r: r == ["a", "b"], "a list"))
    for label, value, types in [("str", "3", TV), ("bool", True, TV), ("float", 2.0, TV), ("None", None, TV),
                                ("low", 0, VE)]:
        add(f"base.check_int:value={label}", m, base.check_int, (value, "my_n"), {"low": 1}, Err(types, "my_n"))
    add("base.check_int:none-allowed", m, base.check_int, (None, "n"), {"allow_none": True},
        expect=Ok(lambda r: r is None, "None"))
    add("base.check_int:value", m, base.check_int, (7, "n"), {"low": 7}, expect=Ok(lambda r: r == 7, "7"))


# ---- text -----------------------------------------------------------------------------

def _text():
    from lmlib import text
    m = "text"
    sweep(m, "tokenize", text.tokenize, {"text": "나는 간다"}, {"text": "str", "level": "choice"})
    sweep(m, "get_tokenizer", text.get_tokenizer, {}, {"level": "choice"})
    for cls in (text.EojeolTokenizer, text.CharTokenizer, text.EnglishTokenizer):
        sweep(m, f"{cls.__name__}.tokenize", cls().tokenize, {"text": "a b"}, {"text": "str"})
        sweep(m, f"{cls.__name__}.detokenize", cls().detokenize, {"tokens": ["a"]},
              {"tokens": "tokens"})
    add("text.CharTokenizer.tokenize:text=space-marker", m, text.CharTokenizer().tokenize,
        kwargs={"text": "a\u2581b"}, expect=Err(VE, "text"))
    add("text.CharTokenizer:round-trip", m,
        lambda: text.CharTokenizer().detokenize(text.CharTokenizer().tokenize(" 나는  간다 ")),
        expect=Ok(lambda r: r == " 나는  간다 ", "exact round trip"))
    add("text.MorphTokenizer:with_tags=str", m, text.MorphTokenizer, kwargs={"with_tags": "yes"},
        expect=Err(TE, "with_tags"))
    add("text.MorphTokenizer:with_tags=1", m, text.MorphTokenizer, kwargs={"with_tags": 1},
        expect=Err(TE, "with_tags"))
    sweep(m, "Vocab", text.Vocab, {}, {"itos": "str_list"})
    add("text.Vocab:itos=no-specials", m, text.Vocab, kwargs={"itos": ["a", "b"]},
        expect=Err(VE, "itos"))
    add("text.Vocab:itos=duplicate", m, text.Vocab,
        kwargs={"itos": list(text.SPECIAL_TOKENS) + ["a", "a"]}, expect=Err(VE, "itos"))
    b = {"token_lists": TOKS}
    for label, value, types in bad_token_lists():
        if label == "empty":
            continue
        add(f"text.Vocab.build:token_lists={label}", m, text.Vocab.build, (),
            {**b, "token_lists": value}, Err(types, "token_lists"))
    add("text.Vocab.build:token_lists=empty", m, text.Vocab.build, kwargs={"token_lists": []},
        expect=Ok(lambda v: len(v) == len(text.SPECIAL_TOKENS), "specials only"))
    sweep(m, "Vocab.build", text.Vocab.build, b,
          {"min_freq": "int", "max_size": ("int", {"low": 7, "none_ok": True})})
    add("text.Vocab.build:max_size=8", m, text.Vocab.build, kwargs={**b, "max_size": 8},
        expect=Ok(lambda v: len(v) == 8 and v.itos[7] == "갔다", "most frequent word kept (ties by the word)"))
    sweep(m, "Vocab.token_to_id", M("vocab", "token_to_id"), {}, {"token": "str"})
    add("text.Vocab.token_to_id:unknown", m, M("vocab", "token_to_id"), kwargs={"token": "뷁"},
        expect=Err(VE, "token"))
    for label, value, types in [("1.5", 1.5, TE), ("str", "3", TE), ("None", None, TE),
                                ("True", True, TE), ("-1", -1, VE), ("len", 999, VE)]:
        add(f"text.Vocab.id_to_token:id={label}", m, M("vocab", "id_to_token"), (),
            {"id": value}, Err(types, "id"))
    sweep(m, "Vocab.encode", M("vocab", "encode"), {"tokens": ["나는"]}, {"tokens": "tokens"})
    for label, value, types in [("str", "abc", TE), ("floats", [1.5], TE), ("None", None, TE),
                                ("big", [999], VE), ("neg", [-1], VE), ("bools", [True], TE)]:
        add(f"text.Vocab.decode:ids={label}", m, M("vocab", "decode"), (), {"ids": value},
            Err(types, "ids"))
    add("text.Vocab.decode:skip_special", m, M("vocab", "decode"),
        kwargs={"ids": [2, 1, 7, 3], "skip_special": True},
        expect=Ok(lambda r: r == ["<unk>", obj("vocab").itos[7]], "unk kept, others dropped"))
    add("text.Vocab.load:path=missing", m, text.Vocab.load, kwargs={"path": "/nonexistent/v.json"},
        expect=Err((FileNotFoundError,), "/nonexistent/v.json"))
    for label, value, _t in bad_path():
        add(f"text.Vocab.load:path={label}", m, text.Vocab.load, kwargs={"path": value},
            expect=Err(TE, "path"))


# ---- tokenizer ------------------------------------------------------------------------

def _tokenizer():
    from lmlib import tokenizer as tk
    m = "tokenizer"
    base = {"texts": TEXTS, "kind": "char", "vocab_size": 300, "min_frequency": 1}
    sweep(m, "train_tokenizer", tk.train_tokenizer, base,
          {"texts": "str_list", "kind": "choice", "vocab_size": ("int", {"low": 263}),
           "min_frequency": "int", "pre_tokenize": "choice"})
    add("tokenizer.train_tokenizer:wordpiece-vocab_size=8", m, tk.train_tokenizer,
        kwargs={**base, "kind": "wordpiece", "vocab_size": 8},
        expect=Err(VE, "vocab_size"))
    sweep(m, "Tokenizer.encode", M("bpe", "encode"), {"text": "나는"}, {"text": "str"})
    sweep(m, "Tokenizer.tokens", M("bpe", "tokens"), {"text": "나는"}, {"text": "str"})
    sweep(m, "Tokenizer.encode_batch", M("bpe", "encode_batch"), {"texts": ["나는"]},
          {"texts": ("str_list", {"empty_ok": True})})
    add("tokenizer.Tokenizer.decode:round-trip", m,
        lambda: obj("bpe").decode(obj("bpe").encode("나는 어제 🙂 갔다")),
        expect=Ok(lambda r: r == "나는 어제 🙂 갔다", "byte fallback round trip"))
    for label, value, types in [("str", "abc", TE), ("floats", [1.5], TE), ("None", None, TE),
                                ("big", [10 ** 6], VE), ("neg", [-1], VE), ("bools", [True], TE),
                                ("bytes", b"ab", TE)]:
        add(f"tokenizer.Tokenizer.decode:ids={label}", m, M("bpe", "decode"), (), {"ids": value},
            Err(types, "ids"))
    for label, value, types in [("1.5", 1.5, TE), ("str", "3", TE), ("None", None, TE),
                                ("True", True, TE), ("-1", -1, VE), ("big", 10 ** 6, VE)]:
        add(f"tokenizer.Tokenizer.id_to_token:id={label}", m, M("bpe", "id_to_token"), (),
            {"id": value}, Err(types, "id"))
    add("tokenizer.Tokenizer.token_to_id:token=int", m, M("bpe", "token_to_id"),
        kwargs={"token": 5}, expect=Err(TE, "token"))
    add("tokenizer.Tokenizer.token_to_id:token=unknown", m, M("bpe", "token_to_id"),
        kwargs={"token": "없는조각"}, expect=Err(VE, "token"))
    add("tokenizer.Tokenizer:hf_tokenizer=str", m, tk.Tokenizer,
        kwargs={"hf_tokenizer": "bpe", "kind": "bpe"}, expect=Err(TE, "hf_tokenizer"))
    add("tokenizer.Tokenizer:kind=bogus", m, lambda **kw: tk.Tokenizer(obj("bpe").hf, **kw),
        kwargs={"kind": "bogus"}, expect=Err(VE, "kind"))
    add("tokenizer.Tokenizer:pre_tokenize=bogus", m,
        lambda **kw: tk.Tokenizer(obj("bpe").hf, "bpe", **kw),
        kwargs={"pre_tokenize": "bogus"}, expect=Err(VE, "pre_tokenize"))
    add("tokenizer.Tokenizer.load:path=missing", m, tk.Tokenizer.load,
        kwargs={"path": "/nonexistent/tok"}, expect=Err((FileNotFoundError,), "/nonexistent/tok"))
    for label, value, _t in bad_path():
        add(f"tokenizer.Tokenizer.load:path={label}", m, tk.Tokenizer.load, kwargs={"path": value},
            expect=Err(TE, "path"))


# ---- ngram ----------------------------------------------------------------------------

def _ngram():
    from lmlib import ngram
    from lmlib.ngram import NGramLM
    m = "ngram"
    sweep(m, "NGramLM", NGramLM, {"order": 2},
          {"order": "int", "smoothing": "choice", "direction": "choice"})
    sweep(m, "NGramLM", NGramLM, {"order": 2, "smoothing": "add-k"}, {"k": "float"})
    sweep(m, "NGramLM", NGramLM, {"order": 2, "smoothing": "kneser-ney"},
          {"discount": ("float", {"lo": 0.0, "hi": 1.0, "none_ok": True})})
    add("ngram.NGramLM:laplace-k=2", m, NGramLM, kwargs={"order": 2, "smoothing": "laplace", "k": 2},
        expect=Err(VE, "k"))
    add("ngram.NGramLM:kn-k=2", m, NGramLM, kwargs={"order": 2, "smoothing": "kneser-ney", "k": 2},
        expect=Err(VE, "k"))
    add("ngram.NGramLM:mle-discount", m, NGramLM, kwargs={"order": 2, "discount": 0.5},
        expect=Err(VE, "discount"))
    add("ngram.NGramLM.prob:not-fitted", m, lambda: NGramLM(2).prob("a"),
        expect=Err((RuntimeError,), "fit"))
    sweep(m, "NGramLM.fit", lambda **kw: NGramLM(2).fit(**kw), {}, {"sentences": "token_lists"})
    add("ngram.NGramLM.fit:sentences=padded", m, lambda **kw: NGramLM(2).fit(**kw),
        kwargs={"sentences": [["<s>", "a"]]}, expect=Err(VE, "sentences"))
    for meth in ("prob", "logprob"):
        sweep(m, f"NGramLM.{meth}", M("lm2", meth), {"word": "갔다", "context": ["카페에"]},
              {"word": "str", "context": "tokens"})
    add("ngram.NGramLM.prob:mle-bigram", m, M("lm2_mle", "prob"),
        kwargs={"word": "갔다", "context": ["카페에"]},
        expect=Ok(lambda p: _close(p, 2 / 4), "count(카페에 갔다)/count(카페에) = 2/4"))
    add("ngram.NGramLM.prob:unknown-word", m, M("lm2_mle", "prob"),
        kwargs={"word": "뷁", "context": ["카페에"]}, expect=Ok(lambda p: p == 0.0, "0 under MLE"))
    add("ngram.NGramLM.logprob:zero", m, M("lm2_mle", "logprob"),
        kwargs={"word": "뷁", "context": ["카페에"]}, expect=Ok(lambda p: p == -math.inf, "-inf"))
    add("ngram.NGramLM.prob:backward-context-order", m, M("lm2_back", "prob"),
        kwargs={"word": "카페에", "context": ["갔다"]},
        expect=Ok(lambda p: _close(p, obj("lm2_back").prob("카페에", ["갔다", "사람이"]))
                  and not _close(p, obj("lm2_back").prob("카페에", ["사람이", "갔다"])),
                  "only the nearest following word (the first) counts"))
    for meth in ("sentence_prob", "sentence_logprob", "chain_rule"):
        sweep(m, f"NGramLM.{meth}", M("lm2", meth), {}, {"tokens": "tokens"})
    add("ngram.NGramLM.sentence_logprob:empty", m, M("lm2", "sentence_logprob"),
        kwargs={"tokens": []},
        expect=Ok(lambda r: _close(r, math.log(obj("lm2").prob("</s>", ["<s>"]))),
                  "log P(</s> | <s>)"))
    add("ngram.NGramLM.sentence_logprob:mle-empty", m, M("lm2_mle", "sentence_logprob"),
        kwargs={"tokens": []}, expect=Ok(lambda r: r == -math.inf, "no empty sentence in training: -inf"))
    sweep(m, "NGramLM.perplexity", M("lm2", "perplexity"), {}, {"sentences": "token_lists"})
    add("ngram.NGramLM.perplexity:kn-unknown", m, M("lm3_kn", "perplexity"),
        kwargs={"sentences": [["뷁"]]}, expect=Err(VE, "sentences"))
    add("ngram.NGramLM.perplexity:mle-unseen", m, M("lm2_mle", "perplexity"),
        kwargs={"sentences": [["카페에", "나는"]]}, expect=Ok(lambda r: r == math.inf, "inf"))
    sweep(m, "NGramLM.rank", M("lm2", "rank"), {"context": ["카페에"]},
          {"context": "tokens", "top_k": ("int", {"none_ok": True})})
    for label, value, types in bad_tokens():
        if label != "None":
            add(f"ngram.NGramLM.rank:candidates={label}", m, M("lm2", "rank"), (),
                {"context": ["카페에"], "candidates": value}, Err(types, "candidates"))
    add("ngram.NGramLM.rank:top_k>V", m, M("lm2", "rank"), kwargs={"context": ["카페에"], "top_k": 999},
        expect=Ok(lambda r: len(r) == len(obj("lm2").vocab) - 2, "every word but <s>, <unk>"))
    add("ngram.NGramLM.rank:candidates-repeat", m, M("lm2", "rank"),
        kwargs={"context": ["카페에"], "candidates": ["갔다", "갔다"]},
        expect=Ok(lambda r: [w for w, _ in r] == ["갔다"], "repeats dropped"))
    sweep(m, "NGramLM.continuations", M("lm2", "continuations"), {}, {"context": "tokens"})
    add("ngram.NGramLM.continuations:counts", m, M("lm2", "continuations"),
        kwargs={"context": ["카페에"]},
        expect=Ok(lambda r: r == [("갔다", 2), ("사람이", 2)], "counts after 카페에"))
    sweep(m, "NGramLM.probs", M("lm2", "probs"), {"words": ["갔다"], "context": ["카페에"]},
          {"words": "tokens", "context": "tokens"})
    sweep(m, "NGramLM.next_word_distribution", M("lm2", "next_word_distribution"), {},
          {"context": "tokens"})
    add("ngram.NGramLM.next_word_distribution:sums-to-1-kn", m, M("lm3_kn", "next_word_distribution"),
        kwargs={"context": ["나는", "어제"]},
        expect=Ok(lambda d: _close(sum(d.values()), 1.0, 1e-9), "sums to 1"))
    sweep(m, "NGramLM.count", M("lm2", "count"), {}, {"ngram": ("tokens", {"empty_ok": False})})
    add("ngram.NGramLM.count:too-long", m, M("lm2", "count"), kwargs={"ngram": ["a", "b", "c"]},
        expect=Err(VE, "ngram"))
    sweep(m, "NGramLM.generate", M("lm2", "generate"), {"seed": 0},
          {"context": "tokens", "max_tokens": "int", "temperature": "float"})
    for label, value in [("1.5", 1.5), ("str", "3"), ("True", True)]:
        add(f"ngram.NGramLM.generate:seed={label}", m, M("lm2", "generate"), (), {"seed": value},
            Err(TV, "seed"))
    add("ngram.NGramLM.generate:mle-unseen-context", m, M("lm2_mle", "generate"),
        kwargs={"context": ["뷁"]}, expect=Err(VE, "context"))
    add("ngram.NGramLM.generate:max_tokens=1", m, M("lm2", "generate"),
        kwargs={"max_tokens": 1, "seed": 0}, expect=Ok(lambda r: len(r) == 1, "one word"))
    add("ngram.NGramLM.generate:greedy", m, M("lm2_mle", "generate"),
        kwargs={"context": ["어제"], "greedy": True},
        expect=Ok(lambda r: r == ["카페에", "갔다", "</s>"], "argmax path"))
    sweep(m, "NGramLM.with_smoothing", M("lm2", "with_smoothing"), {},
          {"smoothing": ("choice", {"none_ok": True})})
    add("ngram.NGramLM.with_smoothing:kn-from-laplace", m, M("lm2", "with_smoothing"),
        kwargs={"smoothing": "kneser-ney"}, expect=Err(VE, "smoothing"))
    sweep(m, "NGramLM.with_smoothing", M("lm2", "with_smoothing"), {"smoothing": "add-k"},
          {"k": "float"})
    sweep(m, "rare_to_unk", ngram.rare_to_unk, {"train": TOKS},
          {"train": "token_lists", "min_count": "int"})
    for label, value, types in bad_token_lists():
        add(f"ngram.rare_to_unk:others={label}", m, lambda v=value: ngram.rare_to_unk(TOKS, v),
            expect=Err(types, "others"))
    add("ngram.rare_to_unk:result", m, ngram.rare_to_unk, ([["a", "b", "a"]], [["a", "c"]]),
        expect=Ok(lambda r: r == ([["a", "<unk>", "a"]], [["a", "<unk>"]]), "rare and unseen -> unk"))


# ---- blanks ---------------------------------------------------------------------------

def _blanks():
    from lmlib import blanks
    m = "blanks"
    sweep(m, "make_blanks", blanks.make_blanks, {"sentences": TOKS},
          {"sentences": "token_lists", "vocab": ("str_list", {"none_ok": True}),
           "min_len": ("int", {"low": 3})})
    for label, value in [("1.5", 1.5), ("str", "3"), ("True", True), ("list", [1])]:
        add(f"blanks.make_blanks:seed={label}", m, blanks.make_blanks, (),
            {"sentences": TOKS, "seed": value}, Err(TV, "seed"))
    add("blanks.make_blanks:all-short", m, blanks.make_blanks,
        kwargs={"sentences": [["a", "b"]]}, expect=Ok(lambda r: r == [], "no sentence long enough"))
    add("blanks.make_blanks:vocab-limits-answers", m, blanks.make_blanks,
        kwargs={"sentences": TOKS, "vocab": ["어제"]},
        expect=Ok(lambda r: len(r) == 2 and all(b.answer == "어제" for b in r), "answers in vocab (inner 어제 twice)"))
    add("blanks.make_blanks:inner-position", m, blanks.make_blanks,
        kwargs={"sentences": [["a", "b", "c"]]},
        expect=Ok(lambda r: r == [blanks.Blank(("a",), "b", ("c",))], "the only inner word"))
    for label, kw, types, name in [
            ("left=str", {"left": "나는 어제", "answer": "a", "right": ("b",)}, TE, "left"),
            ("right=str", {"left": ("a",), "answer": "a", "right": "갔다"}, TE, "right"),
            ("answer=int", {"left": ("a",), "answer": 3, "right": ("b",)}, TE, "answer"),
            ("left=ints", {"left": (1, 2), "answer": "a", "right": ("b",)}, TE, "left"),
            ("answer=empty", {"left": ("a",), "answer": "", "right": ("b",)}, VE, "answer")]:
        add(f"blanks.Blank:{label}", m, blanks.Blank, (), kw, Err(types, name))
    add("blanks.Blank:lists-become-tuples", m, blanks.Blank,
        kwargs={"left": ["a"], "answer": "b", "right": ["c"]},
        expect=Ok(lambda b: b == blanks.Blank(("a",), "b", ("c",)) and str(b) == "a ___ c",
                  "tuples"))
    S = blanks.NGramBlankScorer
    for label, kw, types, name in [
            ("forward=str", {"forward": "lm"}, TE, "forward"),
            ("backward=str", {"backward": "lm"}, TE, "backward"),
            ("forward=int", {"forward": 3}, TE, "forward"),
            ("none", {}, VE, "forward"),
            ("forward=backward-model", {"forward": L("lm2_back")}, VE, "forward"),
            ("backward=forward-model", {"backward": L("lm2")}, VE, "backward"),
            ("forward=unfitted", {"forward": Lazy(lambda: __import__("lmlib.ngram").ngram.NGramLM(2), "NGramLM(2)")}, (RuntimeError,), "fit")]:
        add(f"blanks.NGramBlankScorer:{label}", m, S, (), kw, Err(types, name))
    for label, value, types in bad_str_list(none_ok=True) + [("unknown", ["뷁"], VE),
                                                             ("special", ["</s>"], VE)]:
        add(f"blanks.NGramBlankScorer:candidates={label}", m, S, (),
            {"forward": L("lm2"), "candidates": value}, Err(types, "candidates"))
    for label, value, types in [("str", "나는 ___ 갔다", TE), ("None", None, TE), ("tuple", ("a", "b", "c"), TE)]:
        add(f"blanks.NGramBlankScorer.scores:blank={label}", m, M("scorer", "scores"), (),
            {"blank": value}, Err(types, "blank"))
        add(f"blanks.NGramBlankScorer.rank_blank:blank={label}", m, M("scorer", "rank_blank"), (),
            {"blank": value}, Err(types, "blank"))
    sweep(m, "NGramBlankScorer.rank_blank", M("scorer", "rank_blank"), {"blank": L("blank")},
          {"top_k": ("int", {"none_ok": True})})
    add("blanks.NGramBlankScorer.rank_blank:both-directions", m, M("scorer", "rank_blank"),
        kwargs={"blank": L("blank"), "top_k": 1},
        expect=Ok(lambda r: r[0][0] == "카페에" and _close(
            r[0][1], obj("lm2").logprob("카페에", ["어제"]) + obj("lm2_back").logprob("카페에", ["갔다"])),
            "sum of the two log-probabilities"))
    for fn_name in ("blank_ranks", "evaluate_blanks"):
        fn = getattr(blanks, fn_name)
        for label, value, types in [("str", "abc", TE), ("empty", [], VE), ("ints", [1], TE),
                                    ("None", None, TE), ("one-blank", L("blank"), TE)]:
            add(f"blanks.{fn_name}:blanks={label}", m, fn, (), {"scorer": L("scorer"), "blanks": value},
                Err(types, "blanks"))
        for label, value in [("None", None), ("str", "scorer"), ("lm", L("lm2"))]:
            add(f"blanks.{fn_name}:scorer={label}", m, fn, (),
                {"scorer": value, "blanks": [L("blank")]}, Err(TE, "scorer"))
    add("blanks.blank_ranks:result", m, blanks.blank_ranks,
        kwargs={"scorer": L("scorer"), "blanks": Lazy(lambda: [obj("blank"), blanks.Blank(("a",), "뷁", ("b",))], "[blank, unknown]")},
        expect=Ok(lambda r: r[0] == 1 and r[1] == math.inf, "rank 1, then inf"))
    # rank_summary answers a str, None or an int with ValueError, as tests/test_blanks.py pins it
    for label, value, types in [("str", "123", TV), ("empty", [], VE), ("zero", [0], VE),
                                ("nan", [NAN], VE), ("bool", [True], TV), ("str-item", ["1"], TV),
                                ("None", None, TV), ("int", 3, TV)]:
        add(f"blanks.rank_summary:ranks={label}", m, blanks.rank_summary, (), {"ranks": value},
            Err(types, "ranks"))
    for label, value, types in [("str", "15", TE), ("zero", [0], VE), ("float", [1.5], TV),
                                ("None", None, TE), ("int", 5, TE), ("bool", [True], TV)]:
        add(f"blanks.rank_summary:ks={label}", m, blanks.rank_summary, (),
            {"ranks": [1, 2], "ks": value}, Err(types, "ks"))
    add("blanks.rank_summary:result", m, blanks.rank_summary,
        kwargs={"ranks": [1, 2, math.inf, 5], "ks": (1, 5)},
        expect=Ok(lambda r: r == {"top1": 0.25, "top5": 0.75, "mrr": (1 + 0.5 + 0 + 0.2) / 4, "n": 4},
                  "top-k, mrr, n"))
    for label, value, types in [("str", "abc", TE), ("None", None, TE), ("zero", [0], VE)]:
        add(f"blanks.evaluate_blanks:ks={label}", m, blanks.evaluate_blanks, (),
            {"scorer": L("scorer"), "blanks": [L("blank")], "ks": value}, Err(types, "ks"))


# ---- stats ----------------------------------------------------------------------------

def _stats():
    from lmlib import stats
    m = "stats"
    bad_sample = [("str", "1010", TE), ("one", [1.0], VE), ("nan", [1.0, NAN], VE),
                  ("inf", [1.0, INF], VE), ("2d", [[1.0, 2.0], [3.0, 4.0]], VE),
                  ("None", None, TE), ("strs", ["a", "b"], TE), ("dict", {1: 2}, TE),
                  ("empty", [], VE)]
    for label, value, types in bad_sample:
        add(f"stats.bootstrap_ci:values={label}", m, stats.bootstrap_ci, (),
            {"values": value, "n_boot": 200}, Err(types, "values"))
        add(f"stats.paired_bootstrap:a={label}", m, stats.paired_bootstrap, (),
            {"a": value, "b": [1.0, 0.0], "n_boot": 200}, Err(types, "a"))
        add(f"stats.paired_bootstrap:b={label}", m, stats.paired_bootstrap, (),
            {"a": [1.0, 0.0], "b": value, "n_boot": 200}, Err(types, "b"))
    base = {"values": [1.0, 0.0, 1.0], "n_boot": 200}
    sweep(m, "bootstrap_ci", stats.bootstrap_ci, base,
          {"level": ("float", {"lo": 0.0, "hi": 1.0}), "n_boot": ("int", {"low": 100})})
    for label, value, types in [("1.5", 1.5, TV), ("str", "3", TV), ("True", True, TV),
                                ("None", None, TV), ("-1", -1, VE)]:
        add(f"stats.bootstrap_ci:seed={label}", m, stats.bootstrap_ci, (), {**base, "seed": value},
            Err(types, "seed"))
    sweep(m, "paired_bootstrap", stats.paired_bootstrap, {"a": [1.0, 0.0], "b": [0.0, 0.0], "n_boot": 200},
          {"level": ("float", {"lo": 0.0, "hi": 1.0}), "n_boot": ("int", {"low": 100})})
    add("stats.paired_bootstrap:lengths", m, stats.paired_bootstrap,
        kwargs={"a": [1.0, 0.0], "b": [1.0, 0.0, 1.0], "n_boot": 200}, expect=Err(VE, "a"))
    add("stats.bootstrap_ci:bools", m, stats.bootstrap_ci,
        kwargs={"values": [True, False, True, True], "n_boot": 200},
        expect=Ok(lambda i: i.estimate == 0.75 and 0 <= i.low <= 0.75 <= i.high <= 1, "mean 0.75"))
    add("stats.bootstrap_ci:constant", m, stats.bootstrap_ci,
        kwargs={"values": [2.0, 2.0, 2.0], "n_boot": 200},
        expect=Ok(lambda i: i.estimate == i.low == i.high == 2.0 and i.n == 3, "zero width"))
    add("stats.paired_bootstrap:same", m, stats.paired_bootstrap,
        kwargs={"a": [1.0, 0.0, 1.0], "b": [1.0, 0.0, 1.0], "n_boot": 200},
        expect=Ok(lambda i: i.estimate == 0 and not i.excludes(0.0), "no difference"))
    for label, value, types in [("nan", NAN, VE), ("str", "0", TV), ("None", None, TV), ("inf", INF, VE)]:
        add(f"stats.Interval.excludes:value={label}", m, M("interval", "excludes"), (),
            {"value": value}, Err(types, "value"))
    for label, kw, types, name in [
            ("low>high", {"estimate": 0.5, "low": 0.9, "high": 0.1, "n": 3}, VE, "low"),
            ("n=0", {"estimate": 0.5, "low": 0.1, "high": 0.9, "n": 0}, VE, "n"),
            ("level=2", {"estimate": 0.5, "low": 0.1, "high": 0.9, "n": 3, "level": 2.0}, VE, "level"),
            ("estimate=str", {"estimate": "0.5", "low": 0.1, "high": 0.9, "n": 3}, TV, "estimate"),
            ("high=nan", {"estimate": 0.5, "low": 0.1, "high": NAN, "n": 3}, VE, "high"),
            ("n=1.5", {"estimate": 0.5, "low": 0.1, "high": 0.9, "n": 1.5}, TV, "n")]:
        add(f"stats.Interval:{label}", m, stats.Interval, (), kw, Err(types, name))


# ---- baselines ------------------------------------------------------------------------

CLF_TEXTS = ["좋아요 최고", "정말 좋아요", "최고 최고", "별로 싫어요", "정말 싫어요", "별로 별로"]
CLF_LABELS = [1, 1, 1, 0, 0, 0]


def _baselines():
    from lmlib import baselines
    m = "baselines"
    base = {"texts": CLF_TEXTS, "labels": CLF_LABELS, "min_df": 1}
    sweep(m, "tfidf_logreg", baselines.tfidf_logreg, base,
          {"texts": "str_list", "C": "float", "analyzer": "choice", "min_df": "int",
           "max_iter": "int", "sublinear_tf": "bool"})
    for label, value, types in [("str", "111000", TE), ("None", None, TE), ("two", [0, 1, 2, 0, 1, 0], VE),
                                ("float", [0.5] * 6, TV), ("bool", [True] * 3 + [False] * 3, TV),
                                ("short", [0, 1], VE), ("one-class", [1] * 6, VE),
                                ("strs", ["1"] * 3 + ["0"] * 3, TV)]:
        add(f"baselines.tfidf_logreg:labels={label}", m, baselines.tfidf_logreg, (),
            {**base, "labels": value}, Err(types, "labels"))
    for label, value, types in [("zero", (0, 2), VE), ("reversed", (3, 1), VE), ("list", [1, 3], TV),
                                ("str", "13", TV), ("None", None, TV), ("floats", (1.0, 2.0), TV),
                                ("three", (1, 2, 3), VE)]:
        add(f"baselines.tfidf_logreg:ngram_range={label}", m, baselines.tfidf_logreg, (),
            {**base, "ngram_range": value}, Err(types, "ngram_range"))
    add("baselines.tfidf_logreg:min_df>texts", m, baselines.tfidf_logreg,
        kwargs={**base, "min_df": 100}, expect=Err(VE, "min_df"))
    for meth in ("predict_proba", "predict"):
        sweep(m, f"TfidfLogReg.{meth}", M("clf", meth), {}, {"texts": "str_list"})
    for meth in ("correct", "accuracy"):
        sweep(m, f"TfidfLogReg.{meth}", M("clf", meth), {"labels": [1]}, {"texts": "str_list"})
        for label, value, types in [("str", "1", TE), ("None", None, TE), ("two", [2], VE), ("long", [1, 0], VE)]:
            add(f"baselines.TfidfLogReg.{meth}:labels={label}", m, M("clf", meth), (),
                {"texts": ["최고"], "labels": value}, Err(types, "labels"))
    add("baselines.TfidfLogReg.accuracy:train", m, M("clf", "accuracy"),
        kwargs={"texts": CLF_TEXTS, "labels": CLF_LABELS}, expect=Ok(lambda a: a == 1.0, "separable"))
    add("baselines.TfidfLogReg.predict_proba:range", m, M("clf", "predict_proba"),
        kwargs={"texts": ["최고 좋아요", "싫어요 별로", "뷁"]},
        expect=Ok(lambda p: p.shape == (3,) and p[0] > 0.5 > p[1] and 0 < p[2] < 1, "ordered"))


# ---- hub, runtime ---------------------------------------------------------------------

def _hub_runtime():
    from lmlib import hub, runtime
    m = "hub"
    bad_repo = [("int", 123, TE), ("None", None, TE), ("noslash", "bert", VE), ("3parts", "a/b/c", VE),
                ("space", "a b/c", VE), ("empty-part", "/bert", VE), ("bytes", b"a/b", TE)]
    for label, value, types in bad_repo:
        add(f"hub.cached:repo_id={label}", m, hub.cached, (), {"repo_id": value}, Err(types, "repo_id"))
        add(f"hub.available:repo_id={label}", m, hub.available, (), {"repo_id": value},
            Err(types, "repo_id"))
    # an empty filename is a TypeError, as tests/test_hub_runtime.py pins it
    for label, value, types in [("int", 1, TE), ("None", None, TE), ("empty", "", TV)]:
        add(f"hub.cached:filename={label}", m, hub.cached, (),
            {"repo_id": "a/b", "filename": value}, Err(types, "filename"))
    for label, value, types in [("int", 1, TE), ("list", ["/tmp"], TE)]:
        add(f"hub.cached:cache_dir={label}", m, hub.cached, (),
            {"repo_id": "a/b", "cache_dir": value}, Err(types, "cache_dir"))
    add("hub.cached:not-cached", m, hub.cached,
        kwargs={"repo_id": "lmlib-fuzz/none", "cache_dir": "/nonexistent"},
        expect=Ok(lambda r: r is False, "False"))
    for label, value, types in bad_float():
        add(f"hub.reachable:timeout={label}", m, hub.reachable, (), {"timeout": value},
            Err(types, "timeout"))
        add(f"hub.available:timeout={label}", m, hub.available, (),
            {"repo_id": "lmlib-fuzz/none", "timeout": value, "cache_dir": "/nonexistent"},
            Err(types, "timeout"))
    add("hub.offline:bool", m, hub.offline, expect=Ok(lambda r: isinstance(r, bool), "a bool"))
    m = "runtime"
    for label, value in [("list", []), ("None", None), ("str", "torch 2"), ("int", 3)]:
        add(f"runtime.install_changes:before={label}", m, runtime.install_changes, (),
            {"before": value, "after": {}}, Err(TE, "before"))
        add(f"runtime.install_changes:after={label}", m, runtime.install_changes, (),
            {"before": {}, "after": value if value is not None else 5}, Err(TE, "after"))
        add(f"runtime.report_install:before={label}", m, runtime.report_install, (),
            {"before": value}, Err(TE, "before"))
    add("runtime.install_changes:result", m, runtime.install_changes,
        kwargs={"before": {"a": "1", "b": "1"}, "after": {"a": "1", "b": "2", "c": "1"}},
        expect=Ok(lambda r: r["added"] == {"c": "1"} and r["changed"] == {"b": ("1", "2")}
                  and r["restart"] == {}, "added c, changed b"))
    for label, value, types in bad_float(lo=0.0, lo_open=False, none_ok=True):
        add(f"runtime.report_install:seconds={label}", m, runtime.report_install, (),
            {"before": {}, "seconds": value}, Err(types, "seconds"))
    add("runtime.installed:torch", m, runtime.installed,
        expect=Ok(lambda r: "torch" in r and all(isinstance(v, str) for v in r.values()), "torch listed"))


# ---- viz ------------------------------------------------------------------------------

def _viz():
    from lmlib import viz
    m = "viz"
    for label, value, types in [("str", "abc", TE), ("empty", [], VE), ("None", None, TE),
                                ("value-str", [("a", "x")], TV), ("nan", [("a", NAN)], VE),
                                ("triple", [("a", 1.0, 2.0)], TE), ("flat", ["a", 0.5], TE),
                                ("value-None", [("a", None)], TV)]:
        add(f"viz.bar_ranking:items={label}", m, viz.bar_ranking, (),
            {"items": value, "ax": L("ax")}, Err(types, "items"))
    for label, value in [("str", "ax"), ("int", 3)]:
        add(f"viz.bar_ranking:ax={label}", m, viz.bar_ranking, (),
            {"items": [("a", 0.5)], "ax": value}, Err(TE, "ax"))
        add(f"viz.set_log_scale:ax={label}", m, viz.set_log_scale, (), {"ax": value}, Err(TE, "ax"))
        add(f"viz.direction_diagram:ax={label}", m, viz.direction_diagram, (),
            {"tokens": ["a", "b"], "ax": value}, Err(TE, "ax"))
        add(f"viz.figure_report:fig={label}", m, viz.figure_report, (), {"fig": value}, Err(TE, "fig"))
        add(f"viz.figure_png:fig={label}", m, viz.figure_png, (), {"fig": value}, Err(TE, "fig"))
    add("viz.bar_ranking:bars", m, viz.bar_ranking,
        kwargs={"items": [("가", 0.5), ("나", 0.25)], "highlight": "나"},
        expect=Ok(lambda ax: [round(p.get_width(), 6) for p in ax.patches] == [0.5, 0.25]
                  and ax.patches[1].get_facecolor() != ax.patches[0].get_facecolor(), "two bars, one highlighted"))
    base = {"words": ["a", "b"], "contexts": ["", "a"], "probs": [0.5, 0.25], "ax": L("ax")}
    sweep(m, "chain_rule_plot", viz.chain_rule_plot, base,
          {"words": "str_list", "contexts": ("str_list", {"empty_ok": True})})
    for label, value, types in [("str", "ab", TE), ("None", None, TE), ("strs", ["a", "b"], TV),
                                ("nan", [0.5, NAN], VE), ("above-1", [0.5, 2.0], VE),
                                ("negative", [0.5, -0.1], VE), ("short", [0.5], VE)]:
        add(f"viz.chain_rule_plot:probs={label}", m, viz.chain_rule_plot, (),
            {**base, "probs": value}, Err(types, "probs"))
    add("viz.chain_rule_plot:bars", m, viz.chain_rule_plot,
        kwargs={**base, "ax": Lazy(lambda: _BUILDERS["ax"](), "new ax")},
        expect=Ok(lambda ax: [p.get_height() for p in ax.patches] == [0.5, 0.25], "heights = probs"))
    hb = {"matrix": [[0.1, 0.2], [0.3, 0.4]], "row_labels": ["a", "b"], "col_labels": ["c", "d"],
          "ax": L("ax")}
    for label, value, types in [("str", "abcd", TE), ("1d", [0.1, 0.2], VE), ("shape", [[0.1, 0.2]], VE),
                                ("None", None, TE), ("ragged", [[0.1], [0.2, 0.3]], VE),
                                ("strs", [["a", "b"], ["c", "d"]], TE)]:
        add(f"viz.heatmap:matrix={label}", m, viz.heatmap, (), {**hb, "matrix": value},
            Err(types, "matrix"))
    for pname in ("row_labels", "col_labels"):
        for label, value, types in [("str", "ab", TE), ("ints", [1, 2], TE), ("None", None, TE)]:
            add(f"viz.heatmap:{pname}={label}", m, viz.heatmap, (), {**hb, pname: value},
                Err(types, pname))
    for label, value, types in [("bogus", "xyz", VE), ("int", 3, TE)]:
        add(f"viz.heatmap:fmt={label}", m, viz.heatmap, (), {**hb, "fmt": value}, Err(types, "fmt"))
    add("viz.heatmap:cells", m, viz.heatmap,
        kwargs={**hb, "ax": Lazy(lambda: _BUILDERS["ax"](), "new ax")},
        expect=Ok(lambda ax: [t.get_text() for t in ax.texts] == ["0.10", "0.20", "0.30", "0.40"],
                  "annotated row by row"))
    for label, value, types in bad_str_list() + [("one", ["a"], VE)]:
        add(f"viz.direction_diagram:tokens={label}", m, viz.direction_diagram, (),
            {"tokens": value, "ax": L("ax")}, Err(types, "tokens"))
    for label, value, types in bad_choice():
        add(f"viz.set_log_scale:axis={label}", m, viz.set_log_scale, (),
            {"ax": L("ax"), "axis": value}, Err(types, "axis"))
    add("viz.figure_report:line", m, viz.figure_report, kwargs={"fig": L("fig")},
        expect=Ok(lambda r: len(r) == 1 and r[0]["items"] == 3 if "items" in r[0] else len(r) == 1,
                  "one Axes, three points"))
    add("viz.korean_font_path:type", m, viz.korean_font_path,
        expect=Ok(lambda p: p is None or str(p).endswith(".ttf"), "None or a .ttf path"))


# ---- widgets --------------------------------------------------------------------------

def _att_weights():
    import numpy as np
    w = np.full((1, 2, 3, 3), 1 / 3)
    return [w]


def _tf_steps_ok():
    return [{"step": 0, "decoder_input": ["<s>"], "gold": "I", "topk": [("I", 0.6), ("you", 0.3)],
             "gold_prob": 0.6, "loss": 0.51}]


def _widgets():
    from lmlib import widgets
    m = "widgets"
    for fn_name in ("next_word_html",):
        fn = getattr(widgets, fn_name)
        for label, value, types in [("str", "나는", TE), ("empty", [], VE), ("ints", [1], TE),
                                    ("None", None, TE), ("int", 3, TE)]:
            add(f"widgets.{fn_name}:contexts={label}", m, fn, (),
                {"lm": L("lm2"), "contexts": value}, Err(types, "contexts"))
        for label, value, types in bad_int():
            add(f"widgets.{fn_name}:top_k={label}", m, fn, (),
                {"lm": L("lm2"), "contexts": ["나는"], "top_k": value}, Err(types, "top_k"))
        for label, value in [("None", None), ("str", "lm"), ("unfitted", Lazy(lambda: __import__("lmlib.ngram").ngram.NGramLM(2), "NGramLM(2)"))]:
            add(f"widgets.{fn_name}:lm={label}", m, fn, (), {"lm": value, "contexts": ["나는"]},
                Err((TypeError, RuntimeError) if label == "unfitted" else TE,
                    "fit" if label == "unfitted" else "lm"))
    add("widgets.next_word_html:data", m, widgets.next_word_html,
        kwargs={"lm": L("lm2"), "contexts": ["나는 어제"], "top_k": 2},
        expect=Ok(lambda h: "카페에" in h and "학교에" in h and "lmcb-nextword" in h, "ranked words embedded"))
    ab = {"tokens": ["a", "b", "c"], "attentions": Lazy(_att_weights, "[(1,2,3,3) uniform]")}
    for label, value, types in [("str", "a b c", TE), ("empty", [], VE), ("ints", [1, 2, 3], TE),
                                ("None", None, TE), ("too-many", ["a", "b", "c", "d"], VE)]:
        add(f"widgets.attention_html:tokens={label}", m, widgets.attention_html, (),
            {**ab, "tokens": value}, Err(types, "tokens"))
    for label, value, types in [("array", Lazy(lambda: _att_weights()[0], "(1,2,3,3) array"), TE),
                                ("empty", [], VE), ("3d", Lazy(lambda: [_att_weights()[0][0]], "[(2,3,3)]"), VE),
                                ("nan", Lazy(lambda: [_att_weights()[0] * NAN], "[nan]"), VE),
                                ("scores", Lazy(lambda: [_att_weights()[0] * 9], "[>1]"), VE),
                                ("None", None, TE), ("strs", [[["a"]]], TE)]:
        add(f"widgets.attention_html:attentions={label}", m, widgets.attention_html, (),
            {**ab, "attentions": value}, Err(types, "attentions"))
    for label, value, types in [("str", "s1", TE), ("two", ["a", "b"], VE), ("ints", [1], TE)]:
        add(f"widgets.attention_html:sentence_labels={label}", m, widgets.attention_html, (),
            {**ab, "sentence_labels": value}, Err(types, "sentence_labels"))
    for label, value, types in [("str", "x y z", TE), ("ints", [1], TE), ("too-many", list("abcd"), VE)]:
        add(f"widgets.attention_html:query_tokens={label}", m, widgets.attention_html, (),
            {**ab, "query_tokens": value}, Err(types, "query_tokens"))
    for label, value, types in bad_int(none_ok=True):
        add(f"widgets.attention_html:max_layers={label}", m, widgets.attention_html, (),
            {**ab, "max_layers": value}, Err(types, "max_layers"))
    for label, value, types in bad_int(low=0):
        add(f"widgets.attention_html:digits={label}", m, widgets.attention_html, (),
            {**ab, "digits": value}, Err(types, "digits"))
    add("widgets.attention_html:weights", m, widgets.attention_html, kwargs=ab,
        expect=Ok(lambda h: "[333, 333, 333]" in h and "lmcb-attention" in h, "weights embedded (x 10^digits)"))
    tb = {"src_tokens": ["나는"], "teacher": Lazy(_tf_steps_ok, "[step]"), "free": Lazy(_tf_steps_ok, "[step]")}
    for label, value, types in [("str", "나는", TE), ("empty", [], VE), ("ints", [1], TE), ("None", None, TE)]:
        add(f"widgets.teacher_forcing_html:src_tokens={label}", m, widgets.teacher_forcing_html, (),
            {**tb, "src_tokens": value}, Err(types, "src_tokens"))
    bad_steps = [("str", "x", TE), ("empty", [], VE), ("None", None, TE), ("dict", {"step": 0}, TE),
                 ("missing-key", [{"step": 0}], VE),
                 ("prob>1", [{**_tf_steps_ok()[0], "gold_prob": 1.5}], VE),
                 ("neg-loss", [{**_tf_steps_ok()[0], "loss": -1.0}], VE),
                 ("nan-loss", [{**_tf_steps_ok()[0], "loss": NAN}], VE),
                 ("step-str", [{**_tf_steps_ok()[0], "step": "0"}], TE),
                 ("topk-flat", [{**_tf_steps_ok()[0], "topk": ["I", 0.6]}], TE)]
    for mode in ("teacher", "free"):
        for label, value, types in bad_steps:
            add(f"widgets.teacher_forcing_html:{mode}={label}", m, widgets.teacher_forcing_html, (),
                {**tb, mode: value}, Err(types, mode))
    add("widgets.teacher_forcing_html:title=int", m, widgets.teacher_forcing_html,
        kwargs={**tb, "title": 3}, expect=Err(TE, "title"))
    add("widgets.teacher_forcing_html:data", m, widgets.teacher_forcing_html, kwargs=tb,
        expect=Ok(lambda h: "0.51" in h and "you" in h, "steps embedded"))
    for label, kw, types, name in [("kind=int", {"kind": 3}, TE, "kind"),
                                   ("kind=space", {"kind": "a b"}, VE, "kind"),
                                   ("kind=unknown", {"kind": "nosuchview"}, VE, "kind"),
                                   ("data=set", {"data": {1, 2}}, TE, "data"),
                                   ("body=None", {"body": None}, TE, "body")]:
        add(f"widgets.static_html:{label}", m, widgets.static_html, (),
            {"kind": "nextword", "data": {}, "body": "<b>x</b>", **kw}, Err(types, name))
    add("widgets.static_html:escapes", m, widgets.static_html,
        kwargs={"kind": "nextword", "data": {"x": "</script>"}, "body": ""},
        expect=Ok(lambda h: h.count("</script>") == 2 and "\\u003c/script>" in h, "no early end tag"))
    add("widgets.show:static=int", m, widgets.show, kwargs={"widget": None, "static": 3},
        expect=Err(TE, "static"))


# ---- exercises ------------------------------------------------------------------------

def _garbage(*a, **k):
    return "abc"


def _nan_fn(*a, **k):
    return NAN


def _none_fn(*a, **k):
    return None


def _exercises():
    from lmlib import exercises as ex
    m = "exercises"
    fn_checkers = ["ch1_sentence_logprob", "ch1_add_k", "ch1_perplexity", "ch2_weighted_scorer",
                   "ch3_masked_softmax", "ch3_reverse_alignment", "ch4_attention", "ch4_causal_mask",
                   "ch4_receptive_field", "ch5_shift", "ch6_param_count", "ch6_top_k",
                   "ch7_mask_rule", "ch7_segments", "ch8_cosine", "ch8_adapter_params"]
    for name in fn_checkers:
        fn = getattr(ex, name)
        pname = "make_scorer" if name == "ch2_weighted_scorer" else "fn"
        for label, value, types in bad_callable():
            add(f"exercises.{name}:{pname}={label}", m, fn, (value,), {}, Err(types, pname))
        if name == "ch2_weighted_scorer":
            continue  # its fn returns a scorer, not a number: see the hand-written cases
        add(f"exercises.{name}:{pname}=returns-str", m, fn, (_garbage,), {},
            Ok(lambda r: isinstance(r, ex.Result) and not r.ok, "a Result that the answer is wrong, not a crash"))
        add(f"exercises.{name}:{pname}=returns-None", m, fn, (_none_fn,), {},
            Ok(lambda r: isinstance(r, ex.Result) and not r.ok, "the to-do Result"))
        add(f"exercises.{name}:{pname}=returns-nan", m, fn, (_nan_fn,), {},
            Ok(lambda r: isinstance(r, ex.Result) and not r.ok, "a wrong answer"))
    # (make_scorer returning a str or None is left out: checking it builds chapter 2's blank
    # baselines first, 4-7 s; tests/test_exercises.py covers that checker)
    answer_checkers = ["ch1_conditional", "ch2_backward_sentence_prob", "ch3_bottleneck_size",
                       "ch5_step_loss", "ch6_gpt3_memory", "ch7_embedding_params"]
    for name in answer_checkers:
        fn = getattr(ex, name)
        for label, value, types in [("str", "0.5", TE), ("True", True, TE), ("list", [0.5], TE),
                                    ("tensor", T([0.5, 0.5], dtype="float32"), TE)]:
            add(f"exercises.{name}:answer={label}", m, fn, (value,), {}, Err(types, "answer"))
        add(f"exercises.{name}:answer=None", m, fn, (None,), {},
            Ok(lambda r: not r.ok and "아직" in r.message, "the to-do Result"))
        if name != "ch7_embedding_params":
            for label, value in [("nan", NAN), ("inf", INF), ("-1", -1)]:
                add(f"exercises.{name}:answer={label}", m, fn, (value,), {},
                    Ok(lambda r: isinstance(r, ex.Result) and not r.ok, "a wrong answer"))
    add("exercises.ch1_conditional:right", m, ex.ch1_conditional,
        (Lazy(lambda: ex.course_models(2).prob("운전", ["난폭"]), "P(운전|난폭)"),),
        expect=Ok(lambda r: r.ok, "accepted"))
    add("exercises.ch3_bottleneck_size:right", m, ex.ch3_bottleneck_size, (64,),
        expect=Ok(lambda r: r.ok, "d_hidden"))
    add("exercises.ch3_bottleneck_size:attention-amount", m, ex.ch3_bottleneck_size, (30 * 64,),
        expect=Ok(lambda r: not r.ok and "어텐션" in r.message, "the attention hint"))
    add("exercises.ch5_step_loss:right", m, ex.ch5_step_loss, (-math.log(0.25),),
        expect=Ok(lambda r: r.ok, "-log p"))
    add("exercises.ch5_step_loss:sign", m, ex.ch5_step_loss, (math.log(0.25),),
        expect=Ok(lambda r: not r.ok and "부호" in r.message, "the sign hint"))
    add("exercises.ch6_gpt3_memory:right", m, ex.ch6_gpt3_memory, (350.0,),
        expect=Ok(lambda r: r.ok, "about 350 GB"))
    add("exercises.ch6_gpt3_memory:fp32", m, ex.ch6_gpt3_memory, (700.0,),
        expect=Ok(lambda r: not r.ok and "32" in r.message, "the 32-bit hint"))
    for label, kw, types, name in [
            ("src_len=0", {"src_len": 0}, VE, "src_len"), ("src_len=str", {"src_len": "30"}, TV, "src_len"),
            ("d_hidden=0", {"d_hidden": 0}, VE, "d_hidden"), ("d_hidden=1.5", {"d_hidden": 1.5}, TV, "d_hidden")]:
        add(f"exercises.ch3_bottleneck_size:{label}", m, ex.ch3_bottleneck_size, (64,), kw,
            Err(types, name))
    for label, value, types in [("0", 0.0, VE), ("1.5", 1.5, VE), ("nan", NAN, VE), ("str", "0.25", TV),
                                ("neg", -0.5, VE)]:
        add(f"exercises.ch5_step_loss:prob={label}", m, ex.ch5_step_loss, (1.0,), {"prob": value},
            Err(types, "prob"))
    for label, value, types in bad_str(empty_bad=True) + [("blank", "   ", VE)]:
        add(f"exercises.ch2_backward_sentence_prob:sentence={label}", m, ex.ch2_backward_sentence_prob,
            (0.5,), {"sentence": value}, Err(types, "sentence"))
    for name, pname in (("ch2_backward_factors", "factors"), ("ch5_decoder_input", "tokens")):
        fn = getattr(ex, name)
        for label, value, types in [("str", "P(갔었어)", TE), ("ints", [1, 2], TE), ("int", 3, TE)]:
            add(f"exercises.{name}:{pname}={label}", m, fn, (value,), {}, Err(types, pname))
        add(f"exercises.{name}:{pname}=None", m, fn, (None,), {},
            Ok(lambda r: not r.ok and "아직" in r.message, "the to-do Result"))
        add(f"exercises.{name}:{pname}=empty", m, fn, ([],), {},
            Ok(lambda r: not r.ok, "not the answer"))
    add("exercises.ch5_decoder_input:right", m, ex.ch5_decoder_input, (["<s>", "I"],),
        expect=Ok(lambda r: isinstance(r, ex.Result), "a Result"))
    for label, kw, types, name in [
            ("order=0", {"order": 0}, VE, "order"), ("order=list", {"order": [2]}, TE, "order"),
            ("smoothing=bogus", {"smoothing": "bogus"}, VE, "smoothing"),
            ("smoothing=list", {"smoothing": ["mle"]}, TV, "smoothing"),
            ("direction=bogus", {"direction": "up"}, VE, "direction"),
            ("k=nan", {"smoothing": "add-k", "k": NAN}, VE, "k")]:
        add(f"exercises.course_models:{label}", m, ex.course_models, (), kw, Err(types, name))


# ---- kiwi_lm --------------------------------------------------------------------------

def _kiwi_lm():
    m = "kiwi_lm"
    for meth in ("score", "sentence_logprob", "chain_rule"):
        for label, value, types in bad_str(empty_bad=True) + [("spaces", "   ", VE)]:
            add(f"kiwi_lm.KiwiLM.{meth}:text={label}", m, M("kiwi", meth), (), {"text": value},
                Err(types, "text"))
        for label, value, types in bad_bool() + [("int", 1, TE)]:
            add(f"kiwi_lm.KiwiLM.{meth}:complete={label}", m, M("kiwi", meth), (),
                {"text": "나는 간다", "complete": value}, Err(types, "complete"))
    add("kiwi_lm.KiwiLM.score:sum", m, M("kiwi", "score"), kwargs={"text": "나는 학교에 간다."},
        expect=Ok(lambda s: abs(sum(s.logprobs) + s.eos_logprob - s.logprob) < 1e-3
                  and s.logprob < 0 and s.n_sentences == 1, "terms sum to the total"))
    add("kiwi_lm.KiwiLM.score:prefix-no-eos", m, M("kiwi", "score"),
        kwargs={"text": "나는 학교에", "complete": False},
        expect=Ok(lambda s: s.eos_logprob == 0.0 and s.n_eos == 0, "no </s> term"))
    for label, value, types in bad_str_list() + [("blank-item", ["나는", " "], VE)]:
        add(f"kiwi_lm.KiwiLM.compare:sentences={label}", m, M("kiwi", "compare"), (),
            {"sentences": value}, Err(types, "sentences"))
    add("kiwi_lm.KiwiLM.compare:complete=str", m, M("kiwi", "compare"),
        kwargs={"sentences": ["나는 간다"], "complete": "yes"}, expect=Err(TE, "complete"))
    rb = {"prefix": "나는 버스를", "choices": ["놓쳤다", "먹었다"]}
    for label, value, types in bad_str(empty_bad=True):
        add(f"kiwi_lm.KiwiLM.rank:prefix={label}", m, M("kiwi", "rank"), (), {**rb, "prefix": value},
            Err(types, "prefix"))
    for label, value, types in bad_str_list() + [("blank-item", [""], VE)]:
        add(f"kiwi_lm.KiwiLM.rank:choices={label}", m, M("kiwi", "rank"), (), {**rb, "choices": value},
            Err(types, "choices"))
    for label, value, types in [("int", 1, TE), ("None", None, TE)]:
        add(f"kiwi_lm.KiwiLM.rank:sep={label}", m, M("kiwi", "rank"), (), {**rb, "sep": value},
            Err(types, "sep"))
    add("kiwi_lm.KiwiLM.rank:complete=str", m, M("kiwi", "rank"), kwargs={**rb, "complete": "no"},
        expect=Err(TE, "complete"))
    add("kiwi_lm.KiwiLM.rank:order", m, M("kiwi", "rank"),
        kwargs={**rb, "choices": ["놓쳤다", "먹었다", "놓쳤다"]},
        expect=Ok(lambda r: len(r) == 2 and r[0].logprob >= r[1].logprob, "repeats dropped, sorted"))
    for label, value, types in [("int", 5, TE), ("None", None, TE), ("empty-list", [], VE),
                                ("list-of-str", ["말"], TE), ("short-pair", [("말",)], TE),
                                ("empty-str", "", VE), ("bad-tag", [("말", "XYZ")], VE)]:
        add(f"kiwi_lm.KiwiLM.next_morphemes:prefix={label}", m, M("kiwi", "next_morphemes"), (),
            {"prefix": value}, Err(types, "prefix"))
    for label, value, types in bad_int():
        add(f"kiwi_lm.KiwiLM.next_morphemes:top_k={label}", m, M("kiwi", "next_morphemes"), (),
            {"prefix": "나는", "top_k": value}, Err(types, "top_k"))
        add(f"kiwi_lm.KiwiLM.most_similar:top_k={label}", m, M("kiwi", "most_similar"), (),
            {"morpheme": "사랑", "top_k": value}, Err(types, "top_k"))
    add("kiwi_lm.KiwiLM.next_morphemes:probs", m, M("kiwi", "next_morphemes"),
        kwargs={"prefix": "나는", "top_k": 3},
        expect=Ok(lambda r: len(r) == 3 and all(x.logprob <= 0 for x in r)
                  and r[0].logprob >= r[1].logprob >= r[2].logprob, "3 sorted log-probs"))
    bad_morph = [("int", 5, TE), ("None", None, TE), ("space", "사 랑", VE), ("empty", "", VE),
                 ("short-pair", ("먹",), TE), ("pair-int", ("먹", 1), TE), ("unknown", "뷁쉙", VE)]
    for label, value, types in bad_morph:
        add(f"kiwi_lm.KiwiLM.similarity:morpheme1={label}", m, M("kiwi", "similarity"), (),
            {"morpheme1": value, "morpheme2": "사랑"}, Err(types, "morpheme1"))
        add(f"kiwi_lm.KiwiLM.similarity:morpheme2={label}", m, M("kiwi", "similarity"), (),
            {"morpheme1": "사랑", "morpheme2": value}, Err(types, "morpheme2"))
        add(f"kiwi_lm.KiwiLM.most_similar:morpheme={label}", m, M("kiwi", "most_similar"), (),
            {"morpheme": value}, Err(types, "morpheme"))
    add("kiwi_lm.KiwiLM.similarity:self", m, M("kiwi", "similarity"),
        kwargs={"morpheme1": "사랑", "morpheme2": "사랑"}, expect=Ok(lambda s: abs(s - 1) < 1e-4, "1"))


# ---- attention ------------------------------------------------------------------------

def _attention():
    from lmlib import attention as at
    m = "attention"
    sweep(m, "causal_mask", at.causal_mask, {"T": 3}, {"T": "int", "S": ("int", {"none_ok": True})})
    add("attention.causal_mask:S<T", m, at.causal_mask, kwargs={"T": 3, "S": 2}, expect=Err(VE, "S"))
    add("attention.causal_mask:cache", m, at.causal_mask, kwargs={"T": 2, "S": 4},
        expect=Ok(lambda t: t.tolist() == [[True, True, True, False], [True, True, True, True]],
                  "last T of S positions"))
    for label, value, types in [("list", [2, 3], TE), ("float", T([2.0, 3.0], dtype="float32"), TV),
                                ("2d", T([[2, 3]]), VE), ("neg", T([-1, 2]), VE), ("None", None, TE)]:
        add(f"attention.padding_mask:lengths={label}", m, at.padding_mask, (), {"lengths": value},
            Err(types, "lengths"))
    for label, value, types in bad_int(low=3, none_ok=True):
        add(f"attention.padding_mask:S={label}", m, at.padding_mask, (),
            {"lengths": T([2, 3]), "S": value}, Err(types, "S"))
    add("attention.padding_mask:shape", m, at.padding_mask, kwargs={"lengths": T([1, 3]), "S": 4},
        expect=Ok(lambda t: tuple(t.shape) == (2, 1, 1, 4) and t[0, 0, 0].tolist() == [True, False, False, False],
                  "(B, 1, 1, S), True for real keys"))
    q = R(1, 3, 4)
    sb = {"q": q, "k": R(1, 5, 4), "v": R(1, 5, 6)}
    for pname in ("q", "k", "v"):
        for label, value, types in [("list", [[0.0] * 4], TE), ("None", None, TE), ("1d", R(4), VE)]:
            add(f"attention.scaled_dot_product_attention:{pname}={label}", m,
                at.scaled_dot_product_attention, (), {**sb, pname: value}, Err(types, pname))
    add("attention.scaled_dot_product_attention:d-mismatch", m, at.scaled_dot_product_attention,
        kwargs={**sb, "k": R(1, 5, 3)}, expect=Err(VE, "k"))
    add("attention.scaled_dot_product_attention:S-mismatch", m, at.scaled_dot_product_attention,
        kwargs={**sb, "v": R(1, 4, 6)}, expect=Err(VE, "v"))
    for label, value, types in [("long", Z(3, 5), VE), ("shape", Z(3, 4, dtype="bool", fill=1), VE),
                                ("list", [[True] * 5] * 3, TE), ("5d", Z(1, 1, 1, 3, 5, dtype="bool", fill=1), VE)]:
        add(f"attention.scaled_dot_product_attention:mask={label}", m, at.scaled_dot_product_attention,
            (), {**sb, "mask": value}, Err(types, "mask"))
    for label, value, types in [("nan", NAN, VE), ("neg", -0.1, VE), ("above", 1.5, VE), ("str", "0.1", TV),
                                ("None", None, TV)]:
        add(f"attention.scaled_dot_product_attention:dropout_p={label}", m,
            at.scaled_dot_product_attention, (), {**sb, "dropout_p": value}, Err(types, "dropout_p"))
    add("attention.scaled_dot_product_attention:all-masked-row", m, at.scaled_dot_product_attention,
        kwargs={**sb, "mask": Lazy(lambda: _torch().tensor([[False] * 5, [True] * 5, [True, False, False, False, False]]), "mask")},
        expect=Ok(lambda r: r[1][0, 0].abs().sum() == 0 and r[0][0, 0].abs().sum() == 0
                  and _close(float(r[1][0, 1].sum()), 1.0) and float(r[1][0, 2, 0]) == 1.0,
                  "dead row 0, others sum to 1"))
    for pname in ("query_dim", "key_dim", "hidden_dim"):
        for label, value, types in bad_int():
            add(f"attention.AdditiveAttention:{pname}={label}", m, at.AdditiveAttention, (),
                {"query_dim": 4, "key_dim": 6, "hidden_dim": 5, pname: value}, Err(types, pname))
    ab = {"query": R(2, 4), "keys": R(2, 3, 6)}
    for label, value, types in [("list", [[0.0] * 4] * 2, TE), ("None", None, TE), ("wrong-dim", R(2, 5), VE),
                                ("3d", R(2, 1, 4), VE)]:
        add(f"attention.AdditiveAttention.forward:query={label}", m, M("add_att", "forward"), (),
            {**ab, "query": value}, Err(types, "query"))
    for label, value, types in [("list", [[[0.0] * 6] * 3] * 2, TE), ("None", None, TE),
                                ("wrong-dim", R(2, 3, 5), VE), ("batch", R(3, 3, 6), VE)]:
        add(f"attention.AdditiveAttention.forward:keys={label}", m, M("add_att", "forward"), (),
            {**ab, "keys": value}, Err(types, "keys"))
    for label, value, types in [("long", Z(2, 3), VE), ("shape", Z(2, 4, dtype="bool", fill=1), VE)]:
        add(f"attention.AdditiveAttention.forward:mask={label}", m, M("add_att", "forward"), (),
            {**ab, "mask": value}, Err(types, "mask"))
    add("attention.AdditiveAttention.forward:keys_proj=shape", m, M("add_att", "forward"),
        kwargs={**ab, "keys_proj": R(2, 3, 4)}, expect=Err(VE, "keys_proj"))
    for pname in ("d_model", "n_heads"):
        for label, value, types in bad_int():
            add(f"attention.MultiHeadAttention:{pname}={label}", m, at.MultiHeadAttention, (),
                {"d_model": 8, "n_heads": 2, pname: value}, Err(types, pname))
    add("attention.MultiHeadAttention:indivisible", m, at.MultiHeadAttention,
        kwargs={"d_model": 8, "n_heads": 3}, expect=Err(VE, "n_heads"))
    for label, value, types in bad_float(lo=0.0, hi=1.0, lo_open=False):
        add(f"attention.MultiHeadAttention:dropout={label}", m, at.MultiHeadAttention, (),
            {"d_model": 8, "n_heads": 2, "dropout": value}, Err(types, "dropout"))
    mb = {"x_q": R(1, 3, 8)}
    for label, value, types in [("list", [[[0.0] * 8]], TE), ("None", None, TE), ("2d", R(3, 8), VE),
                                ("width", R(1, 3, 4), VE), ("int", Z(1, 3, 8), TV)]:
        add(f"attention.MultiHeadAttention.forward:x_q={label}", m, M("mha", "forward"), (),
            {**mb, "x_q": value}, Err(types, "x_q"))
    for label, value, types in [("list", [[[0.0] * 8]], TE), ("width", R(1, 3, 4), VE), ("batch", R(2, 3, 8), VE)]:
        add(f"attention.MultiHeadAttention.forward:x_kv={label}", m, M("mha", "forward"), (),
            {**mb, "x_kv": value}, Err(types, "x_kv"))
    for label, value, types in [("long", Z(3, 3), VE), ("shape", Z(4, 4, dtype="bool", fill=1), VE)]:
        add(f"attention.MultiHeadAttention.forward:mask={label}", m, M("mha", "forward"), (),
            {**mb, "mask": value}, Err(types, "mask"))
    add("attention.MultiHeadAttention.forward:fused-equals-explicit", m,
        lambda: (lambda x: (obj("mha")(x)[0], obj("mha")(x, return_attn=True)[0]))(R(1, 3, 8).make()),
        expect=Ok(lambda r: _torch().allclose(r[0], r[1], atol=1e-6), "same output"))


# ---- transformer ----------------------------------------------------------------------

def _transformer():
    from lmlib import transformer as tf
    m = "transformer"
    base = {"src_vocab_size": TR_V, "tgt_vocab_size": TR_V, "d_model": 16, "n_heads": 2,
            "n_layers": 1, "d_ff": 16, "max_len": 10}
    sweep(m, "TransformerConfig", tf.TransformerConfig, base,
          {n: "int" for n in ("src_vocab_size", "tgt_vocab_size", "d_model", "n_heads", "n_layers",
                              "d_ff", "max_len")})
    sweep(m, "TransformerConfig", tf.TransformerConfig, base,
          {"dropout": ("float", {"lo": 0.0, "hi": 1.0, "lo_open": False}),
           **{n: ("int", {"low": 0, "high": TR_V - 1}) for n in ("pad_id", "bos_id", "eos_id")}})
    add("transformer.TransformerConfig:odd-d_model", m, tf.TransformerConfig,
        kwargs={**base, "d_model": 5, "n_heads": 1}, expect=Err(VE, "d_model"))
    add("transformer.TransformerConfig:same-ids", m, tf.TransformerConfig,
        kwargs={**base, "bos_id": 3}, expect=Err(VE, "bos_id"))
    sweep(m, "sinusoidal_positions", tf.sinusoidal_positions, {"max_len": 4, "d_model": 8},
          {"max_len": "int", "d_model": ("int", {"low": 2})})
    add("transformer.sinusoidal_positions:odd", m, tf.sinusoidal_positions,
        kwargs={"max_len": 4, "d_model": 7}, expect=Err(VE, "d_model"))
    add("transformer.sinusoidal_positions:values", m, tf.sinusoidal_positions,
        kwargs={"max_len": 3, "d_model": 4},
        expect=Ok(lambda pe: _close(float(pe[1, 0]), math.sin(1.0)) and _close(float(pe[2, 3]), math.cos(2 / 100)),
                  "sin/cos of p / 10000^(2i/d)"))
    add("transformer.Transformer:config=dict", m, tf.Transformer, kwargs={"config": base},
        expect=Err(TE, "config"))
    src, tgt = T([[4, 5, 6]]), T([[2, 4, 5]])
    for label, value, types in bad_ids(TR_V, maxlen=10):
        add(f"transformer.Transformer.encode:src={label}", m, M("tr", "encode"), (), {"src": value},
            Err(types, "src"))
        add(f"transformer.Transformer.forward:src={label}", m, M("tr", "forward"), (),
            {"src": value, "tgt_in": tgt}, Err(types, "src"))
        add(f"transformer.Transformer.forward:tgt_in={label}", m, M("tr", "forward"), (),
            {"src": src, "tgt_in": value}, Err(types, "tgt_in"))
        add(f"transformer.Transformer.greedy_decode:src={label}", m, M("tr", "greedy_decode"), (),
            {"src": value}, Err(types, "src"))
        add(f"transformer.Transformer.beam_decode:src={label}", m, M("tr", "beam_decode"), (),
            {"src": value}, Err(types, "src"))
    for label, value, types in [("list", [[4, 5, 3]], TE), ("shape", T([[4, 3]]), VE), ("id=V", T([[4, 5, TR_V]]), VE),
                                ("float", T([[4.0, 5.0, 3.0]], dtype="float32"), TV), ("None", None, TE)]:
        add(f"transformer.Transformer.loss:tgt_out={label}", m, M("tr", "loss"), (),
            {"src": src, "tgt_in": tgt, "tgt_out": value}, Err(types, "tgt_out"))
    for label, value, types in bad_float(lo=0.0, hi=1.0, lo_open=False):
        add(f"transformer.Transformer.loss:label_smoothing={label}", m, M("tr", "loss"), (),
            {"src": src, "tgt_in": tgt, "tgt_out": T([[4, 5, 3]]), "label_smoothing": value},
            Err(types, "label_smoothing"))
    for meth in ("greedy_decode", "beam_decode"):
        for label, value, types in bad_int(none_ok=True, high=10):
            add(f"transformer.Transformer.{meth}:max_len={label}", m, M("tr", meth), (),
                {"src": src, "max_len": value}, Err(types, "max_len"))
    for label, value, types in bad_int():
        add(f"transformer.Transformer.beam_decode:beam_size={label}", m, M("tr", "beam_decode"), (),
            {"src": src, "beam_size": value}, Err(types, "beam_size"))
    for label, value, types in [("nan", NAN, VE), ("inf", INF, VE), ("str", "1", TV), ("None", None, TV)]:
        add(f"transformer.Transformer.beam_decode:length_penalty={label}", m, M("tr", "beam_decode"),
            (), {"src": src, "length_penalty": value}, Err(types, "length_penalty"))
    add("transformer.Transformer.beam_decode:beam1=greedy", m,
        lambda: (obj("tr").beam_decode(_resolve(src), beam_size=1, max_len=5),
                 obj("tr").greedy_decode(_resolve(src), max_len=5)),
        expect=Ok(lambda r: r[0] == r[1], "beam_size=1 is greedy"))
    add("transformer.Transformer.greedy_decode:max_len=1", m, M("tr", "greedy_decode"),
        kwargs={"src": src, "max_len": 1}, expect=Ok(lambda r: len(r) == 1 and len(r[0]) == 1, "one token"))
    for fn_name in ("teacher_forcing_steps", "free_running_steps"):
        fn = getattr(tf, fn_name)
        fb = {"model": L("tr"), "src_ids": [4, 5, 6], "tgt_ids": [6, 5, 4]}
        if fn_name == "free_running_steps":
            fb["max_len"] = 2  # two greedy steps are enough to reach every check
        for pname in ("src_ids", "tgt_ids"):
            for label, value, types in [("str", "456", TE), ("floats", [4.5, 5.0], TE), ("id=V", [4, TR_V], VE),
                                        ("neg", [-1], VE), ("None", None, TE), ("empty", [], VE)]:
                if pname == "tgt_ids" and label == "empty":
                    continue
                add(f"transformer.{fn_name}:{pname}={label}", m, fn, (), {**fb, pname: value},
                    Err(types, pname))
        for label, value, types in bad_int(high=TR_V):
            add(f"transformer.{fn_name}:top_k={label}", m, fn, (), {**fb, "top_k": value},
                Err(types, "top_k"))
        add(f"transformer.{fn_name}:model=str", m, fn, (), {**fb, "model": "tr"}, Err(TE, "model"))
    add("transformer.teacher_forcing_steps:eos-appended", m, tf.teacher_forcing_steps,
        kwargs={"model": L("tr"), "src_ids": [4, 5], "tgt_ids": [6, 7], "top_k": 2},
        expect=Ok(lambda r: [s["gold"] for s in r] == [6, 7, 3] and r[2]["decoder_input"] == [2, 6, 7]
                  and all(len(s["topk"]) == 2 for s in r), "gold + </s>, shifted input"))
    for label, value, types in bad_int(high=10, none_ok=True):
        add(f"transformer.free_running_steps:max_len={label}", m, tf.free_running_steps, (),
            {"model": L("tr"), "src_ids": [4, 5], "tgt_ids": [5, 4], "max_len": value}, Err(types, "max_len"))
    trb = {"model": Lazy(lambda: _BUILDERS["tr"](), "fresh Transformer"), "batches_fn": lambda step: tf.copy_task_batch(2, 2, 3, TR_V),
           "steps": 1, "progress": False, "warmup": 1}
    sweep(m, "train", tf.train, trb, {"steps": "int", "warmup": "int", "lr": "float", "clip": ("float", {"finite": False}),
                                      "batches_fn": "callable"})
    for label, value, types in bad_float(lo=0.0, hi=1.0, lo_open=False):
        add(f"transformer.train:label_smoothing={label}", m, tf.train, (),
            {**trb, "label_smoothing": value}, Err(types, "label_smoothing"))
    cb = {"batch_size": 2, "min_len": 2, "max_len": 3, "vocab_size": TR_V}
    sweep(m, "copy_task_batch", tf.copy_task_batch, cb,
          {"batch_size": "int", "min_len": "int", "max_len": "int", "vocab_size": ("int", {"low": 6}),
           "generator": "generator"})
    add("transformer.copy_task_batch:min>max", m, tf.copy_task_batch, kwargs={**cb, "min_len": 3, "max_len": 2},
        expect=Err(VE, "min_len"))
    add("transformer.copy_task_batch:copy", m, tf.copy_task_batch,
        kwargs={**cb, "generator": Lazy(lambda: _torch().Generator().manual_seed(0), "gen")},
        expect=Ok(lambda r: _torch().equal(r[1][:, 1:].masked_fill(r[1][:, 1:] == 3, 0), r[0].masked_fill(r[0] == 3, 0))
                  and bool((r[1][:, 0] == 2).all()), "tgt_in = <s> + src"))


# ---- seq2seq --------------------------------------------------------------------------

def _seq2seq():
    from lmlib import seq2seq as s2
    m = "seq2seq"
    base = {"src_vocab_size": TR_V, "tgt_vocab_size": TR_V}
    sweep(m, "Seq2SeqConfig", s2.Seq2SeqConfig, base,
          {**{n: "int" for n in ("src_vocab_size", "tgt_vocab_size", "d_model", "d_hidden", "n_layers")},
           "dropout": ("float", {"lo": 0.0, "hi": 1.0, "lo_open": False}), "attention": "bool",
           **{n: ("int", {"low": 0, "high": TR_V - 1}) for n in ("pad_id", "bos_id", "eos_id")}})
    add("seq2seq.Seq2Seq:config=dict", m, s2.Seq2Seq, kwargs={"config": base}, expect=Err(TE, "config"))
    src, lens, tgt = T([[4, 5, 6]]), T([3]), T([[2, 4, 5]])
    for label, value, types in bad_ids(TR_V):
        add(f"seq2seq.Seq2Seq.encode:src={label}", m, M("s2s", "encode"), (),
            {"src": value, "src_lengths": lens}, Err(types, "src"))
        add(f"seq2seq.Seq2Seq.forward:tgt_in={label}", m, M("s2s", "forward"), (),
            {"src": src, "src_lengths": lens, "tgt_in": value}, Err(types, "tgt_in"))
        add(f"seq2seq.Seq2Seq.greedy_decode:src={label}", m, M("s2s", "greedy_decode"), (),
            {"src": value, "src_lengths": lens}, Err(types, "src"))
    bad_lens = [("list", [3], TE), ("float", T([3.0], dtype="float32"), TV), ("shape", T([3, 3]), VE),
                ("zero", T([0]), VE), ("long", T([4]), VE), ("None", None, TE)]
    for label, value, types in bad_lens:
        add(f"seq2seq.Seq2Seq.encode:src_lengths={label}", m, M("s2s", "encode"), (),
            {"src": src, "src_lengths": value}, Err(types, "src_lengths"))
        add(f"seq2seq.Seq2Seq.greedy_decode:src_lengths={label}", m, M("s2s", "greedy_decode"), (),
            {"src": src, "src_lengths": value}, Err(types, "src_lengths"))
    for label, value, types in [("list", [[4, 5, 3]], TE), ("shape", T([[4, 3]]), VE), ("id=V", T([[4, 5, TR_V]]), VE),
                                ("None", None, TE)]:
        add(f"seq2seq.Seq2Seq.loss:tgt_out={label}", m, M("s2s", "loss"), (),
            {"src": src, "src_lengths": lens, "tgt_in": tgt, "tgt_out": value}, Err(types, "tgt_out"))
    for label, value, types in bad_float(lo=0.0, hi=1.0, lo_open=False):
        add(f"seq2seq.Seq2Seq.loss:label_smoothing={label}", m, M("s2s", "loss"), (),
            {"src": src, "src_lengths": lens, "tgt_in": tgt, "tgt_out": T([[4, 5, 3]]),
             "label_smoothing": value}, Err(types, "label_smoothing"))
    for label, value, types in bad_int():
        add(f"seq2seq.Seq2Seq.greedy_decode:max_len={label}", m, M("s2s", "greedy_decode"), (),
            {"src": src, "src_lengths": lens, "max_len": value}, Err(types, "max_len"))
    add("seq2seq.Seq2Seq.greedy_decode:max_len=2", m, M("s2s", "greedy_decode"),
        kwargs={"src": src, "src_lengths": lens, "max_len": 2}, expect=Ok(lambda r: len(r[0]) <= 2, "<= 2 tokens"))
    for label, value, types in [("str", "abc", TE), ("empty", [], VE), ("floats", [[1.5]], TE),
                                ("None", None, TE), ("tensor", T([[1, 2]]), TE), ("bools", [[True]], TE),
                                ("flat", [1, 2], TE)]:
        add(f"seq2seq.pad_batch:seqs={label}", m, s2.pad_batch, (), {"seqs": value}, Err(types, "seqs"))
    for label, value, types in bad_int(low=0):
        add(f"seq2seq.pad_batch:pad_id={label}", m, s2.pad_batch, (), {"seqs": [[1], [2, 3]], "pad_id": value},
            Err(types, "pad_id"))
    add("seq2seq.pad_batch:result", m, s2.pad_batch, kwargs={"seqs": [[5, 6], [7]], "pad_id": 0},
        expect=Ok(lambda r: r[0].tolist() == [[5, 6], [7, 0]] and r[1].tolist() == [2, 1], "padded, lengths"))
    rb = {"batch_size": 2, "min_len": 2, "max_len": 3, "vocab_size": TR_V}
    sweep(m, "reverse_task_batch", s2.reverse_task_batch, rb,
          {"batch_size": "int", "min_len": "int", "max_len": "int", "vocab_size": ("int", {"low": 6}),
           "generator": "generator", "reverse": "bool"})
    for label, value, types in [("str", "23", TE), ("wrong-count", [2], VE), ("zero", [0, 2], VE),
                                ("floats", [2.0, 3.0], TV), ("outside", [2, 9], VE)]:
        add(f"seq2seq.reverse_task_batch:lengths={label}", m, s2.reverse_task_batch, (),
            {**rb, "lengths": value}, Err(types, "lengths"))
    add("seq2seq.reverse_task_batch:reversed", m, s2.reverse_task_batch,
        kwargs={**rb, "lengths": [2, 3], "generator": Lazy(lambda: _torch().Generator().manual_seed(0), "gen")},
        expect=Ok(lambda r: r[3][1, :3].tolist() == r[0][1].flip(0).tolist() and r[3][1, 3] == 3
                  and r[1].tolist() == [2, 3], "tgt_out = reversed src + </s>"))
    for pname in ("pred", "ref"):
        for label, value, types in [("str", "abc", TE), ("None", None, TE), ("floats", [1.5], TE)]:
            add(f"seq2seq.token_accuracy:{pname}={label}", m, s2.token_accuracy, (),
                {"pred": [1, 2], "ref": [1, 2], pname: value}, Err(types, pname))
    add("seq2seq.token_accuracy:result", m, s2.token_accuracy, kwargs={"pred": [1, 2, 3], "ref": [1, 5]},
        expect=Ok(lambda r: r == (1, 3), "1 of max(3, 2)"))
    ab = {"model": L("s2s"), "lengths": [2], "n_per_length": 2}
    for label, value, types in [("str", "2", TE), ("empty", [], VE), ("zero", [0], VE), ("float", [2.5], TV)]:
        add(f"seq2seq.accuracy_by_length:lengths={label}", m, s2.accuracy_by_length, (),
            {**ab, "lengths": value}, Err(types, "lengths"))
    for label, value, types in bad_int():
        add(f"seq2seq.accuracy_by_length:n_per_length={label}", m, s2.accuracy_by_length, (),
            {**ab, "n_per_length": value}, Err(types, "n_per_length"))
    add("seq2seq.accuracy_by_length:model=str", m, s2.accuracy_by_length, kwargs={**ab, "model": "s2s"},
        expect=Err(TE, "model"))
    tb = {"model": Lazy(lambda: _BUILDERS["s2s"](), "fresh Seq2Seq"), "batches_fn": lambda step: s2.reverse_task_batch(2, 2, 3, TR_V),
          "steps": 1, "progress": False}
    sweep(m, "train", s2.train, tb, {"steps": "int", "lr": "float", "clip": ("float", {"finite": False}),
                                     "batches_fn": "callable"})
    for label, kw, types, name in [("steps=0", {"steps": 0}, VE, "steps"), ("dtype=str", {"dtype": "float64"}, VE, "dtype"),
                                   ("dtype=f16", {"dtype": Lazy(lambda: _torch().float16, "float16")}, VE, "dtype"),
                                   ("batch_size=0", {"batch_size": 0}, VE, "batch_size"),
                                   ("vocab_size=3", {"vocab_size": 3}, VE, "vocab_size"),
                                   ("min_len>max_len", {"min_len": 5, "max_len": 4}, VE, "min_len"),
                                   ("n_eval=0", {"n_eval": 0}, VE, "n_eval"),
                                   ("d_hidden=0", {"d_hidden": 0}, VE, "d_hidden")]:
        add(f"seq2seq.bottleneck_experiment:{label}", m, s2.bottleneck_experiment, (),
            {"steps": 1, "batch_size": 2, "n_eval": 2, "max_len": 4, "d_model": 4, "d_hidden": 4, **kw},
            Err(types, name))


# ---- gpt ------------------------------------------------------------------------------

def _gpt():
    from lmlib import gpt
    m = "gpt"
    base = {"vocab_size": GPT_V, "max_len": 12, "d_model": 16, "n_heads": 2, "n_layers": 1}
    sweep(m, "GPTConfig", gpt.GPTConfig, base,
          {**{n: "int" for n in ("vocab_size", "max_len", "d_model", "n_heads", "n_layers")},
           "d_ff": ("int", {"none_ok": True}),
           "dropout": ("float", {"lo": 0.0, "hi": 1.0, "lo_open": False}),
           "layer_norm_eps": "float",
           "eos_id": ("int", {"low": 0, "none_ok": True, "high": GPT_V - 1})})
    add("gpt.GPTConfig:indivisible", m, gpt.GPTConfig, kwargs={**base, "n_heads": 3},
        expect=Err(VE, "n_heads"))
    for label, value in [("dict", base), ("None", None)]:
        add(f"gpt.GPT:config={label}", m, gpt.GPT, kwargs={"config": value}, expect=Err(TE, "config"))
        add(f"gpt.count_parameters:config={label}", m, gpt.count_parameters, kwargs={"config": value},
            expect=Err(TE, "config"))
    add("gpt.count_parameters:gpt2", m, gpt.count_parameters,
        kwargs={"config": Lazy(lambda: gpt.GPTConfig(**gpt.PRESETS["gpt2"]), "gpt2")},
        expect=Ok(lambda n: n == 124_439_808, "GPT-2 small's 124,439,808"))
    add("gpt.count_parameters:matches-model", m,
        lambda: (gpt.count_parameters(obj("gpt").config), obj("gpt").num_parameters()),
        expect=Ok(lambda r: r[0] == r[1], "formula = module count"))
    idx = T([[4, 5, 6]])
    for label, value, types in bad_ids(GPT_V, maxlen=12):
        add(f"gpt.GPT.forward:idx={label}", m, M("gpt", "forward"), (), {"idx": value}, Err(types, "idx"))
    # token_logprobs runs the model on idx[:, :-1]: 13 tokens fit a context of 12, 14 do not
    for label, value, types in bad_ids(GPT_V, maxlen=13):
        add(f"gpt.GPT.token_logprobs:idx={label}", m, M("gpt", "token_logprobs"), (), {"idx": value},
            Err(types, "idx"))
    add("gpt.GPT.token_logprobs:one-token", m, M("gpt", "token_logprobs"), kwargs={"idx": T([[4]])},
        expect=Err(VE, "idx"))
    add("gpt.GPT.token_logprobs:values", m,
        lambda: (obj("gpt").token_logprobs(T([[4, 5, 6]]).make()),
                 obj("gpt")(T([[4, 5]]).make()).logits.detach().log_softmax(-1)),
        expect=Ok(lambda r: _close(float(r[0][0, 1]), float(r[1][0, 1, 6]), 1e-5), "log P(6 | 4 5)"))
    for label, value, types in [("list", [[5, 6, 7]], TE), ("shape", T([[5, 6]]), VE), ("id=V", T([[5, 6, GPT_V]]), VE),
                                ("float", T([[5.0, 6.0, 7.0]], dtype="float32"), TV), ("id=-2", T([[5, 6, -2]]), VE)]:
        add(f"gpt.GPT.forward:targets={label}", m, M("gpt", "forward"), (), {"idx": idx, "targets": value},
            Err(types, "targets"))
    add("gpt.GPT.forward:targets-ignore", m, M("gpt", "forward"),
        kwargs={"idx": idx, "targets": T([[-100, -100, 7]])},
        expect=Ok(lambda o: _close(o.loss.item(), -o.logits[0, 2].detach().log_softmax(-1)[7].item(), 1e-5),
                  "loss of the one target"))
    add("gpt.GPT.forward:past_key_values=str", m, M("gpt", "forward"),
        kwargs={"idx": idx, "past_key_values": "cache"}, expect=Err(TE, "past_key_values"))
    add("gpt.GPT.forward:past_key_values=wrong-layers", m, M("gpt", "forward"),
        kwargs={"idx": idx, "past_key_values": []}, expect=Err(VE, "past_key_values"))
    gb = {"idx": idx, "max_new_tokens": 2, "seed": 0}
    for label, value, types in [("floats", [4.5, 5.0], TE), ("empty", [], VE), ("id=V", [4, GPT_V], VE),
                                ("bools", [True], TE), ("str", "456", TE), ("None", None, TE),
                                ("float-tensor", T([4.0, 5.0], dtype="float32"), TV), ("3d", T([[[4]]]), VE)]:
        add(f"gpt.GPT.generate:idx={label}", m, M("gpt", "generate"), (), {**gb, "idx": value},
            Err(types, "idx"))
    sweep(m, "GPT.generate", M("gpt", "generate"), gb,
          {"max_new_tokens": "int", "temperature": "float",
           "top_k": ("int", {"none_ok": True}),
           "top_p": ("float", {"lo": 0.0, "hi": 1.0, "hi_open": False, "none_ok": True})})
    for label, value, types in [("1.5", 1.5, TV), ("str", "3", TV), ("True", True, TV), ("list", [0], TV)]:
        add(f"gpt.GPT.generate:seed={label}", m, M("gpt", "generate"), (), {**gb, "seed": value},
            Err(types, "seed"))
    for label, value, types in [("V", GPT_V, VE), ("-2", -2, VE), ("str", "3", TV), ("1.5", 1.5, TV), ("True", True, TV)]:
        add(f"gpt.GPT.generate:eos_id={label}", m, M("gpt", "generate"), (), {**gb, "eos_id": value},
            Err(types, "eos_id"))
    for pname in ("greedy", "crop", "use_cache"):
        add(f"gpt.GPT.generate:{pname}=str", m, M("gpt", "generate"), (), {**gb, pname: "no"},
            Err(TE, pname))
    add("gpt.GPT.generate:too-long", m, M("gpt", "generate"), kwargs={**gb, "max_new_tokens": 10},
        expect=Err(VE, "max_new_tokens"))
    add("gpt.GPT.generate:crop", m, M("gpt", "generate"),
        kwargs={**gb, "max_new_tokens": 12, "crop": True, "eos_id": None},
        expect=Ok(lambda t: tuple(t.shape) == (1, 15), "3 + 12 tokens"))
    add("gpt.GPT.generate:top_k=1-is-greedy", m,
        lambda: (obj("gpt").generate(idx.make(), 4, top_k=1, seed=3, eos_id=None),
                 obj("gpt").generate(idx.make(), 4, greedy=True, eos_id=None)),
        expect=Ok(lambda r: _torch().equal(r[0], r[1]), "top_k=1 = greedy"))
    add("gpt.GPT.generate:cache-equals-no-cache", m,
        lambda: (obj("gpt").generate(idx.make(), 5, greedy=True, eos_id=None),
                 obj("gpt").generate(idx.make(), 5, greedy=True, eos_id=None, use_cache=False)),
        expect=Ok(lambda r: _torch().equal(r[0], r[1]), "same tokens"))
    add("gpt.GPT.generate:list-prompt", m, M("gpt", "generate"),
        kwargs={"idx": [4, 5], "max_new_tokens": 1, "greedy": True, "eos_id": None},
        expect=Ok(lambda t: tuple(t.shape) == (1, 3) and t[0, :2].tolist() == [4, 5], "(1, 3)"))
    logits = R(2, GPT_V)
    for fn_name, pname, kind in (("top_k_filter", "k", ("int", {})),
                                 ("top_p_filter", "p", ("float", {"lo": 0.0, "hi": 1.0, "hi_open": False}))):
        fn = getattr(gpt, fn_name)
        for label, value, types in KINDS[kind[0]](**kind[1]):
            add(f"gpt.{fn_name}:{pname}={label}", m, fn, (), {"logits": logits, pname: value},
                Err(types, pname))
        for label, value, types in [("list", [[0.0, 1.0]], TE), ("None", None, TE), ("int", Z(2, 4), TV)]:
            add(f"gpt.{fn_name}:logits={label}", m, fn, (),
                {"logits": value, pname: 1 if pname == "k" else 0.5}, Err(types, "logits"))
    add("gpt.top_k_filter:k>V", m, gpt.top_k_filter, kwargs={"logits": logits, "k": 10 ** 6},
        expect=Ok(lambda t: bool(_torch().isfinite(t).all()), "nothing dropped"))
    add("gpt.top_k_filter:ties", m, gpt.top_k_filter,
        kwargs={"logits": T([[1.0, 2.0, 2.0, 0.0]], dtype="float32"), "k": 1},
        expect=Ok(lambda t: _torch().isinf(t).tolist() == [[True, False, False, True]], "both tied kept"))
    add("gpt.top_p_filter:top-token", m, gpt.top_p_filter,
        kwargs={"logits": T([[5.0, 0.0, 0.0]], dtype="float32"), "p": 0.5},
        expect=Ok(lambda t: _torch().isinf(t).tolist() == [[False, True, True]], "only the top token"))
    nb = {"logits": logits}
    sweep(m, "next_token_probs", gpt.next_token_probs, nb,
          {"temperature": "float", "top_k": ("int", {"none_ok": True}),
           "top_p": ("float", {"lo": 0.0, "hi": 1.0, "hi_open": False, "none_ok": True})})
    add("gpt.next_token_probs:int-logits", m, gpt.next_token_probs, kwargs={"logits": Z(2, 4)},
        expect=Ok(lambda p: _torch().allclose(p, _torch().full((2, 4), 0.25)), "uniform"))
    for label, value, types in [("list", [[0.0, 1.0]], TE), ("None", None, TE)]:
        add(f"gpt.next_token_probs:logits={label}", m, gpt.next_token_probs, (), {"logits": value},
            Err(types, "logits"))
    add("gpt.next_token_probs:sums", m, gpt.next_token_probs, kwargs={**nb, "top_k": 3, "top_p": 0.9},
        expect=Ok(lambda p: _torch().allclose(p.sum(-1), _torch().ones(2)) and bool(((p > 0).sum(-1) <= 3).all()),
                  "rows sum to 1, <= 3 tokens"))
    for label, value, types in [("int", 3, TE), ("empty", "", VE), ("None", None, TE)]:
        add(f"gpt.GPT.from_pretrained:name={label}", m, gpt.GPT.from_pretrained, (), {"name": value},
            Err(types, "name"))
    for label, value, types in [("int", 3, TE), ("unknown", "nope", VE), ("path", "../gpt_nsmc", VE)]:
        add(f"gpt.load_course_model:name={label}", m, gpt.load_course_model, (), {"name": value},
            Err(types, "name"))
    add("gpt.GPT.from_hf:model=str", m, gpt.GPT.from_hf, kwargs={"model": "gpt2"}, expect=Err(TE, "model"))


# ---- bert -----------------------------------------------------------------------------

def _bert():
    from lmlib import bert
    m = "bert"
    base = {"vocab_size": 40, "max_len": 12, "d_model": 16, "n_heads": 2, "n_layers": 1}
    sweep(m, "BertConfig", bert.BertConfig, base,
          {**{n: "int" for n in ("vocab_size", "max_len", "d_model", "n_heads", "n_layers", "type_vocab_size")},
           "d_ff": ("int", {"none_ok": True}),
           "dropout": ("float", {"lo": 0.0, "hi": 1.0, "lo_open": False}),
           "layer_norm_eps": "float",
           "pad_id": ("int", {"low": 0, "none_ok": True, "high": 39})})
    for cls in (bert.BertModel, bert.BertForPreTraining, bert.BertForSequenceClassification):
        add(f"bert.{cls.__name__}:config=dict", m, cls, kwargs={"config": base}, expect=Err(TE, "config"))
    for label, value, types in bad_int(low=2):
        add(f"bert.BertForSequenceClassification:n_labels={label}", m,
            lambda **kw: bert.BertForSequenceClassification(obj("bert_cfg"), **kw), (), {"n_labels": value},
            Err(types, "n_labels"))
        add(f"bert.count_parameters:n_labels={label}", m, bert.count_parameters, (),
            {"config": L("bert_cfg"), "head": "classifier", "n_labels": value}, Err(types, "n_labels"))
    for label, value, types in bad_choice():
        add(f"bert.count_parameters:head={label}", m, bert.count_parameters, (),
            {"config": L("bert_cfg"), "head": value}, Err(types, "head"))
    add("bert.count_parameters:config=dict", m, bert.count_parameters, kwargs={"config": base},
        expect=Err(TE, "config"))
    for head, name in (("base", "bert_base"), ("pretraining", "bert_pt"), ("classifier", "bert_clf")):
        add(f"bert.count_parameters:{head}-matches-model", m,
            lambda head=head, name=name: (bert.count_parameters(obj("bert_cfg"), head), obj(name).num_parameters()),
            expect=Ok(lambda r: r[0] == r[1], "formula = module count"))
    V = obj_size = None  # noqa: F841 (vocabulary size is the wordpiece tokenizer's, known when built)
    ids = T([[4, 8, 9, 5]])
    for model in ("bert_base", "bert_pt", "bert_clf"):
        for label, value, types in bad_ids(1000, maxlen=12):
            add(f"bert.{model}.forward:input_ids={label}", m, M(model, "forward"), (), {"input_ids": value},
                Err(types, "input_ids"))
        for label, value, types in [("list", [[0, 0, 0, 0]], TE), ("shape", T([[0, 0]]), VE), ("two", T([[0, 0, 2, 2]]), VE),
                                    ("float", T([[0.0] * 4], dtype="float32"), TV), ("neg", T([[0, -1, 0, 0]]), VE)]:
            add(f"bert.{model}.forward:token_type_ids={label}", m, M(model, "forward"), (),
                {"input_ids": ids, "token_type_ids": value}, Err(types, "token_type_ids"))
        for label, value, types in [("list", [[1, 1, 1, 1]], TE), ("shape", T([[1, 1]]), VE), ("two", T([[1, 1, 2, 1]]), VE),
                                    ("half", T([[1.0, 0.5, 1.0, 1.0]], dtype="float32"), VE)]:
            add(f"bert.{model}.forward:attention_mask={label}", m, M(model, "forward"), (),
                {"input_ids": ids, "attention_mask": value}, Err(types, "attention_mask"))
    add("bert.BertModel.forward:vocab-edge", m, M("bert_base", "forward"),
        kwargs={"input_ids": Lazy(lambda: _torch().tensor([[4, obj("bert_cfg").vocab_size]]), "[[4, V]]")},
        expect=Err(VE, "input_ids"))
    add("bert.BertModel.forward:padding-ignored", m,
        lambda: (obj("bert_base")(T([[4, 8, 9, 5]]).make()).last_hidden_state[0, :4],
                 obj("bert_base")(T([[4, 8, 9, 5, 0, 0]]).make(),
                                  attention_mask=T([[1, 1, 1, 1, 0, 0]]).make()).last_hidden_state[0, :4]),
        expect=Ok(lambda r: _torch().allclose(r[0], r[1], atol=1e-5), "padding changes nothing"))
    for label, value, types in [("list", [[-100] * 4], TE), ("shape", T([[-100, 8]]), VE),
                                ("id=V", T([[-100, 1000, -100, -100]]), VE), ("float", T([[-100.0] * 4], dtype="float32"), TV),
                                ("neg", T([[-100, -5, -100, -100]]), VE)]:
        add(f"bert.BertForPreTraining.forward:mlm_labels={label}", m, M("bert_pt", "forward"), (),
            {"input_ids": ids, "mlm_labels": value}, Err(types, "mlm_labels"))
    for label, value, types in [("list", [0], TE), ("two", T([2]), VE), ("shape", T([0, 1]), VE),
                                ("float", T([0.0], dtype="float32"), TV)]:
        add(f"bert.BertForPreTraining.forward:nsp_labels={label}", m, M("bert_pt", "forward"), (),
            {"input_ids": ids, "nsp_labels": value}, Err(types, "nsp_labels"))
        add(f"bert.BertForSequenceClassification.forward:labels={label}", m, M("bert_clf", "forward"), (),
            {"input_ids": ids, "labels": value}, Err(types, "labels"))
    add("bert.BertForPreTraining.pretraining_loss:no-masked", m, M("bert_pt", "pretraining_loss"),
        kwargs={"input_ids": ids, "token_type_ids": None, "attention_mask": None,
                "mlm_labels": T([[-100] * 4]), "nsp_labels": T([0])},
        expect=Err(VE, "mlm_labels"))
    for label, value in [("str", "bert"), ("None", None), ("gpt", L("gpt"))]:
        add(f"bert.BertForSequenceClassification.from_pretraining:model={label}", m,
            bert.BertForSequenceClassification.from_pretraining, (), {"model": value}, Err(TE, "model"))
        add(f"bert.parameter_table:model={label}", m, bert.parameter_table, (), {"model": value},
            Err(TE, "model"))
    add("bert.parameter_table:sums", m, lambda: (bert.parameter_table(obj("bert_pt")), obj("bert_pt").num_parameters()),
        expect=Ok(lambda r: sum(n for _, n in r[0]) == r[1], "rows sum to num_parameters"))
    add("bert.BertForSequenceClassification.freeze_base:frozen=str", m, M("bert_clf", "freeze_base"),
        kwargs={"frozen": "no"}, expect=Err(TE, "frozen"))
    add("bert.BertForSequenceClassification.from_pretraining:copies", m,
        lambda: (bert.BertForSequenceClassification.from_pretraining(obj("bert_pt")), obj("bert_pt")),
        expect=Ok(lambda r: _torch().equal(r[0].bert.embeddings.word_embeddings.weight,
                                           r[1].bert.embeddings.word_embeddings.weight)
                  and r[0].bert.embeddings.word_embeddings.weight.data_ptr()
                  != r[1].bert.embeddings.word_embeddings.weight.data_ptr(), "equal copy"))
    for cls in (bert.BertModel, bert.BertForPreTraining):
        for label, value, types in [("int", 3, TE), ("empty", "", VE)]:
            add(f"bert.{cls.__name__}.from_pretrained:name={label}", m, cls.from_pretrained, (),
                {"name": value}, Err(types, "name"))


# ---- bert_data ------------------------------------------------------------------------

def _bert_data():
    from lmlib import bert_data as bd
    m = "bert_data"
    mb = {"ids": T([[4, 8, 9, 10, 11, 5]]), "vocab_size": 20}
    for label, value, types in bad_ids(20, none_ok=False):
        add(f"bert_data.mask_tokens:ids={label}", m, bd.mask_tokens, (), {**mb, "ids": value}, Err(types, "ids"))
    sweep(m, "mask_tokens", bd.mask_tokens, mb,
          {"vocab_size": ("int", {"low": 8}), "mask_prob": ("float", {"lo": 0.0, "hi": 1.0}),
           "generator": "generator"})
    for label, value, types in [("V", 20, VE), ("neg", -1, VE), ("str", "6", TV), ("1.5", 6.5, TV),
                                ("not-special", 9, VE)]:
        add(f"bert_data.mask_tokens:mask_id={label}", m, bd.mask_tokens, (), {**mb, "mask_id": value},
            Err(types, "mask_id"))
    for label, value, types in [("str", "0123456", TE), ("None", None, TE), ("floats", [0.5, 6], TE),
                                ("outside", [0, 6, 25], VE), ("all", list(range(20)), VE)]:
        add(f"bert_data.mask_tokens:special_ids={label}", m, bd.mask_tokens, (), {**mb, "special_ids": value},
            Err(types, "special_ids"))
    for label, value, types in [("long", Z(1, 6), VE), ("shape", Z(1, 3, dtype="bool", fill=1), VE),
                                ("list", [[True] * 6], TE)]:
        add(f"bert_data.mask_tokens:word_starts={label}", m, bd.mask_tokens, (), {**mb, "word_starts": value},
            Err(types, "word_starts"))
    add("bert_data.mask_tokens:labels", m, bd.mask_tokens,
        kwargs={**mb, "ids": T([[4, 8, 9, 10, 11, 12, 13, 14, 15, 5]]),
                "generator": Lazy(lambda: _torch().Generator().manual_seed(0), "gen")},
        expect=Ok(lambda r: int((r[1] != -100).sum()) == 1 and bool(((r[1] == -100) | (r[1] == T([[4, 8, 9, 10, 11, 12, 13, 14, 15, 5]]).make())).all())
                  and r[0][0, 0] == 4 and r[0][0, -1] == 5, "round(0.15*8)=1 label, specials kept"))
    docs = [["가 나", "다 라"], ["마 바"]]
    for label, value, types in [("str", "가 나", TE), ("one-doc", [["가", "나"]], VE), ("ints", [[1, 2], [3]], TE),
                                ("None", None, TE), ("flat", ["가 나", "다 라"], TE), ("no-long", [["가"], ["나"]], VE)]:
        add(f"bert_data.nsp_pairs:documents={label}", m, bd.nsp_pairs, (), {"documents": value, "n_pairs": 2},
            Err(types, "documents"))
    for label, value, types in bad_int():
        add(f"bert_data.nsp_pairs:n_pairs={label}", m, bd.nsp_pairs, (), {"documents": docs, "n_pairs": value},
            Err(types, "n_pairs"))
    for label, value in [("1.5", 1.5), ("str", "3"), ("None", None)]:
        add(f"bert_data.nsp_pairs:seed={label}", m, bd.nsp_pairs, (), {"documents": docs, "n_pairs": 2, "seed": value},
            Err(TV, "seed"))
    add("bert_data.nsp_pairs:labels", m, bd.nsp_pairs, kwargs={"documents": docs, "n_pairs": 50},
        expect=Ok(lambda r: all((lab == 0) == ((a, b) == ("가 나", "다 라")) or (lab == 1 and ((a in docs[0]) != (b in docs[0])))
                                for a, b, lab in r), "IsNext pairs follow, NotNext cross documents"))
    eb = {"tokenizer": L("wp"), "a": "나는 어제", "b": "카페에 갔다"}
    for pname in ("a", "b"):
        for label, value, types in bad_str(none_ok=pname == "b"):
            add(f"bert_data.encode_pair:{pname}={label}", m, bd.encode_pair, (), {**eb, pname: value},
                Err(types, pname))
    for label, value, types in bad_int(low=3):
        add(f"bert_data.encode_pair:max_len={label}", m, bd.encode_pair, (), {**eb, "max_len": value},
            Err(types, "max_len"))
    add("bert_data.encode_pair:tokenizer=str", m, bd.encode_pair, kwargs={**eb, "tokenizer": "wp"},
        expect=Err(TE, "tokenizer"))
    add("bert_data.encode_pair:truncate", m, bd.encode_pair, kwargs={**eb, "max_len": 5},
        expect=Ok(lambda r: len(r[0]) == 5 and r[0][0] == 4 and r[0][-1] == 5 and r[1].count(1) >= 1
                  and len(r[0]) == len(r[1]), "cut to 5, both segments kept"))
    for label, value, types in [("str", "abc", TE), ("empty", [], VE), ("None", None, TE),
                                ("unequal", [([4, 5], [0])], VE), ("flat", [[4, 5]], VE),
                                ("floats", [([4.5, 5.0], [0, 0])], TE)]:
        add(f"bert_data.collate_pairs:encoded={label}", m, bd.collate_pairs, (), {"encoded": value},
            Err(types, "encoded"))
    add("bert_data.collate_pairs:result", m, bd.collate_pairs,
        kwargs={"encoded": [([4, 7, 5], [0, 0, 0]), ([4, 5], [0, 0])]},
        expect=Ok(lambda r: r[0].tolist() == [[4, 7, 5], [4, 5, 0]] and r[2].tolist() == [[1, 1, 1], [1, 1, 0]],
                  "padded ids, mask"))
    add("bert_data.word_start_table:tokenizer=str", m, bd.word_start_table, kwargs={"tokenizer": "wp"},
        expect=Err(TE, "tokenizer"))
    add("bert_data.word_start_table:wordpiece", m, bd.word_start_table, kwargs={"tokenizer": L("wp")},
        expect=Ok(lambda t: t.tolist() == [not obj("wp").id_to_token(i).startswith("##") for i in range(obj("wp").vocab_size)]
                  and not all(t.tolist()), "## pieces False"))
    pb = {"tokenizer": L("wp"), "pairs": [("나는 어제", "카페에 갔다", 0)], "max_len": 12}
    for label, value, types in [("str", "abc", TE), ("empty", [], VE), ("None", None, TE),
                                ("pair", [("나는", "갔다")], VE), ("label=2", [("나는", "갔다", 2)], VE),
                                ("label=str", [("나는", "갔다", "0")], TV), ("text=int", [(1, "갔다", 0)], TE)]:
        add(f"bert_data.pretraining_batch:pairs={label}", m, bd.pretraining_batch, (), {**pb, "pairs": value},
            Err(types, "pairs"))
    sweep(m, "pretraining_batch", bd.pretraining_batch, pb,
          {"max_len": ("int", {"low": 3}), "mask_prob": ("float", {"lo": 0.0, "hi": 1.0}), "whole_word": "bool"})
    add("bert_data.pretraining_batch:starts_table=shape", m, bd.pretraining_batch,
        kwargs={**pb, "whole_word": True, "starts_table": Z(3, dtype="bool", fill=1)}, expect=Err(VE, "starts_table"))
    add("bert_data.pretraining_batch:keys", m, bd.pretraining_batch, kwargs=pb,
        expect=Ok(lambda d: set(d) == {"input_ids", "token_type_ids", "attention_mask", "mlm_labels", "nsp_labels"}
                  and d["nsp_labels"].tolist() == [0] and int((d["mlm_labels"] != -100).sum()) >= 1, "BERT inputs"))
    fb = {"model": L("bert_pt"), "tokenizer": L("wp"), "text": "나는 [MASK] 갔다"}
    for label, value, types in bad_str() + [("no-mask", "나는 갔다", VE)]:
        add(f"bert_data.fill_mask:text={label}", m, bd.fill_mask, (), {**fb, "text": value}, Err(types, "text"))
    for label, value, types in bad_int():
        add(f"bert_data.fill_mask:top_k={label}", m, bd.fill_mask, (), {**fb, "top_k": value}, Err(types, "top_k"))
    add("bert_data.fill_mask:top_k>V", m, bd.fill_mask, kwargs={**fb, "top_k": 10 ** 5},
        expect=Ok(lambda r: len(r) == 1 and len(r[0]) == obj("wp").vocab_size, "every token"))
    add("bert_data.fill_mask:mask-cut-off", m, bd.fill_mask,
        kwargs={**fb, "text": "나는 어제 카페에 갔다 나는 오늘 학교에 갔다 나는 어제 [MASK]"},
        expect=Err(VE, "text"))
    add("bert_data.fill_mask:probs", m, bd.fill_mask, kwargs={**fb, "text": "[MASK] 갔다 [MASK]", "top_k": 3},
        expect=Ok(lambda r: len(r) == 2 and all(len(x) == 3 and x[0][1] >= x[1][1] >= x[2][1] for x in r),
                  "two masks, sorted top 3"))
    add("bert_data.fill_mask:model=str", m, bd.fill_mask, kwargs={**fb, "model": "bert"}, expect=Err(TE, "model"))
    for label, value, types in bad_str_list() + [("multi-token", ["카페에사람이많았다정말"], VE)]:
        add(f"bert_data.MLMBlankScorer:candidates={label}", m, bd.MLMBlankScorer, (),
            {"model": L("bert_pt"), "tokenizer": L("wp"), "candidates": value}, Err(types, "candidates"))
    for label, value, types in bad_str_list(empty_ok=True):
        add(f"bert_data.single_token_words:words={label}", m, bd.single_token_words, (),
            {"tokenizer": L("wp"), "words": value}, Err(types, "words"))
    add("bert_data.single_token_words:result", m, bd.single_token_words,
        kwargs={"tokenizer": L("wp"), "words": ["나는", "뷁뷁뷁", "나는"]},
        expect=Ok(lambda r: r == ["나는"] if len(obj("wp").encode("나는")) == 1 else r == [], "kept whole only"))


@builder("mlm_scorer")
def _mlm_scorer():
    from lmlib.bert_data import MLMBlankScorer, single_token_words
    words = single_token_words(obj("wp"), [w for s in TOKS for w in s])
    return MLMBlankScorer(obj("bert_pt"), obj("wp"), words)


# ---- pretrain -------------------------------------------------------------------------

def _pretrain():
    from lmlib import pretrain as pt
    m = "pretrain"
    for label, value, types in bad_str_list():
        add(f"pretrain.token_stream:texts={label}", m, pt.token_stream, (), {"tokenizer": L("bpe"), "texts": value},
            Err(types, "texts"))
    add("pretrain.token_stream:eos", m, pt.token_stream, kwargs={"tokenizer": L("bpe"), "texts": ["나는", "갔다"]},
        expect=Ok(lambda t: t.dtype == _torch().long and int((t == 3).sum()) == 2 and int(t[-1]) == 3,
                  "one </s> after each text"))
    bad_stream = [("list", [1, 2, 3], TE), ("2d", Z(2, 30), VE), ("float", Z(50, dtype="float32"), TV),
                  ("short", Z(3), VE), ("None", None, TE)]
    rb = {"stream": L("stream"), "batch_size": 2, "block_size": 4}
    for label, value, types in bad_stream:
        add(f"pretrain.random_batch:stream={label}", m, pt.random_batch, (), {**rb, "stream": value},
            Err(types, "stream"))
    sweep(m, "random_batch", pt.random_batch, rb, {"batch_size": "int", "block_size": "int", "generator": "generator"})
    add("pretrain.random_batch:shift", m, pt.random_batch, kwargs=rb,
        expect=Ok(lambda r: r[0].shape == (2, 4) and _torch().equal(r[0][:, 1:], r[1][:, :-1]), "y = x shifted by one"))
    add("pretrain.random_batch:exact-fit", m, pt.random_batch,
        kwargs={"stream": T([1, 2, 3, 4, 5]), "batch_size": 1, "block_size": 4},
        expect=Ok(lambda r: r[0].tolist() == [[1, 2, 3, 4]] and r[1].tolist() == [[2, 3, 4, 5]], "the one window"))
    eb = {"model": L("gpt"), "stream": L("stream"), "block_size": 4, "batch_size": 2}
    for label, value, types in bad_stream:
        add(f"pretrain.evaluate:stream={label}", m, pt.evaluate, (), {**eb, "stream": value}, Err(types, "stream"))
    sweep(m, "evaluate", pt.evaluate, eb, {"block_size": "int", "batch_size": "int",
                                           "max_batches": ("int", {"none_ok": True})})
    add("pretrain.evaluate:block_size>max_len", m, pt.evaluate, kwargs={**eb, "block_size": 13},
        expect=Err(VE, "block_size"))
    add("pretrain.evaluate:model=str", m, pt.evaluate, kwargs={**eb, "model": "gpt"}, expect=Err(TE, "model"))
    lb = {"step": 5, "lr": 1e-3, "warmup": 10, "steps": 100}
    sweep(m, "lr_at", pt.lr_at, lb, {"step": ("int", {"low": 0}), "lr": "float", "warmup": ("int", {"low": 0}),
                                     "steps": "int", "min_lr_ratio": ("float", {"lo": 0.0, "hi": 1.0, "lo_open": False, "hi_open": False})})
    # warmup longer than the run is allowed (train_lm's default warmup=100 with a few smoke-test steps):
    # the lr is still on its linear ramp
    add("pretrain.lr_at:warmup>steps", m, pt.lr_at, kwargs={**lb, "warmup": 200},
        expect=Ok(lambda r: _close(r, 1e-3 * 6 / 200), "still warming up: lr * (step + 1) / warmup"))
    add("pretrain.lr_at:schedule", m, lambda: [pt.lr_at(s, 1.0, 10, 110) for s in (0, 9, 10, 60, 110)],
        expect=Ok(lambda r: _close(r[0], 0.1) and _close(r[1], 1.0) and _close(r[2], 1.0)
                  and _close(r[3], 0.1 + 0.9 * 0.5) and _close(r[4], 0.1), "warmup, cosine to 0.1"))
    for label, value, types in [("1.5", 1.5, TV), ("str", "3", TV), ("None", None, TV), ("neg", -1, VE)]:
        add(f"pretrain.step_generator:seed={label}", m, pt.step_generator, (), {"seed": value, "step": 0},
            Err(types, "seed"))
        add(f"pretrain.step_generator:step={label}", m, pt.step_generator, (), {"seed": 0, "step": value},
            Err(types, "step"))
    add("pretrain.step_generator:same", m,
        lambda: [_torch().randint(100, (3,), generator=pt.step_generator(1, 2)).tolist() for _ in range(2)],
        expect=Ok(lambda r: r[0] == r[1], "same draws"))
    for label, value, types in bad_path():
        add(f"pretrain.load_training_state:path={label}", m, pt.load_training_state, (),
            {"path": value, "optimizer": L("sgd")}, Err(types, "path"))
    add("pretrain.load_training_state:path=missing", m, pt.load_training_state,
        kwargs={"path": "/nonexistent/run", "optimizer": L("sgd")}, expect=Err((FileNotFoundError,), "/nonexistent/run"))
    add("pretrain.load_training_state:optimizer=str", m, pt.load_training_state,
        kwargs={"path": "/nonexistent/run", "optimizer": "adam"}, expect=Err(TE, "optimizer"))
    add("pretrain.save_training_state:optimizer=str", m, pt.save_training_state,
        kwargs={"path": Lazy(lambda: _tmp("ts"), "tmp"), "optimizer": "adam", "step": 1,
                "rng_state": Lazy(lambda: _torch().get_rng_state(), "rng"), "history": {}},
        expect=Err(TE, "optimizer"))
    add("pretrain.save_training_state:rng_state=list", m, pt.save_training_state,
        kwargs={"path": Lazy(lambda: _tmp("ts2"), "tmp"), "optimizer": L("sgd"), "step": 1,
                "rng_state": [1, 2], "history": {}}, expect=Err(TE, "rng_state"))
    add("pretrain.save_training_state:history=set", m, pt.save_training_state,
        kwargs={"path": Lazy(lambda: _tmp("ts3"), "tmp"), "optimizer": L("sgd"), "step": 1,
                "rng_state": Lazy(lambda: _torch().get_rng_state(), "rng"), "history": {1, 2}},
        expect=Err(TE, "history"))
    add("pretrain.training_state:round-trip", m, _state_round_trip,
        expect=Ok(lambda r: r[0] == 7 and r[1] and r[2] == {"loss": [1.5]}, "step, rng, history back"))
    tl = {"model": Lazy(lambda: _BUILDERS["gpt"](), "fresh GPT"), "train_stream": L("stream"), "val_stream": L("stream"), "steps": 1,
          "batch_size": 2, "block_size": 4, "eval_batches": 1, "progress": False, "warmup": 1}
    for pname in ("train_stream", "val_stream"):
        for label, value, types in bad_stream:
            add(f"pretrain.train_lm:{pname}={label}", m, pt.train_lm, (), {**tl, pname: value}, Err(types, pname))
    sweep(m, "train_lm", pt.train_lm, tl, {"steps": "int", "batch_size": "int",
                                           "block_size": ("int", {"none_ok": True}),
                                           "eval_batches": ("int", {"none_ok": True})})
    tsb = {"steps": 1, "progress": False, "warmup": 1}
    sweep(m, "train_steps", _train_steps_fresh, tsb,
          {"steps": "int", "lr": "float", "warmup": ("int", {"low": 0}), "weight_decay": ("float", {"lo": 0.0, "lo_open": False}),
           "eval_every": "int", "save_every": ("int", {"none_ok": True}), "batch_loss": "callable", "resume": "bool"})
    add("pretrain.train_steps:resume-without-out_dir", m, _train_steps_fresh, kwargs={**tsb, "resume": True},
        expect=Err(VE, "out_dir"))


def _train_steps_fresh(**kw):
    """pretrain.train_steps on a fresh tiny GPT (a bad learning rate must not spoil the shared one)."""
    from lmlib import pretrain as pt
    model = _BUILDERS["gpt"]()
    kw.setdefault("batch_loss", lambda step: model(T([[4, 5, 6]]).make(), T([[5, 6, 7]]).make()).loss)
    return pt.train_steps(model, **kw)


@builder("sgd")
def _sgd():
    import torch
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)


_TMP_ROOT = []


def _tmp(name: str):
    """A fresh folder for a case: under the test's tmp_path_factory folder when set (TMP_ROOT)."""
    import tempfile
    if not _TMP_ROOT:
        _TMP_ROOT.append(Path(tempfile.mkdtemp(prefix="lmlib-fuzz-")))
    root = _TMP_ROOT[0]
    i = 0
    while (root / f"{name}{i}").exists():
        i += 1
    (root / f"{name}{i}").mkdir(parents=True)
    return root / f"{name}{i}"


def _state_round_trip():
    import torch
    from lmlib import pretrain as pt
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.Adam([p], lr=0.1)
    p.grad = torch.ones(2)
    opt.step()
    folder = _tmp("state")
    rng = torch.get_rng_state()
    pt.save_training_state(folder, opt, 7, rng, {"loss": [1.5]})
    opt2 = torch.optim.Adam([torch.nn.Parameter(torch.ones(2))], lr=0.1)
    step, rng2, hist = pt.load_training_state(folder, opt2)
    same = torch.equal(rng, rng2) and torch.equal(opt.state_dict()["state"][0]["exp_avg"],
                                                  opt2.state_dict()["state"][0]["exp_avg"])
    return step, same, hist


# ---- training -------------------------------------------------------------------------

def _training():
    from lmlib import training as tr
    m = "training"
    for label, value, types in [("str", "float32", VE), ("f16", Lazy(lambda: _torch().float16, "float16"), VE),
                                ("int64", Lazy(lambda: _torch().int64, "int64"), VE), ("None", None, VE),
                                ("python-float", float, VE)]:
        add(f"training.check_float_dtype:dtype={label}", m, tr.check_float_dtype, (), {"dtype": value},
            Err(types, "dtype"))
    add("training.check_float_dtype:name", m, tr.check_float_dtype, kwargs={"dtype": "x", "name": "my_dtype"},
        expect=Err(VE, "my_dtype"))
    for fn_name, pname in (("reproducible_uniform_", "bound"), ("reproducible_normal_", "std")):
        fn = getattr(tr, fn_name)
        for label, value, types in [("list", [0.0, 0.0], TE), ("int", Z(3), TE), ("None", None, TE)]:
            add(f"training.{fn_name}:tensor={label}", m, fn, (), {"tensor": value, pname: 0.1}, Err(types, "tensor"))
        for label, value, types in bad_float():
            add(f"training.{fn_name}:{pname}={label}", m, fn, (), {"tensor": Z(3, dtype="float32"), pname: value},
                Err(types, pname))
        for label, value, types in bad_generator():
            add(f"training.{fn_name}:generator={label}", m, fn, (),
                {"tensor": Z(3, dtype="float32"), pname: 0.1, "generator": value}, Err(types, "generator"))
    add("training.reproducible_uniform_:range", m, tr.reproducible_uniform_,
        kwargs={"tensor": Z(1000, dtype="float64"), "bound": 0.5,
                "generator": Lazy(lambda: _torch().Generator().manual_seed(0), "gen")},
        expect=Ok(lambda t: float(t.abs().max()) < 0.5 and float(t.std()) > 0.2, "in (-0.5, 0.5)"))
    for label, value, types in [("str", "model", TE), ("None", None, TE)]:
        add(f"training.init_reproducibly:module={label}", m, tr.init_reproducibly, (), {"module": value},
            Err(types, "module"))
    for label, value, types in bad_generator():
        add(f"training.init_reproducibly:generator={label}", m, tr.init_reproducibly, (),
            {"module": Lazy(lambda: _torch().nn.Linear(2, 2), "Linear"), "generator": value}, Err(types, "generator"))
    add("training.init_reproducibly:same-seed", m,
        lambda: [tr.init_reproducibly(_torch().nn.Linear(3, 2), _torch().Generator().manual_seed(1)).weight
                 for _ in range(2)],
        expect=Ok(lambda r: _torch().equal(r[0], r[1]), "same generator, same weights"))
    for label, value, types in bad_int():
        add(f"training.reproducible_cpu:threads={label}", m, tr.reproducible_cpu, (), {"threads": value},
            Err(types, "threads"))
    fb = {"model": L("lin"), "loss_fn": lambda step: obj("lin")(_torch().ones(1, 2)).sum(), "steps": 1,
          "optimizer": L("lin_opt"), "progress": False}
    sweep(m, "fit", tr.fit, fb, {"steps": "int", "clip": ("float", {"finite": False}), "start": ("int", {"low": 0}),
                                 "loss_fn": "callable"})
    add("training.fit:start=steps", m, tr.fit, kwargs={**fb, "start": 1}, expect=Err(VE, "start"))
    for label, value, types in [("str", "sgd", TE), ("None", None, TE)]:
        add(f"training.fit:optimizer={label}", m, tr.fit, (), {**fb, "optimizer": value}, Err(types, "optimizer"))
    for label, value, types in [("int", 42, TE), ("str", "print", TE)]:
        add(f"training.fit:callback={label}", m, tr.fit, (), {**fb, "callback": value}, Err(types, "callback"))
    for label, value, types in [("str", "3", TV), ("1.5", 1.5, TV)]:
        add(f"training.fit:seed={label}", m, tr.fit, (), {**fb, "seed": value}, Err(types, "seed"))
    add("training.fit:loss_fn=returns-float", m, tr.fit, kwargs={**fb, "loss_fn": lambda step: 1.0},
        expect=Err(TE, "loss_fn"))
    add("training.fit:loss_fn=returns-nan", m, tr.fit,
        kwargs={**fb, "loss_fn": lambda step: obj("lin")(_torch().ones(1, 2)).sum() * NAN},
        expect=Err((ValueError, FloatingPointError), "loss_fn"))
    add("training.fit:history", m, tr.fit,
        kwargs={**fb, "steps": 2, "loss_fn": lambda step: (obj("lin")(_torch().ones(1, 2)) ** 2).sum()},
        expect=Ok(lambda h: len(h) == 2 and h[1] < h[0], "two losses, decreasing"))


@builder("lin")
def _lin():
    import torch
    torch.manual_seed(0)
    return torch.nn.Linear(2, 1)


@builder("lin_opt")
def _lin_opt():
    import torch
    return torch.optim.SGD(obj("lin").parameters(), lr=0.01)


# ---- tasks ----------------------------------------------------------------------------

def _tasks():
    from lmlib import tasks as ts
    m = "tasks"
    sweep(m, "task_vocab_size", ts.task_vocab_size, {"seq_len": 8, "n_values": 4},
          {"seq_len": ("int", {"low": 2}), "n_values": ("int", {"low": 2})})
    add("tasks.task_vocab_size:value", m, ts.task_vocab_size, kwargs={"seq_len": 32, "n_values": 4},
        expect=Ok(lambda v: v == 35, "4 + 31"))
    db = {"batch_size": 3, "seq_len": 6, "distance": 2}
    sweep(m, "distance_task_batch", ts.distance_task_batch, db,
          {"batch_size": "int", "seq_len": ("int", {"low": 2}), "n_values": ("int", {"low": 2}),
           "generator": "generator"})
    for label, value, types in [("0", 0, VE), ("seq_len", 6, VE), ("str", "2", TV), ("empty", [], VE),
                                ("float", 1.5, TV), ("list-bad", [1, 9], VE), ("None", None, TV), ("True", True, TV)]:
        add(f"tasks.distance_task_batch:distance={label}", m, ts.distance_task_batch, (), {**db, "distance": value},
            Err(types, "distance"))
    add("tasks.distance_task_batch:answer", m, ts.distance_task_batch, kwargs={**db, "distance": [1, 3]},
        expect=Ok(lambda r: all(int(r[1][b]) == int(r[0][b, 6 - 1 - (int(r[0][b, -1]) - 4 + 1)]) for b in range(3)),
                  "y = the value d back"))
    base = {"vocab_size": 10, "d_model": 8, "n_classes": 4, "max_len": 8}
    sweep(m, "ClassifierConfig", ts.ClassifierConfig, base,
          {**{n: "int" for n in ("vocab_size", "d_model", "max_len", "n_layers", "kernel_size", "n_heads", "d_ff")},
           "n_classes": ("int", {"low": 2})})
    add("tasks.ClassifierConfig:indivisible", m, ts.ClassifierConfig, kwargs={**base, "n_heads": 3},
        expect=Err(VE, "n_heads"))
    for model in ("cnn", "gru", "satt"):
        for label, value, types in bad_ids(10, maxlen=8 if model == "satt" else None):
            add(f"tasks.{model}.forward:x={label}", m, M(model, "forward"), (), {"x": value}, Err(types, "x"))
    for cls in (ts.CNNClassifier, ts.GRUClassifier, ts.SelfAttentionClassifier):
        add(f"tasks.{cls.__name__}:config=dict", m, cls, kwargs={"config": base}, expect=Err(TE, "config"))
    add("tasks.CNNClassifier.receptive_field:value", m, lambda: obj("cnn").receptive_field,
        expect=Ok(lambda r: r == 1 + 2 * 2, "1 + n_layers (k - 1)"))
    tb = {"model": Lazy(lambda: _BUILDERS["cnn"](), "fresh CNN"), "batch_fn": lambda step: ts.distance_task_batch(2, 6, 1, 4), "steps": 1, "progress": False}
    sweep(m, "train_classifier", ts.train_classifier, tb, {"steps": "int", "lr": "float", "batch_fn": "callable"})
    ab = {"model": L("cnn"), "distances": [1], "n_per_distance": 2, "seq_len": 6, "n_values": 4}
    for label, value, types in [("str", "1", TE), ("empty", [], VE), ("zero", [0], VE), ("None", None, TE)]:
        add(f"tasks.accuracy_by_distance:distances={label}", m, ts.accuracy_by_distance, (),
            {**ab, "distances": value}, Err(types, "distances"))
    sweep(m, "accuracy_by_distance", ts.accuracy_by_distance, ab, {"n_per_distance": "int"})
    add("tasks.accuracy_by_distance:model=str", m, ts.accuracy_by_distance, kwargs={**ab, "model": "cnn"},
        expect=Err(TE, "model"))
    for label, kw, types, name in [("steps=0", {"steps": 0}, VE, "steps"), ("dtype=str", {"dtype": "float64"}, VE, "dtype"),
                                   ("max_distance=seq_len", {"max_distance": 32}, VE, "max_distance"),
                                   ("n_eval=0", {"n_eval": 0}, VE, "n_eval"), ("lr=0", {"lr": 0.0}, VE, "lr"),
                                   ("d_model=0", {"d_model": 0}, VE, "d_model")]:
        add(f"tasks.distance_experiment:{label}", m, ts.distance_experiment, (),
            {"steps": 1, "batch_size": 2, "n_eval": 2, "d_model": 4, "seq_len": 8, "max_distance": 4, **kw},
            Err(types, name))


# ---- distributed ----------------------------------------------------------------------

def _distributed():
    from lmlib import distributed as dist
    m = "distributed"
    for label, kw, types, name in [("rank=-1", {"rank": -1}, VE, "rank"), ("rank=1", {"rank": 1}, VE, "rank"),
                                   ("rank=str", {"rank": "0"}, TV, "rank"), ("rank=1.5", {"rank": 0.5}, TV, "rank"),
                                   ("world_size=0", {"world_size": 0}, VE, "world_size"),
                                   ("world_size=str", {"world_size": "2"}, TV, "world_size"),
                                   ("local_rank=-1", {"local_rank": -1}, VE, "local_rank"),
                                   ("device=str", {"device": "cpu"}, TE, "device"),
                                   ("backend=int", {"backend": 3}, TE, "backend")]:
        add(f"distributed.Machine:{label}", m, dist.Machine, (), kw, Err(types, name))
    for label, value, types in bad_int():
        add(f"distributed.Machine.shard:n={label}", m, M("machine", "shard"), (), {"n": value}, Err(types, "n"))
    add("distributed.Machine.shard:indivisible", m, lambda n: dist.Machine(rank=1, world_size=2).shard(n), (3,),
        expect=Err(VE, "n"))
    add("distributed.Machine.shard:rank1", m, lambda: dist.Machine(rank=1, world_size=2).shard(6),
        expect=Ok(lambda s: s == slice(3, 6), "second half"))
    for label, value, types in [("str", "1.0", TE), ("None", None, TE), ("list", [1.0], TE)]:
        add(f"distributed.Machine.mean:value={label}", m, M("machine", "mean"), (), {"value": value},
            Err(types, "value"))
    add("distributed.Machine.mean:one-process", m, M("machine", "mean"), kwargs={"value": 2.5},
        expect=Ok(lambda v: v == 2.5, "itself"))
    for label, value, types in [("bogus", "tpu", VE), ("int", 0, TV), ("cuda0", "cuda:0", VE)]:
        add(f"distributed.setup:device={label}", m, dist.setup, (), {"device": value}, Err(types, "device"))
    add("distributed.setup:cpu", m, dist.setup, kwargs={"device": "cpu"},
        expect=Ok(lambda mc: mc.world_size == 1 and mc.is_main and not mc.distributed and mc.device.type == "cpu",
                  "one CPU process"))
    for label, value, types in bad_callable():
        add(f"distributed.Machine.data_parallel:batch_loss={label}", m, M("machine", "data_parallel"), (),
            {"model": L("lin"), "batch_loss": value}, Err(types, "batch_loss"))
    add("distributed.Machine.data_parallel:model=str", m, M("machine", "data_parallel"),
        kwargs={"model": "lin", "batch_loss": lambda s: 0}, expect=Err(TE, "model"))


# ---- data (packaged corpora; NSMC is tests/test_data_integrity.py's) -------------------

def _data():
    from lmlib import data
    m = "data"
    for fn_name in ("load_corpus", "load_parallel", "checkpoint_dir"):
        fn = getattr(data, fn_name)
        for label, value, types in [("int", 3, TE), ("None", None, TE), ("unknown", "nope", VE),
                                    ("path", "../data/ko_daily", VE), ("bytes", b"ko_daily", TE), ("empty", "", VE)]:
            add(f"data.{fn_name}:name={label}", m, fn, (), {"name": value}, Err(types, "name"))
    for fn_name in ("course_split", "parallel_split"):
        fn = getattr(data, fn_name)
        for label, value, types in [("int", 3, TE), ("unknown", "nope", VE)]:
            add(f"data.{fn_name}:name={label}", m, fn, (), {"name": value}, Err(types, "name"))
        for label, value, types in bad_float(lo=0.0, hi=1.0):
            add(f"data.{fn_name}:test_fraction={label}", m, fn, (), {"test_fraction": value},
                Err(types, "test_fraction"))
        for label, value in [("1.5", 1.5), ("str", "3"), ("None", None)]:
            add(f"data.{fn_name}:seed={label}", m, fn, (), {"seed": value}, Err(TV, "seed"))
    tb = {"items": list(range(10))}
    for label, value, types in [("str", "abcdef", TE), ("None", None, TE), ("one", [1], VE), ("empty", [], VE),
                                ("int", 5, TE)]:
        add(f"data.train_test_split:items={label}", m, data.train_test_split, (), {"items": value}, Err(types, "items"))
    for label, value, types in bad_float(lo=0.0, hi=1.0):
        add(f"data.train_test_split:test_fraction={label}", m, data.train_test_split, (),
            {**tb, "test_fraction": value}, Err(types, "test_fraction"))
    for label, value in [("1.5", 1.5), ("str", "3"), ("None", None), ("True", True)]:
        add(f"data.train_test_split:seed={label}", m, data.train_test_split, (), {**tb, "seed": value},
            Err(TV, "seed"))
    add("data.train_test_split:partition", m, data.train_test_split, kwargs={**tb, "test_fraction": 0.3},
        expect=Ok(lambda r: len(r[1]) == 3 and sorted(r[0] + r[1]) == list(range(10)), "3 test, a partition"))
    add("data.train_test_split:tiny-fraction", m, data.train_test_split, kwargs={"items": [1, 2], "test_fraction": 0.01},
        expect=Ok(lambda r: len(r[0]) == 1 and len(r[1]) == 1, "never an empty part"))
    add("data.available_corpora:ko_daily", m, data.available_corpora,
        expect=Ok(lambda r: "ko_daily" in r, "ko_daily listed"))
    add("data.course_split:tokens", m, data.course_split,
        expect=Ok(lambda r: all(isinstance(s, list) and s and all(isinstance(t, str) and " " not in t for t in s)
                                for s in r[0][:50]), "eojeol token lists"))


# ---- checkpoint: the API, and damaged checkpoint folders --------------------------------

@builder("ckpt_gpt")
def _ckpt_gpt():
    """A clean GPT checkpoint folder with its tokenizer, saved once."""
    folder = _tmp("gpt")
    obj("gpt_bpe").save(folder, tokenizer=obj("bpe"))
    return folder


@builder("ckpt_clf")
def _ckpt_clf():
    folder = _tmp("clf")
    obj("bert_clf").save(folder, tokenizer=obj("wp"))
    return folder


def _copy(src_name):
    import shutil
    dst = _tmp(f"{src_name}-copy")
    shutil.copytree(obj(src_name), dst, dirs_exist_ok=True)
    return dst


def _edit_config(folder, fn):
    import json
    p = folder / "config.json"
    meta = json.loads(p.read_text())
    fn(meta)
    p.write_text(json.dumps(meta))


def _flip(path, where):
    data = bytearray(path.read_bytes())
    i = where if where >= 0 else len(data) // 2
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path, n):
    data = path.read_bytes()
    path.write_bytes(data[:n if n >= 0 else len(data) // 2])


def _no_sha(meta):
    meta.pop("sha256")


def _legacy_sha(meta):  # config.json as an older lmlib wrote it
    meta["weights_sha256"] = meta.pop("sha256")["model.safetensors"]


def _rename_a_token(folder):  # the same size, another vocabulary
    p = folder / "tokenizer.json"
    p.write_text(p.read_text(encoding="utf-8").replace('"<0x41>"', '"<0x41x>"', 1), encoding="utf-8")


DAMAGE = {  # name -> (source folder, damage(folder), expected error types, name in the message)
    "flip-weight-byte": ("ckpt_gpt", lambda f: _flip(f / "model.safetensors", -1), VE, "model.safetensors"),
    "flip-header-byte": ("ckpt_gpt", lambda f: _flip(f / "model.safetensors", 12), VE, "model.safetensors"),
    "truncate-half": ("ckpt_gpt", lambda f: _truncate(f / "model.safetensors", -1), VE, "model.safetensors"),
    "truncate-empty": ("ckpt_gpt", lambda f: _truncate(f / "model.safetensors", 0), VE, "model.safetensors"),
    "truncate-half-no-sha": ("ckpt_gpt", lambda f: (_truncate(f / "model.safetensors", -1),
                                                    _edit_config(f, _no_sha)), VE, "model.safetensors"),
    "truncate-header-no-sha": ("ckpt_gpt", lambda f: (_truncate(f / "model.safetensors", 20),
                                                      _edit_config(f, _no_sha)), VE, "model.safetensors"),
    "weights-deleted": ("ckpt_gpt", lambda f: (f / "model.safetensors").unlink(), (FileNotFoundError,), "model.safetensors"),
    "config-deleted": ("ckpt_gpt", lambda f: (f / "config.json").unlink(), (FileNotFoundError,), "config.json"),
    "config-truncated": ("ckpt_gpt", lambda f: _truncate(f / "config.json", -1), VE, "config.json"),
    "config-binary": ("ckpt_gpt", lambda f: (f / "config.json").write_bytes(b"\xff\xfe\x00garbage"), VE, "config.json"),
    "config-list": ("ckpt_gpt", lambda f: (f / "config.json").write_text("[1, 2]"), VE, "config.json"),
    "config-no-config": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m.pop("config")), VE, "config.json"),
    "config-unknown-key": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m["config"].update(n_experts=2)), VE, "n_experts"),
    "config-missing-key": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m["config"].pop("vocab_size")), VE, "vocab_size"),
    "config-wrong-type": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m["config"].update(vocab_size="300")), VE, "vocab_size"),
    "config-float-size": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m["config"].update(d_model=16.0)), VE, "d_model"),
    "config-eps-str": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m["config"].update(layer_norm_eps="1e-5")), VE, "layer_norm_eps"),
    "config-other-size": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m["config"].update(d_model=32, d_ff=128)), VE, "model.safetensors"),
    "config-other-class": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m.update(model="BertModel")), VE, "BertModel"),
    "config-extra-argument": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m.update(n_labels=2)), VE, "n_labels"),
    "config-sha-int": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m.update(sha256=123)), VE, "sha256"),
    "config-sha-short": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m["sha256"].update({"model.safetensors": "ab"})), VE, "sha256"),
    "config-sha-outside": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: m["sha256"].update({"../x": "0" * 64})), VE, "../x"),
    "config-legacy-sha": ("ckpt_gpt", lambda f: _edit_config(f, _legacy_sha), VE, "record_sha256.py"),
    "tokenizer-edited": ("ckpt_gpt", _rename_a_token, VE, "tokenizer.json"),
    "tokenizer-file-deleted": ("ckpt_gpt", lambda f: (f / "lmlib_tokenizer.json").unlink(), (FileNotFoundError,), "lmlib_tokenizer.json"),
    "tokenizer-added-unrecorded": ("ckpt_gpt", lambda f: _edit_config(f, lambda m: [m["sha256"].pop(k) for k in ("tokenizer.json", "lmlib_tokenizer.json")]), VE, "tokenizer.json"),
    "tokenizer-of-another-model": ("ckpt_gpt", lambda f: obj("wp").save(f), VE, "tokenizer.json"),
    "tokenizer-truncated": ("ckpt_gpt", lambda f: _truncate(f / "tokenizer.json", -1), VE, "tokenizer.json"),
    "clf-n_labels-str": ("ckpt_clf", lambda f: _edit_config(f, lambda m: m.update(n_labels="2")), VE, "n_labels"),
    "clf-n_labels-other": ("ckpt_clf", lambda f: _edit_config(f, lambda m: m.update(n_labels=3)), VE, "model.safetensors"),
    "clf-pad_id-outside": ("ckpt_clf", lambda f: _edit_config(f, lambda m: m["config"].update(pad_id=10 ** 6)), VE, "pad_id"),
    "clf-tokenizer-of-another-model": ("ckpt_clf", lambda f: obj("bpe").save(f), VE, "tokenizer.json"),
}


def _damaged(name):
    src, damage, _, _ = DAMAGE[name]
    folder = _copy(src)
    damage(folder)
    return folder


def _load_for(src):
    from lmlib.bert import BertForSequenceClassification
    from lmlib.gpt import GPT
    return GPT.load if src == "ckpt_gpt" else BertForSequenceClassification.load


def _checkpoint_api():
    from lmlib import checkpoint as ck
    from lmlib.bert import BertForPreTraining, BertForSequenceClassification
    from lmlib.gpt import GPT
    from lmlib.tokenizer import Tokenizer
    m = "checkpoint"
    for name, (src, _, types, word) in DAMAGE.items():
        add(f"checkpoint.load:damaged={name}", m,
            lambda name=name, src=src: _load_for(src)(_damaged(name)), expect=Err(types, word))
    add("checkpoint.load:wrong-class", m, lambda: BertForPreTraining.load(obj("ckpt_gpt")),
        expect=Err(VE, "GPT"))
    add("checkpoint.load:clean-gpt", m,
        lambda: (GPT.load(obj("ckpt_gpt")), obj("gpt_bpe")),
        expect=Ok(lambda r: all(_torch().equal(a, b) for a, b in zip(r[0].state_dict().values(), r[1].state_dict().values()))
                  and r[0].lm_head.weight is r[0].transformer.wte.weight, "same weights, tie kept"))
    add("checkpoint.load:clean-clf", m,
        lambda: BertForSequenceClassification.load(obj("ckpt_clf")),
        expect=Ok(lambda mdl: mdl.n_labels == 2 and _torch().equal(mdl.classifier.weight, obj("bert_clf").classifier.weight),
                  "n_labels and weights back"))
    for label, value, types in bad_path():
        add(f"checkpoint.Saveable.save:path={label}", m, M("gpt", "save"), (), {"path": value}, Err(types, "path"))
        add(f"checkpoint.Saveable.load:path={label}", m, GPT.load, (), {"path": value}, Err(types, "path"))
        add(f"checkpoint.file_sha256:file={label}", m, ck.file_sha256, (), {"file": value}, Err(types, "file"))
    add("checkpoint.Saveable.load:path=missing", m, GPT.load, kwargs={"path": "/nonexistent/ck"},
        expect=Err((FileNotFoundError,), "/nonexistent/ck/config.json"))
    add("checkpoint.Saveable.load:path=file", m, lambda: GPT.load(obj("ckpt_gpt") / "config.json"),
        expect=Err((FileNotFoundError,), "config.json"))
    add("checkpoint.file_sha256:file=missing", m, ck.file_sha256, kwargs={"file": "/nonexistent/ck/model.safetensors"},
        expect=Err((FileNotFoundError,), "/nonexistent/ck/model.safetensors"))
    add("checkpoint.Saveable.save:tokenizer=str", m, M("gpt", "save"), (), {"path": Lazy(lambda: _tmp("bad-tok"), "tmp"), "tokenizer": "bpe"},
        Err(TE, "tokenizer"))
    add("checkpoint.Saveable.save:tokenizer=other-size", m, M("gpt", "save"), (), {"path": Lazy(lambda: _tmp("bad-tok2"), "tmp"), "tokenizer": L("wp")},
        Err(VE, "tokenizer"))
    for label, value, types in [("bogus", "gpu7", VE), ("int", 3.5, TE)]:
        add(f"checkpoint.Saveable.load:map_location={label}", m,
            lambda v=value: GPT.load(obj("ckpt_gpt"), map_location=v), expect=Err(types, "map_location"))
    add("checkpoint.file_sha256:recorded", m,
        lambda: ({name: ck.file_sha256(obj("ckpt_gpt") / name) for name in ("model.safetensors", *Tokenizer.files)},
                 __import__("json").loads((obj("ckpt_gpt") / "config.json").read_text())["sha256"]),
        expect=Ok(lambda r: r[0] == r[1], "the SHA-256 of the weights and the tokenizer, recorded"))
    for label, value, types in [("kind-bogus", {"kind": "bogus"}, VE), ("format", {"format": "x"}, VE)]:
        add(f"tokenizer.Tokenizer.load:config={label}", "tokenizer",
            lambda v=value: Tokenizer.load(_tok_edit(v)), expect=Err(types, "lmlib_tokenizer.json" if label == "format" else "kind"))
    add("tokenizer.Tokenizer.load:tokenizer.json-truncated", "tokenizer",
        lambda: Tokenizer.load(_damaged("tokenizer-truncated")), expect=Err(VE, "tokenizer.json"))
    add("tokenizer.Tokenizer.load:config-truncated", "tokenizer",
        lambda: Tokenizer.load(_tok_edit(None)), expect=Err(VE, "lmlib_tokenizer.json"))
    add("tokenizer.Tokenizer.load:round-trip", "tokenizer",
        lambda: (Tokenizer.load(obj("ckpt_gpt")).encode("나는 어제 갔다"), obj("bpe").encode("나는 어제 갔다")),
        expect=Ok(lambda r: r[0] == r[1], "same ids"))


def _tok_edit(update):
    import json
    folder = _copy("ckpt_gpt")
    p = folder / "lmlib_tokenizer.json"
    if update is None:
        p.write_text(p.read_text()[:10])
    else:
        p.write_text(json.dumps({**json.loads(p.read_text()), **update}))
    return folder


# ---------------------------------------------------------------------------
# cases that fail now, in modules this suite may not fix (tests/test_fuzz.py: xfail strict)
# ---------------------------------------------------------------------------

XFAIL: dict[str, str] = {}  # empty: every case passes; a known defect goes here with what it does now


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    from collections import Counter, defaultdict

    cases = build()
    by = defaultdict(Counter)
    lines = []
    for c in cases:
        cls, what = classify(c)
        by[c.module][cls] += 1
        ok_now = cls in ("a", "b") or (cls == "c" and isinstance(c.expect, Foreign))
        if not ok_now or "-v" in sys.argv:
            lines.append(f"{cls} {c.id} [{c.expect!r}] -> {what}")
    print("\n".join(lines))
    total = Counter()
    print(f"\n{'module':<14} {'a':>5} {'b':>5} {'c':>5} {'d':>5} {'all':>5}")
    for m in sorted(by):
        total.update(by[m])
        print(f"{m:<14} " + " ".join(f"{by[m][k]:>5}" for k in "abcd") + f" {sum(by[m].values()):>5}")
    print(f"{'TOTAL':<14} " + " ".join(f"{total[k]:>5}" for k in "abcd") + f" {sum(total.values()):>5}")
