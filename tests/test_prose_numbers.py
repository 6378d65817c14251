"""Every number the prose states must be one the notebook's outputs show.

A chapter's markdown says "BPE가 1.76배 짧음", "평가 정확도 0.851", "45,000개"; the code
cells print them. When a model is retrained or a cell changes, the outputs change and the
prose silently goes stale. This test reads every markdown cell of every notebook, pulls
out the numbers it states, and fails for each one that appears in no output of the same
notebook (stream text, text/plain, text/html of execute_result/display_data).

Matching is numeric, to the precision the prose writes:
- commas and trailing zeros are normalised ("45,000" = 45000, "0.850" = 0.85);
- a prose number matches an output rounded half-up to the digits written ("85.1"
  matches 85.14; "0.851" does not match an output 0.85, which shows fewer digits);
- a percentage also matches a fraction ("85.1%" = 0.851), and a prose fraction matches
  an output percentage;
- Korean and English multipliers scale the number ("1.2억" = 1.2e8, "175B" = 1.75e11), and
  an integer written with trailing zeros counts only its leading digits when the prose
  marks it as approximate ("약 130만" matches 1,338,112; "130만" alone does not);
- signs are ignored (prose says "0.02 낮다" for an output -0.02).

Not checked (each skip is a rule below, so a new kind of number fails until it is named):
code spans and fenced code, LaTeX math, links and URLs, HTML tags, heading numbers
("## 6.3"), section/chapter/exercise references ("6.3절", "4장", "연습 4-2"), years
(1900-2100 written as a year), dates ("3월 18일"), ordinals ("3번째"), numbers inside names
("GPT-2", "fp16", "L19", "word2vec", "x86_64"), version strings ("2.13.0"), small integers
0-10, the constants in ALLOWED, and an exercise's or design task's statement paragraph
("**연습 5-2.** ...", "**설계 과제 8.** ...":
its numbers are the givens of a question, not claims about outputs). The chapter's "**실행 시간**" paragraph is skipped too:
the style guide keeps timings out of stored outputs (they differ by machine), so a run-time
claim cannot be checked here; `make bench` measures each chapter's wall time
(bench/results.json), and that measurement is what a run-time claim answers to.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Constants a chapter may state without printing them: architecture facts of the papers'
# models (the lecture's figures) and a few definitions. Keep this short; everything else
# the prose says about this course's models must be printed by a cell.
# Each entry: the value, a pattern its surroundings must match (None: anywhere), why. The
# pattern is searched in "<6 characters before>\x00<12 characters after>" the number.
ALLOWED: list[tuple[Decimal, str | None, str]] = [
    (Decimal(12), r"층|layers?|헤드|heads?",
     "BERT-Base / GPT-2 small: 12 layers, 12 heads (Devlin et al. 2019; the lecture's figure)"),
    (Decimal(50), r"\x00\s?%",
     "50%: the chance accuracy of a balanced two-class task (NSP pairs, sentiment)"),
    (Decimal(512), None, "BERT-Base's maximum length, 512 tokens (the lecture's figure)"),
    (Decimal(768), None, "BERT-Base / GPT-2 small width, 768 (the lecture's figure)"),
    (Decimal(1024), None, "GPT-2's context length, 1,024 tokens (Radford et al. 2019)"),
    (Decimal(30522), None, "BERT-Base's WordPiece vocabulary, 30,522 tokens (the lecture's figure)"),
    (Decimal(175) * 10**9, None, "GPT-3's 175B parameters (Brown et al. 2020; the lecture's figure)"),
]

# ---------------------------------------------------------------------------------------
# reading a notebook


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_texts(nb: dict) -> list[str]:
    """Every output's text: stream text, text/plain and text/html (tags stripped)."""
    texts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts.append(_text(out.get("text", "")))
            elif out.get("output_type") in ("execute_result", "display_data"):
                data = out.get("data", {})
                if "text/plain" in data:
                    texts.append(_text(data["text/plain"]))
                if "text/html" in data:
                    shown = re.sub(r"<(script|style)\b.*?</\1>", " ", _text(data["text/html"]), flags=re.S)
                    texts.append(html.unescape(re.sub(r"<[^>]+>", " ", shown)))
    return texts


# ---------------------------------------------------------------------------------------
# numbers in outputs

_MULTIPLIERS = {"만": Decimal(10) ** 4, "억": Decimal(10) ** 8, "조": Decimal(10) ** 12,
                "K": Decimal(10) ** 3, "M": Decimal(10) ** 6, "B": Decimal(10) ** 9}

# 1,234,567.89 | 1234.5 | 3.14e+23 ; then an optional % or Korean multiplier (3,000억)
_OUT_NUM = re.compile(r"(?<![0-9.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
                      r"(\s?%|만(?!큼)|억|조(?!각))?")


