"""Interactive views that work live (ipywidgets, in Jupyter and Colab) and in the static book.

Each view is displayed as ONE output carrying two representations:
- `application/vnd.jupyter.widget-view+json`: the live ipywidgets view, used where a
  kernel runs (Jupyter, Colab);
- `text/html`: a self-contained page fragment with precomputed data embedded as JSON
  and the view's plain JavaScript — no kernel, no CDN — which the published book shows
  (its _config.yml ranks text/html above the widget view). The scripts and styles are
  package files in lmlib/views (nextword.js, attention.js/.css, teacherforcing.js/.css,
  widget.css), read when a view is drawn; none of them lives in a Python string.
ipywidgets is imported lazily, so `import lmlib` does not need it.
"""

from __future__ import annotations

import hashlib
import html
import json
from typing import Sequence

from .views import asset




def _element_id(kind: str, payload: str) -> str:
    """A deterministic element id (stored outputs must not change between runs)."""
    return f"lmcb-{kind}-{hashlib.sha1(payload.encode('utf-8')).hexdigest()[:10]}"


def static_html(kind: str, data: dict, body: str) -> str:
    """The static form of view `kind`: the shared CSS, `body`, `data` embedded as JSON, and the
    view's script lmlib/views/<kind>.js, whose function lmcb<Kind>(root) draws into the div."""
    if not isinstance(kind, str):
        raise TypeError(f"kind: expected a short name such as 'nextword', got {type(kind).__name__}")
    if not kind or not all(c.isalnum() or c in "-_" for c in kind):
        raise ValueError(f"kind: expected letters, digits, '-' or '_' (it becomes a CSS class), got {kind!r}")
    if not isinstance(body, str):
        raise TypeError(f"body: expected a str, got {type(body).__name__}")
    try:
        script = asset(f"{kind}.js")
    except (FileNotFoundError, ValueError):
        raise ValueError(f"kind: expected a view with a script in lmlib/views (nextword, attention, "
                         f"teacherforcing), got {kind!r}") from None
    try:
        payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f"data: expected JSON-serialisable data (dicts, lists, str, numbers), got {err}") from None
    eid = _element_id(kind, payload + body)
    # No '<' at all inside the script element: '</script>' would end the tag, and '<!--<script>'
    # would make the parser swallow the real end tag. \u003c is the same '<' to JSON.parse.
    safe = payload.replace("<", "\\u003c")
    entry = "lmcb" + kind.capitalize()
    return (
        _style("widget") + f'<div class="lmcb-widget lmcb-{kind}" id="{eid}">{body}'
        f'<script type="application/json">{safe}</script>'
        f'<script>{script}\n{entry}(document.getElementById("{eid}"));</script></div>'
    )


def _style(name: str) -> str:
    """lmlib/views/<name>.css as a <style> element."""
    return f"<style>\n{asset(name + '.css')}</style>\n"


def show(widget, static: str) -> None:
    """Display `widget` live where a kernel runs, and `static` HTML where none does (the book)."""
    from IPython.display import display

    display(_widget_bundle(widget, static), raw=True)
    if not hasattr(widget, "_repr_mimebundle_"):
        widget._handle_displayed()  # what ipywidgets 7's own _ipython_display_ does after display


def _widget_bundle(widget, static: str) -> dict:
    """The widget's MIME bundle plus `static` as text/html, on ipywidgets 7.7 (Colab) and 8.

    ipywidgets 8 builds the bundle in `_repr_mimebundle_`; 7.x has no such method and builds
    the same dict inside `_ipython_display_` (widget-view protocol 2.0, keyed by model id).
    """
    if not isinstance(static, str):
        raise TypeError(f"static: expected the view's HTML as a str, got {type(static).__name__}")
    if hasattr(widget, "_repr_mimebundle_"):
        bundle = dict(widget._repr_mimebundle_() or {})
    elif getattr(widget, "model_id", None):
        bundle = {"text/plain": repr(widget)[:110],
                  "application/vnd.jupyter.widget-view+json": {
                      "version_major": 2, "version_minor": 0, "model_id": widget.model_id}}
    else:
        raise TypeError(f"widget: expected an ipywidgets widget, got {type(widget).__name__}")
    bundle["text/html"] = static
    return bundle


def _ranked(lm, context: Sequence[str], top_k: int) -> list[tuple[str, float]]:
    """Top next words: only those seen after the context (smoothing gives every unseen word
    the same tiny probability, and a list of such ties says nothing); all words if none."""
    context = list(context)
    seen = [w for w, _ in lm.continuations(context)]
    ranked = lm.rank(context, candidates=seen or None, top_k=top_k)
    return [(w, round(float(p), 6)) for w, p in ranked]


