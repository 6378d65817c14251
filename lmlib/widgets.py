"""Interactive views that work live (ipywidgets, in Jupyter and Colab) and in the static book.

Each view is displayed as ONE output carrying two representations:
- `application/vnd.jupyter.widget-view+json`: the live ipywidgets view, used where a
  kernel runs (Jupyter, Colab);
- `text/html`: a self-contained page fragment with precomputed data embedded as JSON
  and a few lines of plain JavaScript — no kernel, no CDN — which the published book
  shows (its _config.yml ranks text/html above the widget view).
ipywidgets is imported lazily, so `import lmlib` does not need it.
"""

from __future__ import annotations

import hashlib
import html
import json
from typing import Sequence

_NEXT_WORD_JS = """
(function () {
  var root = document.getElementById("%(id)s");
  var data = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var select = root.querySelector("select"), bars = root.querySelector(".lmcb-bars");
  function draw() {
    var rows = data.contexts[select.value], top = rows.length ? rows[0][1] : 1;
    bars.innerHTML = "";
    rows.forEach(function (r) {
      var row = document.createElement("div"); row.className = "lmcb-row";
      var w = document.createElement("span"); w.className = "lmcb-word"; w.textContent = r[0];
      var b = document.createElement("span"); b.className = "lmcb-bar";
      b.style.width = (top > 0 ? 100 * r[1] / top : 0) * 0.7 + "%%";
      var p = document.createElement("span"); p.className = "lmcb-p"; p.textContent = r[1].toPrecision(3);
      row.appendChild(w); row.appendChild(b); row.appendChild(p); bars.appendChild(row);
    });
  }
  select.addEventListener("change", draw); draw();
})();
"""

_STYLE = """
<style>
.lmcb-widget{font-family:'NanumGothic','Noto Sans KR',sans-serif;border:1px solid #ccc;border-radius:6px;padding:10px;max-width:640px}
.lmcb-row{display:flex;align-items:center;margin:2px 0}
.lmcb-word{width:8em;text-align:right;padding-right:8px}
.lmcb-bar{display:inline-block;height:14px;background:#4c72b0}
.lmcb-p{padding-left:6px;font-size:85%;color:#555}
</style>
"""


def _element_id(kind: str, payload: str) -> str:
    """A deterministic element id (stored outputs must not change between runs)."""
    return f"lmcb-{kind}-{hashlib.sha1(payload.encode('utf-8')).hexdigest()[:10]}"


def static_html(kind: str, data: dict, body: str, script: str) -> str:
    """Wrap `body` and `script` with `data` embedded as JSON into a self-contained HTML fragment."""
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
    eid = _element_id(kind, payload + body)
    # No '<' at all inside the script element: '</script>' would end the tag, and '<!--<script>'
    # would make the parser swallow the real end tag. \u003c is the same '<' to JSON.parse.
    safe = payload.replace("<", "\\u003c")
    return (
        _STYLE + f'<div class="lmcb-widget lmcb-{kind}" id="{eid}">{body}'
        f'<script type="application/json">{safe}</script>'
        f"<script>{script % {'id': eid}}</script></div>"
    )


def show(widget, static: str) -> None:
    """Display `widget` live where a kernel runs, and `static` HTML where none does (the book)."""
    from IPython.display import display

    bundle = dict(widget._repr_mimebundle_() or {})
    bundle["text/html"] = static
    display(bundle, raw=True)


def _ranked(lm, context: Sequence[str], top_k: int) -> list[tuple[str, float]]:
    """Top next words: only those seen after the context (smoothing gives every unseen word
    the same tiny probability, and a list of such ties says nothing); all words if none."""
    context = list(context)
    seen = [w for w, _ in lm.continuations(context)]
    ranked = lm.rank(context, candidates=seen or None, top_k=top_k)
    return [(w, round(float(p), 6)) for w, p in ranked]


def _check_contexts(contexts, top_k) -> None:
    if isinstance(contexts, str):
        raise TypeError(f"contexts: expected a list of context strings, got the str {contexts!r}; wrap it: [{contexts!r}]")
    if not contexts:
        raise ValueError("contexts: expected at least one example context for the static view")
    for i, c in enumerate(contexts):
        if not isinstance(c, str):
            raise TypeError(f"contexts[{i}]: expected a str such as '나는 어제', got {type(c).__name__}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k: expected a positive int, got {top_k!r}")


def next_word_html(lm, contexts: Sequence[str], top_k: int = 10) -> str:
    """Static next-word explorer: pick one of the precomputed contexts, see the ranked next words."""
    _check_contexts(contexts, top_k)
    data = {"contexts": {c: _ranked(lm, c.split(), top_k) for c in contexts}}
    options = "".join(f'<option value="{html.escape(c)}">{html.escape(c)} ___</option>' for c in contexts)
    body = (f"<b>다음 단어 탐색기</b> (정적 버전: 미리 계산한 문맥)<br>"
            f"<label>문맥: <select>{options}</select></label><div class='lmcb-bars'></div>")
    return static_html("nextword", data, body, _NEXT_WORD_JS)


def next_word_explorer(lm, contexts: Sequence[str], top_k: int = 10) -> None:
    """Type a context, see the model's ranked next words as a bar chart (live and static)."""
    _check_contexts(contexts, top_k)
    import ipywidgets as W
    from IPython.display import display
    import matplotlib.pyplot as plt

    from . import viz

    text = W.Text(value=contexts[0], description="문맥", layout=W.Layout(width="420px"))
    k = W.IntSlider(value=top_k, min=3, max=30, description="상위 k")
    out = W.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            ctx = text.value.split()
            ax = viz.bar_ranking(_ranked(lm, ctx, k.value) or [("(없음)", 0.0)],
                                 title=f"P(다음 단어 | {' '.join(ctx[-(lm.order - 1):]) if lm.order > 1 else ''})")
            display(ax.figure)  # plt.show(fig) fails outside the inline backend (Agg: TypeError)
            plt.close(ax.figure)  # one figure per redraw would otherwise pile up

    text.observe(redraw, names="value")
    k.observe(redraw, names="value")
    redraw()
    show(W.VBox([W.HBox([text, k]), out]), next_word_html(lm, contexts, top_k))