def output_numbers(texts: list[str]) -> set[Decimal]:
    """The absolute values of the numbers in the outputs; a percentage also as a fraction,
    a number with 만/억/조 also multiplied out."""
    values: set[Decimal] = set()
    for t in texts:
        for m in _OUT_NUM.finditer(t):
            v = Decimal(m.group(1).replace(",", ""))
            values.add(v)
            if m.group(2) and m.group(2).strip() == "%":
                values.add(v / 100)
            elif m.group(2):
                values.add(v * _MULTIPLIERS[m.group(2)])
    return values


# ---------------------------------------------------------------------------------------
# numbers in prose


@dataclass(frozen=True)
class ProseNumber:
    """A number the prose states: as written, its value, precision and context."""

    written: str          # the text as it stands ("약 1,750억", "85.1%")
    mantissa: Decimal     # the digits as written, commas removed (1750, 85.1)
    decimals: int         # digits after the decimal point as written
    multiplier: Decimal   # 1e8 for 억, 1e9 for B, 1 otherwise
    percent: bool         # followed by % or %p
    approx: bool          # marked approximate (약, 쯤, 남짓, ...)
    sentence: str


_PROSE_NUM = re.compile(
    r"(?<![0-9A-Za-z_.,/])(?<![A-Za-z]-)"        # not inside a name (GPT-2), version or path
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:[eE](?P<exp>[-+]?\d+))?"
    r"(?P<mult>만(?!큼)|억|조(?!각)|[KMB](?![A-Za-z]))?"
    r"(?=(?P<after>[^\n]{0,12}))"            # looked at, not consumed
)
_APPROX_BEFORE = re.compile(r"(약|대략|거의|≈|~|최대|최소|겨우|고작)\s*$")
_APPROX_AFTER = re.compile(r"^\s*(%p?|배|x|GB|MB|TB|[개명쌍번단계토큰조각초분년])*\s*"
                           r"(쯤|남짓|안팎|정도|가량|넘게|이상|미만|이하|안쪽|가까이|내외|언저리)|^여\s")
_SKIP_AFTER = re.compile(
    r"^((\s*[·,~–-]\s*\d+(\.\d+)*)*\s*(절|장)"  # section/chapter refs: 6.3절, 2.1·2.2절
    r"|\s*(번째|째|월|일)"                  # ordinals, dates
    r"|\.\d"                                 # a version string 2.13.0 (the rest of it)
    r"|(?!(GB|MB|TB|KB|ms|s|x)(?![A-Za-z]))[A-Za-z_])"  # a name: 3rd, 2D (units, 1.76x are read)
)
_PERCENT_AFTER = re.compile(r"^\s?%")
_UNIT_AFTER = re.compile(r"^\s?(%|배|x(?![A-Za-z])|[개명쌍번토큰조각초분]|단계|GB|MB|TB|바이트)")


def _blank(m: re.Match) -> str:
    """The match replaced by spaces (newlines kept), so positions still point into the source."""
    return re.sub(r"[^\n]", " ", m.group(0))


def _strip_markup(src: str) -> str:
    """The prose with what this test does not read blanked out, same length as src."""
    out_lines, fence = [], None
    for line in src.split("\n"):
        stripped = line.lstrip()
        blank = " " * len(line)
        if fence is None and (stripped.startswith("```") or stripped.startswith("~~~")):
            # a MyST directive (```{note}) holds prose; a code fence (``` / ```python) does not
            fence = stripped[:3] + ("{" if stripped[3:].startswith("{") else "")
            out_lines.append(blank)
            continue
        if fence is not None and stripped.startswith(fence[:3]):
            fence = None
            out_lines.append(blank)
            continue
        if fence is not None and not fence.endswith("{"):
            out_lines.append(blank)
            continue
        if re.match(r"^\s*:{3,}", line):          # colon fences: the directive line only
            out_lines.append(blank)
            continue
        if re.match(r"^\s*#{1,6}\s", line):       # heading: drop its section number
            line = re.sub(r"^(\s*#{1,6}\s+)(\d+(\.\d+)*\.?)",
                          lambda m: m.group(1) + " " * len(m.group(2)), line)
        out_lines.append(line)
    text = "\n".join(out_lines)
    for pattern, flags in [
        (r"\$\$.*?\$\$", re.S),                 # display math
        (r"(?<!\\)\$[^$\n]+\$", 0),             # inline math
        (r"`+[^`]*`+", 0),                     # code spans, {cite} targets
        (r"!?\[[^\]]*\]\([^)]*\)", 0),          # links with their text
        (r"https?://\S+", 0),                 # bare URLs
        (r"<(script|style)\b.*?</\1>", re.S),  # embedded scripts
        (r"<[^>\n]+>", 0),                     # HTML tags
        (r"\*\*연습\s*\d+-\d+\.\*\*.*?(?=\n\s*\n|\Z)", re.S),  # an exercise's statement (its givens)
        (r"\*\*설계 과제\s*\d+\.\*\*.*?(?=\n\s*\n|\Z)", re.S),  # a design task's statement, the same
        (r"연습\s*\d+-\d+", 0),                # exercise numbers
        (r"\*\*실행 시간\*\*.*?(?=\n\s*\n|\Z)", re.S),  # the run-time paragraph (docstring)
    ]:
        text = re.sub(pattern, _blank, text, flags=flags)
    assert len(text) == len(src)
    return text