def _check_contexts(contexts, top_k, lm=None) -> None:
    if isinstance(contexts, str):
        raise TypeError(f"contexts: expected a list of context strings, got the str {contexts!r}; wrap it: [{contexts!r}]")
    if not isinstance(contexts, (list, tuple)):
        raise TypeError(f"contexts: expected a list of context strings, got {type(contexts).__name__}")
    if not contexts:
        raise ValueError("contexts: expected at least one example context for the static view")
    for i, c in enumerate(contexts):
        if not isinstance(c, str):
            raise TypeError(f"contexts[{i}]: expected a str such as '나는 어제', got {type(c).__name__}")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"top_k: expected a positive int, got {top_k!r}")
    if not all(callable(getattr(lm, m, None)) for m in ("continuations", "rank")):
        raise TypeError(f"lm: expected a fitted lmlib.ngram.NGramLM, got {type(lm).__name__}")


def next_word_html(lm, contexts: Sequence[str], top_k: int = 10) -> str:
    """Static next-word explorer: pick one of the precomputed contexts, see the ranked next words."""
    _check_contexts(contexts, top_k, lm)
    data = {"contexts": {c: _ranked(lm, c.split(), top_k) for c in contexts}}
    options = "".join(f'<option value="{html.escape(c)}">{html.escape(c)} ___</option>' for c in contexts)
    body = (f"<b>다음 단어 탐색기</b> (정적 버전: 미리 계산한 문맥)<br>"
            f"<label>문맥: <select>{options}</select></label><div class='lmcb-bars'></div>")
    return static_html("nextword", data, body)


def next_word_explorer(lm, contexts: Sequence[str], top_k: int = 10) -> None:
    """Type a context, see the model's ranked next words as a bar chart (live and static)."""
    _check_contexts(contexts, top_k, lm)
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


# --- attention explorer ------------------------------------------------------------
#
# Weights come in the layout bertviz and Hugging Face (output_attentions=True) use: a list
# over layers of (B, nh, T, S) arrays — B sentences, nh heads, T queries, S keys. The
# static view embeds them rounded to `digits` as integers (weight * 10**digits: shorter
# than "0.123" and exact in JSON); its script rebuilds the heatmap with DOM calls and
# textContent only, so no token is ever parsed as HTML.

_ATTENTION_SMALL = 12  # show the numbers in the cells up to this many rows and columns
_ATTENTION_MAX_BARS = 20  # the bar list shows at most this many keys
_ATTENTION_TOL = 1e-3  # weights may stray this far outside [0, 1] (float16, rounding)
_ATTENTION_CMAP = "viridis"  # the live heatmap's colormap; the static view's stops below follow it




class _Attention:
    """Checked attention weights: `w` is (L, B, nh, T, S); per sentence b the query tokens
    `queries[b]` and key tokens `keys[b]` (the weights are cropped to their lengths)."""

    def __init__(self, w, queries, keys, labels, cross):
        self.w, self.queries, self.keys, self.labels, self.cross = w, queries, keys, labels, cross

    def matrix(self, layer: int, b: int, head):
        """The (T_b, S_b) weights of one sentence, layer and head (head="mean": mean over heads)."""
        a = self.w[layer, b, :, : len(self.queries[b]), : len(self.keys[b])]
        return a.mean(axis=0) if head == "mean" else a[head]


def _as_float_array(x, name: str):
    import numpy as np

    if hasattr(x, "detach"):  # a torch tensor (torch itself is never imported here)
        t = x.detach().cpu()
        try:
            a = t.numpy()
        except TypeError:  # bfloat16 and friends have no numpy dtype
            a = t.float().numpy()
    else:
        try:
            a = np.asarray(x)
        except Exception as e:  # ragged nested lists and the like
            raise TypeError(f"{name}: expected an array or tensor of attention weights, "
                            f"got {type(x).__name__} ({e})") from None
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise TypeError(f"{name}: expected real-valued attention weights, got dtype {a.dtype}")
    return a.astype(np.float64)


