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


class _Widget7:
    """What an ipywidgets 7.7 widget (Colab's preinstalled copy) offers: a model id, no _repr_mimebundle_."""

    model_id = "abc123"
    displayed_calls = 0

    def _handle_displayed(self, **kwargs):
        self.displayed_calls += 1

    def __repr__(self):
        return "VBox(children=(...))"


def test_show_works_with_ipywidgets_7_which_has_no_repr_mimebundle(displayed):
    w = _Widget7()
    assert not hasattr(w, "_repr_mimebundle_")
    widgets.show(w, "<p>정적</p>")
    [(bundle, kw)] = bundles(displayed)
    assert bundle[WIDGET_MIME] == {"version_major": 2, "version_minor": 0, "model_id": "abc123"}
    assert bundle["text/html"] == "<p>정적</p>" and bundle["text/plain"].startswith("VBox")
    assert kw.get("raw") is True
    assert w.displayed_calls == 1  # on_displayed callbacks fire, as 7.x's _ipython_display_ does


@pytest.mark.parametrize("widget, static, name", [(object(), "<p/>", "widget"), (_Widget7(), None, "static")])
def test_show_refuses_what_is_not_a_widget_or_html(displayed, widget, static, name):
    with pytest.raises(TypeError, match=name):
        widgets.show(widget, static)
    assert displayed == []


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
    assert "교차 어텐션" in fragment
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


# --- teacher_forcing_html and teacher_forcing_stepper ------------------------------------
#
# Hand-made steps for the lecture's example: "어제 카페 갔었어 거기 사람 많더라" -> "I went to the
# cafe there were many people there". Training mode feeds the gold prefix; in inference mode the
# model picks "go" at step 2 (gold: "went"), feeds it back, and later ends the sentence too early.

import math  # noqa: E402

TF_SRC = ["어제", "카페", "갔었어", "거기", "사람", "많더라"]
TF_GOLD = ["I", "went", "to", "the", "cafe", "there", "were", "many", "people", "there", "</s>"]
TF_TEACHER_TOPK = [
    [("I", 0.62), ("We", 0.21), ("Yesterday", 0.09), ("There", 0.05)],
    [("go", 0.45), ("went", 0.38), ("was", 0.1), ("have", 0.05)],
    [("to", 0.81), ("there", 0.1), ("home", 0.05), (".", 0.02)],
    [("a", 0.48), ("the", 0.4), ("cafe", 0.07), ("school", 0.03)],
    [("cafe", 0.7), ("coffee", 0.15), ("store", 0.1), ("place", 0.03)],
    [("yesterday", 0.35), (".", 0.3), ("and", 0.2), ("there", 0.1)],
    [("were", 0.6), ("was", 0.3), ("are", 0.05), ("is", 0.03)],
    [("many", 0.5), ("a", 0.2), ("lots", 0.15), ("so", 0.1)],
    [("people", 0.9), ("persons", 0.05), ("guests", 0.03), ("customers", 0.01)],
    [("there", 0.45), (".", 0.4), ("</s>", 0.1), ("here", 0.03)],
    [("</s>", 0.8), (".", 0.15), ("!", 0.03), ("and", 0.01)],
]
TF_FREE_TOPK = TF_TEACHER_TOPK[:2] + [
    [("to", 0.7), ("there", 0.15), ("home", 0.1), (".", 0.03)],
    [("the", 0.5), ("a", 0.3), ("school", 0.1), ("cafe", 0.05)],
    [("cafe", 0.66), ("coffee", 0.2), ("store", 0.08), ("place", 0.03)],
    [(".", 0.6), ("there", 0.2), ("and", 0.1), ("yesterday", 0.05)],
    [("</s>", 0.7), ("I", 0.1), ("It", 0.1), ("There", 0.05)],  # the gold "were" is not in the top 4
]
TF_FREE_GOLD_PROB = {6: 0.004}


def tf_step(t, decoder_input, gold, topk, gold_prob=None):
    if gold_prob is None:
        gold_prob = dict(topk).get(gold)
    return {"step": t + 1, "decoder_input": list(decoder_input), "gold": gold, "topk": list(topk),
            "loss": -math.log(gold_prob) if gold_prob else None, "gold_prob": gold_prob}


def tf_teacher():
    return [tf_step(t, ["<s>"] + TF_GOLD[:t], TF_GOLD[t], topk) for t, topk in enumerate(TF_TEACHER_TOPK)]


def tf_free():
    steps, inputs = [], ["<s>"]
    for t, topk in enumerate(TF_FREE_TOPK):
        steps.append(tf_step(t, inputs, TF_GOLD[t], topk, TF_FREE_GOLD_PROB.get(t)))
        inputs = inputs + [topk[0][0]]  # the model's own top-1 becomes the next input
    return steps


