"""The whole book as one PDF: `make pdf` (= python scripts/build_pdf.py), about 1-2 minutes.

Jupyter Book's LaTeX builder with xelatex, from the chapters' STORED outputs (nothing is
executed): a copy of _config.yml with `execute_notebooks: off` goes to _build/pdf-src/, the
LaTeX is written to _build/pdf-src/_build/latex (its own doctree cache, apart from the HTML
build's), latexmk runs xelatex as often as the table of contents and references need, and the
result is copied to _build/pdf/lm-coursebook.pdf with its LaTeX log next to it
(_build/pdf/lm-coursebook.log; tests/test_pdf.py reads both).

The LaTeX settings themselves (Korean with kotex and the Nanum fonts, fallbacks for the few
characters Nanum lacks, wrapped code lines, no xindy) are in _config.yml under `latex:` and
`sphinx: config: latex_*`. Debian packages: texlive-xetex texlive-lang-korean
texlive-latex-extra texlive-fonts-recommended latexmk fonts-nanum fonts-dejavu-core
fonts-symbola (and poppler-utils for tests/test_pdf.py).

This file is also a small Sphinx extension that only this build loads (LaTeX builder only):
- an interactive lmlib view (an ipywidgets output whose static form is HTML, no PNG, or an
  HTML display with its own script: the concept quizzes) would print its Python repr
  ("VBox(children=(HBox(..."); the PDF shows a short note in its place, with a
  link to the chapter's page in the online book, where the view works. An output that has a
  PNG shows the PNG.
- a pandas DataFrame is typeset as a LaTeX table built from its HTML, not as pandas' text
  (which pads Hangul as if it were as wide as a Latin letter, so columns would not line up);
  wide tables get a smaller font.
- an exercise's hint (`<details><summary>힌트</summary>`, raw HTML that LaTeX drops) keeps
  its label: the hint text follows a bold "힌트".
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC_BUILD = ROOT / "_build" / "pdf-src"  # --path-output: its _build/ holds latex and .doctrees
LATEX_DIR = SRC_BUILD / "_build" / "latex"
OUT_DIR = ROOT / "_build" / "pdf"
NAME = "lm-coursebook"

BBM_STANDIN = ("\\ProvidesPackage{bbm}[2026/01/01 stand-in written by scripts/build_pdf.py]\n"
               "\\RequirePackage{amssymb}\n\\providecommand\\mathbbm[1]{\\mathbb{#1}}\n")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
NOTE = ("[대화형 보기] 이 자리의 출력은 직접 조작하는 보기라서 PDF에는 담을 수 없습니다. "
        "온라인 책의 이 장({url})이나 Colab에서 노트북을 실행해 보세요.")


# --- the Sphinx extension (loaded by the generated config only) ---------------------------

def _book_url(config, docname: str) -> str:
    """The page of `docname` in the published book (GitHub Pages of the repository)."""
    repo = (config.html_theme_options or {}).get("repository_url", "") or ""
    parts = repo.rstrip("/").split("/")
    if len(parts) >= 2 and "github.com" in repo:
        return f"https://{parts[-2]}.github.io/{parts[-1]}/{docname}.html"
    return f"{docname}.html"


class _HtmlTable:
    """The cells of a pandas DataFrame's HTML (`<table class="dataframe">`), row by row."""

    def __init__(self, html: str):
        from html.parser import HTMLParser

        self.rows: list[tuple[str, list[tuple[str, int, int, bool]]]] = []
        table = self

        class Parser(HTMLParser):
            section, row, cell, skip = "tbody", None, None, 0

            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if tag in ("thead", "tbody"):
                    self.section = tag
                elif tag == "tr":
                    self.row = []
                elif tag in ("td", "th") and self.row is not None:
                    self.cell = [[], int(a.get("colspan") or 1), int(a.get("rowspan") or 1), tag == "th"]
                elif tag in ("style", "script"):
                    self.skip += 1

            def handle_endtag(self, tag):
                if tag in ("td", "th") and self.cell is not None:
                    text, colspan, rowspan, header = self.cell
                    self.row.append((" ".join("".join(text).split()), colspan, rowspan, header))
                    self.cell = None
                elif tag == "tr" and self.row is not None:
                    table.rows.append((self.section, self.row))
                    self.row = None
                elif tag in ("thead", "tbody"):
                    self.section = "tbody"
                elif tag in ("style", "script"):
                    self.skip -= 1

            def handle_data(self, data):
                if self.cell is not None and not self.skip:
                    self.cell[0].append(data)

        Parser(convert_charrefs=True).feed(html)

    def columns(self) -> int:
        """Grid width, counting the cells that a rowspan above still covers."""
        covered: dict[tuple[int, int], bool] = {}
        width = 0
        for r, (_, row) in enumerate(self.rows):
            c = 0
            for _, colspan, rowspan, _ in row:
                while covered.get((r, c)):
                    c += 1
                for dr in range(rowspan):
                    for dc in range(colspan):
                        covered[(r + dr, c + dc)] = True
                c += colspan
            while covered.get((r, c)):
                c += 1
            width = max(width, c)
        return width


