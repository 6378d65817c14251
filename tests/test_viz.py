"""Tests for lmlib.viz: Hangul renders with no missing glyph, the plots show what they are given."""

import logging
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from lmlib import viz  # noqa: E402

HANGUL = ["나는", "어제", "카페에", "갔었어", "정말로", "많았다"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def draw_without_missing_glyphs(ax):
    """Render the figure with every warning turned into an error (a missing glyph warns).

    Mathtext (e.g. log-axis labels 10^{-3}) reports a missing glyph through matplotlib's
    logger instead of a warning, so that is checked too.
    """
    records = _Records()
    logger = logging.getLogger("matplotlib")
    logger.addHandler(records)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ax.figure.canvas.draw()
    finally:
        logger.removeHandler(records)
    glyphs = [m for m in records.messages if "glyph" in m.lower()]
    assert not glyphs, glyphs


def test_import_makes_nanum_gothic_the_default_font():
    assert viz.FONT_NAME == "NanumGothic"
    assert matplotlib.rcParams["font.family"] == [viz.FONT_NAME]
    assert matplotlib.rcParams["axes.unicode_minus"] is False  # NanumGothic has no U+2212
    # the family resolves to the registered Nanum file, not to a fallback font
    found = Path(font_manager.findfont(font_manager.FontProperties(family=viz.FONT_NAME), fallback_to_default=False))
    assert found.name.startswith("NanumGothic")


def test_korean_font_path_is_an_existing_ttf():
    path = viz.korean_font_path()
    assert isinstance(path, Path) and path.is_file() and path.suffix == ".ttf"
    assert font_manager.FontProperties(fname=str(path)).get_name() == viz.FONT_NAME


def test_missing_glyph_check_can_fail():
    # the check used below does catch Hangul drawn with a font that lacks it
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        _, ax = plt.subplots()
        ax.set_title("한국어")
        with pytest.raises(UserWarning, match="missing from font"):
            draw_without_missing_glyphs(ax)


def test_bar_ranking_hangul_best_on_top():
    items = [("카페에", 0.5), ("학교에", 0.3), ("집에", 0.2)]
    ax = viz.bar_ranking(items, title="P(다음 단어 | 어제)", highlight="학교에")
    draw_without_missing_glyphs(ax)
    ticks = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    assert sorted(ticks, key=ticks.get, reverse=True) == ["카페에", "학교에", "집에"]
    widths = {ticks[lab]: v for lab, v in items}
    assert sorted((p.get_y() + p.get_height() / 2, p.get_width()) for p in ax.patches) == \
        sorted(widths.items())
    colors = [matplotlib.colors.to_hex(p.get_facecolor()) for p in sorted(ax.patches, key=lambda p: -p.get_y())]
    assert colors[1] != colors[0] == colors[2]  # only the highlighted word stands out
    assert ax.get_xlabel() == "확률" and ax.get_title() == "P(다음 단어 | 어제)"


def test_bar_ranking_draws_on_a_given_axes():
    _, ax = plt.subplots()
    assert viz.bar_ranking([("나는", 1.0)], ax=ax) is ax
    assert len(ax.patches) == 1


def test_bar_ranking_needs_items():
    with pytest.raises(ValueError, match="items"):
        viz.bar_ranking([])


def test_chain_rule_plot_hangul():
    words, contexts, probs = HANGUL[:3], ["<s>", "나는", "어제"], [0.6, 0.25, 0.5]
    ax = viz.chain_rule_plot(words, contexts, probs, title="연쇄 법칙")
    draw_without_missing_glyphs(ax)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["1. 나는\n| <s>", "2. 어제\n| 나는", "3. 카페에\n| 어제"]
    assert [p.get_height() for p in ax.patches] == probs  # in the order they are computed
    assert ax.get_ylabel() == "P(단어 | 문맥)"


def test_chain_rule_plot_needs_equal_lengths():
    with pytest.raises(ValueError, match="words, contexts, probs"):
        viz.chain_rule_plot(HANGUL[:3], ["<s>", "나는"], [0.5, 0.5, 0.5])


def test_heatmap_hangul_and_negative_numbers():
    m = np.array([[0.1, -0.5, 0.9], [0.4, 0.0, -0.2]])  # negative: the colorbar ticks need a minus sign
    ax = viz.heatmap(m, HANGUL[:2], HANGUL[2:5], title="주의 가중치")
    draw_without_missing_glyphs(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == HANGUL[2:5]
    assert [t.get_text() for t in ax.get_yticklabels()] == HANGUL[:2]
    cells = sorted(t.get_text() for t in ax.texts)
    assert cells == sorted(format(v, ".2f") for v in m.ravel())
    np.testing.assert_array_equal(ax.images[0].get_array(), m)


@pytest.mark.parametrize("matrix", [np.zeros((3, 3)), np.zeros((2, 3, 1)), np.zeros(6), np.zeros((3, 2))])
def test_heatmap_shape_must_match_labels(matrix):
    with pytest.raises(ValueError, match="matrix"):
        viz.heatmap(matrix, HANGUL[:2], HANGUL[2:5])


def test_direction_diagram_hangul():
    ax = viz.direction_diagram(HANGUL[:3])
    draw_without_missing_glyphs(ax)
    texts = [t.get_text() for t in ax.texts]
    assert {"순방향", "역방향"} <= set(texts)
    assert texts.count("카페에") == 2  # once in each reading order


def test_direction_diagram_needs_two_tokens():
    with pytest.raises(ValueError, match="tokens"):
        viz.direction_diagram(["나는"])


def test_set_log_scale_plain_labels_without_missing_glyphs():
    items = [("카페에", 0.5), ("학교에", 0.01), ("집에", 0.0005)]
    ax = viz.set_log_scale(viz.bar_ranking(items), "x")
    ax.set_xlim(1e-4, 1)
    draw_without_missing_glyphs(ax)
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert {"0.0001", "0.001", "0.01", "0.1", "1"} <= set(labels)
    assert not any("$" in lab for lab in labels)  # plain text, no mathtext
    _, ax = plt.subplots()
    ax.bar(["가", "나"], [0.5, 0.001])
    assert viz.set_log_scale(ax, "y") is ax and ax.get_yscale() == "log"
    draw_without_missing_glyphs(ax)


def test_default_log_labels_do_miss_a_glyph():
    # why set_log_scale exists, and proof that the logger check above can fail
    _, ax = plt.subplots()
    ax.bar(["가", "나"], [0.5, 0.001])
    ax.set_yscale("log")
    with pytest.raises(AssertionError, match="U\\+2212"):
        draw_without_missing_glyphs(ax)


def test_set_log_scale_checks_axis():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="axis"):
        viz.set_log_scale(ax, "z")


def test_bar_ranking_draws_log_scores_left_of_zero():
    import matplotlib.pyplot as plt

    from lmlib import viz

    ax = viz.bar_ranking([("카페", -1.2), ("학교", -3.5)], xlabel="log P")
    lo, hi = ax.get_xlim()
    assert lo < -3.5 and hi == 0  # both bars inside the axes, not an empty figure
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="finite"):
        viz.bar_ranking([("카페", float("-inf"))])
