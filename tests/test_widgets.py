"""Tests for lmlib.widgets: the static HTML view (deterministic, safe, faithful to the model),
the live explorer's checks, and the one-output display of both views."""

import html
import html.parser
import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from lmlib import widgets  # noqa: E402
from lmlib.ngram import NGramLM  # noqa: E402
from toy_corpus import TOY

REPO_ROOT = Path(__file__).resolve().parents[1]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

CONTEXTS = ["나는", "나는 어제", "카페에", '따옴표 "와 <꺾쇠> & 앰퍼샌드']


@pytest.fixture(scope="module")
def lm():
    return NGramLM(2, "laplace").fit(TOY)


class _Parts(html.parser.HTMLParser):
    """Collect the <option> values and the text of each <script> element, as a browser would."""

    def __init__(self):
        super().__init__()
        self.options, self.scripts, self._in_script = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "option":
            self.options.append(attrs["value"])
        elif tag == "script":
            self._in_script = attrs.get("type", "text/javascript")
            self.scripts.append([self._in_script, ""])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1][1] += data


def parse(fragment):
    p = _Parts()
    p.feed(fragment)
    p.close()
    return p


def embedded_data(fragment):
    [payload] = [text for kind, text in parse(fragment).scripts if kind == "application/json"]
    return json.loads(payload)


# --- next_word_html ------------------------------------------------------------

def test_next_word_html_is_deterministic(lm):
    a = widgets.next_word_html(lm, CONTEXTS, top_k=4)
    b = widgets.next_word_html(NGramLM(2, "laplace").fit(TOY), list(CONTEXTS), top_k=4)
    assert a == b
    assert a != widgets.next_word_html(lm, CONTEXTS, top_k=3)  # the id and data follow the input


def test_next_word_html_offers_every_context(lm):
    parts = parse(widgets.next_word_html(lm, CONTEXTS))
    assert parts.options == CONTEXTS  # in order; quotes, <, > and & survive the attribute


def test_next_word_html_embeds_the_models_ranking(lm):
    for top_k in (1, 4, 100):
        data = embedded_data(widgets.next_word_html(lm, CONTEXTS, top_k=top_k))
        assert list(data["contexts"]) == sorted(CONTEXTS)  # JSON with sorted keys
        for c in CONTEXTS:
            seen = [w for w, _ in lm.continuations(c.split())]  # only words seen after c
            want = lm.rank(c.split(), candidates=seen or None, top_k=top_k)
            got = data["contexts"][c]
            assert [w for w, _ in got] == [w for w, _ in want]
            assert [p for _, p in got] == pytest.approx([p for _, p in want], abs=1e-6)


def test_next_word_html_script_finds_its_own_element(lm):
    fragment = widgets.next_word_html(lm, CONTEXTS)
    [eid] = re.findall(r'<div class="lmcb-widget lmcb-nextword" id="([^"]+)"', fragment)
    [js] = [text for kind, text in parse(fragment).scripts if kind != "application/json"]
    assert f'document.getElementById("{eid}")' in js
    assert "%(" not in js and "%%" not in js  # the template was filled in


@pytest.mark.parametrize("token", ["</script><b id='x'>", "<!--<script>", "</SCRIPT >"])
def test_tokens_cannot_break_out_of_the_script_tag(token):
    lm = NGramLM(2).fit([["나는", token, "갔다"], [token, "왔다"]])
    fragment = widgets.next_word_html(lm, ["나는", token])
    parts = parse(fragment)
    assert [kind for kind, _ in parts.scripts] == ["application/json", "text/javascript"]
    assert fragment.count("</script>") == 2  # only the two real end tags
    # '<!--' in script data would hide the real end tag from the HTML parser: no '<' at all
    json_text = parts.scripts[0][1]
    assert "<" not in json_text
    data = json.loads(json_text)
    assert data["contexts"]["나는"][0][0] == token  # the token itself comes back unchanged
    assert token in data["contexts"]
    assert parts.options == ["나는", token]