def _attention_layers(attentions):
    import numpy as np

    if isinstance(attentions, (list, tuple)):
        layers = list(attentions)
    elif hasattr(attentions, "shape"):
        shape = tuple(attentions.shape)
        hint = ("; for a stacked (L, B, nh, T, S) array pass list(weights)" if len(shape) == 5
                else "; for one layer pass [weights]")
        raise TypeError("attentions: expected a list (or tuple) over layers of (B, nh, T, S) weights, as Hugging Face's "
                        f"output_attentions=True returns them; got one array of shape {shape}{hint}")
    else:
        raise TypeError(f"attentions: expected a list (or tuple) over layers of (B, nh, T, S) weights, "
                        f"got {type(attentions).__name__}")
    if not layers:
        raise ValueError("attentions: expected at least one layer, got an empty list")
    arrays = []
    for i, layer in enumerate(layers):
        name = f"attentions[{i}]"
        a = _as_float_array(layer, name)
        if a.ndim != 4:
            hint = " (one sentence? add the batch axis: weights[None])" if a.ndim == 3 else ""
            raise ValueError(f"{name}: expected shape (B, nh, T, S) = (batch, heads, queries, keys), "
                             f"got shape {a.shape}{hint}")
        if arrays and a.shape != arrays[0].shape:
            raise ValueError(f"{name}: shape {a.shape} differs from attentions[0]'s {arrays[0].shape}; "
                             "every layer must have the same (B, nh, T, S)")
        if 0 in a.shape:
            raise ValueError(f"{name}: expected no empty axis in (B, nh, T, S), got shape {a.shape}")
        bad = ~np.isfinite(a)
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{name}: non-finite weight {a[at]} at (b, head, t, s) = {at}")
        for wrong, what in ((a < -_ATTENTION_TOL, "below 0"), (a > 1 + _ATTENTION_TOL, "above 1")):
            if wrong.any():
                at = tuple(int(i) for i in np.argwhere(wrong)[0])
                raise ValueError(f"{name}: attention weights lie in [0, 1], got {a[at]:.4g} ({what}) at "
                                 f"(b, head, t, s) = {at}; pass the weights after the softmax, not the scores")
        arrays.append(a)
    return np.clip(np.stack(arrays), 0.0, 1.0)  # (L, B, nh, T, S)


def _token_lists(tokens, name: str) -> list[list[str]]:
    """One flat list of str is one sentence; otherwise a list over the batch of token lists."""
    if isinstance(tokens, str):
        raise TypeError(f"{name}: expected a list of token strings (or one such list per sentence), "
                        f"got the str {tokens!r}; split it: {tokens!r}.split()")
    if hasattr(tokens, "shape"):
        raise TypeError(f"{name}: expected token strings, got an array of shape {tuple(tokens.shape)}; "
                        "turn ids into tokens first (tokenizer.convert_ids_to_tokens)")
    if not isinstance(tokens, (list, tuple)):
        raise TypeError(f"{name}: expected a list of token strings (or one such list per sentence), "
                        f"got {type(tokens).__name__}")
    if not tokens:
        raise ValueError(f"{name}: expected at least one token, got an empty list")
    if isinstance(tokens[0], str):
        sentences, flat = [tokens], True
    else:
        sentences, flat = tokens, False
    out = []
    for b, sent in enumerate(sentences):
        where = name if flat else f"{name}[{b}]"
        if not isinstance(sent, (list, tuple)):
            raise TypeError(f"{where}: expected a list of token strings, got {type(sent).__name__}")
        if not sent:
            raise ValueError(f"{where}: expected at least one token, got an empty list")
        for i, t in enumerate(sent):
            if not isinstance(t, str):
                raise TypeError(f"{where}[{i}]: expected a str token, got {type(t).__name__} {t!r}")
        out.append([str(t) for t in sent])
    return out


def _default_label(b: int, keys: list[str], queries: list[str] | None, width: int = 40) -> str:
    text = " ".join(keys) + (" → " + " ".join(queries) if queries is not None else "")
    return f"{b + 1}. " + (text if len(text) <= width else text[: width - 1] + "…")


def _check_attention(tokens, attentions, sentence_labels=None, query_tokens=None) -> _Attention:
    w = _attention_layers(attentions)
    _, B, _, T, S = w.shape
    shape = f"(B, nh, T, S) = {w.shape[1:]}"
    keys = _token_lists(tokens, "tokens")
    cross = query_tokens is not None
    queries = _token_lists(query_tokens, "query_tokens") if cross else keys
    for name, lists in (("tokens", keys), ("query_tokens", queries)) if cross else (("tokens", keys),):
        if len(lists) != B:
            many = "a list of token lists, one per sentence" if B > 1 else "one token list"
            raise ValueError(f"{name}: {len(lists)} sentence(s), but the attentions hold B={B} ({shape}); pass {many}")
    if not cross and T != S:
        raise ValueError(f"attentions: T={T} queries but S={S} keys ({shape}); for cross-attention "
                         "pass the target side as query_tokens (tokens are then the S keys)")
    for b in range(B):
        where = lambda name: name if B == 1 else f"{name}[{b}]"  # noqa: E731
        if len(keys[b]) > S:
            raise ValueError(f"{where('tokens')}: {len(keys[b])} tokens, but the attentions have only S={S} keys ({shape})")
        if len(queries[b]) > T:
            raise ValueError(f"{where('query_tokens')}: {len(queries[b])} tokens, but the attentions have only "
                             f"T={T} queries ({shape})")
    if sentence_labels is None:
        labels = [_default_label(b, keys[b], queries[b] if cross else None) for b in range(B)]
    else:
        if isinstance(sentence_labels, str) or not isinstance(sentence_labels, (list, tuple)):
            raise TypeError("sentence_labels: expected a list of str, one per sentence, "
                            f"got {type(sentence_labels).__name__}")
        if len(sentence_labels) != B:
            raise ValueError(f"sentence_labels: {len(sentence_labels)} label(s), but the attentions hold B={B} sentences")
        for b, lab in enumerate(sentence_labels):
            if not isinstance(lab, str):
                raise TypeError(f"sentence_labels[{b}]: expected a str, got {type(lab).__name__}")
        labels = list(sentence_labels)
    return _Attention(w, queries, keys, labels, cross)


