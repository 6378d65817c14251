"""The published book as readers see it: a local Sphinx extension (_config.yml loads it).

- Everything the site needs is served from the site. Formulas are rendered to SVG at build
  time (web/tex2svg.js, MathJax from npm), so no page loads MathJax; Hangul is drawn with
  NanumGothic woff2 subsets (@fontsource/nanum-gothic, OFL-1.1) from _static/fonts; the
  theme's icons are the few Font Awesome Free SVGs (CC BY 4.0) the pages use, instead of the
  theme's 1.5 MB icon script and its 260 KB icon fonts; the unused Thebe scripts (a CDN
  address) are dropped.
- Korean search: the index holds every eojeol and its Kiwi morphemes, and one particle rule
  (`strip_particle`, the same in Python and in the page's JavaScript) maps "어텐션을" and
  "어텐션" to the same term.
- Stable, readable anchors: a Hangul-only heading gets its slug ("12-빈칸에-가장-자연스러운-단어")
  as its id instead of docutils' "id2", which changes whenever a section is added.
- A Korean interface (footer, search placeholder, theme strings; locale/*.po), and no
  ipywidgets state JSON in the HTML (the static views never read it).

`make book` runs `npm ci` in web/ first; the build fails if web/node_modules is missing.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

from docutils import nodes
from docutils.transforms import Transform
from sphinx.search import SearchLanguage, languages
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
WEB = HERE.parents[1] / "web"
NODE_MODULES = WEB / "node_modules"
FONT_DIR = NODE_MODULES / "@fontsource" / "nanum-gothic"
ICON_DIR = NODE_MODULES / "@fortawesome" / "fontawesome-free" / "svgs"

# --- Korean search ---------------------------------------------------------------------

# Particles and endings a search word may carry, longest first. The same list and rule run
# in the browser (JS_STEMMER below), so a query word and the page word it came from meet.
PARTICLES = sorted({
    "으로부터", "에서부터", "이라는", "에서는", "에게서", "으로는", "으로도", "에서도", "에게는",
    "까지는", "부터는", "처럼", "보다", "에서", "에게", "에는", "에도", "으로", "까지", "부터",
    "이나", "라는", "하고", "과는", "와는", "이란", "이며", "이고", "만큼",
    "을", "를", "은", "는", "이", "가", "의", "에", "와", "과", "도", "만", "로", "란",
}, key=lambda p: (-len(p), p))
_HANGUL = re.compile(r"^[가-힣]+$")
# Kiwi tags kept in the index: nouns, roots, foreign words, numbers, adverbs; verbs and
# adjectives as their dictionary form (높이 + 다).
_CONTENT_TAGS = {"NNG", "NNP", "NNB", "NR", "NP", "SL", "SH", "SN", "XR", "MAG", "MM"}
_PREDICATE_TAGS = {"VV", "VA", "VV-R", "VA-R", "VV-I", "VA-I", "XSV", "XSA"}


def strip_particle(word: str) -> str:
    """The search term of a word: a trailing particle off a Hangul word, if two syllables stay."""
    if _HANGUL.match(word):
        for p in PARTICLES:
            if word.endswith(p) and len(word) - len(p) >= 2:
                return word[: -len(p)]
    return word


JS_STEMMER = """
/* Korean search (book/_ext/lmcb_site.py: strip_particle): the same rule as the index. */
var LMCB_PARTICLES = %s;
var Stemmer = function () {
  this.stemWord = function (w) {
    if (/^[\\uAC00-\\uD7A3]+$/.test(w)) {
      for (var i = 0; i < LMCB_PARTICLES.length; i++) {
        var p = LMCB_PARTICLES[i];
        if (w.length - p.length >= 2 && w.slice(-p.length) === p) return w.slice(0, -p.length);
      }
    }
    return w;
  };
};
""" % json.dumps(PARTICLES, ensure_ascii=False)


class SearchKorean(SearchLanguage):
    """Sphinx search for Korean: eojeol plus Kiwi morphemes, particles stripped on both sides."""

    lang = "ko"
    language_name = "Korean"
    js_stemmer_code = JS_STEMMER
    _kiwi = None

    def init(self, options):
        from kiwipiepy import Kiwi

        if SearchKorean._kiwi is None:
            SearchKorean._kiwi = Kiwi()

    def split(self, input: str) -> list[str]:
        words = self._word_re.findall(input)
        if not any("가" <= ch <= "힣" for ch in input):
            return words
        for tok in self._kiwi.tokenize(input):
            if tok.tag in _CONTENT_TAGS:
                words.append(tok.form)
            elif tok.tag in _PREDICATE_TAGS and tok.tag[:2] in ("VV", "VA"):
                words.append(tok.form + "다")
        return words

    def word_filter(self, word: str) -> bool:
        return len(word) > 1 or bool(_HANGUL.match(word))

    def stem(self, word: str) -> str:
        return strip_particle(word.lower())


# --- stable anchors ----------------------------------------------------------------------

_AUTO_ID = re.compile(r"^id\d+$")


class StableSectionIds(Transform):
    """Give each section whose id is docutils' counter ("id7") its MyST slug as first id.

    Runs before MyST resolves `[..](#slug)` links (priority 879) and before Sphinx collects
    the table of contents, so links, the page's contents and the ¶ marks all use the slug.
    """

    default_priority = 870

    def apply(self, **kwargs):
        doc = self.document
        slugs = getattr(doc, "myst_slugs", None) or {}
        for section in doc.findall(nodes.section):
            ids = section["ids"]
            slug = section.get("slug")
            if not ids or not _AUTO_ID.match(ids[0]) or not slug or slug in doc.ids:
                continue
            ids.insert(0, slug)
            doc.ids[slug] = section
            if slug in slugs:
                line, _, title = slugs[slug]
                slugs[slug] = (line, slug, title)
        env = doc.settings.env if hasattr(doc.settings, "env") else None
        if env is not None and slugs and "myst_slugs" in env.metadata.get(env.docname, {}):
            env.metadata[env.docname]["myst_slugs"] = slugs


# --- formulas as SVG ---------------------------------------------------------------------

_MATH = re.compile(r'<(span|div) class="math notranslate nohighlight"([^>]*)>(.*?)</\1>', re.S)
_EQNO = re.compile(r'^\s*(<span class="eqno">.*?</span>)', re.S)


def _tex_of(inner: str) -> tuple[str, bool] | None:
    tex = html.unescape(inner).strip()
    if tex.startswith("\\(") and tex.endswith("\\)"):
        return tex[2:-2], False
    if tex.startswith("\\[") and tex.endswith("\\]"):
        return tex[2:-2], True
    if tex.startswith("\\begin{"):
        return tex, True
    return None


def render_math(pages: list[Path]) -> int:
    """Replace the TeX of every formula in `pages` with MathJax's SVG; return how many."""
    found = []  # (page, match start, match end, replacement parts)
    items = []
    texts = {p: p.read_text(encoding="utf-8") for p in pages}
    for number, (page, text) in enumerate(texts.items()):
        for m in _MATH.finditer(text):
            tag, attrs, inner = m.groups()
            eqno = ""
            e = _EQNO.match(inner)
            if e:
                eqno, inner = e.group(1), inner[e.end():]
            tex = _tex_of(inner)
            if tex is None:
                raise RuntimeError(f"{page}: a math element without TeX delimiters: {inner[:80]!r}")
            found.append((page, m.start(), m.end(), tag, attrs, eqno, tex[0]))
            items.append({"page": number, "tex": tex[0], "display": tex[1]})
    if not items:
        return 0
    res = subprocess.run(["node", str(WEB / "tex2svg.js")], input=json.dumps(items), text=True,
                         capture_output=True, check=False)
    if res.returncode:
        raise RuntimeError(f"web/tex2svg.js failed: {res.stderr.strip()}")
    result = json.loads(res.stdout)
    by_page: dict[Path, list] = {}
    for f, svg in zip(found, result["svgs"]):
        by_page.setdefault(f[0], []).append((*f[1:], svg))
    numbers = {page: str(i) for i, page in enumerate(texts)}
    for page, subs in by_page.items():
        text, out, pos = texts[page], [], 0
        # the page's glyph shapes, once; its formulas <use> them
        defs = ('<svg id="MJX-SVG-global-cache" xmlns="http://www.w3.org/2000/svg" aria-hidden="true" '
                f'style="display:none">{result["defs"][numbers[page]]}</svg>')
        body = re.search(r"<body[^>]*>", text)
        text = text[: body.end()] + defs + text[body.end():]
        subs = [(start + len(defs), end + len(defs), *rest) if start > body.end() else (start, end, *rest)
                for start, end, *rest in subs]
        for start, end, tag, attrs, eqno, tex, svg in subs:
            label = html.escape(tex, quote=True)
            svg = svg.replace("<svg ", f'<svg aria-label="{label}" ', 1)
            out += [text[pos:start], f'<{tag} class="math lmcb-math"{attrs}>{eqno}{svg}</{tag}>']
            pos = end
        out.append(text[pos:])
        page.write_text("".join(out), encoding="utf-8")
    return len(items)