def test_tf_test_data_is_what_the_lecture_needs():
    free = tf_free()
    assert [s["decoder_input"] for s in free][2] == ["<s>", "I", "go"]  # the early mistake, fed back
    assert len(free) == 7 and len(tf_teacher()) == 11


def test_teacher_forcing_html_is_deterministic():
    a = widgets.teacher_forcing_html(TF_SRC, tf_teacher(), tf_free(), title="번역")
    assert a == widgets.teacher_forcing_html(tuple(TF_SRC), tf_teacher(), tf_free(), title="번역")
    # tuples, as a caller may build them, give the same page as lists
    as_tuples = [dict(s, decoder_input=tuple(s["decoder_input"]), topk=tuple(map(tuple, s["topk"])))
                 for s in tf_teacher()]
    assert a == widgets.teacher_forcing_html(TF_SRC, as_tuples, tf_free(), title="번역")
    assert a != widgets.teacher_forcing_html(TF_SRC, tf_teacher(), tf_free())  # the id follows the input
    assert a != widgets.teacher_forcing_html(TF_SRC, tf_teacher(), tf_free()[:3], title="번역")
    [eid] = re.findall(r'<div class="lmcb-widget lmcb-teacherforcing" id="([^"]+)"', a)
    [js] = [text for kind, text in parse(a).scripts if kind != "application/json"]
    assert f'document.getElementById("{eid}")' in js
    assert "%(" not in js and "%%" not in js
    for text in ("교사 강요(학습)", "자기 예측(추론)", "◀ 이전", "다음 ▶", "단계 1 / 11", "번역",
                 "'NanumGothic','Noto Sans KR',sans-serif"):
        assert text in a
    assert "http" not in a.replace("aria-live", "")  # no CDN, nothing fetched


def test_teacher_forcing_html_embeds_the_steps():
    teacher, free = tf_teacher(), tf_free()
    data = embedded_data(widgets.teacher_forcing_html(TF_SRC, teacher, free))
    assert data["src"] == TF_SRC and data["title"] == ""
    assert data["ref"] == ["<s>"] + TF_GOLD  # the gold decoder input, to mark the free-running mistakes
    for mode, steps in (("teacher", teacher), ("free", free)):
        got = data["modes"][mode]
        assert len(got) == len(steps)
        losses = []
        for g, s in zip(got, steps):
            assert g["step"] == s["step"] and g["decoder_input"] == s["decoder_input"] and g["gold"] == s["gold"]
            assert g["topk"] == [[w, p] for w, p in s["topk"]]
            assert g["loss"] == pytest.approx(s["loss"], abs=1e-6)
            assert g["gold_prob"] == pytest.approx(s["gold_prob"], abs=1e-6)
            losses.append(s["loss"])
            assert g["mean_loss"] == pytest.approx(sum(losses) / len(losses), abs=1e-6)
    assert data["modes"]["free"][6]["loss"] == pytest.approx(-math.log(0.004), abs=1e-6)


def test_teacher_forcing_html_sorts_topk_and_keeps_missing_losses():
    steps = [{"step": 0, "decoder_input": ["<s>"], "gold": "b", "topk": [("a", 0.2), ("b", 0.7), ("c", 0.1)],
              "loss": None, "gold_prob": None},
             {"step": 1, "decoder_input": ["<s>", "b"], "gold": None, "topk": [("</s>", 1.0000001)],
              "loss": 0.5, "gold_prob": None}]
    data = embedded_data(widgets.teacher_forcing_html(["x"], steps, steps[:1]))
    got = data["modes"]["teacher"]
    assert got[0]["topk"] == [["b", 0.7], ["a", 0.2], ["c", 0.1]]  # best first
    assert got[1]["topk"] == [["</s>", 1.0]]  # float32 rounding above 1 is clipped
    assert [s["mean_loss"] for s in got] == [None, 0.5]  # the mean over the steps that have a loss
    assert data["ref"] == ["<s>", "b"]


def _tf_bad(mode="teacher", i=0, **change):
    teacher, free = tf_teacher(), tf_free()
    steps = teacher if mode == "teacher" else free
    for k, v in change.items():
        if v is KeyError:
            del steps[i][k]
        else:
            steps[i][k] = v
    return TF_SRC, teacher, free