def _static_attention(att: _Attention, max_layers=None, digits: int = 3) -> str:
    import numpy as np

    if max_layers is not None and (isinstance(max_layers, bool) or not isinstance(max_layers, int) or max_layers < 1):
        raise ValueError(f"max_layers: expected None or a positive int, got {max_layers!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 6:
        raise ValueError(f"digits: expected an int from 1 to 6, got {digits!r}")
    n_layers, _, n_heads = att.w.shape[:3]
    n_layers = min(n_layers, max_layers or n_layers)  # the first max_layers layers
    scale = 10 ** digits
    sentences = []
    for b, (q, k) in enumerate(zip(att.queries, att.keys)):
        w = np.rint(att.w[:n_layers, b, :, : len(q), : len(k)] * scale).astype(np.int64)
        sentences.append({"q": q, "k": k, "w": w.tolist()})  # w[layer][head][t][s]
    data = {"digits": digits, "scale": scale, "small": _ATTENTION_SMALL, "max_bars": _ATTENTION_MAX_BARS,
            "sentences": sentences}

    def options(pairs, selected=None):
        return "".join(f'<option value="{v}"{" selected" if v == selected else ""}>{html.escape(t)}</option>'
                       for v, t in pairs)

    kind = "교차 어텐션" if att.cross else "셀프 어텐션"
    body = (
        _style("attention")
        + '<div class="lmcb-att-title"><b>어텐션 탐색기</b> '
        f'<span class="lmcb-att-sub">({kind} · 정적 버전: 미리 계산한 가중치)</span></div>'
        '<div class="lmcb-att-hint">행(쿼리)을 누르면 그 단어가 어디를 보는지 막대로 보여 줍니다</div>'
        '<div class="lmcb-att-controls">'
        f'<label>문장 <select class="lmcb-att-sentence">{options(enumerate(att.labels))}</select></label>'
        f'<label>층 <select class="lmcb-att-layer">{options((i, f"{i + 1}층") for i in range(n_layers))}</select></label>'
        '<label>헤드 <select class="lmcb-att-head">'
        + options([("mean", "평균 (모든 헤드)")] + [(str(h), f"헤드 {h + 1}") for h in range(n_heads)], selected="0")
        + '</select></label><label>쿼리 <select class="lmcb-att-query"></select></label></div>'
        '<div class="lmcb-att-legend">색 = 가중치: <span>0</span><span class="lmcb-att-ramp"></span>'
        '<span class="lmcb-att-max"></span><span>(지금 표의 최댓값)</span></div>'
        '<div class="lmcb-att-main"><div class="lmcb-att-scroll"><table class="lmcb-att-grid"></table></div>'
        '<div class="lmcb-att-side"><div class="lmcb-att-bars-title"></div><div class="lmcb-att-bars"></div></div></div>'
    )
    return static_html("attention", data, body)


def attention_html(tokens, attentions, sentence_labels=None, query_tokens=None, max_layers=None, digits: int = 3) -> str:
    """Static attention explorer: pick sentence, layer and head (or their mean), see the weights as a
    heatmap (queries as rows, keys as columns), click a row to see what that query attends to.

    `attentions`: a list (or tuple) over layers of (B, nh, T, S) weights — numpy arrays or torch
    tensors, as Hugging Face's `output_attentions=True` and bertviz use them. `tokens`: one token
    list per sentence (a flat list of str for B=1); a shorter list crops the padding at the end.
    Cross-attention: `query_tokens` are the T queries (target side), `tokens` the S keys (source).
    `max_layers` keeps only the first layers, `digits` the decimals embedded (smaller pages).
    """
    return _static_attention(_check_attention(tokens, attentions, sentence_labels, query_tokens), max_layers, digits)


def _subject_particle(word: str) -> str:
    """이 after a final consonant, 가 after a vowel; 이(가) when the word does not end in Hangul."""
    code = ord(word[-1]) - 0xAC00 if word else -1
    return ("이" if code % 28 else "가") if 0 <= code < 11172 else "이(가)"


def _key_labels(keys: list[str]) -> list[str]:
    """A repeated key token gets its position, so its bars can be told apart."""
    return [k + f" ({j + 1})" if keys.count(k) > 1 else k for j, k in enumerate(keys)]


def attention_explorer(tokens, attentions, sentence_labels=None, query_tokens=None) -> None:
    """Explore attention weights (live and static): choose sentence, layer, head (or the mean over
    heads) and a query token; see the heatmap with that query's row outlined, and its row as bars.
    Arguments as for attention_html."""
    att = _check_attention(tokens, attentions, sentence_labels, query_tokens)
    static = _static_attention(att)
    import ipywidgets as W
    from IPython.display import display
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from . import viz

    n_layers, _, n_heads = att.w.shape[:3]

    def query_options(b):
        return [(f"{t + 1}. {tok}", t) for t, tok in enumerate(att.queries[b])]

    sent = W.Dropdown(options=[(lab, b) for b, lab in enumerate(att.labels)], value=0, description="문장")
    layer = W.Dropdown(options=[(f"{i + 1}층", i) for i in range(n_layers)], value=0, description="층")
    head = W.Dropdown(options=[("평균 (모든 헤드)", "mean")] + [(f"헤드 {h + 1}", h) for h in range(n_heads)],
                      value=0, description="헤드")
    query = W.Dropdown(options=query_options(0), value=0, description="쿼리")
    out = W.Output()
    busy = [False]

    def redraw(*_):
        if busy[0]:
            return
        b, t = sent.value, query.value
        q, k = att.queries[b], att.keys[b]
        m = att.matrix(layer.value, b, head.value)
        row = sorted(zip(_key_labels(k), m[t].tolist()), key=lambda kv: -kv[1])[:_ATTENTION_MAX_BARS]  # stable
        with out:
            out.clear_output(wait=True)
            hm_w, hm_h = min(0.6 * len(k) + 2.5, 11), min(0.45 * len(q) + 1.8, 10)
            fig, (ax_hm, ax_bar) = plt.subplots(
                1, 2, figsize=(hm_w + 4.5, max(hm_h, 0.35 * len(row) + 1.5, 3.5)),
                gridspec_kw={"width_ratios": [hm_w, 4.5]})
            head_name = "헤드 평균" if head.value == "mean" else f"헤드 {head.value + 1}"
            viz.heatmap(m, q, k, title=f"{layer.value + 1}층 · {head_name} (행: 쿼리, 열: 키)",
                        ax=ax_hm, cmap=_ATTENTION_CMAP)
            if len(q) > _ATTENTION_SMALL or len(k) > _ATTENTION_SMALL:
                for text in list(ax_hm.texts):  # numbers in a big matrix are unreadable
                    text.remove()
            ax_hm.images[0].set_clim(0, float(m.max()) or 1.0)  # the same scale as the static view: 0 .. max
            ax_hm.add_patch(Rectangle((-0.5, t - 0.5), len(k), 1, fill=False, edgecolor="#e4572e", linewidth=2.5,
                                     clip_on=False))
            ax_hm.get_yticklabels()[t].set_color("#e4572e")
            viz.bar_ranking(row, title=f"‘{q[t]}’{_subject_particle(q[t])} 보는 곳", xlabel="어텐션 가중치",
                            ax=ax_bar)
            fig.tight_layout()
            display(fig)  # plt.show(fig) fails outside the inline backend
            plt.close(fig)

    def new_sentence(_):
        busy[0] = True
        try:
            query.options = query_options(sent.value)
            query.value = 0
        finally:
            busy[0] = False
        redraw()

    sent.observe(new_sentence, names="value")
    for w in (layer, head, query):
        w.observe(redraw, names="value")
    redraw()
    show(W.VBox([W.HBox([sent, layer]), W.HBox([head, query]), out]), static)


# --- teacher-forcing stepper -------------------------------------------------------
#
# A seq2seq decoder, one step at a time, in its two modes: training with teacher forcing
# (the decoder input is the gold prefix) and free-running inference (the decoder input is
# the model's own earlier predictions, so one early mistake is fed back: exposure bias).
# The caller hands plain data, one dict per step and mode; the static view embeds it and
# draws every token with textContent only.

_TF_MODES = (("teacher", "교사 강요(학습)"), ("free", "자기 예측(추론)"))
_TF_KEYS = ("step", "decoder_input", "gold", "topk", "loss", "gold_prob")
_TF_TOL = 1e-6  # probabilities may stray this far outside [0, 1] (float32 softmax)
_TF_GOLD = "#d95f02"  # the gold token's bar: the same orange as viz.bar_ranking's highlight
_TF_WRONG = "#d62728"  # a decoder input token that differs from the gold prefix




def _tf_number(x, name: str, *, prob: bool, optional: bool):
    import math
    import numbers

    if x is None and optional:
        return None
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        what = "a probability in [0, 1]" if prob else "a non-negative loss"
        none = " or None" if optional else ""
        raise TypeError(f"{name}: expected {what}{none}, got {type(x).__name__} {x!r}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v}")
    if prob and not -_TF_TOL <= v <= 1 + _TF_TOL:
        raise ValueError(f"{name}: probabilities lie in [0, 1], got {v:.6g}; pass softmax outputs, not logits")
    if not prob and v < -_TF_TOL:
        raise ValueError(f"{name}: a loss -log p is never negative, got {v:.6g}")
    return round(min(max(v, 0.0), 1.0) if prob else max(v, 0.0), 6)


def _tf_tokens(x, name: str) -> list[str]:
    if isinstance(x, str):
        raise TypeError(f"{name}: expected a list of token strings, got the str {x!r}; split it: {x!r}.split()")
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"{name}: expected a list of token strings, got {type(x).__name__}")
    if not x:
        raise ValueError(f"{name}: expected at least one token, got an empty list")
    for i, t in enumerate(x):
        if not isinstance(t, str):
            raise TypeError(f"{name}[{i}]: expected a str token, got {type(t).__name__} {t!r}")
    return list(x)