# --- icons, fonts, scripts ----------------------------------------------------------------

_ICON_CLASS = re.compile(r"\bfa-([a-z0-9-]+)")
_ICON_MODIFIERS = {"solid", "regular", "brands", "lg", "xs", "sm", "fw", "2x", "3x", "spin", "pulse",
                   "border", "inverse", "li", "ul", "stack", "stack-1x", "stack-2x", "xl", "2xl"}


def icon_script(sources: list[str]) -> str:
    """A small script drawing the Font Awesome icons that `sources` name, from their SVGs."""
    icons = {}
    for src in sources:
        for cls in re.findall(r'class="([^"]*\bfa-[^"]*)"', src) + re.findall(r'"(fa-(?:solid|brands|regular) fa-[a-z0-9-]+)', src):
            names = [n for n in _ICON_CLASS.findall(cls) if n not in _ICON_MODIFIERS]
            style = "brands" if re.search(r"\b(fab|fa-brands)\b", cls) else \
                    "regular" if re.search(r"\b(far|fa-regular)\b", cls) else "solid"
            for name in names:
                path = ICON_DIR / style / f"{name}.svg"
                if not path.is_file():
                    continue  # a class that is not an icon name
                svg = path.read_text(encoding="utf-8")
                box = re.search(r'viewBox="([^"]+)"', svg).group(1)
                d = re.search(r'<path d="([^"]+)"', svg).group(1)
                icons[name] = [box, d]
    data = json.dumps(dict(sorted(icons.items())), separators=(",", ":"))
    return ("/* The theme's icons: Font Awesome Free 6.5.2 SVGs (CC BY 4.0), only those used. */\n"
            "(function () {\n  var I = " + data + ";\n"
            "  function draw(root) {\n"
            "    root.querySelectorAll('i[class*=\"fa-\"], span[class*=\"fa-\"]').forEach(function (el) {\n"
            "      if (el.querySelector('svg')) return;\n"
            "      var m = (el.className.baseVal || el.className).match(/\\bfa-([a-z0-9-]+)/g) || [];\n"
            "      for (var k = 0; k < m.length; k++) {\n"
            "        var icon = I[m[k].slice(3)];\n"
            "        if (!icon) continue;\n"
            "        el.innerHTML = '<svg class=\"lmcb-icon\" aria-hidden=\"true\" viewBox=\"' + icon[0] +\n"
            "          '\"><path fill=\"currentColor\" d=\"' + icon[1] + '\"></path></svg>';\n"
            "        return;\n"
            "      }\n"
            "    });\n"
            "  }\n"
            "  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { draw(document); });\n"
            "  else draw(document);\n"
            "  new MutationObserver(function () { draw(document); }).observe(document.documentElement, {childList: true, subtree: true});\n"
            "})();\n")