def dataframe_table(html: str):
    """A docutils table of a DataFrame's HTML, for LaTeX (None if it is not one)."""
    from docutils import nodes

    if 'class="dataframe"' not in html or html.count("<table") != 1:
        return None
    parsed = _HtmlTable(html)
    ncols = parsed.columns()
    if not parsed.rows or ncols == 0:
        return None
    table = nodes.table(classes=["lmcb-dataframe"])
    tgroup = nodes.tgroup(cols=ncols)
    table += tgroup
    for _ in range(ncols):
        tgroup += nodes.colspec(colwidth=1)
    thead, tbody = nodes.thead(), nodes.tbody()
    for section, cells in parsed.rows:
        row = nodes.row()
        for text, colspan, rowspan, header in cells:
            entry = nodes.entry()
            if colspan > 1:
                entry["morecols"] = colspan - 1
            if rowspan > 1:
                entry["morerows"] = rowspan - 1
            if text:
                para = nodes.paragraph()
                para += nodes.strong(text=text) if header and section == "tbody" else nodes.Text(text)
                entry += para
            row += entry
        (thead if section == "thead" else tbody).append(row)
    if len(thead):
        tgroup += thead
    if not len(tbody):
        return None
    tgroup += tbody
    return table


def setup(app):
    from docutils import nodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class InteractiveViewNote(SphinxPostTransform):
        """Before myst-nb picks a mime type (priority 4): widget outputs become a note."""

        builders = ("latex",)
        default_priority = 3

        def run(self, **kwargs):
            def is_bundle(node):
                return isinstance(node, nodes.container) and node.get("nb_element") == "mime_bundle"

            for bundle in list(self.document.findall(is_bundle)):
                mimes = {child.get("mime_type"): child for child in bundle.children}
                plain = mimes.get("text/plain")
                plain = plain.astext().strip() if plain is not None else ""
                image = any(m.startswith("image/") or m == "application/pdf" for m in mimes)
                interactive = WIDGET_MIME in mimes or (
                    "text/html" in mimes and plain.startswith("<IPython.core.display.HTML"))
                if image:
                    continue  # a PNG alternative, when there is one, is what LaTeX shows
                if not interactive:
                    # a DataFrame: its HTML table as a LaTeX table (pandas' text pads Hangul
                    # as if it were as wide as a Latin letter, so its columns would not line up)
                    html_node = mimes.get("text/html")
                    table = dataframe_table(html_node.astext()) if html_node is not None else None
                    if table is not None:
                        ncols = table.children[0]["cols"]
                        size = "small" if ncols <= 6 else "footnotesize" if ncols <= 10 else "scriptsize"
                        bundle.replace_self(nodes.container(
                            "", nodes.raw("", f"\\begingroup\\{size}", format="latex"), table,
                            nodes.raw("", "\\endgroup", format="latex"), classes=["lmcb-dataframe"]))
                    continue
                docname = self.env.docname
                node = bundle.parent
                while node is not None:
                    if node.get("docname"):
                        docname = node["docname"]
                        break
                    node = node.parent
                url = _book_url(self.config, docname)
                before, after = NOTE.split("{url}")
                para = nodes.paragraph()
                para += [nodes.Text(before), nodes.reference(url, url, refuri=url), nodes.Text(after)]
                bundle.replace_self(nodes.container("", para, classes=["lmcb-interactive-note"]))

    class WideTablesSmaller(SphinxPostTransform):
        """The book's own wide tables (the benchmark page's nine columns) in a smaller size."""

        builders = ("latex",)
        default_priority = 5

        def run(self, **kwargs):
            for table in list(self.document.findall(nodes.table)):
                parent = table.parent
                if parent is None or "lmcb-dataframe" in parent.get("classes", []):
                    continue
                tgroups = [n for n in table.children if isinstance(n, nodes.tgroup)]
                ncols = tgroups[0]["cols"] if tgroups else 0
                if ncols <= 6:
                    continue
                size = "footnotesize" if ncols <= 10 else "scriptsize"
                i = parent.index(table)
                parent.insert(i + 1, nodes.raw("", "\\endgroup", format="latex"))
                parent.insert(i, nodes.raw("", f"\\begingroup\\{size}", format="latex"))

    class DetailsSummary(SphinxPostTransform):
        """An exercise's `<details><summary>힌트</summary>` is raw HTML, which LaTeX drops:
        the hint's text would follow the exercise unlabelled, so its summary becomes a label."""

        builders = ("latex",)
        default_priority = 5

        def run(self, **kwargs):
            import re

            for raw in list(self.document.findall(nodes.raw)):
                if "html" not in raw.get("format", "").split():
                    continue
                m = re.search(r"<summary>(.*?)</summary>", raw.astext(), re.S)
                if m and m.group(1).strip():
                    para = nodes.paragraph()
                    para += nodes.strong(text=" ".join(m.group(1).split()))
                    raw.replace_self(para)

    app.add_post_transform(InteractiveViewNote)
    app.add_post_transform(WideTablesSmaller)
    app.add_post_transform(DetailsSummary)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --- the build ----------------------------------------------------------------------------