def _tf_steps(steps, name: str) -> list[dict]:
    """Checked copies of one mode's step dicts, with the running mean loss added."""
    if isinstance(steps, (str, dict)) or not isinstance(steps, (list, tuple)):
        raise TypeError(f"{name}: expected a list of step dicts, got {type(steps).__name__}")
    if not steps:
        raise ValueError(f"{name}: expected at least one step, got an empty list")
    out, losses = [], []
    for i, s in enumerate(steps):
        where = f"{name}[{i}]"
        if not isinstance(s, dict):
            raise TypeError(f"{where}: expected a dict with keys {', '.join(_TF_KEYS)}; got {type(s).__name__}")
        missing = [k for k in _TF_KEYS if k not in s]
        if missing:
            raise ValueError(f"{where}: missing key(s) {', '.join(map(repr, missing))}; "
                             f"each step needs {', '.join(_TF_KEYS)}")
        step = s["step"]
        if isinstance(step, bool) or not isinstance(step, int):
            raise TypeError(f"{where}['step']: expected an int, got {type(step).__name__} {step!r}")
        if out and step <= out[-1]["step"]:
            raise ValueError(f"{where}['step']: steps must increase, got {step} after {out[-1]['step']}")
        gold = s["gold"]
        if gold is not None and not isinstance(gold, str):
            raise TypeError(f"{where}['gold']: expected a str token or None, got {type(gold).__name__} {gold!r}")
        topk = s["topk"]
        if isinstance(topk, (str, dict)) or not isinstance(topk, (list, tuple)):
            raise TypeError(f"{where}['topk']: expected a list of (token, probability) pairs, "
                            f"got {type(topk).__name__}")
        if not topk:
            raise ValueError(f"{where}['topk']: expected at least one (token, probability) pair, got an empty list")
        pairs = []
        for j, pair in enumerate(topk):
            if isinstance(pair, str) or not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise TypeError(f"{where}['topk'][{j}]: expected a (token, probability) pair, got {pair!r}")
            if not isinstance(pair[0], str):
                raise TypeError(f"{where}['topk'][{j}]: expected a str token first, got {type(pair[0]).__name__}")
            pairs.append([pair[0], _tf_number(pair[1], f"{where}['topk'][{j}]", prob=True, optional=False)])
        pairs.sort(key=lambda p: -p[1])  # stable: ties keep the caller's order
        loss = _tf_number(s["loss"], f"{where}['loss']", prob=False, optional=True)
        if loss is not None:
            losses.append(loss)
        out.append({"step": step, "decoder_input": _tf_tokens(s["decoder_input"], f"{where}['decoder_input']"),
                    "gold": gold, "topk": pairs, "loss": loss,
                    "gold_prob": _tf_number(s["gold_prob"], f"{where}['gold_prob']", prob=True, optional=True),
                    "mean_loss": round(sum(losses) / len(losses), 6) if losses else None})
    return out