@pytest.mark.parametrize("contexts, error, name", [
    ([], ValueError, "contexts"),
    ("나는 어제", TypeError, "contexts"),
    (["나는", 3], TypeError, r"contexts\[1\]"),
])
def test_next_word_html_checks_contexts(lm, contexts, error, name):
    with pytest.raises(error, match=name):
        widgets.next_word_html(lm, contexts)


# --- next_word_explorer and show ---------------------------------------------------

@pytest.fixture
def displayed(monkeypatch):
    """Everything passed to IPython.display.display, as (args, kwargs)."""
    import IPython.display

    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **kw: calls.append((a, kw)))
    return calls


@pytest.mark.parametrize("contexts, top_k, error, name", [
    ([], 5, ValueError, "contexts: expected"),
    ("나는", 5, TypeError, "contexts: expected"),
    (["나는"], 0, ValueError, "top_k: expected"),
    (["나는"], True, ValueError, "top_k: expected"),
    (["나는"], 2.5, ValueError, "top_k: expected"),
    (["나는"], "5", ValueError, "top_k: expected"),
])
@pytest.mark.parametrize("view", [widgets.next_word_explorer, widgets.next_word_html])
def test_views_check_arguments_first(lm, displayed, view, contexts, top_k, error, name):
    with pytest.raises(error, match=name):
        view(lm, contexts, top_k=top_k)
    assert displayed == []  # checked before anything is built or shown


def bundles(calls):
    return [(a[0], kw) for a, kw in calls if a and isinstance(a[0], dict)]


def test_show_displays_one_bundle_with_live_and_static_views(displayed):
    import ipywidgets

    w = ipywidgets.Label("안녕")
    widgets.show(w, "<p>정적</p>")
    [(bundle, kw)] = bundles(displayed)
    assert len(displayed) == 1
    assert bundle["text/html"] == "<p>정적</p>"
    assert bundle[WIDGET_MIME]["model_id"] == w.model_id
    assert kw.get("raw") is True  # a raw MIME bundle, not a dict to pretty-print


def test_next_word_explorer_displays_one_bundle(lm, displayed):
    import matplotlib.pyplot as plt

    widgets.next_word_explorer(lm, CONTEXTS[:2], top_k=4)
    [(bundle, kw)] = bundles(displayed)
    assert WIDGET_MIME in bundle and kw.get("raw") is True
    assert bundle["text/html"] == widgets.next_word_html(lm, CONTEXTS[:2], top_k=4)
    # the live view's first chart went into its Output widget, and no figure is left open
    figures = [a[0] for a, _ in displayed if a and isinstance(a[0], matplotlib.figure.Figure)]
    assert len(figures) == 1
    ax = figures[0].axes[0]
    top_down = [t.get_text() for _, t in sorted(zip(ax.get_yticks(), ax.get_yticklabels()), key=lambda yt: -yt[0])]
    seen = [w for w, _ in lm.continuations(["나는"])]  # the live chart, too, shows seen words only
    assert top_down == [w for w, _ in lm.rank(["나는"], candidates=seen, top_k=4)]  # best at the top
    assert plt.get_fignums() == []


# --- import weight -----------------------------------------------------------------

