"""Plots for the book, with Hangul that renders everywhere (Colab, Jupyter, the static book).

Importing this module registers a NanumGothic font with matplotlib and makes it the
default family, so every later plot shows Hangul instead of empty boxes. The font
file comes from the `koreanize-matplotlib` wheel (read as a file: importing that
package fails on Python 3.12, which removed distutils) or from the system
(`fonts-nanum` on Debian/Ubuntu).

In IPython it also changes how a figure is saved into the notebook (`figure_png`): a 2x PNG
(sharp on phones and HiDPI screens, shown at its 1x size), reduced to a 256-colour palette so
that it weighs little more than a 1x one, with a report of the data each Axes draws in the
output's metadata (`figure_report`), which tests/test_figures.py checks in every chapter.
"""

from __future__ import annotations

import importlib.util
import math
import numbers
from pathlib import Path
from typing import Iterable, Sequence

import matplotlib
import matplotlib.pyplot as plt
from matplotlib import font_manager

from .base import as_str_list

_SYSTEM_FONT_DIRS = (
    "/usr/share/fonts/truetype/nanum",
    "/usr/share/fonts/nanum",
    "/Library/Fonts",
    str(Path.home() / ".local/share/fonts"),
)


def korean_font_path() -> Path | None:
    """Return the path of a NanumGothic .ttf file, or None if none is installed."""
    spec = importlib.util.find_spec("koreanize_matplotlib")  # finds the package without importing it
    dirs = [Path(p) / "fonts" for p in (spec.submodule_search_locations or [])] if spec else []
    dirs += [Path(d) for d in _SYSTEM_FONT_DIRS]
    for d in dirs:
        f = d / "NanumGothic.ttf"
        if f.is_file():
            return f
    return None


def setup_korean_font() -> str:
    """Register NanumGothic with matplotlib, make it the default family and return its name."""
    path = korean_font_path()
    if path is None:
        raise RuntimeError(
            "No Korean font found for matplotlib. Install one of:\n"
            "  pip install koreanize-matplotlib   (ships NanumGothic; lmlib reads its font file)\n"
            "  sudo apt-get install fonts-nanum"
        )
    for weight in sorted(path.parent.glob("NanumGothic*.ttf")):  # bold etc.: no "findfont" fallback warnings
        font_manager.fontManager.addfont(str(weight))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = name
    matplotlib.rcParams["axes.unicode_minus"] = False  # NanumGothic has no U+2212 minus glyph
    return name


FONT_NAME = setup_korean_font()


def figure_report(fig) -> list[dict]:
    """Per visible Axes of `fig`: its title and how many finite data items it draws.

    Data items: points of lines, bars with a finite non-zero size, finite offsets or values of
    collections (scatter, heatmap meshes, colour bars) and finite pixels of images. An Axes
    with its axis lines off is a diagram: its texts and arrows count too. A bar chart of NaN
    (a pandas index that did not align) or an empty Axes reports 0.
    """
    import numpy as np
    from matplotlib.patches import Rectangle

    def values(a):
        return np.ma.filled(np.ma.asarray(a, dtype=float), np.nan) if a is not None else np.empty(0)

    def finite(a) -> int:  # finite values (image pixels, mesh cells)
        return int(np.isfinite(values(a)).sum())

    def finite_points(xy) -> int:  # (n, 2) points with both coordinates finite
        xy = values(xy).reshape(-1, 2) if np.size(xy) else np.empty((0, 2))
        return int(np.isfinite(xy).all(axis=1).sum())

    _check_fig(fig)
    report = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        n = sum(finite_points(line.get_xydata()) for line in ax.lines)
        for patch in ax.patches:
            if isinstance(patch, Rectangle):
                w, h = patch.get_width(), patch.get_height()
                n += int(bool(np.isfinite(w) and np.isfinite(h) and w != 0 and h != 0))
            else:
                n += 1
        for coll in ax.collections:
            data = coll.get_array()
            n += finite(data) if data is not None and np.size(data) else finite_points(coll.get_offsets())
        n += sum(finite(im.get_array()) for im in ax.images)
        if not ax.axison:  # a diagram (e.g. direction_diagram): its texts are its content
            n += len(ax.texts) + len(ax.artists)
        report.append({"title": ax.get_title() or ax.get_ylabel() or ax.get_xlabel(), "items": n})
    return report


def _check_fig(fig) -> None:
    from matplotlib.figure import FigureBase

    if not isinstance(fig, FigureBase):
        raise TypeError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")


def _check_ax(ax) -> None:
    """ax=None makes a new figure; anything else must be a matplotlib Axes."""
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax: expected a matplotlib Axes or None (a new figure), got {type(ax).__name__}")