def write_config(path: Path) -> None:
    """_config.yml with execution off and this file loaded as an extension."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    sphinx = config.setdefault("sphinx", {})
    local = sphinx.setdefault("local_extensions", {}) or {}
    # jupyter-book resolves these folders against the config file's folder: make them absolute
    sphinx["local_extensions"] = {**{k: str((ROOT / v).resolve()) for k, v in local.items()},
                                  "build_pdf": str(Path(__file__).resolve().parent)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Generated by scripts/build_pdf.py from _config.yml: do not edit.\n"
                    + yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run(cmd, **kw)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--latex-only", action="store_true", help="write the LaTeX, skip xelatex")
    ap.add_argument("--fresh", action="store_true", help="drop the LaTeX build's doctree cache first")
    ap.add_argument("--quiet", action="store_true", help="hide xelatex's output (the log is kept)")
    args = ap.parse_args(argv)

    start = time.monotonic()
    bindir = Path(sys.executable).parent
    jb = bindir / "jupyter-book"
    if not jb.exists():
        jb = ROOT / ".venv" / "bin" / "jupyter-book"
    for tool in ("xelatex", "latexmk"):
        if not args.latex_only and shutil.which(tool) is None:
            print(f"build_pdf: {tool} not found (apt-get install texlive-xetex texlive-lang-korean "
                  "texlive-latex-extra texlive-fonts-recommended latexmk fonts-nanum fonts-dejavu-core "
                  "fonts-symbola)", file=sys.stderr)
            return 2
    if args.fresh:
        shutil.rmtree(SRC_BUILD, ignore_errors=True)
    shutil.rmtree(LATEX_DIR, ignore_errors=True)
    for stale in (OUT_DIR / f"{NAME}.pdf", OUT_DIR / f"{NAME}.log"):
        stale.unlink(missing_ok=True)  # a failed build must not leave the last PDF to be tested
    config = SRC_BUILD / "_config.yml"
    write_config(config)

    env = {**os.environ, "PYTHONHASHSEED": "0"}
    res = run([str(jb), "build", str(ROOT), "--builder", "latex", "--config", str(config),
               "--path-output", str(SRC_BUILD), "-n", "--keep-going"], cwd=ROOT, env=env)
    tex = LATEX_DIR / f"{NAME}.tex"
    if res.returncode or not tex.exists():
        print(f"build_pdf: the LaTeX build failed (rc {res.returncode}; {tex} missing?)", file=sys.stderr)
        return res.returncode or 1
    t_latex = time.monotonic() - start
    print(f"build_pdf: LaTeX written in {t_latex:.0f} s: {tex}")
    if args.latex_only:
        return 0

    # sphinx-jupyterbook-latex's class loads bbm.sty (\mathbbm), which only the 500 MB
    # texlive-fonts-extra ships; the book never uses \mathbbm, so a stand-in does.
    if not run(["kpsewhich", "bbm.sty"], capture_output=True, text=True).stdout.strip():
        (LATEX_DIR / "bbm.sty").write_text(BBM_STANDIN, encoding="utf-8")

    # makeindex (latex_use_xindy: false) sorts UTF-8 by bytes, which is 가나다 order for Hangul,
    # but it would cut a syllable's bytes in two: at its line wraps and in the letter headings
    # (the first byte of a word). No wraps, no letter headings.
    ist = LATEX_DIR / "python.ist"
    if ist.exists():
        ist.write_text(ist.read_text(encoding="utf-8") + "line_max 1000\nheadings_flag 0\n",
                       encoding="utf-8")

    # latexmk reruns xelatex until the table of contents and the references settle.
    res = run(["latexmk", "-pdfxe", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
               f"{NAME}.tex"], cwd=LATEX_DIR, env={**env, "LATEXOPTS": ""},
              stdout=subprocess.DEVNULL if args.quiet or os.environ.get("BUILD_PDF_QUIET") else None)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log = LATEX_DIR / f"{NAME}.log"
    if log.exists():
        shutil.copyfile(log, OUT_DIR / f"{NAME}.log")
    pdf = LATEX_DIR / f"{NAME}.pdf"
    if res.returncode or not pdf.exists():
        print(f"build_pdf: xelatex failed (rc {res.returncode}); see {OUT_DIR / (NAME + '.log')}",
              file=sys.stderr)
        return res.returncode or 1
    shutil.copyfile(pdf, OUT_DIR / f"{NAME}.pdf")
    total = time.monotonic() - start
    print(f"build_pdf: {OUT_DIR / (NAME + '.pdf')} ({pdf.stat().st_size / 1e6:.1f} MB) in {total:.0f} s "
          f"(LaTeX {t_latex:.0f} s, xelatex {total - t_latex:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
