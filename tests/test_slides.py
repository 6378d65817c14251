"""The lecture slides (scripts/slides.py, `make slides`) in headless Chromium.

`make test-slides` builds the decks and runs this file; under `make test` it runs when
_build/slides exists and skips otherwise (a fresh clone has no decks).

Each chapter's deck is served from 127.0.0.1, every request to another host is blocked and
fails the test, and the deck is opened at 1280x720 (a projector). It must show no console or
page error, reveal.js ready, and at least 10 slides; the test pages through every slide with
Reveal.next() to the last one (the chapter's 정리), and on each slide checks that the content
fits the slide (after the deck's own shrink-to-fit, which may not go below 0.55) and no
element reaches past the viewport, no formula left as TeX and every formula an SVG, no raw
Markdown or MyST role (`**`, `](`, `{cite`), and figures loaded. Hangul is drawn in NanumGothic from the deck's folder. Screenshots of the
title, the first figure, table, view and shrunk slide, and the last slide of each deck go to
_build/slides-test/ (with report.json: slide counts, shrunk slides, formulas, figures).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest
from helpers import RAW_MARKUP, RAW_TEX, serve_folder

ROOT = Path(__file__).resolve().parents[1]
SLIDES = ROOT / "_build" / "slides"
REPORT = ROOT / "_build" / "slides-test"

if not (SLIDES / "index.html").is_file():
    pytest.skip("the slides are not built: `make test-slides` builds them and runs these tests",
                allow_module_level=True)

DECKS = sorted(p.name for p in SLIDES.glob("0*.html"))
CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb"))
VIEWPORT = {"width": 1280, "height": 720}
MIN_SLIDES = 10
RAW_TEX = [*RAW_TEX, "\\text{"]


@pytest.fixture(scope="module")
def site():
    with serve_folder(SLIDES) as url:
        yield url


class Visit:
    """One deck in a fresh browser context, with what it requested and logged."""

    def __init__(self, browser, url):
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20000)
        self.remote, self.errors = [], []
        self.context.route("**/*", self._route)
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.errors.append(f"console {m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} {r.failure}"))
        self.page.goto(url, wait_until="load")
        self.page.evaluate("document.fonts.ready.then(() => true)")

    def _route(self, route):
        url = route.request.url
        if url.startswith("data:") or urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.remote.append(url)
            route.abort()

    def close(self):
        self.context.close()


# What one slide shows, measured after the deck's shrink-to-fit ran on it.
SLIDE_CHECKS = r"""() => {
  const slide = Reveal.getCurrentSlide();
  const body = slide.querySelector(':scope > .slide-body');
  const cfg = Reveal.getConfig();
  const clipped = e => { for (let a = e.parentElement; a && a !== body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; }
    return false; };
  const wide = [];
  body.querySelectorAll('*').forEach(e => {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || getComputedStyle(e).visibility === 'hidden' || e.closest('#MJX-SVG-global-cache')) return;
    if ((r.right > innerWidth + 1 || r.left < -1 || r.bottom > innerHeight + 1) && !clipped(e))
      wide.push(`${e.tagName}.${e.className && e.className.baseVal === undefined ? e.className : ''} ${Math.round(r.left)}..${Math.round(r.right)} x ..${Math.round(r.bottom)}`);
  });
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, svg').forEach(e => e.remove());
  const maths = Array.from(body.querySelectorAll('.math'));
  const imgs = Array.from(body.querySelectorAll('img'));
  const idx = Reveal.getIndices();
  return {
    h: idx.h, v: idx.v || 0, kind: slide.className.split(' ')[0],
    title: (body.querySelector('h1, h2') || {}).textContent || '',
    fit: +(slide.dataset.fit || 1),
    overflowH: body.scrollHeight - cfg.height, overflowW: body.scrollWidth - cfg.width,
    wide: wide.slice(0, 5), text: clone.textContent,
    math: maths.length, mathWithoutSvg: maths.filter(m => !m.querySelector('svg')).length,
    images: imgs.map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0})),
    tables: body.querySelectorAll('.table table').length,
  };
}"""


@pytest.fixture(scope="module")
def slides_report():
    shutil.rmtree(REPORT, ignore_errors=True)
    report = {}
    yield report
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True),
                                        encoding="utf-8")


def test_one_deck_per_chapter_and_an_index():
    assert [d[:-5] for d in DECKS] == CHAPTERS
    index = (SLIDES / "index.html").read_text(encoding="utf-8")
    hrefs = [index.find(f'href="{d}"') for d in DECKS]
    assert all(h > 0 for h in hrefs) and hrefs == sorted(hrefs), "the index lists the decks in chapter order"
    for name in ["reveal.js/dist/reveal.js", "reveal.js/dist/reveal.css", "reveal.js/plugin/zoom/zoom.js",
                 "lmcb-fonts.css", "slides.css", "slides.js"]:
        assert (SLIDES / name).is_file(), name
    assert list((SLIDES / "fonts").glob("*.woff2"))


def test_no_remote_urls_in_the_decks():
    for d in DECKS:
        s = (SLIDES / d).read_text(encoding="utf-8")
        assert "cdn.jsdelivr.net" not in s and "unpkg.com" not in s and "cdnjs" not in s, d
        assert "<h2>연습문제" not in s, f"{d}: the exercises are not in the slides"


@pytest.mark.parametrize("deck", DECKS)
def test_deck(_chromium, site, slides_report, deck):
    visit = Visit(_chromium, site + deck)
    page = visit.page
    seen, shots = [], []
    try:
        page.wait_for_function("window.Reveal && Reveal.isReady()")
        total = page.evaluate("Reveal.getTotalSlides()")
        font = page.evaluate("""() => ({check: document.fonts.check('28px "Nanum Gothic"', '확률과 언어 모델'),
            family: getComputedStyle(document.querySelector('.reveal')).fontFamily,
            loaded: Array.from(document.fonts).filter(f => f.family.replace(/"/g, '') === 'Nanum Gothic'
              && f.status === 'loaded').length})""")
        REPORT.mkdir(parents=True, exist_ok=True)
        table_shot = False
        for step in range(total + 5):
            got = page.evaluate(SLIDE_CHECKS)
            seen.append(got)
            stem = deck[:-5]
            first = {k: not any(k == s["kind"] for s in seen[:-1]) for k in ("figure", "widget")}
            shrunk = got["fit"] < 1 and not any(s["fit"] < 1 for s in seen[:-1])
            if step == 0 or (got["kind"] in first and first[got["kind"]]) or shrunk \
                    or (got["tables"] and not table_shot and got["overflowW"] > -400):
                table_shot = table_shot or bool(got["tables"])
                tag = "shrunk" if shrunk else "table" if got["tables"] else got["kind"]
                shots.append(REPORT / f"{stem}-{step:02d}-{tag}.png")
                page.screenshot(path=str(shots[-1]))
            if page.evaluate("Reveal.isLastSlide()"):
                shots.append(REPORT / f"{stem}-{step:02d}-last.png")
                page.screenshot(path=str(shots[-1]))
                break
            page.evaluate("Reveal.next()")
        last = page.evaluate("Reveal.isLastSlide()")
        slides_report[deck] = {"slides": total, "visited": len(seen), "font": font,
                               "shrunk": {f"{s['h']}.{s['v']}": s["fit"] for s in seen if s["fit"] < 1},
                               "formulas": sum(s["math"] for s in seen),
                               "figures": sum(len(s["images"]) for s in seen)}
    finally:
        visit.close()

    assert visit.remote == [], f"requests to other hosts: {visit.remote}"
    assert visit.errors == [], f"errors: {visit.errors}"
    assert total >= MIN_SLIDES, f"{deck}: {total} slides"
    assert last and len(seen) == total, f"{deck}: paged {len(seen)} of {total} slides, last reached: {last}"
    assert "정리" in seen[-1]["title"], f"the deck ends with the chapter's 정리, not {seen[-1]['title']!r}"
    assert font["check"] and font["loaded"] and font["family"].startswith('"Nanum Gothic"'), font
    assert not [s for s in seen if "연습문제" in s["title"]], "the exercises are not in the slides"
    for s in seen:
        where = f"{deck} slide {s['h']}.{s['v']} {s['title'][:40]!r}"
        assert s["overflowH"] <= 1 and s["overflowW"] <= 1, \
            f"{where}: content does not fit the slide (+{s['overflowW']} px wide, +{s['overflowH']} px high at {s['fit']})"
        assert s["wide"] == [], f"{where}: elements past the viewport: {s['wide']}"
        assert s["mathWithoutSvg"] == 0, f"{where}: formulas not rendered"
        assert not [t for t in RAW_TEX if t in s["text"]], f"{where}: raw TeX on the slide"
        raw = [s["text"][max(0, m.start() - 30): m.end() + 30] for m in RAW_MARKUP.finditer(s["text"])]
        assert not raw, f"{where}: raw markup on the slide: {raw}"
        assert all(i["ok"] for i in s["images"]), f"{where}: figure did not load: {s['images']}"
    assert any(s["images"] for s in seen), f"{deck}: no figure"
