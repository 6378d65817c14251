"""One Korean term per concept, across the chapters and the book's pages.

The decisions are written out for readers in book/glossary.md (its first section,
"용어 결정"); this file is the same table in a form a test can check. Each row is
(preferred term, [variant patterns], why). A variant is a regular expression so that a
legitimate use of the same letters can be excluded where it is written (see the
comments: 질의응답, 첫머리, 감정 on its own, ...).

What is checked: every markdown cell of notebooks/*.ipynb and every book/*.md page.
Code cells are not checked (their strings end up in stored outputs; change them with
`make notebooks`), and neither are the lecture files, which keep their own wording.

How to cite a variant on purpose (the glossary names the forms it does not use, the page
"강의와 다른 점" quotes the lecture's wording): put it in Korean corner brackets,
「미세조정」. Text inside 「...」 is not checked anywhere.

A failure names the file (and the cell index for a notebook), the variant as written,
the preferred term and a few words of context, so the replacement can be made by hand.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PAGES = sorted((ROOT / "book").glob("*.md"))
GLOSSARY = ROOT / "book" / "glossary.md"

QUOTED = re.compile(r"「[^」\n]*」")  # a variant cited on purpose


@dataclass(frozen=True)
class Term:
    preferred: str
    variants: tuple[str, ...]  # regular expressions
    why: str
    exempt: tuple[str, ...] = ()  # repository paths where the variant means something else


TERMS: tuple[Term, ...] = (
    # --- attention --------------------------------------------------------------------
    # 질의 alone is the Sino-Korean word for a question; 질의응답 (question answering) is
    # another concept and stays. book/benchmarks.md (generated from bench/analysis.md)
    # uses 질의 for a lookup in the n-gram table, not for attention's query.
    Term("쿼리", (r"질의(?!응답)",), "query: the lecture, chapter 4 and most Korean texts",
         exempt=("book/benchmarks.md",)),
    # 값 alone is the everyday word for a number (값 토큰, 확률값); only the Q/K/V triple
    # written with 값 is the attention value.
    Term("밸류", (r"키\s*[·,]\s*값", r"키와 값"), "value (of query, key, value): the lecture"),
    Term("셀프 어텐션", (r"자기\s?어텐션", r"자기\s?주의", r"셀프어텐션"), "self-attention"),
    Term("멀티헤드 어텐션", (r"멀티 헤드", r"다중\s?헤드"), "multi-head attention: the lecture"),
    Term("교차 어텐션", (r"크로스\s?어텐션",), "cross-attention"),
    # 주의 also means caution (주의하세요, 주의할 점), so only the phrases that use it for
    # attention weight are variants.
    Term("어텐션", (r"(?:나눠 준|준) 주의", r"주의의 분포", r"주의를 (?:얼마|모으|모아|나눠|나누)"),
         "attention (weight); 주의 stays for caution"),
    # the model's output modules: MLM head, NSP head, classification head. 첫머리 (the
    # beginning of a text) and 머리말 are ordinary words.
    Term("헤드", (r"(?<!첫)머리(?!말)",), "head, for attention heads and output heads alike"),
    Term("잔차 연결", (r"잔여 연결", r"스킵 연결"), "residual connection"),
    Term("위치 인코딩", (r"포지셔널 인코딩", r"위치 부호화"), "positional encoding"),
    Term("양의 점별 상호정보량", (r"(?<!양의 )점별 상호정보량(?=\s*\(\s*PPMI)",),
         "PPMI is the positive (clipped at 0) PMI; 점별 상호정보량 alone is PMI"),
    Term("커널", (r"필터(?!링)",), "kernel (of a convolution): the code's `kernel`; "
         "필터링 (filtering) is another word"),
    Term("수용 영역", (r"수용장", r"리셉티브 필드"), "receptive field"),
    # --- training and generation -----------------------------------------------------
    Term("파인튜닝", (r"미세\s?조정", r"파인 튜닝", r"파인-튜닝"),
         "fine-tuning: the lecture says 파인 튜닝; written as one word, as in most Korean ML texts"),
    Term("사전학습", (r"사전 학습", r"사전\s?훈련", r"프리\s?트레이닝"), "pre-training"),
    # 사전훈련 is reported by the row above.
    Term("학습", (r"(?<!사전)(?<!사전 )훈련",), "training"),
    Term("교사 강요", (r"티처\s?포싱", r"교사강요"), "teacher forcing: the lecture"),
    Term("노출 편향", (r"노출 바이어스",), "exposure bias"),
    Term("자기회귀", (r"자기 회귀", r"자동\s?회귀", r"오토\s?리그레시브"), "autoregressive"),
    Term("추론", (r"인퍼런스",), "inference: the lecture says 인퍼런스"),
    Term("빔 탐색", (r"빔\s?서치",), "beam search"),
    Term("탐욕적", (r"그리디",), "greedy (decoding)"),
    Term("고정", (r"얼(?:린|리고|리면|리는|리다|려|렸)",), "freezing weights: 8장's table says 본체 고정"),
    Term("교차 엔트로피", (r"크로스\s?엔트로피",), "cross-entropy"),
    Term("기울기", (r"그래디언트", r"그라디언트"), "gradient"),
    Term("파라미터", (r"매개\s?변수",), "parameter: the lecture says 매개변수"),
    Term("전이학습", (r"전이 학습",), "transfer learning: the lecture"),
    # --- tasks ------------------------------------------------------------------------
    # 감정 on its own (emotion) is an ordinary word; only the task name is a variant.
    Term("감성 분석", (r"감정\s?(?:분석|분류)",),
         "sentiment analysis: NSMC is the Naver *Sentiment* Movie Corpus; the lecture says 감정 분석"),
    Term("마스크 언어 모델", (r"마스크드 언어 모델", r"마스크된 언어 모델", r"마스킹 언어 모델"),
         "masked language model"),
    Term("다음 문장 예측", (r"다음 문장 맞히기", r"다음 문장 맞추기"), "next sentence prediction"),
    # --- text and tokens --------------------------------------------------------------
    Term("말뭉치", (r"코퍼스",), "corpus"),
    Term("문맥", (r"컨텍스트", r"맥락"), "context: the lecture says 컨텍스트 and 맥락"),
    Term("문맥 창", (r"문맥 길이", r"문맥 윈도"), "context window (max_len)"),
    Term("어휘", (r"어휘 집합", r"어휘 사전", r"단어 사전", r"단어장"), "vocabulary"),
    Term("서브워드", (r"서브 워드", r"부분어", r"하위 단어"), "subword"),
    Term("토큰 임베딩", (r"단어 임베딩",), "token embedding (BERT's word_embeddings): rows are "
         "WordPiece/BPE tokens, not words"),
    Term("세그먼트 임베딩", (r"토큰 타입 임베딩", r"문장 구분 임베딩"), "segment embedding"),
    Term("층", (r"레이어",), "layer (LayerNorm keeps its English name)"),
    Term("선형층", (r"선형 층", r"전결합\s?층", r"완전\s?연결\s?층"),
         "linear layer: the lecture says 전결합층"),
    # --- probability and n-grams ------------------------------------------------------
    Term("결합 확률", (r"동시 확률", r"결합확률"), "joint probability: the lecture"),
    Term("연쇄 법칙", (r"연쇄법칙", r"체인 룰"), "chain rule"),
    Term("마르코프 가정", (r"마코프",), "Markov assumption"),
    Term("최대우도추정", (r"최대 우도", r"최대\s?가능도"), "maximum likelihood estimation"),
    Term("퍼플렉서티", (r"혼잡도", r"당혹도", r"퍼플렉시티", r"펄플렉서티"), "perplexity"),
    Term("스무딩", (r"평활화", r"스무싱"), "smoothing"),
    Term("크네저-나이", (r"크네저[- ]?네이", r"크네저 나이", r"크네서", r"크니저", r"니저-네이"),
         "Kneser-Ney (German Ney: 나이)"),
    Term("신뢰구간", (r"신뢰 구간",), "confidence interval: one word, as in Korean statistics texts"),
    Term("순방향", (r"전방향 언어",), "forward (language model): the lecture"),
    Term("역방향", (r"후방향",), "backward (language model): the lecture"),
)

COMPILED = [(t, [re.compile(v) for v in t.variants]) for t in TERMS]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def markdown_units(path: Path) -> list[tuple[str, str]]:
    """(where, text) pieces of a file: one per markdown cell of a notebook, one per page."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        return [(f"{_rel(path)} cell {i}", "".join(c["source"]))
                for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"]
    return [(_rel(path), path.read_text(encoding="utf-8"))]


