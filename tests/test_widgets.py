"""Tests for lmlib.widgets: the static HTML view (deterministic, safe, faithful to the model),
the live explorer's checks, and the one-output display of both views."""

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