def _sentence(src: str, start: int, end: int) -> str:
    """The sentence of src around [start, end), whitespace collapsed."""
    stops = re.compile(r"(?<=[.?!])\s|\n\s*\n|\n\s*[-*|] ")
    left = max([m.end() for m in stops.finditer(src, 0, start)], default=0)
    right = next((m.start() for m in stops.finditer(src, end)), len(src))
    return re.sub(r"\s+", " ", src[left:right]).strip()


def _is_year(num: str, mult: str | None, after: str) -> bool:
    if mult or "," in num or "." in num or not 1900 <= int(num) <= 2100:
        return False
    return not _UNIT_AFTER.match(after) or after.lstrip().startswith("년")


def prose_numbers(markdown: str) -> list[ProseNumber]:
    """The numbers a markdown cell states, with the skips of the module docstring applied."""
    text = _strip_markup(markdown)
    found = []
    for m in _PROSE_NUM.finditer(text):
        num, mult, after = m.group("num"), m.group("mult"), m.group("after")
        exp = int(m.group("exp")) if m.group("exp") else 0
        if _SKIP_AFTER.match(after) or _is_year(num, mult, after):
            continue
        mantissa = Decimal(num.replace(",", ""))
        multiplier = (_MULTIPLIERS[mult] if mult else Decimal(1)) * Decimal(10) ** exp
        decimals = len(num.split(".")[1]) if "." in num else 0
        value = mantissa * multiplier
        if decimals == 0 and value <= 10:
            continue                                     # small integers: counts like "두 개"
        before = text[max(0, m.start() - 6):m.start()]
        if decimals == 0 and any(value == v and (ctx is None or re.search(ctx, before + "\x00" + after))
                                 for v, ctx, _ in ALLOWED):
            continue
        found.append(ProseNumber(
            written=(text[m.start():max(m.end("num"), m.end("mult") if mult else 0,
                                         m.end("exp") if m.group("exp") else 0)]
                     + ("%" if _PERCENT_AFTER.match(after) else "")),
            mantissa=mantissa, decimals=decimals, multiplier=multiplier,
            percent=bool(_PERCENT_AFTER.match(after)),
            approx=bool(_APPROX_BEFORE.search(before) or _APPROX_AFTER.match(after)),
            sentence=_sentence(markdown, m.start(), m.end("num"))))
    return found


# ---------------------------------------------------------------------------------------
# matching


_CONTEXT = Context(prec=80, rounding=ROUND_HALF_UP)


def _round(x: Decimal, exponent: int) -> Decimal | None:
    try:
        return _CONTEXT.quantize(x, Decimal(1).scaleb(exponent))
    except InvalidOperation:   # an output number far too large for the prose's precision
        return None


def matches(p: ProseNumber, v: Decimal) -> bool:
    """True when output value v, rounded as the prose writes p, is p."""
    candidates = [v, v * 100] if p.percent else [v]
    for c in candidates:
        x = c / p.multiplier
        if p.decimals > 0:
            if _round(x, -p.decimals) == p.mantissa:
                return True
            continue
        exponent = 0
        if p.approx:
            digits = str(int(p.mantissa))
            exponent = len(digits) - len(digits.rstrip("0"))
        if _round(x, exponent) == p.mantissa:
            return True
    return False


def unmatched(nb: dict) -> list[ProseNumber]:
    """The prose numbers of notebook `nb` that no output shows."""
    values = output_numbers(output_texts(nb))
    missing = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for p in prose_numbers(_text(cell["source"])):
            if not any(matches(p, v) for v in values):
                missing.append(p)
    return missing


# ---------------------------------------------------------------------------------------
# the tests


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prose_numbers_appear_in_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    missing = unmatched(nb)
    report = "\n".join(f"  {p.written!r} in: {p.sentence}" for p in missing)
    assert not missing, (f"{path.name}: {len(missing)} number(s) in the prose appear in no output "
                         f"of the notebook (print them from a cell, or correct the prose):\n{report}")