def find_variants(path: Path) -> list[str]:
    """Every variant in the file's prose, one line each: where, variant, preferred term, context."""
    problems = []
    for where, text in markdown_units(path):
        text = QUOTED.sub(lambda m: " " * len(m.group()), text)  # keep offsets for context
        for term, patterns in COMPILED:
            if _rel(path) in term.exempt:
                continue
            for pattern in patterns:
                for m in pattern.finditer(text):
                    context = text[max(0, m.start() - 25):m.end() + 25].replace("\n", " ")
                    problems.append(f"{where}: '{m.group()}' -> '{term.preferred}' ({term.why}) "
                                    f"... {context.strip()} ...")
    return problems


def test_there_is_prose_to_check():
    assert NOTEBOOKS and PAGES and GLOSSARY in PAGES


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=_rel)
def test_one_term_per_concept(path):
    problems = find_variants(path)
    assert not problems, (f"{len(problems)} variant term(s); use the book's term "
                          f"(book/glossary.md, 용어 결정):\n" + "\n".join(problems))


def test_table_is_consistent():
    """No preferred term is its own variant, and every pattern is written to match something."""
    preferred = {t.preferred for t in TERMS}
    assert len(preferred) == len(TERMS), "a preferred term appears twice in TERMS"
    for term, patterns in COMPILED:
        for p in patterns:
            assert not p.search(term.preferred), f"{p.pattern!r} matches its own preferred term"
    for path in {e for t in TERMS for e in t.exempt}:
        assert (ROOT / path).exists(), f"exempt path {path} does not exist"


