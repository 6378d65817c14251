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


# --- the teacher-forcing stepper ---------------------------------------------------------

import math  # noqa: E402

from lmlib.widgets import teacher_forcing_html  # noqa: E402

# "어제 카페 갔었어 거기 사람 많더라" -> "I went to the cafe there were many people there", by hand.
# Inference mode goes wrong early: "go" at step 2, fed back as the next input.
TF_SRC = ["어제", "카페", "갔었어", "거기", "사람", "많더라"]
TF_GOLD = ["I", "went", "to", "the", "cafe", "there", "were", "many", "people", "there", "</s>"]
TF_TOPK = [
    [("I", 0.62), ("We", 0.21), ("Yesterday", 0.09), ("There", 0.05)],
    [("go", 0.45), ("went", 0.38), ("was", 0.1), ("have", 0.05)],
    [("to", 0.81), ("there", 0.1), ("home", 0.05), (".", 0.02)],
    [("a", 0.48), ("the", 0.4), ("cafe", 0.07), ("school", 0.03)],
    [("cafe", 0.7), ("coffee", 0.15), ("store", 0.1), ("place", 0.03)],
]
TF_FREE_TOPK = TF_TOPK[:2] + [
    [("to", 0.7), ("there", 0.15), ("home", 0.1), (".", 0.03)],
    [("the", 0.5), ("a", 0.3), ("school", 0.1), ("cafe", 0.05)],
    [("</s>", 0.7), ("I", 0.1), ("It", 0.1), ("There", 0.05)],  # the gold "cafe" is not in the top 4
]


def tf_steps(free):
    steps, inputs = [], ["<s>"]
    for t, topk in enumerate(TF_FREE_TOPK if free else TF_TOPK):
        p = dict(topk).get(TF_GOLD[t], 0.002)
        steps.append({"step": t + 1, "decoder_input": list(inputs), "gold": TF_GOLD[t], "topk": topk,
                      "loss": -math.log(p), "gold_prob": p})
        inputs.append(topk[0][0] if free else TF_GOLD[t])
    return steps


def stepper(page):
    """What the stepper shows now."""
    return page.evaluate("""() => {
      const r = document.querySelector('.lmcb-teacherforcing'), q = s => r.querySelector(s);
      const all = s => Array.from(r.querySelectorAll(s));
      const shown = e => e.offsetParent !== null;
      return {
        step: q('.lmcb-tf-step').textContent,
        mode: all('.lmcb-tf-modes button.lmcb-tf-on').map(b => b.textContent),
        src: all('.lmcb-tf-src .lmcb-tf-chip').map(c => c.textContent),
        dec: all('.lmcb-tf-dec .lmcb-tf-chip').map(c => c.textContent),
        wrong: all('.lmcb-tf-dec .lmcb-tf-chip').map(c => c.classList.contains('lmcb-tf-wrong')),
        wrongColor: all('.lmcb-tf-dec .lmcb-tf-wrong').map(c => getComputedStyle(c).borderTopColor),
        ref: shown(q('.lmcb-tf-refrow')) ? all('.lmcb-tf-ref .lmcb-tf-chip').map(c => c.textContent) : null,
        gold: q('.lmcb-tf-gold').textContent,
        pred: q('.lmcb-tf-pred').textContent,
        bars: all('.lmcb-tf-brow').map(b => [b.querySelector('.lmcb-tf-bword').textContent,
          parseFloat(b.querySelector('.lmcb-tf-bp').textContent),
          b.querySelector('.lmcb-tf-bbar').getBoundingClientRect().width,
          b.classList.contains('lmcb-tf-gold'),
          getComputedStyle(b.querySelector('.lmcb-tf-bbar')).backgroundColor]),
        absent: shown(q('.lmcb-tf-absent')) ? q('.lmcb-tf-absent').textContent : null,
        loss: q('.lmcb-tf-loss').textContent,
        mean: q('.lmcb-tf-mean').textContent,
        prevDisabled: q('.lmcb-tf-prev').disabled,
        nextDisabled: q('.lmcb-tf-next').disabled,
      };
    }""")


def assert_step_shows(s, step, free):
    """The bars, the gold highlight and the losses of `step` (a step dict) as drawn."""
    assert [w for w, _, _, _, _ in s["bars"]] == [w for w, _ in step["topk"]]
    assert [p for _, p, _, _, _ in s["bars"]] == pytest.approx([p for _, p in step["topk"]], abs=5e-4)
    widths = [px for _, _, px, _, _ in s["bars"]]
    assert widths[0] > 0 and [px / widths[0] for px in widths] == \
        pytest.approx([p / step["topk"][0][1] for _, p in step["topk"]], abs=0.01)
    gold_rows = [w for w, _, _, g, _ in s["bars"] if g]
    assert gold_rows == ([step["gold"]] if step["gold"] in dict(step["topk"]) else [])
    for w, _, _, g, color in s["bars"]:
        assert rgb(color) == ((217, 95, 2) if g else (76, 114, 176))  # orange gold, blue others
    assert s["gold"] == step["gold"]
    assert s["loss"] == f"−log {step['gold_prob']:.3f} = {step['loss']:.3f}"


