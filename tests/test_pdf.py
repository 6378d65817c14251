"""The book's PDF (`make pdf` = scripts/build_pdf.py: Jupyter Book's LaTeX builder + xelatex).

The PDF's tests run when _build/pdf/lm-coursebook.pdf exists (`make test-pdf` builds it
first) and skip otherwise, as tests/test_book.py does without _build/html; the last tests
(the build's generated config and its DataFrame tables) need no PDF and always run. Reads the text with poppler's
pdftotext (apt: poppler-utils) and the LaTeX log kept next to the PDF.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PDF = ROOT / "_build" / "pdf" / "lm-coursebook.pdf"
LOG = PDF.with_suffix(".log")

_TOOLS = ("pdftotext", "pdfinfo", "pdffonts", "pdfimages")
needs_pdf = pytest.mark.skipif(
    not PDF.is_file() or not all(shutil.which(tool) for tool in _TOOLS),
    reason="the PDF is not built (`make test-pdf` builds it and runs these tests) "
           "or poppler-utils is missing")

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# What text extraction gives back for a few characters: xetexko sets the middle dot of
# "순방향·역방향" with the Korean font's glyph, which maps to U+30FB.
SAME = str.maketrans({"・": "·", "\u00a0": " "})


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(SAME))


@lru_cache(maxsize=None)
def pdf_text(first: int | None = None, last: int | None = None) -> str:
    cmd = ["pdftotext", "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    return subprocess.run(cmd + [str(PDF), "-"], capture_output=True, text=True, check=True).stdout


def chapter_title(nb: Path) -> str:
    """The notebook's first heading, as Markdown writes it ("1장. 문장의 확률")."""
    for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    raise AssertionError(f"{nb.name} has no heading")