@pytest.mark.parametrize("args, error, message", [
    ((TF_SRC, [], tf_free()), ValueError, r"teacher: expected at least one step"),
    ((TF_SRC, tf_teacher(), []), ValueError, r"free: expected at least one step"),
    ((TF_SRC, tf_teacher()[0], tf_free()), TypeError, r"teacher: expected a list of step dicts, got dict"),
    ((TF_SRC, tf_teacher(), "I went"), TypeError, r"free: expected a list of step dicts"),
    ((TF_SRC, tf_teacher() + [3], tf_free()), TypeError, r"teacher\[11\]: expected a dict"),
    (([], tf_teacher(), tf_free()), ValueError, r"src_tokens: expected at least one token"),
    (("어제 카페", tf_teacher(), tf_free()), TypeError, r"src_tokens: .*split it"),
    ((["어제", 3], tf_teacher(), tf_free()), TypeError, r"src_tokens\[1\]: expected a str"),
    (_tf_bad(loss=KeyError), ValueError, r"teacher\[0\]: missing key\(s\) 'loss'"),
    (_tf_bad("free", 2, gold=KeyError, topk=KeyError), ValueError, r"free\[2\]: missing key\(s\) 'gold', 'topk'"),
    (_tf_bad(step="1"), TypeError, r"teacher\[0\]\['step'\]: expected an int"),
    (_tf_bad(i=1, step=1), ValueError, r"teacher\[1\]\['step'\]: steps must increase"),
    (_tf_bad(decoder_input="<s> I"), TypeError, r"teacher\[0\]\['decoder_input'\]: .*str"),
    (_tf_bad("free", 1, decoder_input=[]), ValueError, r"free\[1\]\['decoder_input'\]: expected at least one"),
    (_tf_bad(gold=5), TypeError, r"teacher\[0\]\['gold'\]: expected a str token or None"),
    (_tf_bad(topk=[]), ValueError, r"teacher\[0\]\['topk'\]: expected at least one"),
    (_tf_bad(topk={"I": 0.5}), TypeError, r"teacher\[0\]\['topk'\]: expected a list of \(token, probability\)"),
    (_tf_bad(topk=[("I", 0.5, 1)]), TypeError, r"teacher\[0\]\['topk'\]\[0\]: expected a \(token, probability\)"),
    (_tf_bad(topk=[(1, 0.5)]), TypeError, r"teacher\[0\]\['topk'\]\[0\]: expected a str token"),
    (_tf_bad("free", 3, topk=[("the", 1.5)]), ValueError, r"free\[3\]\['topk'\]\[0\]: probabilities lie in \[0, 1\]"),
    (_tf_bad(topk=[("I", -0.1)]), ValueError, r"teacher\[0\]\['topk'\]\[0\]: probabilities lie in \[0, 1\]"),
    (_tf_bad(topk=[("I", float("nan"))]), ValueError, r"teacher\[0\]\['topk'\]\[0\]: expected a finite"),
    (_tf_bad(topk=[("I", "0.5")]), TypeError, r"teacher\[0\]\['topk'\]\[0\]: expected a probability"),
    (_tf_bad(gold_prob=2.0), ValueError, r"teacher\[0\]\['gold_prob'\]: probabilities lie in \[0, 1\]"),
    (_tf_bad(loss=-1.0), ValueError, r"teacher\[0\]\['loss'\]: a loss -log p is never negative"),
    (_tf_bad(loss=True), TypeError, r"teacher\[0\]\['loss'\]: expected a non-negative loss or None"),
])
def test_teacher_forcing_html_checks_its_arguments(args, error, message):
    with pytest.raises(error, match=message):
        widgets.teacher_forcing_html(*args)


def test_teacher_forcing_html_checks_the_title():
    with pytest.raises(TypeError, match="title: expected a str"):
        widgets.teacher_forcing_html(TF_SRC, tf_teacher(), tf_free(), title=None)


def test_teacher_forcing_accepts_numpy_numbers():
    steps = [dict(s, topk=[(w, np.float32(p)) for w, p in s["topk"]], loss=np.float64(s["loss"]),
                  gold_prob=np.float32(s["gold_prob"])) for s in tf_teacher()]
    data = embedded_data(widgets.teacher_forcing_html(TF_SRC, steps, tf_free()))
    assert data["modes"]["teacher"][0]["topk"][0] == ["I", pytest.approx(0.62, abs=1e-6)]


@pytest.mark.parametrize("token", ["</script><b id='x'>", "<!--<script>", "</SCRIPT >", "<img src=x onerror=alert(1)>"])
def test_teacher_forcing_tokens_cannot_break_out(token):
    teacher = [tf_step(0, ["<s>", token], token, [(token, 0.6), ("&amp;", 0.4)])]
    fragment = widgets.teacher_forcing_html([token, "카페"], teacher, teacher, title=token)
    parts = parse(fragment)
    assert [kind for kind, _ in parts.scripts] == ["application/json", "text/javascript"]
    assert fragment.count("</script>") == 2  # only the two real end tags
    assert "<" not in parts.scripts[0][1]
    assert "<img" not in fragment and "<b id" not in fragment
    assert html.escape(token) in fragment  # the title, as text
    data = json.loads(parts.scripts[0][1])
    assert data["src"][0] == data["modes"]["free"][0]["gold"] == data["title"] == token  # back unchanged
    assert data["modes"]["teacher"][0]["topk"][1][0] == "&amp;"


