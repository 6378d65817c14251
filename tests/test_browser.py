"""Browser tests for the static HTML views the published book shows (no kernel there).

Each test writes a view from lmlib.widgets into a file, opens it in headless Chromium
(the `browser_page` fixture in conftest.py) and checks what the page's own JavaScript drew.
"""

import pytest

from lmlib.ngram import NGramLM
from lmlib.widgets import next_word_html
from toy_corpus import TOY as TOY_BASE

TOY = TOY_BASE + [["카페에", "사람이", "없었다"], ["카페에", "갔다"]]  # bars of different lengths


def drawn_rows(page):
    """(word, probability text, bar width in px) for each bar row, top to bottom."""
    return page.eval_on_selector_all(
        ".lmcb-nextword .lmcb-row",
        """rows => rows.map(r => [r.querySelector('.lmcb-word').textContent,
                                  r.querySelector('.lmcb-p').textContent,
                                  r.querySelector('.lmcb-bar').getBoundingClientRect().width])""")


def assert_shows_ranking(rows, ranking):
    assert [w for w, _, _ in rows] == [w for w, _ in ranking]
    assert [float(p) for _, p, _ in rows] == pytest.approx([p for _, p in ranking], rel=5e-3)
    widths = [px for _, _, px in rows]
    assert widths[0] > 0
    assert widths == sorted(widths, reverse=True)  # bar length follows the probability
    assert [px / widths[0] for px in widths] == pytest.approx([p / ranking[0][1] for _, p in ranking], abs=0.01)


def test_next_word_explorer_in_the_browser(browser_page, tmp_path):
    lm = NGramLM(2).fit(TOY)
    top_k = 4
    contexts = ["나는", "카페에", "나는 오늘"]
    # the explorer shows only words seen after the context (MLE here: exactly those with p > 0)
    rankings = {c: [(w, p) for w, p in lm.rank(c.split(), top_k=top_k) if p > 0] for c in contexts}
    assert rankings["나는"][0][0] != rankings["카페에"][0][0]  # switching must show a change
    assert rankings["카페에"][0][1] > rankings["카페에"][1][1] > 0  # and bars of different lengths

    page = browser_page.open_html(next_word_html(lm, contexts, top_k=top_k))
    page.wait_for_selector(".lmcb-row")
    rows = drawn_rows(page)
    assert 1 <= len(rows) <= top_k
    assert rows[0][0] == lm.rank(["나는"], top_k=1)[0][0]  # the first context is shown at load
    assert_shows_ranking(rows, rankings["나는"])

    page.select_option(".lmcb-nextword select", value="카페에")
    rows = drawn_rows(page)
    assert len(rows) <= top_k
    assert_shows_ranking(rows, rankings["카페에"])
    # the select shows every context, with the blank after it
    assert page.eval_on_selector_all("option", "os => os.map(o => o.textContent)") == \
        [f"{c} ___" for c in contexts]

    shot = tmp_path / "next_word.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000


def test_hostile_tokens_render_as_text(browser_page):
    # tokens that would end or hide the script tag if the JSON were pasted in unescaped
    hostile = ["</script><b id='pwned'>x</b>", "<!--<script>", "<img src=x onerror=window.pwned=1>"]
    lm = NGramLM(2).fit([["나는", t] for t in hostile] + [["나는", hostile[0]]])
    page = browser_page.open_html(next_word_html(lm, ["나는", hostile[1]], top_k=3))
    page.wait_for_selector(".lmcb-row")
    words = [w for w, _, _ in drawn_rows(page)]
    assert words == [w for w, _ in lm.rank(["나는"], top_k=3)]
    assert set(hostile) <= set(words)
    assert page.locator("#pwned").count() == 0 and page.locator("img").count() == 0
    assert page.evaluate("window.pwned === undefined")
    page.select_option("select", value=hostile[1])  # a hostile context is still a working option
    assert [w for w, _, _ in drawn_rows(page)] == [w for w, p in lm.rank([hostile[1]], top_k=3) if p > 0]


# --- the attention explorer --------------------------------------------------------------

import re  # noqa: E402

import numpy as np  # noqa: E402

from lmlib.widgets import attention_html  # noqa: E402

SENTS = [["나는", "어제", "카페에", "갔다", "."], ["오늘", "학교에", "갔다"]]  # B=2, padded to T=S=5