def write_fonts(static: Path) -> None:
    """NanumGothic 400 as woff2 unicode-range subsets (a page loads the few it uses), and the CSS.

    Bold is drawn from the same font by the browser: the 700 files would add about 240 KB to
    a chapter page, a sixth of its budget.
    """
    if not FONT_DIR.is_dir():
        raise RuntimeError(f"{FONT_DIR} is missing: run `npm ci` in web/ (make book does)")
    fonts = static / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    css = []
    for weight in ("400",):
        text = (FONT_DIR / f"{weight}.css").read_text(encoding="utf-8")
        for block in re.findall(r"@font-face\s*{.*?}", text, re.S):
            woff2 = re.search(r"url\(\./files/([^)]+\.woff2)\)", block).group(1)
            shutil.copyfile(FONT_DIR / "files" / woff2, fonts / woff2)
            block = re.sub(r"src:[^;]+;", f"src: url(fonts/{woff2}) format('woff2');", block)
            css.append(re.sub(r"\s*\n\s*", "", block))
    licence = (FONT_DIR / "LICENSE").read_text(encoding="utf-8")
    (fonts / "LICENSE-NanumGothic.txt").write_text(licence, encoding="utf-8")
    (static / "lmcb-fonts.css").write_text(
        "/* NanumGothic (SIL OFL 1.1, fonts/LICENSE-NanumGothic.txt), from @fontsource/nanum-gothic. */\n"
        + "\n".join(css) + "\n", encoding="utf-8")