@pytest.mark.parametrize("view", [widgets.teacher_forcing_stepper, widgets.teacher_forcing_html])
def test_teacher_forcing_views_check_arguments_first(displayed, view):
    with pytest.raises(ValueError, match=r"free: expected at least one step"):
        view(TF_SRC, tf_teacher(), [])
    assert displayed == []


def _tf_chart(fig):
    """(labels top-down, bar colours top-down, title) of the live view's bar chart."""
    ax = fig.axes[0]
    bars = sorted(ax.patches, key=lambda p: -p.get_y())
    labels = [t.get_text() for _, t in sorted(zip(ax.get_yticks(), ax.get_yticklabels()), key=lambda yt: -yt[0])]
    return labels, [matplotlib.colors.to_hex(b.get_facecolor()) for b in bars], ax.get_title()


def test_teacher_forcing_stepper_displays_one_bundle_and_steps(displayed, monkeypatch):
    import ipywidgets
    import matplotlib.pyplot as plt

    teacher, free = tf_teacher(), tf_free()
    widgets.teacher_forcing_stepper(TF_SRC, teacher, free, title="번역")
    [(bundle, kw)] = bundles(displayed)
    assert WIDGET_MIME in bundle and kw.get("raw") is True
    assert bundle["text/html"] == widgets.teacher_forcing_html(TF_SRC, teacher, free, title="번역")
    [fig] = _figures(displayed)
    assert plt.get_fignums() == []  # closed after display
    labels, colors, title = _tf_chart(fig)
    assert labels == ["I", "We", "Yesterday", "There"] and "1단계" in title
    assert colors == ["#d95f02"] + ["#4c72b0"] * 3  # the gold bar is highlighted

    # drive the live view: capture the widget that show() receives
    shown = []
    monkeypatch.setattr(widgets, "show", lambda w, static: shown.append(w))
    widgets.teacher_forcing_stepper(TF_SRC, teacher, free)
    [box] = shown
    mode, (prev, step, nxt), panel = box.children[0], box.children[1].children, box.children[2]
    assert isinstance(mode, ipywidgets.ToggleButtons) and isinstance(step, ipywidgets.IntSlider)
    assert isinstance(box.children[3], ipywidgets.Output)
    assert mode.value == "teacher" and (step.value, step.min, step.max) == (1, 1, 11)
    assert prev.disabled and not nxt.disabled
    displayed.clear()
    nxt.click()  # ▶ advances the slider and redraws that step
    assert step.value == 2 and not prev.disabled
    labels, colors, title = _tf_chart(_figures(displayed)[-1])
    assert labels == ["go", "went", "was", "have"] and "2단계" in title and "‘went’" in title
    assert colors == ["#4c72b0", "#d95f02", "#4c72b0", "#4c72b0"]
    assert "교사 강요(학습) · 단계 2 / 11" in panel.value and ">went</span>" in panel.value
    nxt.click(), nxt.click()
    assert step.value == 4
    prev.click()
    assert step.value == 3 and "−log 0.810 = 0.211" in panel.value
    assert _tf_chart(_figures(displayed)[-1])[0] == ["to", "there", "home", "."]
    assert "#d62728" not in panel.value  # teacher forcing: no wrong decoder input

    displayed.clear()
    mode.value = "free"  # the same step in inference mode: the model's own "go" is fed back
    assert len(_figures(displayed)) == 1
    assert step.value == 3 and step.max == 7
    assert "자기 예측(추론) · 단계 3 / 7" in panel.value
    assert re.search(r"#d62728[^>]*>go</span>", panel.value)  # the mismatching chip is red
    assert _tf_chart(_figures(displayed)[-1])[0] == ["to", "there", "home", "."]
    assert _tf_chart(_figures(displayed)[-1])[1][0] == "#d95f02"
    step.value = 7
    assert nxt.disabled and "정답이 상위 4개에 없음" in panel.value
    nxt.click()
    assert step.value == 7  # no step beyond the end
    assert "#d95f02" not in _tf_chart(_figures(displayed)[-1])[1]  # the gold "were" is not drawn
    displayed.clear()
    mode.value = "teacher"  # back: the step stays, the slider range grows again
    assert (step.value, step.max) == (7, 11) and not nxt.disabled
    assert _tf_chart(_figures(displayed)[-1])[0] == ["were", "was", "are", "is"]
    mode.value = "free"
    step.value = 1
    mode.value = "teacher"
    assert step.value == 1 and prev.disabled
    assert plt.get_fignums() == []