def _nb(markdown: str, *outputs: str) -> dict:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": markdown}]
    for o in outputs:
        cells.append({"cell_type": "code", "metadata": {}, "source": "",
                      "outputs": [{"output_type": "stream", "name": "stdout", "text": o}]})
    return {"cells": cells}


def _written(nb: dict) -> list[str]:
    return [p.written for p in unmatched(nb)]


def test_a_wrong_number_is_caught_and_a_right_one_accepted():
    out = "평가 리뷰 2,000개: BPE 토큰 40,706개 (BPE가 1.76배 짧음)\naccuracy 0.8514\n"
    assert _written(_nb("BPE가 1.76배 짧습니다. 정확도는 85.1%입니다.", out)) == []
    assert _written(_nb("BPE가 1.67배 짧습니다.", out)) == ["1.67"]
    assert _written(_nb("정확도는 85.2%입니다.", out)) == ["85.2%"]
    assert _written(_nb("토큰 40,706개, 리뷰 2,000개", out)) == []
    assert _written(_nb("토큰 40,705개", out)) == ["40,705"]


def test_rounding_follows_the_digits_written():
    out = "perplexity 158.64, accuracy 0.85\n"
    assert _written(_nb("퍼플렉서티 158.6, 159, 158.64", out)) == []
    assert _written(_nb("퍼플렉서티 158.7", out)) == ["158.7"]
    assert _written(_nb("정확도 0.850", out)) == []          # trailing zeros normalised
    assert _written(_nb("정확도 0.851", out)) == ["0.851"]   # more digits than the output shows


def test_percent_and_fraction_match_both_ways():
    assert _written(_nb("정확도 34%", "mlm_accuracy 0.338")) == []
    assert _written(_nb("정확도 0.34", "정확도 33.8%")) == []
    assert _written(_nb("정확도 0.34", "정확도 0.338")) == []
    assert _written(_nb("이득 +1.9%p", "gain +1.9%p")) == []
    assert _written(_nb("정확도 1.9", "gain 0.019")) == ["1.9"]    # x100 only for a percentage


def test_multipliers_and_approximation():
    out = "파라미터 1,338,112개, gpt3 174,604,259,328, gpt2 124,439,808\n"
    assert _written(_nb("약 130만 개, 1.2억, 약 1,750억", out)) == []
    assert _written(_nb("파라미터 130만 개", out)) == ["130만"]   # not marked approximate
    assert _written(_nb("파라미터 140만 개쯤", out)) == ["140만"]
    assert _written(_nb("약 30초", "25.98")) == []
    assert _written(_nb("약 20초", "14.43")) == ["20"]


def test_what_is_skipped():
    md = ("## 6.3 사전학습\n6.3절과 4장, 연습 4-2를 보세요. GPT-2와 fp16, L19, x86_64, torch 2.13.0. "
          "Radford 외 2018, 2019년, 3월 18일, 3번째. 상위 5개. `4,321` $x^{123}$ [표 77](https://a.b/999) "
          "BERT-Base는 512토큰, 768, 30,522개, 12층, 175B. 찍으면 50%.\n\n"
          "**실행 시간**: 약 40초. 대부분(약 33초)은 학습입니다.\n\n"
          "**연습 5-2.** 정답에 확률 0.25를 줬다면\n손실은 1.386입니다.\n\n"
          "**설계 과제 8.** 라벨 500개로\n시드 3개를 씁니다.\n\n다음 문단 4,444개")
    assert _written(_nb(md, "nothing")) == ["4,444"]


def test_neighbouring_numbers_are_each_read_and_the_sentence_is_the_source():
    nb = _nb("기호 3~12개와 **값 31개**를 씁니다. `코드 9999` 다음 문장.", "12")
    missing = unmatched(nb)
    assert [p.written for p in missing] == ["31"]
    assert missing[0].sentence == "기호 3~12개와 **값 31개**를 씁니다."


def test_code_fences_are_skipped_but_directives_are_read():
    md = "```python\nx = 12345\n```\n```{note}\n정확도 0.777\n```\n"
    assert _written(_nb(md, "0.5")) == ["0.777"]


def test_output_multipliers_are_read():
    assert _written(_nb("약 3,000억 토큰", "학습한 토큰: 3,000억 개")) == []
    assert _written(_nb("약 3,000억 토큰", "학습한 토큰: 3,000개")) == ["3,000억"]


def test_html_outputs_and_exponents_are_read():
    nb = _nb("퍼플렉서티 160.3, 4.93e+13 FLOP, 1.7배", "")
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": "", "outputs": [
        {"output_type": "execute_result", "execution_count": 1, "metadata": {},
         "data": {"text/html": "<td>160.31</td><td>4.93e+13</td>", "text/plain": "1.72"}}]})
    assert _written(nb) == []
