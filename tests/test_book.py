"""The built book as readers see it, in headless Chromium (Debian's /usr/bin/chromium).

`make test-book` builds the book and runs this file; under `make test` it runs when
_build/html exists and skips otherwise (a fresh clone has no built book).

The site is served from 127.0.0.1 and every request to another host is blocked and fails
the test (a classroom network, a saved copy). Every page is opened at 1366x900 and at
390x844, in light and dark mode, and must show: no console or page error, no formula left
as TeX, no raw Markdown (`**`, `](`, `{cite`), figures that loaded at 2x and stay at least
0.6 of their size on a phone, Korean interface strings, one search field, `word-break:
keep-all`, readable text in every lmlib view and no view wider than the phone, no code or
output that scrolls sideways on the phone. Chapter pages
weigh at most 1.5 MB with all they load. Korean search finds words with particles.
"""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import pytest
from helpers import RAW_MARKUP, RAW_TEX, serve_folder

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "_build" / "html"
REPORT = ROOT / "_build" / "book-test"

if not (BOOK / "book" / "intro.html").is_file():
    pytest.skip("the book is not built: `make test-book` builds it and runs these tests",
                allow_module_level=True)

PAGES = sorted(str(p.relative_to(BOOK)) for p in BOOK.rglob("*.html")
               if not {"_static", "wheels", "_sources"} & set(p.parts) and p.name != "index.html")
CHAPTERS = [p for p in PAGES if p.startswith("notebooks/")]
VIEWS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
MAX_PAGE_BYTES = 1_500_000
ENGLISH_UI = ["Search this book", "Skip to main content", "Back to top", "previous page", "next page",
              "Launch on", "On this page", "Color mode", "System Settings", "Copyright",
              "Toggle primary sidebar", "Toggle secondary sidebar", "Link to this heading", "Colab logo"]
@pytest.fixture(scope="module")
def site():
    """The built book over HTTP on 127.0.0.1 (file:// would hide what a web server changes)."""
    with serve_folder(BOOK) as url:
        yield url


