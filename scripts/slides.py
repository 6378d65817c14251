"""Lecture slides: one reveal.js deck per chapter, from the notebooks' stored outputs.

    .venv/bin/python scripts/slides.py [--out _build/slides]     (make slides)

Nothing is executed: a deck shows what the committed notebook shows (its prose, figures,
tables and printed results), in the chapter's order, which follows the lecture.

How the slides are cut (from the notebooks as they are; no cell carries slide metadata):

- Each markdown cell is split into its top-level Markdown blocks (paragraph, list, display
  formula, table...). `# ` (the chapter title) makes the title slide; each `## ` section
  starts a new horizontal slide (a column in reveal's overview, so the lecture's sections are
  what the presenter pages across); a `### ` sub-heading starts a vertical slide below it.
- Blocks and outputs are packed onto the current slide until an estimate of its height
  (lines of about 46 Hangul at the deck's 28 px type) would pass the slide; then a vertical
  slide "… (계속)" continues the section. A long markdown cell thus becomes several slides
  cut between paragraphs, never inside one.
- Each figure (image/png) gets a slide of its own, as large as the slide allows, under its
  section's heading: a figure is what the class looks at while the lecturer talks. Tables
  (pandas HTML) and printed results join the slide of the prose before them when they fit,
  else they start the next one; the interactive views (lmlib.widgets' static HTML) get a
  slide of their own.
- Code is hidden, except a cell of one or two short lines that is a call whose result is
  shown (`bwd.chain_rule(...)`, `print(model.transformer.h[0])`): there the call is the point.
- Skipped: the setup cell (the first code cell, 준비 셀), the imports (no output), stderr
  and errors, the notebook's running-time paragraph, outputs that need a CDN (bertviz), and
  the exercises: from `## 연습문제` up to the `## 정리` section, which closes the deck, and the
  concept quiz after it (`## 개념 확인 퀴즈`: students answer it on their own, in the book).
- In the browser a slide whose content still overflows (an estimate is an estimate) has its
  type scaled down until it fits (never below 0.55); tests/test_slides.py checks that every
  slide fits at 1280x720.

Why not `jupyter nbconvert --to slides`: nbconvert is not in the pinned environment
(requirements.txt), its reveal template loads require.js and MathJax from CDNs, and slide_type
metadata would cut at cell boundaries only; a deck here is a small page this script writes.

Offline: reveal.js (dist/ and plugin/) is copied from web/node_modules (npm, web/package.json)
into _build/slides/reveal.js/; formulas are rendered to SVG now by web/tex2svg.js (MathJax
from npm, as the book does), so no deck loads MathJax; Hangul is NanumGothic (the book's
woff2 subsets, @fontsource/nanum-gothic). A deck requests nothing from another host.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import math
import re
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
WEB = ROOT / "web"
REVEAL = WEB / "node_modules" / "reveal.js"
sys.path.insert(0, str(ROOT / "book" / "_ext"))

# The slide (reveal's logical size; it scales to the screen) and the packing estimate.
WIDTH, HEIGHT = 1280, 720
LINE_CHARS = 46          # characters of a text line at 28 px (Hangul ~28 px, spaces and Latin narrower)
BUDGET = 13.5            # lines under a slide heading
FIGURE_BOX = (1180, 540)  # the largest a figure is shown (CSS px) under its heading
PRE_MAX_LINES = 22       # a printed result longer than this is cut, with a note

SKIP_FROM, RESUME_AT, STOP_AT = "연습문제", "정리", "개념 확인 퀴즈"


# --- Markdown ------------------------------------------------------------------------------

class Math:
    """Formulas met while rendering; placeholders in the HTML until tex2svg.js renders them."""

    def __init__(self):
        self.items: list[dict] = []

    def add(self, tex: str, display: bool, deck: int) -> str:
        self.items.append({"page": deck, "tex": tex.strip(), "display": display})
        return f"\x00M{len(self.items) - 1}\x00"


def markdown(math: Math) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable("table").use(dollarmath_plugin)

    def inline(self, tokens, idx, options, env):
        return f'<span class="math">{math.add(tokens[idx].content, False, env["deck"])}</span>'

    def block(self, tokens, idx, options, env):
        return f'<div class="math display">{math.add(tokens[idx].content, True, env["deck"])}</div>\n'

    md.add_render_rule("math_inline", inline)
    md.add_render_rule("math_inline_double", block)
    md.add_render_rule("math_block", block)
    md.add_render_rule("math_block_label", block)
    return md


def bibliography(path: Path = ROOT / "book" / "references.bib") -> dict[str, tuple[list[str], str]]:
    """key -> (authors' last names, year), from the book's references.bib."""
    out = {}
    for key, body in re.findall(r"@\w+\{([^,\s]+),(.*?)\n\}", path.read_text(encoding="utf-8"), re.S):
        author = re.search(r"\bauthor\s*=\s*\{(.*)\},?\s*$", body, re.M)
        year = re.search(r"\byear\s*=\s*\{?(\d{4})", body)
        names = []
        for name in re.split(r"\s+and\s+", author.group(1) if author else key):
            name = re.sub(r"[{}\\]", "", name).strip()
            names.append(name.split(",")[0].strip() if "," in name else name.split()[-1])
        out[key] = (names, year.group(1) if year else "")
    return out


BIB = bibliography()


def _authors(names: list[str]) -> str:
    if len(names) > 2:
        return f"{names[0]} <em>et al.</em>"
    return " and ".join(names)


def citations(source: str) -> str:
    """MyST's {cite:p}`a,b` and {cite:t}`a` as the book prints them (author-year, sphinxcontrib-bibtex)."""
    def cite(m):
        keys = [k.strip() for k in m.group(2).split(",")]
        refs = [BIB.get(k, ([k], "")) for k in keys]
        if m.group(1) == "t":
            return "; ".join(f'<span class="cite">{_authors(n)} [{y}]</span>' for n, y in refs)
        return '<span class="cite">[' + "; ".join(f"{_authors(n)}, {y}" for n, y in refs) + "]</span>"
    return re.sub(r"\{cite:([pt])\}`([^`]+)`", cite, source)


def blocks(md: MarkdownIt, source: str) -> list[tuple[str, str]]:
    """A markdown cell's top-level blocks as (kind, markdown source): kind is the opening
    token's type ("heading_open", "paragraph_open", "bullet_list_open", "math_block", ...)."""
    lines = source.splitlines()
    out, after_math = [], False
    for tok in md.parse(source):
        if tok.level == 0 and tok.map and tok.nesting >= 0:
            a, b = tok.map
            kind = f"{tok.type}:{tok.tag}" if tok.type == "heading_open" else tok.type
            src = "\n".join(lines[a:b])
            math = kind.startswith("math_block")
            # a display formula stays with the sentence around it ("연쇄 법칙은 $$...$$ 입니다"),
            # a label with what it introduces ("**이 장을 마치면 할 수 있는 것**" and its list)
            if out and not kind.startswith("heading") and not out[-1][0].startswith("heading") and (math or after_math):
                out[-1] = (out[-1][0], out[-1][1] + "\n\n" + src)
            else:
                out.append((kind, src))
            after_math = math or (kind == "paragraph_open" and len(src) < 60
                                  and bool(re.fullmatch(r"\*\*[^*]+\*\*:?|.*[:：]", src.strip(), re.S)))
    return out


def text_of(fragment: str) -> str:
    fragment = re.sub(r"\x00M\d+\x00", "수식수식", fragment)
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def lines_of(kind: str, fragment: str) -> float:
    """How many text lines a rendered block takes on a slide (an estimate)."""
    if kind.startswith("math_block"):
        return 2.4 + lines_of("paragraph_open", fragment.split("</div>", 1)[-1])
    if kind.endswith("list_open"):
        items = re.findall(r"<li>(.*?)</li>", fragment, re.S) or [fragment]
        return sum(math.ceil(max(1, len(text_of(i).strip())) / (LINE_CHARS - 3)) for i in items) + 0.3 * len(items) + 0.4
    if kind == "table_open":
        return 0.95 * fragment.count("<tr") + 0.8
    if kind in ("fence", "code_block"):
        return 0.8 * fragment.count("\n") + 0.8
    t = text_of(fragment).strip()
    return math.ceil(max(1, len(t)) / LINE_CHARS) + 0.5 + 1.6 * fragment.count('class="math display"')


# --- outputs -------------------------------------------------------------------------------

FORMATTER = HtmlFormatter(nowrap=True)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def pre(text: str, cls: str = "output") -> tuple[str, float]:
    lines = ANSI.sub("", text).rstrip("\n").split("\n")
    note = ""
    if len(lines) > PRE_MAX_LINES:
        note = f'<p class="cut">… 출력 {len(lines) - PRE_MAX_LINES}줄 생략(전체는 책과 노트북에)</p>'
        lines = lines[:PRE_MAX_LINES]
    body = html.escape("\n".join(lines))
    # a long line wraps: ~104 columns at the output's type, a Hangul letter two columns
    rows = sum(max(1, math.ceil(sum(2 if ord(ch) > 0x2e80 else 1 for ch in line) / 104)) for line in lines)
    return f'<pre class="{cls}">{body}</pre>{note}', 0.8 * rows + 0.9 + (1 if note else 0)


_NUMBER = re.compile(r"\s*(?:[-+−]?[\d.,]+(?:e[-+]?\d+)?%?|[-+]?inf|nan|NaN|True|False|None|)\s*")


def _cell(m) -> str:
    """Numbers stay right-aligned in a table (slides.css); words read from the left."""
    return m.group(0) if _NUMBER.fullmatch(html.unescape(m.group(1))) else f'<td class="t">{m.group(1)}</td>'


def shows_code(cell) -> bool:
    """A one- or two-line call whose result is shown: the code is the point of the slide."""
    lines = [l for l in cell.source.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    if not (1 <= len(lines) <= 2) or any(len(l) > 110 for l in lines):
        return False
    if any(re.match(r"\s*(import|from|def|class|for|with|assert|if)\b", l) or re.match(r"\s*\w+\s*=", l)
           for l in lines):
        return False
    data = [o.get("data", {}) for o in cell.get("outputs", [])]
    return bool(cell.get("outputs")) and not any(
        "image/png" in d or "application/vnd.jupyter.widget-view+json" in d for d in data)


# --- cutting -------------------------------------------------------------------------------

@dataclass
class Slide:
    title: str                      # the heading shown (HTML)
    kind: str = "text"              # title | text | figure | widget | summary
    items: list[str] = field(default_factory=list)
    used: float = 0.0
    new_section: bool = False       # starts a horizontal slide (a ## section or the title)
    full: bool = False              # a figure or a view: nothing else goes on it

    def html(self) -> str:
        level = "h1" if self.kind == "title" else "h2"
        return (f'<section class="{self.kind}"><div class="slide-body">'
                f'<{level}>{self.title}</{level}>\n<div class="slide-content">\n' + "\n".join(self.items)
                + "\n</div></div></section>")


class Deck:
    def __init__(self, path: Path, number: int, md: MarkdownIt, out: Path):
        self.path, self.number, self.md, self.out = path, number, md, out
        self.slides: list[Slide] = []
        self.section = ""            # the current section's heading (HTML)
        self.chapter = ""
        self.figures = 0

    # one slide more, below the current section (vertical) unless it starts one
    def start(self, title: str, kind: str = "text", new_section: bool = False) -> Slide:
        s = Slide(title=title, kind=kind, new_section=new_section)
        self.slides.append(s)
        return s

    @property
    def current(self) -> Slide:
        return self.slides[-1]

    def room(self, cost: float) -> Slide:
        s = self.current
        # the title slide carries the chapter's first paragraph only
        # (a short last item may run a line or so over: the slide's type shrinks a little)
        over = s.used + cost > BUDGET + ((4 if s.kind == "summary" else 1.2) if cost <= 2 else 0)
        if s.full or (s.items and (s.kind == "title" or over)):
            kind = "summary" if s.kind == "summary" else "text"
            title = "이 장에서는" if s.kind == "title" else (self.section + ' <span class="cont">(계속)</span>')
            s = self.start(title, kind)
        return s

    def lead_in(self) -> tuple[list[str], float]:
        """A short sentence left alone on a continuation slide ("4.1절의 문장도 탐색기로 볼 수
        있습니다") moves onto the figure or view it introduces."""
        s = self.current
        if s.kind == "text" and not s.new_section and len(s.items) == 1 and s.used <= 2.5 and "(계속)" in s.title:
            self.slides.pop()
            return s.items, s.used
        return [], 0.0

    def add(self, fragment: str, cost: float, alone: bool = False, kind: str = "text", lead=((), 0.0)):
        if alone:
            s = self.start(self.section, kind)
            s.items += list(lead[0]) + [fragment]
            s.used, s.full = lead[1], True
            return
        s = self.room(cost)
        s.items.append(fragment)
        s.used += cost

    def render(self, src: str) -> str:
        return self.md.render(src, {"deck": self.number - 1})

    def cut(self, nb) -> None:
        skipping = False
        setup = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        for index, cell in enumerate(nb.cells):
            if index == setup:
                continue
            if cell.cell_type == "markdown":
                # links to another chapter go to its deck
                source = re.sub(r"\]\((0\d_\w+)\.ipynb(?:#[^)]*)?\)", r"](\1.html)", citations(cell.source))
                for kind, src in blocks(self.md, source):
                    if kind.startswith("heading_open"):
                        level = int(kind[-1])
                        title = re.sub(r"^<h\d>|</h\d>\s*$", "", self.render(src).strip())
                        plain = text_of(title).strip()
                        if level == 2 and plain.startswith(STOP_AT):
                            return
                        if level == 2 and plain.startswith(SKIP_FROM):
                            skipping = True
                            continue
                        if level == 2 and plain.startswith(RESUME_AT):
                            skipping = False
                            self.section = title
                            self.start(title, "summary", new_section=True)
                            continue
                        if skipping:
                            continue
                        if level == 1:
                            self.chapter = plain
                            self.section = title
                            self.start(title, "title", new_section=True)
                        elif level == 2:
                            self.section = title
                            self.start(title, new_section=True)
                        else:
                            self.start(f'{self.section}<span class="sub">{title}</span>')
                        continue
                    if skipping or src.lstrip().startswith("**실행 시간**"):
                        continue
                    fragment = self.render(src)
                    self.add(fragment, lines_of(kind, fragment))
            elif cell.cell_type == "code" and not skipping:
                self.code(index, cell)

    def code(self, index: int, cell) -> None:
        outputs = cell.get("outputs", [])
        if any("application/javascript" in o.get("data", {}) or
               re.search(r'src="https?:', str(o.get("data", {}).get("text/html", ""))) for o in outputs):
            return  # bertviz: it loads require.js from a CDN; the deck shows lmlib's view next
        shown = []
        if shows_code(cell):
            code = highlight(cell.source.strip("\n"), PythonLexer(), FORMATTER)
            shown.append((f'<pre class="code highlight">{code}</pre>', 0.8 * (cell.source.strip().count("\n") + 1) + 0.8))
        for k, o in enumerate(outputs):
            t = o.output_type
            if t == "stream":
                if o.get("name") == "stderr" or not o.text.strip():
                    continue
                shown.append(pre(o.text))
            elif t in ("display_data", "execute_result"):
                d = o.data
                if "image/png" in d:
                    self.flush(shown)
                    shown = []
                    self.figure(index, k, d["image/png"])
                elif "application/vnd.jupyter.widget-view+json" in d and "text/html" in d:
                    self.flush(shown)
                    shown = []
                    self.add(f'<div class="view">{d["text/html"]}</div>', 0, alone=True, kind="widget",
                             lead=self.lead_in())
                elif "text/html" in d:
                    h = d["text/html"]
                    h = re.sub(r"<style scoped>.*?</style>", "", h, flags=re.S)
                    h = re.sub(r"<td>([^<]*)</td>", _cell, h)
                    shown.append((f'<div class="table">{h}</div>', 0.95 * h.count("<tr") + 0.8))
                elif "text/plain" in d:
                    shown.append(pre(d["text/plain"]))
        self.flush(shown)

    def flush(self, shown) -> None:
        # the code and what it printed stay together when they fit
        if not shown:
            return
        total = sum(c for _, c in shown)
        if total <= BUDGET:
            s = self.room(total)
            s.items += [f for f, _ in shown]
            s.used += total
        else:
            for f, c in shown:
                self.add(f, c)

    def figure(self, index: int, k: int, b64: str) -> None:
        data = base64.b64decode(b64)
        w, h = png_size(data)
        name = f"{self.path.stem}/fig-{index:02d}-{k}.png"
        (self.out / name).parent.mkdir(parents=True, exist_ok=True)
        (self.out / name).write_bytes(data)
        self.figures += 1
        lead = self.lead_in()
        box_h = FIGURE_BOX[1] - 40 * lead[1]
        scale = min(FIGURE_BOX[0] / w, box_h / h, 1.0)
        shown = round(h * scale)
        self.add(f'<img class="figure" src="{name}" width="{round(w * scale)}" height="{shown}" alt="그림">',
                 0, alone=True, kind="figure", lead=lead)
        # a wide, low figure leaves room for the lines that read it
        room = (box_h - shown) / 39 - 0.8
        if room >= 3:
            self.current.full, self.current.used = False, BUDGET - room

    def sections(self) -> str:
        """The slides as reveal's nested sections: one column per ## section."""
        cols: list[list[Slide]] = []
        for s in self.slides:
            if s.new_section or not cols:
                cols.append([])
            cols[-1].append(s)
        out = []
        for col in cols:
            inner = "\n".join(s.html() for s in col)
            out.append(inner if len(col) == 1 else f"<section>\n{inner}\n</section>")
        return "\n".join(out)


# --- the deck's page -----------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — 강의 슬라이드</title>
<link rel="stylesheet" href="reveal.js/dist/reset.css">
<link rel="stylesheet" href="reveal.js/dist/reveal.css">
<link rel="stylesheet" href="reveal.js/dist/theme/white.css">
<link rel="stylesheet" href="lmcb-fonts.css">
<link rel="stylesheet" href="slides.css">
</head>
<body>
{defs}
<div class="reveal"><div class="slides">
{sections}
</div></div>
<script src="reveal.js/dist/reveal.js"></script>
<script src="reveal.js/plugin/zoom/zoom.js"></script>
<script src="reveal.js/plugin/search/search.js"></script>
<script src="slides.js"></script>
</body>
</html>
"""

SLIDES_JS = """// Reveal at the decks' logical size; a slide whose content overflows gets smaller type.
(function () {
  var W = %d, H = %d;
  function fit(slide) {
    var body = slide && slide.querySelector(':scope > .slide-body');
    if (!body || slide.dataset.fit) return;
    var content = body.querySelector(':scope > .slide-content'), s = 1;
    while ((body.scrollHeight > H || body.scrollWidth > W) && s > 0.56) {
      s = Math.round((s - 0.05) * 100) / 100;
      content.style.fontSize = s + 'em';
    }
    slide.dataset.fit = String(s);
  }
  Reveal.initialize({
    width: W, height: H, margin: 0.03, center: false, hash: true, slideNumber: 'c/t', controlsTutorial: false,
    transition: 'none', backgroundTransition: 'none', viewDistance: 2,
    plugins: [RevealZoom, RevealSearch]
  }).then(function () {
    fit(Reveal.getCurrentSlide());
    Reveal.layout();
  });
  Reveal.on('slidechanged', function (e) { fit(e.currentSlide); });
})();
""" % (WIDTH, HEIGHT)

SLIDES_CSS = """/* The decks' look: NanumGothic, 28 px type, figures and tables that fit the slide. */
:root {
  --r-main-font: "Nanum Gothic", "NanumGothic", sans-serif;
  --r-heading-font: "Nanum Gothic", "NanumGothic", sans-serif;
  --r-main-font-size: 28px;
  --r-heading-text-transform: none;
  --r-heading-letter-spacing: 0;
  --r-heading-font-weight: 700;
  --r-heading-color: #1b3a5c;
  --r-link-color: #1f5fa8;
  --r-code-font: "DejaVu Sans Mono", monospace;
}
.reveal { word-break: keep-all; }
.reveal .slides { text-align: left; }
.reveal .slides > section, .reveal .slides > section > section { padding: 0; height: 100%%; }
.reveal .slide-body { width: %dpx; height: %dpx; box-sizing: border-box; padding: 18px 56px 34px 44px; overflow: visible; }
.reveal h1 { font-size: 1.9em; margin: 0 0 0.6em; }
.reveal h2 { font-size: 1.25em; margin: 0 0 0.55em; padding-bottom: 0.2em; border-bottom: 2px solid #d6e0ea; line-height: 1.3; }
.reveal h2 .sub { display: block; font-size: 0.72em; color: #4a6a8a; margin-top: 0.15em; }
.reveal h2 .cont { font-size: 0.6em; color: #8a9aaa; font-weight: 400; }
.reveal p, .reveal li { line-height: 1.45; }
.reveal p { margin: 0 0 0.55em; }
.reveal ul, .reveal ol { display: block; margin: 0 0 0.55em 1.1em; }
.reveal li { margin: 0.15em 0; }
.reveal strong { color: #12324f; }
.reveal .cite { color: #4a5a6a; font-size: 0.85em; }
.reveal code { font-family: var(--r-code-font); font-size: 0.85em; background: #f2f4f7; padding: 0 0.15em; border-radius: 3px; }
.reveal pre { width: 100%%; box-sizing: border-box; box-shadow: none; margin: 0.3em 0 0.6em; font-size: 0.62em; line-height: 1.35; }
.reveal pre.output, .reveal pre.code { font-family: var(--r-code-font); white-space: pre-wrap; word-break: normal; overflow-wrap: anywhere; background: #f6f7f9; border-left: 4px solid #c9d3de; padding: 0.5em 0.8em; overflow: visible; }
.reveal pre.code { background: #eef3f9; border-left-color: #5b8cc2; }
.reveal p.cut { font-size: 0.55em; color: #777; margin-top: -0.4em; }
.reveal .math svg text { font-family: "Nanum Gothic", "NanumGothic", sans-serif; }
.reveal .math.display { text-align: center; margin: 0.4em 0 0.7em; }
.reveal .table { margin: 0.3em 0 0.7em; }
.reveal .table table { font-size: 0.68em; border-collapse: collapse; margin: 0; }
.reveal .table th, .reveal .table td { padding: 0.2em 0.6em; border: none; border-bottom: 1px solid #dde3ea; text-align: right; font-variant-numeric: tabular-nums; }
.reveal .table thead th { border-bottom: 2px solid #9fb0c2; }
.reveal .table tbody th, .reveal .table td.t { text-align: left; }
.reveal img.figure { margin: 0.2em auto 0.6em; display: block; max-width: 100%%; height: auto; }
.reveal .controls { transform: scale(0.6); transform-origin: 100%% 100%%; }
.reveal .slide-number { right: auto; left: 8px; bottom: 8px; }
.reveal section.title .slide-body { display: flex; flex-direction: column; justify-content: center; padding: 40px 90px; }
.reveal section.title .slide-body::after { content: "언어모델 코스북 · 강의 슬라이드"; font-size: 0.7em; color: #6a7f95; margin-top: 1em; }
.reveal section.summary h2 { color: #7a3b12; border-bottom-color: #f0d9c8; }
.reveal .view { font-size: 0.62em; }
.reveal .view button, .reveal .view input, .reveal .view select { font-size: 1em; font-family: inherit; }
.reveal .view table { margin: 0; }
""" % (WIDTH, HEIGHT)

INDEX = """<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>강의 슬라이드 — 언어모델 코스북</title>
<link rel="stylesheet" href="lmcb-fonts.css">
<style>
body {{ font-family: "Nanum Gothic", "NanumGothic", sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.6; color: #222; word-break: keep-all; }}
h1 {{ color: #1b3a5c; }}
ul {{ list-style: none; padding: 0; }}
li {{ margin: 0.5rem 0; }}
a {{ color: #1f5fa8; }}
.n {{ color: #777; font-size: 0.9em; }}
</style>
</head>
<body>
<h1>강의 슬라이드</h1>
<p>장마다 하나씩, 강의 순서대로입니다. 노트북에 저장된 출력(그림, 표, 결과)과 본문으로 만들었고,
코드는 감추었습니다. 방향키로 넘기고(↓는 같은 절의 다음 장), Esc로 전체 보기, F로 전체 화면입니다.</p>
<ul>
{items}
</ul>
</body>
</html>
"""


def copy_assets(out: Path) -> None:
    if not (REVEAL / "dist" / "reveal.js").is_file():
        raise SystemExit(f"{REVEAL} is missing: run `npm ci` in web/ (make slides does)")
    target = out / "reveal.js"
    shutil.rmtree(target, ignore_errors=True)
    ignore = shutil.ignore_patterns("*.map", "*.esm.js")
    shutil.copytree(REVEAL / "dist", target / "dist", ignore=ignore)
    shutil.copytree(REVEAL / "plugin", target / "plugin", ignore=ignore)
    shutil.copyfile(REVEAL / "LICENSE", target / "LICENSE")
    from lmcb_site import write_fonts  # the book's NanumGothic subsets and their CSS
    write_fonts(out)
    (out / "slides.css").write_text(SLIDES_CSS + FORMATTER.get_style_defs(".reveal .highlight") + "\n",
                                    encoding="utf-8")
    (out / "slides.js").write_text(SLIDES_JS, encoding="utf-8")


def tex2svg(math: Math) -> tuple[list[str], dict]:
    if not math.items:
        return [], {}
    res = subprocess.run(["node", str(WEB / "tex2svg.js")], input=json.dumps(math.items), text=True,
                         capture_output=True, check=False)
    if res.returncode:
        raise SystemExit(f"web/tex2svg.js failed: {res.stderr.strip()}")
    result = json.loads(res.stdout)
    return result["svgs"], result["defs"]


_TEXT = re.compile(r'<text data-variant="(\w+)" transform="([^"]*)" font-size="[\d.]+px" font-family="[^"]*">([^<]*)</text>')


def mtext(svg: str) -> str:
    """\\text{정답}: MathJax draws each Hangul letter as its own <text> in a 1 em slot, in
    "serif", which spaces the letters apart; one <text> per run, in the deck's font, reads as
    a word (slides.css sets the font)."""
    def run(m):
        parts = _TEXT.findall(m.group(0))
        text, last = "", None
        for _, transform, letter in parts:
            x = float((re.search(r"translate\(([-\d.]+)", transform) or [0, 0])[1])
            text += (" " if last is not None and x - last > 1001 else "") + letter
            last = x
        return (f'<text data-variant="{parts[0][0]}" transform="{parts[0][1]}" font-size="960px">'
                + html.escape(html.unescape(text), quote=False) + "</text>")
    return re.sub(f"(?:{_TEXT.pattern})+", run, svg)


def build(out: Path, paths: list[Path]) -> list[dict]:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    copy_assets(out)
    math = Math()
    md = markdown(math)
    decks = []
    for number, path in enumerate(paths, 1):
        deck = Deck(path, number, md, out)
        deck.cut(nbformat.read(path, as_version=4))
        decks.append(deck)
    svgs, defs = tex2svg(math)

    def formula(m):
        i = int(m.group(1))
        label = html.escape(math.items[i]["tex"], quote=True)
        return mtext(svgs[i]).replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)

    report = []
    for deck in decks:
        body = re.sub(r"\x00M(\d+)\x00", formula, deck.sections())
        cache = defs.get(str(deck.number - 1), "")
        glyphs = (f'<svg id="MJX-SVG-global-cache" xmlns="http://www.w3.org/2000/svg" aria-hidden="true" '
                  f'style="display:none">{cache}</svg>') if cache else ""
        (out / f"{deck.path.stem}.html").write_text(
            PAGE.format(title=html.escape(deck.chapter), defs=glyphs, sections=body), encoding="utf-8")
        n_math = sum(1 for it in math.items if it["page"] == deck.number - 1)
        report.append({"deck": f"{deck.path.stem}.html", "title": deck.chapter, "slides": len(deck.slides),
                       "sections": sum(s.new_section for s in deck.slides), "figures": deck.figures,
                       "formulas": n_math})
    items = "\n".join(
        f'<li><a href="{r["deck"]}">{html.escape(r["title"])}</a> '
        f'<span class="n">슬라이드 {r["slides"]}장 · 그림 {r["figures"]}개</span></li>' for r in report)
    (out / "index.html").write_text(INDEX.format(items=items), encoding="utf-8")
    (out / "decks.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return report


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "_build" / "slides")
    ap.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/0*.ipynb")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("0*.ipynb"))
    for r in build(args.out, paths):
        print(f"{r['deck']}: {r['slides']} slides ({r['sections']} sections), "
              f"{r['figures']} figures, {r['formulas']} formulas")
    print(f"-> {args.out / 'index.html'}")


if __name__ == "__main__":
    main()