@pytest.mark.parametrize("text, expected", [
    ("질의·키·값 행렬", {"쿼리", "밸류"}),
    ("질의응답 과제", set()),
    ("감정을 드러내는 리뷰", set()),
    ("감정 분석 과제", {"감성 분석"}),
    ("리뷰의 첫머리를 주면", set()),
    ("MLM 머리는", {"헤드"}),
    ("주의하세요. 나눠 준 주의입니다", {"어텐션"}),
    ("사전 훈련", {"사전학습"}),
    ("top-k 필터링과 합성곱 필터", {"커널"}),
    ("양의 점별 상호정보량(PPMI)", set()),
    ("점별 상호정보량(PPMI)", {"양의 점별 상호정보량"}),
    ("점별 상호정보량(PMI)", set()),
    ("강의의 「미세조정」은 파인튜닝", set()),
])
def test_patterns_on_examples(text, expected):
    """The exclusions written in the comments above really exclude, and the variants match."""
    found = set()
    plain = QUOTED.sub(" ", text)
    for term, patterns in COMPILED:
        if any(p.search(plain) for p in patterns):
            found.add(term.preferred)
    assert found == expected


def test_glossary_records_every_decision():
    """The glossary states each decision: the preferred term appears in it, every variant in 「」."""
    text = GLOSSARY.read_text(encoding="utf-8")
    quoted = " ".join(QUOTED.findall(text))
    missing = [t.preferred for t in TERMS if t.preferred not in QUOTED.sub(" ", text)]
    assert not missing, f"book/glossary.md does not use these preferred terms: {missing}"
    # the decisions table cites, for each concept the book actually had two names for, the
    # variant it dropped; spot-check the ones the book mixed before this table existed
    for variant in ("질의", "미세조정", "감정 분석", "머리", "얼린", "단어 임베딩", "문맥 길이"):
        assert variant in quoted, f"glossary's decisions table does not cite 「{variant}」"