def _tf_reference(teacher: list[dict], free: list[dict]) -> list[str]:
    """The gold decoder input sequence (<s> and the gold tokens), from the teacher-forced
    inputs and every step's gold token; the free-running steps fill what teacher leaves out."""
    ref: dict[int, str] = {}
    for steps in (teacher, free):
        for s in steps:
            if steps is teacher:
                for i, tok in enumerate(s["decoder_input"]):
                    ref.setdefault(i, tok)
            else:
                ref.setdefault(0, s["decoder_input"][0])
            if s["gold"] is not None:
                ref.setdefault(len(s["decoder_input"]), s["gold"])
    out = []
    while len(out) in ref:  # the contiguous prefix
        out.append(ref[len(out)])
    return out


def _check_teacher_forcing(src_tokens, teacher, free, title) -> dict:
    if not isinstance(title, str):
        raise TypeError(f"title: expected a str, got {type(title).__name__}")
    src = _tf_tokens(src_tokens, "src_tokens")
    modes = {"teacher": _tf_steps(teacher, "teacher"), "free": _tf_steps(free, "free")}
    return {"src": src, "modes": modes, "ref": _tf_reference(modes["teacher"], modes["free"]), "title": title}


def teacher_forcing_html(src_tokens: list[str], teacher: list[dict], free: list[dict], title: str = "") -> str:
    """Static teacher-forcing stepper: step through a seq2seq decoder in training mode (the
    decoder input is the gold prefix: teacher forcing) and in inference mode (its own earlier
    predictions, mistakes included: exposure bias), seeing per step the encoder and decoder
    inputs, the gold token, the top-k next-token probabilities and the loss -log p(gold).

    `teacher` and `free`: one dict per step with keys step (int), decoder_input (list of str),
    gold (str or None), topk (list of (token, probability), best first), loss (-log p(gold) or
    None) and gold_prob (float or None). The two lists may have different lengths.
    """
    return _static_teacher_forcing(_check_teacher_forcing(src_tokens, teacher, free, title))