def _real(x, name: str) -> float:
    """A number (numpy and 0-d torch values too), as a float; bool and str are refused."""
    if isinstance(x, bool) or isinstance(x, (str, bytes)) or not (
            isinstance(x, numbers.Real) or hasattr(x, "__float__")):
        raise TypeError(f"{name}: expected a number, got {type(x).__name__} {x!r}")
    return float(x)


def figure_png(fig):
    """`fig` as (base64 2x PNG, metadata): shown at 1x size, with `figure_report` in the metadata."""
    import base64
    import io

    from IPython.core.pylabtools import print_figure
    from PIL import Image

    _check_fig(fig)
    if not fig.axes and not fig.texts:
        return None  # nothing to show (IPython shows no image for an empty figure either)
    report = figure_report(fig)
    png = print_figure(fig, fmt="retina")  # 2x dpi, tight bounding box, the figure's facecolour
    img = Image.open(io.BytesIO(png))
    width, height = img.size
    buf = io.BytesIO()
    # 256 colours: anti-aliased lines and text stay smooth, the file is about a third the size
    img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) \
        .save(buf, format="png", optimize=True)
    meta = {"width": width // 2, "height": height // 2, "lmcb_figure": report}
    return base64.b64encode(buf.getvalue()).decode("ascii"), meta


def _use_figure_png() -> None:
    """Make IPython save every matplotlib figure with `figure_png` (no-op outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None or not hasattr(ip, "display_formatter"):
        return
    from matplotlib.figure import Figure

    if "inline" in matplotlib.get_backend():
        # matplotlib_inline registers its own PNG formatter when pyplot first loads it, i.e.
        # at the first figure; importing it now runs that registration first, ours after it.
        import matplotlib_inline.backend_inline  # noqa: F401
    ip.display_formatter.formatters["image/png"].for_type(Figure, figure_png)


_use_figure_png()


def bar_ranking(
    items: Sequence[tuple[str, float]],
    title: str = "",
    xlabel: str = "확률",
    highlight: str | None = None,
    ax=None,
):
    """Horizontal bar chart of (label, value) pairs, best at the top; returns the Axes."""
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise TypeError(f"items: expected a list of (label, value) pairs, got {type(items).__name__}")
    items = list(items)
    if not items:
        raise ValueError("items: expected at least one (label, value) pair, got none")
    for i, item in enumerate(items):
        if isinstance(item, (str, bytes)) or not isinstance(item, Sequence) or len(item) != 2:
            raise TypeError(f"items[{i}]: expected a (label, value) pair, got {item!r}")
    _check_ax(ax)
    labels = [str(lab) for lab, _ in items]
    values = [_real(v, f"items[{i}] value") for i, (_, v) in enumerate(items)]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"items: every value must be finite, got {values}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.45 * len(items) + 1.0))
    colors = ["#d95f02" if lab == highlight else "#4c72b0" for lab in labels]
    ax.barh(range(len(items))[::-1], values, color=colors)
    ax.set_yticks(range(len(items))[::-1], labels)
    for y, v in zip(range(len(items))[::-1], values):
        ax.text(v, y, f" {v:.3g}", va="center", fontsize=9)
    ax.set_xlabel(xlabel)
    # Probabilities (>= 0) grow to the right from 0; log-scores (<= 0) to the left of 0.
    lo, hi = min(0.0, min(values)), max(0.0, max(values))
    ax.set_xlim(lo * 1.25, hi * 1.25 if hi > 0 else (0 if lo < 0 else 1))
    if title:
        ax.set_title(title)
    return ax


def chain_rule_plot(words: Sequence[str], contexts: Sequence[str], probs: Sequence[float], title: str = "", ax=None):
    """Draw each chain-rule factor P(w_i | context) as a bar, in the order it is computed; returns the Axes."""
    words, contexts = as_str_list(words, "words"), as_str_list(contexts, "contexts", allow_empty=True)
    if isinstance(probs, (str, bytes)) or not isinstance(probs, Iterable):
        raise TypeError(f"probs: expected a list of probabilities, got {type(probs).__name__}")
    probs = [_real(p, f"probs[{i}]") for i, p in enumerate(probs)]
    for i, p in enumerate(probs):
        if not 0 <= p <= 1:  # NaN fails this too
            raise ValueError(f"probs[{i}]: expected a probability in [0, 1], got {p!r}")
    _check_ax(ax)
    if not (len(words) == len(contexts) == len(probs)):
        raise ValueError(
            f"words, contexts, probs: expected equal lengths, got {len(words)}, {len(contexts)}, {len(probs)}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6, 1.3 * len(words)), 3.2))
    x = range(len(words))
    ax.bar(x, probs, color="#4c72b0")
    ax.set_xticks(list(x), [f"{i + 1}. {w}\n| {c}" for i, (w, c) in enumerate(zip(words, contexts))], fontsize=8)
    for i, p in enumerate(probs):
        ax.text(i, p, f"{p:.3f}", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("P(단어 | 문맥)")
    ax.set_ylim(0, 1.1)
    if title:
        ax.set_title(title)
    return ax


def heatmap(matrix, row_labels: Sequence[str], col_labels: Sequence[str], title: str = "", fmt: str = ".2f", ax=None, cmap="viridis"):
    """Annotated heatmap of a 2-D array with Hangul tick labels; returns the Axes."""
    import numpy as np

    if matrix is None or isinstance(matrix, (str, bytes)):
        raise TypeError(f"matrix: expected a 2-D array of numbers, got {type(matrix).__name__}")
    try:
        m = np.asarray(matrix, dtype=float)
    except ValueError as err:  # ragged rows, or items that are not numbers
        raw = np.asarray(matrix, dtype=object)
        if raw.dtype == object and any(isinstance(v, (str, bytes)) for v in raw.ravel()):
            raise TypeError(f"matrix: expected numbers, got {matrix!r:.60}") from None
        raise ValueError(f"matrix: expected a 2-D array of numbers with rows of one length ({err})") from None
    except TypeError:
        raise TypeError(f"matrix: expected a 2-D array of numbers, got {type(matrix).__name__}") from None
    row_labels = as_str_list(row_labels, "row_labels", allow_empty=True)
    col_labels = as_str_list(col_labels, "col_labels", allow_empty=True)
    if not isinstance(fmt, str):
        raise TypeError(f"fmt: expected a format spec str such as '.2f', got {type(fmt).__name__}")
    try:
        format(0.5, fmt)
    except ValueError:
        raise ValueError(f"fmt: expected a format spec for numbers such as '.2f', got {fmt!r}") from None
    _check_ax(ax)
    if m.ndim != 2 or m.shape != (len(row_labels), len(col_labels)):
        raise ValueError(
            f"matrix: expected shape ({len(row_labels)}, {len(col_labels)}) to match the labels, got {m.shape}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(0.8 * len(col_labels) + 2, 0.6 * len(row_labels) + 1.5))
    im = ax.imshow(m, cmap=cmap)
    ax.set_xticks(range(len(col_labels)), col_labels, rotation=45, ha="right")
    ax.set_yticks(range(len(row_labels)), row_labels)
    hi = np.nanmax(m) if m.size else 0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, format(m[i, j], fmt), ha="center", va="center", fontsize=8,
                    color="black" if m[i, j] > 0.6 * hi else "white")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title)
    return ax


def direction_diagram(tokens: Sequence[str], ax=None):
    """Draw the order in which a forward and a backward LM read a sentence (L8); returns the Axes."""
    tokens = as_str_list(tokens, "tokens", allow_empty=True)
    if len(tokens) < 2:
        raise ValueError(f"tokens: expected at least two tokens to show a reading order, got {len(tokens)}")
    _check_ax(ax)
    n = len(tokens)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.4 * n + 1.5, 2.6))
    for row, (name, order, color) in enumerate((("순방향", range(n), "#4c72b0"),
                                                ("역방향", range(n - 1, -1, -1), "#d95f02"))):
        y = 1 - row
        ax.text(-0.9, y, name, ha="right", va="center", fontsize=11, color=color, fontweight="bold")
        for step, i in enumerate(order):
            ax.text(i, y, tokens[i], ha="center", va="center", fontsize=11,
                    bbox=dict(boxstyle="round,pad=0.3", fc="white", ec=color))
            ax.text(i, y - 0.32, f"{step + 1}번째", ha="center", va="center", fontsize=8, color=color)
        seq = list(order)
        for a, b in zip(seq, seq[1:]):
            ax.annotate("", xy=(b + (-0.38 if b > a else 0.38), y), xytext=(a + (0.38 if b > a else -0.38), y),
                        arrowprops=dict(arrowstyle="->", color=color))
    ax.set_xlim(-1.8, n - 0.4)
    ax.set_ylim(-0.6, 1.5)
    ax.axis("off")
    return ax


def set_log_scale(ax, axis: str = "x"):
    """Log-scale an axis with plain tick labels (0.001, 0.01, ...).

    Matplotlib's default log ticks are mathtext ("10^{-3}") whose minus sign NanumGothic
    lacks; plain labels avoid the missing-glyph warning and read better here.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if axis not in ("x", "y"):
        raise ValueError(f"axis: expected 'x' or 'y', got {axis!r}")
    if ax is None:
        raise TypeError("ax: expected a matplotlib Axes, got None")
    _check_ax(ax)
    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target.set_major_locator(LogLocator(base=10))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())
    return ax
