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