def _static_teacher_forcing(d: dict) -> str:
    on = ' class="lmcb-tf-on" aria-pressed="true"'
    modes = "".join(f'<button type="button" data-mode="{m}"{on if m == "teacher" else ""}>{label}</button>'
                    for m, label in _TF_MODES)
    n = len(d["modes"]["teacher"])
    title = f' <span class="lmcb-tf-usertitle">— {html.escape(d["title"])}</span>' if d["title"] else ""

    def section(label, cls, row_cls="", chips=True):
        return (f'<div class="lmcb-tf-section{row_cls}"><span class="lmcb-tf-label lmcb-tf-{cls}label">{label}</span>'
                f'<span class="lmcb-tf-{cls}{" lmcb-tf-chips" if chips else ""}"></span></div>')

    body = (
        _style("teacherforcing")
        + f'<div class="lmcb-tf-title"><b>교사 강요 단계별 보기</b>{title} '
        '<span class="lmcb-tf-sub">(정적 버전: 미리 계산한 확률)</span></div>'
        '<div class="lmcb-tf-hint"><b>교사 강요(학습)</b>: 디코더 입력이 언제나 정답 접두어입니다. '
        '<b>자기 예측(추론)</b>: 모델이 앞에서 고른 단어가 다음 입력이 되어, 한 번 틀리면 그 오류가 이어집니다 '
        '(노출 편향; 정답과 다른 입력은 빨간색).</div>'
        f'<div class="lmcb-tf-controls"><span class="lmcb-tf-modes" role="group" aria-label="모드">{modes}</span>'
        '<span class="lmcb-tf-nav"><button type="button" class="lmcb-tf-prev">◀ 이전</button>'
        f'<span class="lmcb-tf-step" aria-live="polite">단계 1 / {n}</span>'
        '<button type="button" class="lmcb-tf-next">다음 ▶</button></span>'
        '<span class="lmcb-tf-keys">(← → 키로도 이동)</span></div>'
        + section("인코더 입력 (원문)", "src")
        + section("디코더 입력", "dec")
        + section("정답 접두어 (비교)", "ref", " lmcb-tf-refrow")
        + section("정답 다음 토큰", "gold", chips=False)
        + section("모델의 1위 예측", "pred", chips=False)
        + '<div class="lmcb-tf-bars-title"></div><div class="lmcb-tf-bars"></div><div class="lmcb-tf-absent"></div>'
        '<div class="lmcb-tf-losses"><span>이 단계 손실 −log p(정답) = <b class="lmcb-tf-loss"></b></span>'
        '<span>평균 손실 = <b class="lmcb-tf-mean"></b></span></div>'
        f'<div class="lmcb-tf-legend"><span class="lmcb-tf-sw" style="background:{_TF_GOLD}"></span>정답 토큰'
        f'<span class="lmcb-tf-sw" style="background:{_TF_WRONG}"></span>정답 접두어와 다른 디코더 입력</div>'
    )
    return static_html("teacherforcing", d, body)