@pytest.mark.parametrize("modules", [
    "lmlib, lmlib.ngram, lmlib.text, lmlib.data",
    "lmlib.widgets, lmlib.blanks, lmlib.exercises",
])
def test_importing_lmlib_does_not_import_ipywidgets_or_torch(modules):
    code = (f"import {modules}, sys; "
            "heavy = sorted({'ipywidgets', 'torch'} & set(sys.modules)); "
            "assert not heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# --- attention_html and attention_explorer ---------------------------------------------

import numpy as np  # noqa: E402


def softmax_weights(shape, seed=0, sharp=2.0):
    """Random attention weights of `shape` (..., T, S): each row a distribution over the keys."""
    x = np.random.default_rng(seed).normal(size=shape) * sharp
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


SENTS = [["나는", "어제", "카페에", "갔다", "."], ["오늘", "학교에", "갔다"]]  # B=2, padded to T=S=5


@pytest.fixture(scope="module")
def layers():
    """Three layers of (B=2, nh=4, T=5, S=5) weights, as Hugging Face returns them."""
    return [softmax_weights((2, 4, 5, 5), seed=i) for i in range(3)]


def test_attention_html_is_deterministic(layers):
    a = widgets.attention_html(SENTS, layers)
    assert a == widgets.attention_html([list(s) for s in SENTS], [w.copy() for w in layers])
    assert a == widgets.attention_html(SENTS, tuple(layers))  # a tuple, as HF returns it
    assert a != widgets.attention_html(SENTS, layers, digits=2)
    assert a != widgets.attention_html(SENTS, layers[::-1])  # the id and data follow the input
    [eid] = re.findall(r'<div class="lmcb-widget lmcb-attention" id="([^"]+)"', a)
    [js] = [text for kind, text in parse(a).scripts if kind != "application/json"]
    assert f'document.getElementById("{eid}")' in js
    assert "%(" not in js and "%%" not in js


@pytest.mark.parametrize("digits", [1, 3, 5])
def test_attention_html_embeds_the_weights(layers, digits):
    data = embedded_data(widgets.attention_html(SENTS, layers, digits=digits))
    assert data["digits"] == digits and data["scale"] == 10 ** digits
    assert [s["q"] for s in data["sentences"]] == SENTS == [s["k"] for s in data["sentences"]]
    for b, (s, toks) in enumerate(zip(data["sentences"], SENTS)):
        n = len(toks)
        got = np.array(s["w"]) / data["scale"]  # (L, nh, n, n): cropped to the sentence's own length
        assert got.shape == (3, 4, n, n)
        want = np.stack([w[b, :, :n, :n] for w in layers])
        assert np.abs(got - want).max() <= 0.5 / 10 ** digits + 1e-12
        assert all(isinstance(v, int) for v in np.ravel(s["w"]).tolist())  # compact: no long floats


def test_attention_html_offers_sentences_layers_and_heads(layers):
    fragment = widgets.attention_html(SENTS, layers, sentence_labels=["첫 문장", '둘째 "<문장>" & 끝'])
    parts = parse(fragment)
    # sentences, layers, heads ("mean" first); the query options are filled in by the script
    assert parts.options == ["0", "1", "0", "1", "2", "mean", "0", "1", "2", "3"]
    assert "둘째 &quot;&lt;문장&gt;&quot; &amp; 끝" in fragment and "<문장>" not in fragment
    assert "평균" in fragment and "행(쿼리)을 누르면" in fragment and "NanumGothic" in fragment
    assert "http" not in fragment  # nothing to fetch: no CDN, no fonts from the network


def test_attention_html_max_layers(layers):
    data = embedded_data(widgets.attention_html(SENTS, layers, max_layers=2))
    assert np.array(data["sentences"][0]["w"]).shape[0] == 2
    assert parse(widgets.attention_html(SENTS, layers, max_layers=2)).options[2:4] == ["0", "1"]
    assert widgets.attention_html(SENTS, layers, max_layers=3) == widgets.attention_html(SENTS, layers)
    assert widgets.attention_html(SENTS, layers, max_layers=99) == widgets.attention_html(SENTS, layers)


def test_attention_html_accepts_torch_tensors(layers):
    torch = pytest.importorskip("torch")
    from_numpy = widgets.attention_html(SENTS, layers)
    as_torch = tuple(torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in layers)  # needs .detach()
    assert widgets.attention_html(SENTS, as_torch) == from_numpy
    f32 = [w.astype(np.float32) for w in layers]
    assert widgets.attention_html(SENTS, [torch.from_numpy(w) for w in f32]) == widgets.attention_html(SENTS, f32)
    bf16 = embedded_data(widgets.attention_html(SENTS, [torch.tensor(w).bfloat16() for w in layers], digits=2))
    got = np.array(bf16["sentences"][0]["w"]) / 100
    assert np.abs(got - np.stack([w[0] for w in layers])).max() < 0.02  # bfloat16 keeps ~3 digits


def test_attention_html_hf_style_from_torch_softmax():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(2, 3, 6, 6, generator=g)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    weights = scores.masked_fill(~causal, float("-inf")).softmax(-1)  # masked keys get exactly 0
    data = embedded_data(widgets.attention_html("가 나 다 라 마 바".split(), (weights[:1], weights[1:2])))
    w = np.array(data["sentences"][0]["w"])  # (L=2, nh=3, 6, 6)
    assert w.shape == (2, 3, 6, 6)
    assert (w[..., ~causal.numpy()] == 0).all()
    assert w[0, 0, 0, 0] == data["scale"]  # the first query sees only itself


def test_attention_html_one_sentence_as_a_flat_list(layers):
    one = [w[:1] for w in layers]
    flat = widgets.attention_html(SENTS[0], one)
    assert flat == widgets.attention_html([SENTS[0]], one)
    assert embedded_data(flat)["sentences"][0]["k"] == SENTS[0]


def test_attention_html_crops_each_sentence(layers):
    # the second sentence has 3 tokens: its (5, 5) matrices are cropped to (3, 3) — padding at the end
    data = embedded_data(widgets.attention_html(SENTS, layers))
    assert [np.array(s["w"]).shape for s in data["sentences"]] == [(3, 4, 5, 5), (3, 4, 3, 3)]
    assert data["sentences"][1]["w"][2][1][2] == np.rint(layers[2][1, 1, 2, :3] * 1000).astype(int).tolist()


def test_attention_html_cross_attention():
    src = [["나는", "학생", "이다"], ["좋은", "아침"]]
    tgt = [["I", "am", "a", "student"], ["good", "morning"]]
    w = [softmax_weights((2, 2, 4, 3), seed=s) for s in (5, 6)]  # T=4 target queries, S=3 source keys
    data = embedded_data(widgets.attention_html(src, w, query_tokens=tgt))
    assert [(s["q"], s["k"]) for s in data["sentences"]] == list(zip(tgt, src))
    assert [np.array(s["w"]).shape for s in data["sentences"]] == [(2, 2, 4, 3), (2, 2, 2, 2)]
    got = np.array(data["sentences"][1]["w"]) / 1000
    assert np.abs(got - np.stack([x[1, :, :2, :2] for x in w])).max() <= 5e-4
    fragment = widgets.attention_html(src, w, query_tokens=tgt)
    assert "크로스 어텐션" in fragment
    assert "→ I am a student" in fragment  # default label: source → target


def test_attention_html_accepts_masked_and_unnormalized_rows():
    w = softmax_weights((1, 1, 3, 3))
    w[0, 0, 1] = 0.0  # a fully masked query row
    w[0, 0, 2] *= 0.5  # a row that does not sum to 1
    data = embedded_data(widgets.attention_html(["가", "나", "다"], [w]))
    assert data["sentences"][0]["w"][0][0][1] == [0, 0, 0]


@pytest.fixture
def bad_layers():
    return [softmax_weights((2, 4, 5, 5), seed=i) for i in range(2)]


def _set(w, idx, value):
    w = w.copy()
    w[idx] = value
    return w


@pytest.mark.parametrize("make, error, message", [
    (lambda L: (SENTS, [L[0], L[1][:, :3]]), ValueError, r"attentions\[1\]: shape \(2, 3, 5, 5\) differs .*\(2, 4, 5, 5\)"),
    (lambda L: (SENTS, [L[0][0]]), ValueError,
     r"attentions\[0\]: expected shape \(B, nh, T, S\).*\(4, 5, 5\).*weights\[None\]"),
    (lambda L: (SENTS, L[0]), TypeError, r"attentions: expected a list .*shape \(2, 4, 5, 5\)"),
    (lambda L: (SENTS, np.stack(L)), TypeError, r"list\(weights\)"),
    (lambda L: (SENTS, []), ValueError, "attentions: expected at least one layer"),
    (lambda L: (SENTS, [L[0], "x"]), TypeError, r"attentions\[1\]: expected real-valued"),
    (lambda L: (SENTS, [_set(L[0], (1, 2, 3, 4), np.nan)]), ValueError, r"attentions\[0\]: non-finite .*\(1, 2, 3, 4\)"),
    (lambda L: (SENTS, [L[0], _set(L[1], (0, 0, 0, 1), np.inf)]), ValueError, r"attentions\[1\]: non-finite"),
    (lambda L: (SENTS, [_set(L[0], (0, 1, 0, 0), -0.5)]), ValueError, r"attentions\[0\]: .*below 0.*after the softmax"),
    (lambda L: (SENTS, [L[0] * 7]), ValueError, r"attentions\[0\]: .*above 1"),
    (lambda L: (SENTS[:1], L), ValueError, r"tokens: 1 sentence\(s\), but the attentions hold B=2 .*\(2, 4, 5, 5\)"),
    (lambda L: (SENTS[0], L), ValueError, r"tokens: 1 sentence\(s\), but .*B=2"),
    (lambda L: (SENTS + [["하나"]], L), ValueError, r"tokens: 3 sentence\(s\)"),
    (lambda L: ([SENTS[0] + ["더"], SENTS[1]], L), ValueError, r"tokens\[0\]: 6 tokens, but .*S=5"),
    (lambda L: ([SENTS[0], SENTS[1] * 2], L), ValueError, r"tokens\[1\]: 6 tokens"),
    (lambda L: (SENTS, [x[..., :4] for x in L]), ValueError,
     r"T=5 queries but S=4 keys.*query_tokens"),
    (lambda L: ("나는 어제 카페에", L), TypeError, r"tokens: .*got the str"),
    (lambda L: ([SENTS[0], ["오늘", 3]], L), TypeError, r"tokens\[1\]\[1\]: expected a str token, got int"),
    (lambda L: ([SENTS[0], []], L), ValueError, r"tokens\[1\]: expected at least one token"),
    (lambda L: (np.zeros((2, 5)), L), TypeError, r"tokens: .*convert_ids_to_tokens"),
])
def test_attention_html_checks_its_arguments(bad_layers, make, error, message):
    tokens, attentions = make(bad_layers)
    with pytest.raises(error, match=message):
        widgets.attention_html(tokens, attentions)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(query_tokens=[["a", "b", "c", "d", "e", "f"], ["a"]]), ValueError, r"query_tokens\[0\]: 6 tokens, .*T=5"),
    (dict(query_tokens=[["a"]]), ValueError, r"query_tokens: 1 sentence\(s\), but .*B=2"),
    (dict(sentence_labels=["하나"]), ValueError, r"sentence_labels: 1 label\(s\), but .*B=2"),
    (dict(sentence_labels="하나 둘"), TypeError, "sentence_labels: expected a list of str"),
    (dict(sentence_labels=["하나", 2]), TypeError, r"sentence_labels\[1\]: expected a str"),
    (dict(digits=0), ValueError, "digits: expected"),
    (dict(digits=True), ValueError, "digits: expected"),
    (dict(digits=2.0), ValueError, "digits: expected"),
    (dict(max_layers=0), ValueError, "max_layers: expected"),
    (dict(max_layers="2"), ValueError, "max_layers: expected"),
])
def test_attention_html_checks_its_options(layers, kwargs, error, message):
    with pytest.raises(error, match=message):
        widgets.attention_html(SENTS, layers, **kwargs)