_DROP = [
    re.compile(r'\s*<script>const THEBE_JS_URL = [^<]*</script>'),
    re.compile(r'\s*<script[^>]*src="[^"]*_static/sphinx-thebe\.js[^"]*"></script>'),
    re.compile(r'\s*<link[^>]*href="[^"]*_static/sphinx-thebe\.css[^"]*"\s*/?>'),
    re.compile(r'\s*<link rel="preload" as="script" href="[^"]*_static/scripts/fontawesome\.js[^"]*"\s*/?>'),
]
# Sphinx's search scripts and the 300 KB index: only the search page uses them (the theme's
# search field sends the query there; no search-as-you-type).
_SEARCH_SCRIPTS = re.compile(
    r'\s*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)"></script>')
# Font Awesome's 1,900 `.fa-x:before{content:...}` rules in the theme's CSS: the icons are SVG here.
_ICON_RULES = re.compile(r'(?:\.fa-[a-z0-9-]+:(?:before|after),?)+\{content:"[^"]*"\}')
# sphinx-design's 62 KB of CSS and JS, on pages that use none of its components
_DESIGN = re.compile(r'\s*<(?:link[^>]*href="[^"]*_static/sphinx-design\.min\.css[^"]*"[^>]*|'
                     r'script[^>]*src="[^"]*_static/design-tabs\.js[^"]*"></script)>')
# Interface strings the themes write in English without a catalog entry
_UI_KO = {
    'title="Toggle primary sidebar"': 'title="사이트 탐색 열기·닫기"',
    'title="Toggle secondary sidebar"': 'title="이 페이지의 내용 열기·닫기"',
    'aria-label="Main"': 'aria-label="책의 차례"',
    'aria-label="Page"': 'aria-label="페이지"',
    'alt="Colab logo"': 'alt="Colab 로고"',
}
_FIGURE = re.compile(r'<img ([^>]*?)style="width: (\d+)px; height: (\d+)px;"([^>]*)>')


def _figure_size(m: re.Match) -> str:
    """A figure (a 2x PNG given its 1x size) keeps its shape on a narrow screen: it shrinks to
    the column, but not below 0.6 of its size (about 8 px tick labels); then it scrolls."""
    before, w, h, after = m.groups()
    if "_images/" not in before + after:
        return m.group(0)
    before = re.sub(r'alt="[^"]*_images/[^"]*"', 'alt="코드 셀이 그린 그림"', before)
    return (f'<img {before}width="{w}" height="{h}" class="lmcb-figure" '
            f'style="width: {w}px; max-width: max(100%, {round(0.6 * int(w))}px); height: auto;"{after}>')