def softmax_weights(shape, seed=0, sharp=2.0):
    x = np.random.default_rng(seed).normal(size=shape) * sharp
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def grid(page):
    """What the heatmap shows: column and row labels, and per cell (data-w, text, title, rgb)."""
    return page.evaluate("""() => {
      const g = document.querySelector('.lmcb-attention .lmcb-att-grid');
      const all = (root, sel) => Array.from(root.querySelectorAll(sel));
      return {
        cols: all(g, 'th.lmcb-att-k').map(e => e.textContent),
        rows: all(g, 'th.lmcb-att-q').map(e => e.textContent),
        cells: all(g, 'tr.lmcb-att-row').map(tr => all(tr, 'td').map(td =>
          [td.getAttribute('data-w'), td.textContent, td.title, getComputedStyle(td).backgroundColor])),
        selected: all(g, 'tr.lmcb-att-sel').map(tr => +tr.getAttribute('data-q')),
        big: g.classList.contains('lmcb-att-big'),
      };
    }""")


def bars(page):
    """The bar list: its title and (word, weight text, bar width in px) per row, top to bottom."""
    title = page.text_content(".lmcb-att-bars-title")
    rows = page.eval_on_selector_all(
        ".lmcb-att-brow",
        """rows => rows.map(r => [r.querySelector('.lmcb-att-bword').textContent,
                                  r.querySelector('.lmcb-att-bp').textContent,
                                  r.querySelector('.lmcb-att-bbar').getBoundingClientRect().width])""")
    return title, rows


def weights(g):
    return np.array([[float(w) for w, _, _, _ in row] for row in g["cells"]])


def assert_grid_shows(g, want, digits=3):
    got = weights(g)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=0.5 * 10 ** -digits + 1e-9)
    shown = np.array([[float(text) for _, text, _, _ in row] for row in g["cells"]])
    # the numbers in the cells: two decimals of the embedded ones (rounded twice)
    np.testing.assert_allclose(shown, want, atol=0.005 + 0.5 * 10 ** -digits + 1e-9)


def assert_bars_show(page, query, keys, row):
    title, rows = bars(page)
    assert f"‘{query}’" in title and "보는 곳" in title
    order = sorted(range(len(keys)), key=lambda j: (-round(row[j], 3), j))
    assert [w for w, _, _ in rows] == [keys[j] for j in order]
    values = [float(p) for _, p, _ in rows]
    assert values == sorted(values, reverse=True)
    np.testing.assert_allclose(values, [row[j] for j in order], atol=5e-4 + 1e-9)
    assert rows[0][0] == keys[int(np.argmax(row))]  # the right top token
    widths = [px for _, _, px in rows]
    assert widths[0] > 0 and widths == sorted(widths, reverse=True)


def rgb(css):
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