@pytest.mark.parametrize("token", ["</script><b id='x'>", "<!--<script>", "</SCRIPT >"])
def test_attention_tokens_cannot_break_out_of_the_script_tag(token):
    toks = ["나는", token, "갔다"]
    fragment = widgets.attention_html(toks, [softmax_weights((1, 2, 3, 3))], sentence_labels=[token])
    parts = parse(fragment)
    assert [kind for kind, _ in parts.scripts] == ["application/json", "text/javascript"]
    assert fragment.count("</script>") == 2
    assert "<" not in parts.scripts[0][1]
    data = json.loads(parts.scripts[0][1])
    assert data["sentences"][0]["q"] == toks == data["sentences"][0]["k"]
    assert html.escape(token) in fragment  # the label is escaped in its <option>


def test_subject_particle():
    words = ["나는", "카페", "학생", "cat", ""]
    assert [widgets._subject_particle(w) for w in words] == ["이", "가", "이", "이(가)", "이(가)"]


@pytest.mark.parametrize("view", [widgets.attention_explorer, widgets.attention_html])
def test_attention_views_check_arguments_first(layers, displayed, view):
    with pytest.raises(ValueError, match=r"tokens: 1 sentence\(s\)"):
        view(SENTS[:1], layers)
    assert displayed == []