def test_teacher_forcing_stepper_in_the_browser(browser_page, tmp_path):
    teacher, free = tf_steps(free=False), tf_steps(free=True)
    page = browser_page.open_html(teacher_forcing_html(TF_SRC, teacher, free, title="어제 카페"))
    page.wait_for_selector(".lmcb-tf-brow")

    # at load: step 1 of training mode
    s = stepper(page)
    assert s["step"] == "단계 1 / 5" and s["mode"] == ["교사 강요(학습)"]
    assert s["src"] == TF_SRC and s["dec"] == ["<s>"] and not any(s["wrong"])
    assert s["ref"] is None  # the comparison row is for inference mode only
    assert_step_shows(s, teacher[0], free=False)
    assert s["bars"][0][3]  # "I" is the top bar and the gold one
    assert s["pred"].startswith("I") and "✓ 정답" in s["pred"] and s["absent"] is None
    assert s["mean"] == f"{teacher[0]['loss']:.3f} (1단계)"
    assert s["prevDisabled"] and not s["nextDisabled"]

    page.click("button:has-text('다음 ▶')")
    page.click("button:has-text('다음 ▶')")
    s = stepper(page)
    assert s["step"] == "단계 3 / 5" and s["dec"] == ["<s>", "I", "went"]  # the gold prefix, not "go"
    assert_step_shows(s, teacher[2], free=False)
    mean3 = sum(st["loss"] for st in teacher[:3]) / 3
    assert s["mean"] == f"{mean3:.3f} (1–3단계)"
    assert not s["prevDisabled"]

    page.keyboard.press("ArrowLeft")
    s = stepper(page)
    assert s["step"] == "단계 2 / 5" and s["dec"] == ["<s>", "I"]
    assert_step_shows(s, teacher[1], free=False)
    assert [g for _, _, _, g, _ in s["bars"]] == [False, True, False, False]  # gold "went" is second
    assert "✗ 오답" in s["pred"] and "정답" in s["pred"]

    # inference mode, same step; one step on, the model's own "go" is the input, marked red
    page.click("button:has-text('자기 예측(추론)')")
    s = stepper(page)
    assert s["mode"] == ["자기 예측(추론)"] and s["step"] == "단계 2 / 5"
    assert s["dec"] == ["<s>", "I"] and not any(s["wrong"]) and s["ref"] == ["<s>", "I"]
    page.keyboard.press("ArrowRight")
    s = stepper(page)
    assert s["step"] == "단계 3 / 5"
    assert s["dec"] == ["<s>", "I", "go"] and s["wrong"] == [False, False, True]
    assert s["ref"] == ["<s>", "I", "went"]
    assert s["wrongColor"] == ["rgb(214, 39, 40)"]
    assert_step_shows(s, free[2], free=True)
    assert "다음 단계의 디코더 입력" in s["pred"]
    page.screenshot(path=str(tmp_path / "teacher_forcing_free.png"), full_page=True)

    # the last step: the gold token is not in the top k; no step beyond the end
    page.click("button:has-text('다음 ▶')")
    page.click("button:has-text('다음 ▶')")
    s = stepper(page)
    assert s["step"] == "단계 5 / 5" and s["nextDisabled"]
    assert s["dec"] == ["<s>", "I", "go", "to", "the"] and s["wrong"] == [False, False, True, False, False]
    assert s["absent"] == "정답이 상위 4개에 없음 (p(‘cafe’) = 0.002)"
    assert_step_shows(s, free[4], free=True)
    page.keyboard.press("ArrowRight")  # focus moved to the widget when ▶ was disabled: keys still work
    page.keyboard.press("End")
    assert stepper(page)["step"] == "단계 5 / 5"
    assert page.locator(".lmcb-tf-next").is_disabled()

    page.keyboard.press("Home")
    s = stepper(page)
    assert s["step"] == "단계 1 / 5" and s["prevDisabled"]
    page.keyboard.press("ArrowLeft")
    assert stepper(page)["step"] == "단계 1 / 5"

    page.click("button:has-text('교사 강요(학습)')")
    assert stepper(page)["mode"] == ["교사 강요(학습)"]
    shot = tmp_path / "teacher_forcing.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000


def test_teacher_forcing_modes_of_different_lengths(browser_page):
    teacher, free = tf_steps(free=False), tf_steps(free=True)[:3]
    page = browser_page.open_html(teacher_forcing_html(TF_SRC, teacher, free))
    page.wait_for_selector(".lmcb-tf-brow")
    page.locator(".lmcb-teacherforcing").focus()
    page.keyboard.press("End")
    assert stepper(page)["step"] == "단계 5 / 5"
    page.click("button:has-text('자기 예측(추론)')")  # a shorter list: its last step
    s = stepper(page)
    assert s["step"] == "단계 3 / 3" and s["nextDisabled"] and s["dec"] == ["<s>", "I", "go"]


def test_teacher_forcing_hostile_tokens_render_as_text(browser_page):
    hostile = ["</script><b id='pwned'>x</b>", "<!--<script>", "<img src=x onerror=window.pwned=1>"]
    step = {"step": 1, "decoder_input": ["<s>", hostile[0]], "gold": hostile[2],
            "topk": [(hostile[1], 0.5), (hostile[2], 0.3)], "loss": -math.log(0.3), "gold_prob": 0.3}
    page = browser_page.open_html(teacher_forcing_html(hostile, [step], [step], title=hostile[2]))
    page.wait_for_selector(".lmcb-tf-brow")
    s = stepper(page)
    assert s["src"] == hostile and s["dec"] == ["<s>", hostile[0]]
    assert [w for w, _, _, _, _ in s["bars"]] == hostile[1:] and s["gold"] == hostile[2]
    assert page.locator("#pwned").count() == 0 and page.locator("img").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert hostile[2] in page.text_content(".lmcb-tf-title")