def page_count() -> int:
    info = subprocess.run(["pdfinfo", str(PDF)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def test_eight_chapters():
    assert len(CHAPTERS) == 8


@needs_pdf
@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_title_in_pdf(nb):
    title = chapter_title(nb)
    assert re.match(r"\d장\. ", title), title
    assert _norm(title) in _norm(pdf_text()), f"{title!r} not found in the PDF's text"


@needs_pdf
def test_table_of_contents():
    """The contents come first: the heading 차례 and every chapter, with page numbers."""
    front = _norm(pdf_text(1, 8))
    assert "차례" in front
    for nb in CHAPTERS:
        assert _norm(chapter_title(nb)) in front, f"{nb.stem} missing from the table of contents"
    # each chapter title: once in the contents, once (at least) as the chapter's heading
    text = _norm(pdf_text())
    for nb in CHAPTERS:
        assert text.count(_norm(chapter_title(nb))) >= 2, nb.stem


@needs_pdf
def test_text_is_korean():
    """The text comes back as Hangul (real glyphs with a Unicode mapping, not boxes)."""
    text = pdf_text()
    letters = [c for c in text if c.isalpha()]
    hangul = [c for c in letters if "\uac00" <= c <= "\ud7a3"]
    assert len(letters) > 50_000
    assert len(hangul) / len(letters) > 0.30, f"Hangul is {len(hangul) / len(letters):.0%} of the letters"


@needs_pdf
def test_no_missing_characters():
    """Every character had a glyph: xelatex logs 'Missing character' otherwise."""
    assert LOG.is_file(), f"{LOG} missing: scripts/build_pdf.py keeps the LaTeX log next to the PDF"
    log = LOG.read_text(encoding="utf-8", errors="replace")
    missing = sorted({line.strip() for line in log.splitlines() if "Missing character" in line})
    assert not missing, "\n".join(missing[:20])
    assert "Invalid UTF-8" not in log
    # latexmk ran xelatex until every reference and the contents settled
    assert "There were undefined references" not in log
    assert "Rerun to get" not in log


@needs_pdf
def test_page_count():
    assert 50 < page_count() < 1000


@needs_pdf
def test_fonts_embedded():
    fonts = subprocess.run(["pdffonts", str(PDF)], capture_output=True, text=True, check=True).stdout
    assert "NanumGothic" in fonts and "NanumGothicCoding" in fonts, fonts


@needs_pdf
def test_formulas_and_views():
    """Formulas are typeset (no TeX source left), and each interactive view (an ipywidgets view,
    or an HTML display with its own script: the concept quizzes) became a note."""
    text = pdf_text()
    for tex in ("\\frac", "\\mid", "\\text{", "$$"):
        assert tex not in text, f"raw TeX {tex!r} in the PDF"
    assert "VBox(children=" not in text and "HBox(children=" not in text
    views = 0
    for nb in CHAPTERS:
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            if "remove-output" in cell.get("metadata", {}).get("tags", []):
                continue
            views += sum("application/vnd.jupyter.widget-view+json" in out.get("data", {}) or
                         "".join(out.get("data", {}).get("text/plain", "")).startswith(
                             "<IPython.core.display.HTML")
                         for out in cell.get("outputs", []))
    assert views > 0
    assert _norm(text).count("[대화형 보기]") == views


@needs_pdf
def test_every_figure():
    """Every PNG a chapter keeps (matplotlib figures, with Korean labels) is an image in the PDF."""
    pngs = 0
    for nb in CHAPTERS:
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            if "remove-output" not in cell.get("metadata", {}).get("tags", []):
                pngs += sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    listing = subprocess.run(["pdfimages", "-list", str(PDF)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    images = sum(1 for line in listing if line.split()[2] == "image")
    assert pngs > 0 and images >= pngs, (images, pngs)


@needs_pdf
def test_dataframes_are_tables():
    """A DataFrame is typeset as a table from its HTML, not as pandas' padded text."""
    tex = ROOT / "_build" / "pdf-src" / "_build" / "latex" / "lm-coursebook.tex"
    if not tex.is_file():
        pytest.skip(f"{tex} is not there")
    source = tex.read_text(encoding="utf-8")
    assert source.count("\\begin{tabulary}") + source.count("\\begin{longtable}") > 40
    # pandas' text form of a wide frame ends its lines in a backslash, its row index in spaces
    assert "count(context+word)  count(context)" not in source
    # each exercise hint (<details><summary>힌트</summary>, raw HTML) keeps its label
    hints = sum("".join(cell["source"]).count("<summary>힌트</summary>")
                for nb in CHAPTERS for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"])
    assert source.count("\\sphinxAtStartPar\n\\sphinxstylestrong{힌트}\n") == hints > 0


# --- no PDF needed ------------------------------------------------------------------------

def _build_pdf():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_pdf", ROOT / "scripts" / "build_pdf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_config(tmp_path):
    """The LaTeX build runs nothing: execution off, the rest of _config.yml as it is."""
    import yaml

    mod = _build_pdf()
    mod.write_config(tmp_path / "_config.yml")
    config = yaml.safe_load((tmp_path / "_config.yml").read_text(encoding="utf-8"))
    original = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["sphinx"]["config"] == original["sphinx"]["config"]
    assert config["latex"] == original["latex"]
    assert original["latex"]["latex_engine"] == "xelatex"
    elements = original["sphinx"]["config"]["latex_elements"]
    assert elements["polyglossia"] == "" and elements["babel"] == ""
    assert "\\usepackage{kotex}" in elements["fontpkg"]
    for name, path in config["sphinx"]["local_extensions"].items():
        assert Path(path).is_absolute() and Path(path).is_dir(), name


def test_dataframe_table_spans():
    """rowspan/colspan of pandas' HTML (MultiIndex rows and columns) become morerows/morecols."""
    html = ('<div><style scoped>.x{}</style><table border="1" class="dataframe"><thead>'
            '<tr><th></th><th colspan="2">같은 뜻끼리</th></tr>'
            '<tr><th>층</th><th>눈</th><th>말</th></tr></thead><tbody>'
            '<tr><th rowspan="2">0</th><td>0.1</td><td>&lt;s&gt;</td></tr>'
            '<tr><td>0.3</td><td>0.4</td></tr></tbody></table></div>')
    table = _build_pdf().dataframe_table(html)
    tgroup = table.children[0]
    assert tgroup["cols"] == 3
    head = [[(e.astext(), e.get("morecols", 0), e.get("morerows", 0)) for e in row]
            for row in table.findall(lambda n: n.tagname == "row")]
    assert head == [[("", 0, 0), ("같은 뜻끼리", 1, 0)], [("층", 0, 0), ("눈", 0, 0), ("말", 0, 0)],
                    [("0", 0, 1), ("0.1", 0, 0), ("<s>", 0, 0)], [("0.3", 0, 0), ("0.4", 0, 0)]]
    assert _build_pdf().dataframe_table("<p>not a table</p>") is None