def _figures(calls):
    return [a[0] for a, _ in calls if a and isinstance(a[0], matplotlib.figure.Figure)]


def _heatmap_values(fig):
    return np.asarray(fig.axes[0].images[0].get_array())


def _bar_labels(fig):
    [ax] = [a for a in fig.axes if "보는 곳" in a.get_title()]
    return [t.get_text() for _, t in sorted(zip(ax.get_yticks(), ax.get_yticklabels()), key=lambda yt: -yt[0])]


def test_attention_explorer_displays_one_bundle_and_redraws(layers, displayed, monkeypatch):
    import matplotlib.pyplot as plt

    widgets.attention_explorer(SENTS, layers)
    [(bundle, kw)] = bundles(displayed)
    assert WIDGET_MIME in bundle and kw.get("raw") is True
    assert bundle["text/html"] == widgets.attention_html(SENTS, layers)
    [fig] = _figures(displayed)
    assert plt.get_fignums() == []  # closed after display
    np.testing.assert_allclose(_heatmap_values(fig), layers[0][0, 0])  # sentence 1, layer 1, head 1
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == SENTS[0]
    row = layers[0][0, 0, 0]
    assert _bar_labels(fig) == [SENTS[0][j] for j in np.argsort(-row, kind="stable")]

    # drive the live view: capture the widget that show() receives
    shown = []
    monkeypatch.setattr(widgets, "show", lambda w, static: shown.append(w))
    displayed.clear()
    widgets.attention_explorer(SENTS, layers)
    controls = {c.description: c for box in shown[0].children[:2] for c in box.children}
    assert set(controls) == {"문장", "층", "헤드", "쿼리"}
    assert controls["헤드"].options[0] == ("평균 (모든 헤드)", "mean")
    displayed.clear()
    controls["층"].value, controls["헤드"].value, controls["쿼리"].value = 2, 3, 4
    np.testing.assert_allclose(_heatmap_values(_figures(displayed)[-1]), layers[2][0, 3])
    assert _bar_labels(_figures(displayed)[-1])[0] == SENTS[0][int(np.argmax(layers[2][0, 3, 4]))]
    controls["헤드"].value = "mean"
    np.testing.assert_allclose(_heatmap_values(_figures(displayed)[-1]), layers[2][0].mean(0))
    displayed.clear()
    controls["문장"].value = 1  # a shorter sentence: new query options, cropped matrix, one redraw
    assert len(_figures(displayed)) == 1
    assert controls["쿼리"].options == (("1. 오늘", 0), ("2. 학교에", 1), ("3. 갔다", 2))
    assert controls["쿼리"].value == 0
    fig = _figures(displayed)[-1]
    np.testing.assert_allclose(_heatmap_values(fig), layers[2][1, :, :3, :3].mean(0))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == SENTS[1]
    assert plt.get_fignums() == []