class Visit:
    """One page load in a fresh browser context: what it requested, logged and weighed."""

    def __init__(self, browser, url, view="desktop", scheme="light"):
        self.context = browser.new_context(viewport=VIEWS[view], color_scheme=scheme,
                                           device_scale_factor=2 if view == "phone" else 1)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20000)
        self.remote, self.errors, self.bytes = [], [], {}
        self.context.route("**/*", self._route)
        self.page.on("console", lambda m: m.type in ("error", "warning") and self.errors.append(f"console {m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} {r.failure}"))
        self.page.on("response", self._weigh)
        self.open, self.last_activity = set(), time.monotonic()
        self.page.on("request", self._started)
        self.page.on("requestfinished", self._ended)
        self.page.on("requestfailed", self._ended)
        self.page.goto(url, wait_until="load")
        self.page.evaluate("document.fonts.ready.then(() => true)")
        self.settle()

    def _started(self, request):
        self.open.add(request)
        self.last_activity = time.monotonic()

    def _ended(self, request):
        self.open.discard(request)
        self.last_activity = time.monotonic()

    def settle(self, quiet=0.5, timeout=60.0):
        """Wait until no request has been open for `quiet` seconds.

        Playwright's "networkidle" timed out at random on CI (5 of 85 pages, each a different
        one), a known weakness of that state; this counts the page's own requests instead."""
        deadline = time.monotonic() + timeout
        while self.open or time.monotonic() - self.last_activity < quiet:
            if time.monotonic() > deadline:
                raise AssertionError(f"requests still open after {timeout:.0f} s: {sorted(r.url for r in self.open)}")
            self.page.wait_for_timeout(100)

    def _route(self, route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith("data:") or host == "127.0.0.1":
            route.continue_()
        else:
            self.remote.append(route.request.url)
            route.abort()

    def _weigh(self, response):
        """The bytes of a response, from the file the local server sent (the server sends files
        as they are, uncompressed); asking Chromium for the body inside the event handler could
        block the handler. data: URLs are part of the page that holds them."""
        url = urlparse(response.url)
        if url.scheme == "data" or response.status != 200:
            return
        path = BOOK / unquote(url.path).lstrip("/")
        if path.is_dir():
            path = path / "index.html"
        if path.is_file():
            self.bytes[response.url] = path.stat().st_size

    def close(self):
        self.context.close()


def article_text(rel: str) -> str:
    """The text of a page's article, from the HTML file (no code cells)."""
    s = (BOOK / rel).read_text(encoding="utf-8")
    a, b = s.find('<article class="bd-article"'), s.find("</article>")
    s = s[a:b]
    s = re.sub(r"<(script|style|pre|svg)\b.*?</\1>", " ", s, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", s))


PAGE_CHECKS = r"""() => {
  const art = document.querySelector('article.bd-article') || document.querySelector('main');
  const clone = art.cloneNode(true);
  clone.querySelectorAll('pre, code, .highlight, script, style, svg, .cell_input').forEach(e => e.remove());
  const visible = e => { const r = e.getBoundingClientRect(); const cs = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none'; };
  const chrome = ['.bd-header', '.bd-sidebar-primary', '.bd-sidebar-secondary', '.bd-footer', '.footer-article',
    '.prev-next-area', '.header-article', '#pst-back-to-top', '.skip-link']
    .flatMap(s => Array.from(document.querySelectorAll(s)));
  const chromeText = chrome.map(e => e.innerText || '').join('\n') + '\n' +
    Array.from(document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]'))
      .map(e => [e.placeholder, e.title, e.getAttribute('aria-label'), e.alt].filter(Boolean).join('\n')).join('\n');
  const images = Array.from(art.querySelectorAll('.cell_output img')).map(img => ({
    src: img.getAttribute('src').slice(-20), complete: img.complete, natural: img.naturalWidth,
    shown: img.getBoundingClientRect().width, attr: +img.getAttribute('width') || 0}));
  const maths = Array.from(art.querySelectorAll('.math'));
  const p = art.querySelector('p');
  return {
    text: clone.textContent, chromeText, images,
    math: maths.length, mathWithoutSvg: maths.filter(m => !m.querySelector('svg')).length,
    searchFields: Array.from(document.querySelectorAll('.search-button-field, form.bd-search, .search-button'))
      .filter(visible).length,
    wordBreak: p ? getComputedStyle(p).wordBreak : 'keep-all',
    fontFamily: getComputedStyle(document.body).fontFamily,
    hangulFont: document.fonts.check('16px "Nanum Gothic"', '확률'),
    viewport: window.innerWidth,
    scrolledPre: Array.from(art.querySelectorAll('pre')).filter(e => e.scrollWidth > e.clientWidth + 1)
      .map(e => e.textContent.split('\n').reduce((a, l) => l.length > a.length ? l : a, '').slice(0, 60)),
  };
}"""

VIEW_CHECKS = r"""() => {
  const lum = c => { const v = c.match(/[\d.]+/g).slice(0, 3).map(x => { x = x / 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const alpha = c => { const m = c.match(/[\d.]+/g); return m.length > 3 ? +m[3] : 1; };
  const bgOf = e => { for (; e; e = e.parentElement) { const b = getComputedStyle(e).backgroundColor;
      if (alpha(b) > 0.5) return b; } return 'rgb(255, 255, 255)'; };
  const out = [];
  document.querySelectorAll('.lmcb-widget').forEach(root => {
    const box = root.getBoundingClientRect();
    const bad = [], wide = [];
    root.querySelectorAll('*').forEach(e => {
      const own = Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
      const r = e.getBoundingClientRect();
      if (!own || r.width === 0 || getComputedStyle(e).visibility === 'hidden') return;
      const fg = getComputedStyle(e).color, bg = bgOf(e);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      // heatmap cells carry their own colours; disabled controls are exempt (as in WCAG)
      if (ratio < 3 && !e.closest('td') && !e.closest('[disabled]')) bad.push(`${e.className || e.tagName} '${e.textContent.trim().slice(0, 20)}' ${fg} on ${bg}: ${ratio.toFixed(2)}`);
      if (!e.closest('.lmcb-att-scroll') && r.right > box.right + 1) wide.push(`${e.className} '${e.textContent.trim().slice(0, 20)}'`);
    });
    out.push({kind: root.className, right: box.right, bad, wide});
  });
  return out;
}"""


@pytest.fixture(scope="module")
def pages_report():
    report = {}
    yield report
    REPORT.mkdir(parents=True, exist_ok=True)
    (REPORT / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True),
                                        encoding="utf-8")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("rel", PAGES)
def test_page(_chromium, site, pages_report, rel, view, scheme):
    visit = Visit(_chromium, site + quote(rel), view, scheme)
    try:
        page = visit.page
        assert page.evaluate("document.documentElement.dataset.theme") == scheme
        got = page.evaluate(PAGE_CHECKS)
        shot = REPORT / f"{rel.replace('/', '_')[:-5]}-{view}-{scheme}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=False)
        views = page.evaluate(VIEW_CHECKS)
        weight = sum(visit.bytes.values())
        pages_report[f"{rel} {view} {scheme}"] = {"bytes": weight, "requests": len(visit.bytes),
                                                  "formulas": got["math"], "figures": len(got["images"])}
    finally:
        visit.close()

    assert visit.remote == [], f"requests to other hosts: {visit.remote}"
    assert visit.errors == [], f"errors: {visit.errors}"
    assert got["mathWithoutSvg"] == 0, f"{got['mathWithoutSvg']} formulas not rendered"
    assert not [t for t in RAW_TEX if t in got["text"]], "raw TeX on the page"
    leftovers = [got["text"][max(0, m.start() - 30): m.end() + 30] for m in RAW_MARKUP.finditer(got["text"])]
    assert not leftovers, f"raw markup on the page: {leftovers}"
    assert not [s for s in ENGLISH_UI if s in got["chromeText"]], \
        f"English interface strings: {[s for s in ENGLISH_UI if s in got['chromeText']]}"
    assert got["searchFields"] <= (2 if rel == "search.html" else 1), f"{got['searchFields']} search fields shown"
    assert got["wordBreak"] == "keep-all"
    assert got["fontFamily"].startswith('"Nanum Gothic"') and got["hangulFont"], got["fontFamily"]
    for img in got["images"]:
        assert img["complete"] and img["natural"] > 0, f"figure did not load: {img}"
        assert img["attr"] and abs(img["natural"] - 2 * img["attr"]) <= 2, f"figure is not 2x: {img}"
        assert img["shown"] >= min(0.6 * img["attr"], got["viewport"]) - 1, f"figure too small to read: {img}"
    for v in views:
        assert v["bad"] == [], f"unreadable text in {v['kind']} ({scheme}): {v['bad'][:5]}"
        assert v["wide"] == [] and v["right"] <= got["viewport"] + 1, f"{v['kind']} wider than the page: {v['wide'][:5]}"
    if view == "phone":
        assert got["scrolledPre"] == [], f"code that scrolls sideways on a phone: {got['scrolledPre'][:3]}"
    if rel in CHAPTERS:
        assert weight <= MAX_PAGE_BYTES, f"{rel} weighs {weight:,} bytes with its assets"


def test_no_widget_state_or_remote_urls_in_the_html():
    for rel in PAGES:
        s = (BOOK / rel).read_text(encoding="utf-8")
        assert "application/vnd.jupyter.widget-state+json" not in s, rel
        assert "cdn.jsdelivr.net" not in s and "unpkg.com" not in s, rel


def test_the_student_book_has_no_solutions():
    # the answer key is built only into the instructor's edition (make book INSTRUCTOR=1)
    assert not (BOOK / "instructor").exists()
    for rel in PAGES:
        s = (BOOK / rel).read_text(encoding="utf-8")
        assert "풀이 보기" not in s and "연습문제 풀이 (교사용)" not in s, rel


def test_lecture_map_anchors_are_stable_and_resolve():
    s = (BOOK / "book" / "lecture_map.html").read_text(encoding="utf-8")
    links = re.findall(r'href="\.\./(notebooks/[^"#]+\.html)#([^"]+)"', s)
    assert len(links) >= 30
    for target, anchor in links:
        anchor = html.unescape(anchor)
        assert not re.fullmatch(r"id\d+", anchor), f"unstable anchor #{anchor} -> {target}"
        page = (BOOK / target).read_text(encoding="utf-8")
        assert f'id="{anchor}"' in page, f"#{anchor} is not in {target}"


def test_slp3_link_keeps_its_tilde():
    s = (BOOK / "book" / "references.html").read_text(encoding="utf-8")
    assert 'href="https://web.stanford.edu/~jurafsky/slp3/"' in s


SEARCH_WORDS = ["어텐션", "빈칸", "퍼플렉서티", "확률", "교사 강요"]


@pytest.mark.parametrize("word", SEARCH_WORDS)
def test_korean_search_finds_words_with_particles(_chromium, site, pages_report, word):
    pattern = re.compile(r"(?<![가-힣])" + re.escape(word))
    want = {rel for rel in PAGES if rel not in ("search.html", "genindex.html") and pattern.search(article_text(rel))}
    assert want, word
    visit = Visit(_chromium, site + "search.html?q=" + quote(word))
    try:
        visit.page.wait_for_selector("#search-results .search-summary", timeout=30000)
        hrefs = visit.page.eval_on_selector_all("#search-results ul.search li a:first-child",
                                                "as => as.map(a => a.getAttribute('href'))")
    finally:
        visit.close()
    found = {h.split("?")[0].split("#")[0] for h in hrefs}
    pages_report[f"search {word}"] = {"found": len(found & want), "pages": len(want)}
    assert want <= found, f"{word!r}: search missed {sorted(want - found)}"
    assert visit.errors == [] and visit.remote == []