def test_attention_explorer_in_the_browser(browser_page, tmp_path):
    layers = [softmax_weights((2, 4, 5, 5), seed=i) for i in range(3)]
    page = browser_page.open_html(attention_html(SENTS, layers))
    page.wait_for_selector(".lmcb-att-row")

    # at load: sentence 1, layer 1, head 1, query 1
    g = grid(page)
    assert sum(len(r) for r in g["cells"]) == 5 * 5
    assert g["cols"] == g["rows"] == SENTS[0] and not g["big"]
    want = layers[0][0, 0]
    assert_grid_shows(g, want)
    assert g["cells"][0][2][2] == f"나는 → 카페에: {want[0, 2]:.3f}"
    # colour follows the weight: viridis's green channel grows with it; the largest cell is yellow
    flat = [(float(w), rgb(c)) for row in g["cells"] for w, _, _, c in row]
    greens = [c[1] for _, c in sorted(flat, key=lambda wc: wc[0])]
    assert greens == sorted(greens)
    assert max(flat)[1] == (253, 231, 37)
    assert page.text_content(".lmcb-att-max") == f"{want.max():.3f}"  # the legend's top
    assert g["selected"] == [0]
    assert_bars_show(page, "나는", SENTS[0], want[0])
    assert "‘나는’이 보는 곳" in bars(page)[0]  # with the right particle

    # another layer and head: the numbers follow
    page.select_option(".lmcb-att-layer", value="2")
    page.select_option(".lmcb-att-head", value="3")
    g = grid(page)
    assert_grid_shows(g, layers[2][0, 3])
    assert not np.allclose(weights(g), want, atol=0.01)
    assert_bars_show(page, "나는", SENTS[0], layers[2][0, 3, 0])
    page.select_option(".lmcb-att-head", value="mean")
    assert_grid_shows(grid(page), layers[2][0].mean(0), digits=2)  # the mean of rounded weights

    # click a query row: it is outlined, and the bars show that row, sorted
    page.select_option(".lmcb-att-head", value="1")
    page.locator(".lmcb-att-row").nth(3).locator("td").nth(1).click()
    assert grid(page)["selected"] == [3]
    assert page.input_value(".lmcb-att-query") == "3"
    assert_bars_show(page, "갔다", SENTS[0], layers[2][0, 1, 3])
    page.locator("th.lmcb-att-q").nth(2).click()  # the row label works too
    assert_bars_show(page, "카페에", SENTS[0], layers[2][0, 1, 2])
    page.select_option(".lmcb-att-query", value="4")  # and the query select
    assert grid(page)["selected"] == [4]
    assert_bars_show(page, ".", SENTS[0], layers[2][0, 1, 4])

    # another sentence: its own (shorter) tokens on both axes and in the query select
    page.select_option(".lmcb-att-sentence", value="1")
    g = grid(page)
    assert g["cols"] == g["rows"] == SENTS[1]
    assert sum(len(r) for r in g["cells"]) == 3 * 3
    assert_grid_shows(g, layers[2][1, 1, :3, :3])  # layer and head stay as chosen
    assert page.eval_on_selector_all(".lmcb-att-query option", "os => os.map(o => o.textContent)") == \
        ["1. 오늘", "2. 학교에", "3. 갔다"]
    assert g["selected"] == [0]
    assert_bars_show(page, "오늘", SENTS[1], layers[2][1, 1, 0, :3])

    shot = tmp_path / "attention.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000


def test_attention_explorer_cross_attention_in_the_browser(browser_page):
    src, tgt = ["나는", "학생", "이다"], ["I", "am", "a", "student"]
    w = softmax_weights((1, 2, 4, 3), seed=3)
    page = browser_page.open_html(attention_html(src, [w], query_tokens=tgt))
    page.wait_for_selector(".lmcb-att-row")
    g = grid(page)
    assert (g["rows"], g["cols"]) == (tgt, src)
    assert_grid_shows(g, w[0, 0])
    page.locator(".lmcb-att-row").nth(3).click()
    assert_bars_show(page, "student", src, w[0, 0, 3])
    assert "‘student’이(가) 보는 곳" in bars(page)[0]


def test_attention_explorer_big_matrix(browser_page, tmp_path):
    toks = [f"토큰{i}" for i in range(25)]
    w = softmax_weights((1, 1, 25, 25), seed=4)
    page = browser_page.open_html(attention_html(toks, [w]))
    page.wait_for_selector(".lmcb-att-row")
    g = grid(page)
    assert g["big"] and sum(len(r) for r in g["cells"]) == 25 * 25
    assert all(text == "" for row in g["cells"] for _, text, _, _ in row)  # colours only, no numbers
    np.testing.assert_allclose(weights(g), w[0, 0], atol=5e-4 + 1e-9)  # still in data-w and the titles
    _, rows = bars(page)
    assert len(rows) == 20
    assert page.text_content(".lmcb-att-more") == "… 나머지 5개는 생략"
    page.screenshot(path=str(tmp_path / "attention_big.png"), full_page=True)


def test_attention_hostile_tokens_render_as_text(browser_page):
    hostile = ["</script><b id='pwned'>x</b>", "<!--<script>", "<img src=x onerror=window.pwned=1>"]
    w = softmax_weights((1, 1, 3, 3), seed=5)
    page = browser_page.open_html(attention_html(hostile, [w], sentence_labels=[hostile[2]]))
    page.wait_for_selector(".lmcb-att-row")
    g = grid(page)
    assert g["cols"] == g["rows"] == hostile
    assert page.locator("#pwned").count() == 0 and page.locator("img").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert page.eval_on_selector_all(".lmcb-att-sentence option", "os => os.map(o => o.textContent)") == [hostile[2]]
    page.locator(".lmcb-att-row").nth(1).click()
    assert_bars_show(page, hostile[1], hostile, w[0, 0, 1])