_FONTAWESOME = re.compile(r'<script defer src="([^"]*)_static/scripts/fontawesome\.js[^"]*"></script>')


def finish_pages(app, exception):
    """After the HTML is written: formulas to SVG, own icons instead of the icon script, no Thebe."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    pages = sorted(out.rglob("*.html"))
    pages = [p for p in pages if "_static" not in p.parts and "wheels" not in p.parts]
    n = render_math(pages)
    sources = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for pat in _DROP:
            text = pat.sub("", text)
        text = _FIGURE.sub(_figure_size, text)
        for en, ko in _UI_KO.items():
            text = text.replace(en, ko)
        text = _FONTAWESOME.sub(r'<script defer src="\1_static/lmcb-icons.js"></script>', text)
        if not re.search(r'class="[^"]*\bsd-', text):
            text = _DESIGN.sub("", text)
        if page.name != "search.html" or page.parent != out:
            text = _SEARCH_SCRIPTS.sub("", text)
        page.write_text(text, encoding="utf-8")
        sources.append(text)
    for js in (out / "_static" / "scripts").glob("*.js"):
        if js.name != "fontawesome.js":
            sources.append(js.read_text(encoding="utf-8"))
    (out / "_static" / "lmcb-icons.js").write_text(icon_script(sources), encoding="utf-8")
    theme_css = out / "_static" / "styles" / "pydata-sphinx-theme.css"
    theme_css.write_text(_ICON_RULES.sub("", theme_css.read_text(encoding="utf-8")), encoding="utf-8")
    for stale in ("scripts/fontawesome.js", "scripts/fontawesome.js.map", "sphinx-thebe.js", "sphinx-thebe.css"):
        (out / "_static" / stale).unlink(missing_ok=True)
    logger.info(f"lmcb_site: {n} formulas rendered to SVG; icons, fonts and scripts served locally")


# --- configuration ---------------------------------------------------------------------

def drop_widget_state(app, env):
    """The saved ipywidgets state: nothing on a static page reads it (lmlib.widgets ships HTML)."""
    from myst_nb.sphinx_ import NbMetadataCollector

    for data in NbMetadataCollector.get_doc_data(env).values():
        js = data.get("js_files", {})
        for key in [k for k in js if k.startswith("ipywidgets")]:
            del js[key]


def configure(app, config):
    build_static = Path(app.outdir).parent / ".lmcb-static"
    write_fonts(build_static)
    config.html_static_path = list(config.html_static_path) + [str(HERE / "static"), str(build_static)]
    config.templates_path = list(config.templates_path) + [str(HERE / "templates")]
    config.html_theme_options.update({
        "search_bar_text": "이 책에서 검색…",
        "footer_content_items": ["lmcb-footer.html"],
    })
    config.html_context = {**config.html_context, "default_mode": "auto", "lmcb_author": config.author}


def compile_catalogs(app):
    """locale/ko/*.po -> .mo under _build, registered as the theme strings' Korean fallbacks."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    target = Path(app.outdir).parent / ".lmcb-locale"
    for po in sorted((HERE / "locale" / "ko" / "LC_MESSAGES").glob("*.po")):
        mo = target / "ko" / "LC_MESSAGES" / (po.stem + ".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f, locale="ko")
        with mo.open("wb") as f:
            write_mo(f, catalog)
        app.add_message_catalog(po.stem, str(target))


def setup(app):
    languages["ko"] = SearchKorean
    app.setup_extension("sphinx.ext.mathjax")  # its HTML visitors; its script is never added
    from sphinx.ext.mathjax import html_visit_displaymath, html_visit_math

    app.add_html_math_renderer("lmcb_svg", (html_visit_math, None), (html_visit_displaymath, None))
    app.add_transform(StableSectionIds)
    app.connect("config-inited", configure)
    app.connect("builder-inited", compile_catalogs)
    app.connect("env-updated", drop_widget_state)
    app.connect("build-finished", finish_pages)
    app.add_css_file("lmcb-fonts.css")
    app.add_css_file("lmcb.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
