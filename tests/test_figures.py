"""Every figure in every chapter draws data and is sharp enough for a phone.

lmlib.viz saves each matplotlib figure as a 2x PNG with a report of what each Axes draws
(`figure_report`) in the output's metadata. These tests read the stored outputs (nothing is
executed): an empty Axes or an all-NaN bar chart (chapter 5's pandas index bug) fails here.
"""

import base64
import io
import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lmlib import viz  # noqa: E402

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
def figures(path):
    """(cell number, png bytes, metadata) of every image output of the notebook at `path`."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                yield i, base64.b64decode(out["data"]["image/png"]), out.get("metadata", {}).get("image/png", {})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_draws_data_at_2x(path):
    found = list(figures(path))
    assert found, f"{path.name}: no figures (expected at least one plot per chapter)"
    for cell, png, meta in found:
        where = f"{path.name}, cell {cell}"
        assert "lmcb_figure" in meta, (
            f"{where}: no figure report: made without lmlib.viz imported, or not re-executed since")
        for ax in meta["lmcb_figure"]:
            assert ax["items"] > 0, f"{where}: the Axes {ax['title']!r} draws no data (empty or all NaN)"
        width, height = Image.open(io.BytesIO(png)).size
        # 2x pixels, shown at the 1x size given in the metadata
        assert abs(width - 2 * meta["width"]) <= 1 and abs(height - 2 * meta["height"]) <= 1, where


def test_report_catches_the_pandas_index_bug():
    probs = pd.Series([0.2, 0.5, 0.1])  # a RangeIndex, as DataFrame columns from steps
    words = ["I ", "went ", "to "]
    fig, ax = plt.subplots()
    pd.DataFrame({"p": probs}, index=words).plot.bar(ax=ax)  # aligned on the index: all NaN
    assert viz.figure_report(fig)[0]["items"] == 0
    fig, ax = plt.subplots()
    pd.DataFrame({"p": probs.to_numpy()}, index=words).plot.bar(ax=ax)
    assert viz.figure_report(fig)[0]["items"] == 3
    plt.close("all")


def test_report_counts_lines_images_and_diagrams():
    fig, (a, b, c, d) = plt.subplots(1, 4)
    a.plot([np.nan, np.nan])
    b.plot([1, np.nan, 3])
    c.imshow(np.array([[np.nan, 1.0], [2.0, 3.0]]))
    viz.direction_diagram(["나는", "갔다"], ax=d)
    items = [r["items"] for r in viz.figure_report(fig)]
    assert items[0] == 0 and items[1] == 2 and items[2] == 3 and items[3] > 0
    plt.close("all")


def test_figure_png_is_2x_with_the_report():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    data, meta = viz.figure_png(fig)
    width, height = Image.open(io.BytesIO(base64.b64decode(data))).size
    assert abs(width - 2 * meta["width"]) <= 1 and abs(height - 2 * meta["height"]) <= 1
    assert meta["width"] <= 4 * fig.dpi and meta["lmcb_figure"] == [{"title": "", "items": 2}]
    plt.close("all")
