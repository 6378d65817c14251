"""Unit tests of the book's site extension (book/_ext/lmcb_site.py), no book build needed."""

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import lmcb_site  # noqa: E402

WORDS = ["어텐션", "어텐션을", "어텐션에는", "어텐션으로", "확률", "확률을", "확률의", "교사", "강요를",
         "퍼플렉서티가", "빈칸에", "길이", "고양이", "말이", "GPT를", "BERT", "2018년", "모델이다"]


def test_strip_particle():
    assert lmcb_site.strip_particle("어텐션에는") == "어텐션"
    assert lmcb_site.strip_particle("어텐션을") == "어텐션"
    assert lmcb_site.strip_particle("퍼플렉서티가") == "퍼플렉서티"
    assert lmcb_site.strip_particle("확률을") == "확률"
    assert lmcb_site.strip_particle("길이") == "길이"  # one syllable would be left: kept whole
    assert lmcb_site.strip_particle("말이") == "말이"
    assert lmcb_site.strip_particle("GPT를") == "GPT를"  # not all Hangul: left alone


def test_the_page_strips_particles_exactly_as_the_index(browser_page):
    page = browser_page.open_html("<p>stemmer</p>")
    got = page.evaluate("words => { " + lmcb_site.JS_STEMMER +
                        " const s = new Stemmer(); return words.map(w => s.stemWord(w)); }", WORDS)
    assert got == [lmcb_site.strip_particle(w) for w in WORDS]


def test_index_words_include_morphemes():
    pytest.importorskip("kiwipiepy")
    lang = lmcb_site.SearchKorean({})
    words = lang.split("셀프 어텐션에는 확률을 높인다. GPT-2")
    stems = {lang.stem(w) for w in words if lang.word_filter(w)}
    assert {"어텐션", "확률", "높이다", "셀프", "gpt"} <= stems
    assert "어텐션에는" in words  # the eojeol itself stays searchable


@pytest.mark.skipif(not (lmcb_site.NODE_MODULES / "mathjax-full").is_dir() or not shutil.which("node"),
                    reason="web/node_modules missing: `npm ci` in web/ (make book does)")
def test_render_math_replaces_tex_with_svg(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<html><body><p><span class="math notranslate nohighlight">\\(P(w_1) = \\frac{1}{2}\\)</span></p>'
                    '<div class="math notranslate nohighlight">\\[\\sum_i \\text{확률}_i\\]</div></body></html>',
                    encoding="utf-8")
    assert lmcb_site.render_math([page]) == 2
    out = page.read_text(encoding="utf-8")
    assert "\\(" not in out and "\\[" not in out and out.count("<svg") == 3  # 2 formulas + the glyph cache
    assert 'id="MJX-SVG-global-cache"' in out and "xlink:href=\"#MJX-" in out
    bad = tmp_path / "bad.html"
    bad.write_text('<body><span class="math notranslate nohighlight">\\(\\frac{\\)</span></body>', encoding="utf-8")
    with pytest.raises(RuntimeError, match="cannot render"):
        lmcb_site.render_math([bad])


@pytest.mark.skipif(not lmcb_site.ICON_DIR.is_dir(), reason="web/node_modules missing: `npm ci` in web/")
def test_icon_script_takes_only_icons_the_pages_use():
    js = lmcb_site.icon_script(['<i class="fa-solid fa-magnifying-glass"></i><span class="fab fa-github"></span>',
                                '<i class="fa-solid fa-lg fa-not-an-icon"></i>'])
    assert '"magnifying-glass"' in js and '"github"' in js
    assert "not-an-icon" not in js and '"lg"' not in js