def _tf_panel_html(d: dict, mode: str, i: int) -> str:
    """The live view's text part for step i of a mode: the same chips and labels as the static view."""
    s, steps, free = d["modes"][mode][i], d["modes"][mode], mode == "free"
    ref = d["ref"]

    def chip(tok, style=""):
        return (f'<span style="display:inline-block;padding:1px 7px;margin:1px 2px;border:1px solid #9db0d3;'
                f'border-radius:10px;background:#eef2fa;white-space:pre;{style}">{html.escape(tok)}</span>')

    wrong = f"border-color:{_TF_WRONG};background:#fde3e3;color:#a01010;font-weight:bold"
    dec = "".join(chip(tok, wrong if free and (j >= len(ref) or ref[j] != tok) else "")
                  for j, tok in enumerate(s["decoder_input"]))

    def row(label, content):
        return (f'<div style="margin:3px 0"><span style="display:inline-block;width:11.5em;white-space:nowrap;text-align:right;'
                f'color:#555;margin-right:6px">{label}</span>{content}</div>')

    gold = ("없음 (정답 문장이 이미 끝남)" if s["gold"] is None
            else chip(s["gold"], f"border-color:{_TF_GOLD};background:#fdebd9;font-weight:bold"))
    top = s["topk"][0][0]
    verdict = "" if s["gold"] is None else (" ✓ 정답" if top == s["gold"] else f' <span style="color:{_TF_WRONG}">✗ 오답</span>')
    num = lambda x: "—" if x is None else f"{x:.3f}"  # noqa: E731
    loss = ("— (정답 없음)" if s["loss"] is None
            else (f"−log {num(s['gold_prob'])} = " if s["gold_prob"] is not None else "") + num(s["loss"]))
    absent = ""
    if s["gold"] is not None and all(tok != s["gold"] for tok, _ in s["topk"]):
        p = f" (p(‘{html.escape(s['gold'])}’) = {num(s['gold_prob'])})" if s["gold_prob"] is not None else ""
        absent = f'<div style="color:#a01010">정답이 상위 {len(s["topk"])}개에 없음{p}</div>'
    return (
        f'<div style="font-family:\'NanumGothic\',\'Noto Sans KR\',sans-serif">'
        f"<b>{dict(_TF_MODES)[mode]} · 단계 {i + 1} / {len(steps)}</b>"
        + row("인코더 입력 (원문)", "".join(chip(t, "background:#f3f3f3;border-color:#bbb") for t in d["src"]))
        + row("디코더 입력 (모델 예측)" if free else "디코더 입력 (정답 접두어)", dec)
        + (row("정답 접두어 (비교)", "".join(chip(t, "border-style:dashed;background:#fff")
                                         for t in ref[: len(s["decoder_input"])])) if free else "")
        + row("정답 다음 토큰", gold)
        + row("모델의 1위 예측", chip(top) + verdict)
        + absent
        + f"<div>이 단계 손실 −log p(정답) = <b>{loss}</b> &nbsp; 평균 손실 = <b>{num(s['mean_loss'])}</b></div></div>"
    )


def teacher_forcing_stepper(src_tokens, teacher, free, title: str = "") -> None:
    """Step through a seq2seq decoder in training (teacher forcing) and inference (free-running)
    mode, live and static: the encoder and decoder inputs, the gold token, the top-k next-token
    probabilities as bars (gold highlighted) and the loss. Arguments as for teacher_forcing_html."""
    d = _check_teacher_forcing(src_tokens, teacher, free, title)
    static = _static_teacher_forcing(d)
    import ipywidgets as W
    from IPython.display import display
    import matplotlib.pyplot as plt

    from . import viz

    mode = W.ToggleButtons(options=[(label, m) for m, label in _TF_MODES], value="teacher", description="모드")
    prev = W.Button(description="◀ 이전", layout=W.Layout(width="90px"))
    nxt = W.Button(description="다음 ▶", layout=W.Layout(width="90px"))
    step = W.IntSlider(value=1, min=1, max=len(d["modes"]["teacher"]), description="단계")
    panel = W.HTML()
    out = W.Output()
    busy = [False]

    def redraw(*_):
        if busy[0]:
            return
        m, i = mode.value, step.value - 1
        s = d["modes"][m][i]
        prev.disabled, nxt.disabled = i == 0, i == step.max - 1
        panel.value = _tf_panel_html(d, m, i)
        with out:
            out.clear_output(wait=True)
            gold = s["gold"]
            ax = viz.bar_ranking([(tok, p) for tok, p in s["topk"]], highlight=gold,
                                 title=f"{dict(_TF_MODES)[m]} · {i + 1}단계: 다음 토큰 확률"
                                       + (f" (정답 ‘{gold}’)" if gold is not None else ""))
            ax.figure.tight_layout()
            display(ax.figure)  # plt.show(fig) fails outside the inline backend
            plt.close(ax.figure)

    def new_mode(_):
        busy[0] = True
        try:  # keep the step where the other mode has it, else its last
            n = len(d["modes"][mode.value])
            step.value = min(step.value, n)
            step.max = n
        finally:
            busy[0] = False
        redraw()

    mode.observe(new_mode, names="value")
    step.observe(redraw, names="value")
    prev.on_click(lambda _: setattr(step, "value", max(step.min, step.value - 1)))
    nxt.on_click(lambda _: setattr(step, "value", min(step.max, step.value + 1)))
    redraw()
    show(W.VBox([mode, W.HBox([prev, step, nxt]), panel, out]), static)
