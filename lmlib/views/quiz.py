"""End-of-chapter concept quizzes: multiple choice and short answer, feedback per answer.

The questions live in lmlib/data/quizzes.json (one list per chapter); `quiz("ch1")` shows a
chapter's quiz as one HTML output that works in the static book without a kernel and in
Colab or Jupyter alike (lmlib.views). Question formats:

    {"type": "choice", "q": "...", "options": [{"text": "...", "correct": true, "why": "..."}, ...]}
    {"type": "short", "q": "...", "answers": ["...", ...], "why": "...", "hint": "..."}
    {"type": "short", "q": "...", "number": 0.25, "tolerance": 0.001, "why": "...", "hint": "..."}

Every option carries its own `why`, the feedback a reader gets for choosing it; a short
answer is compared without spaces, case or a final full stop (or as a number within
`tolerance`), and a wrong one gets the `hint`.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.resources
import json
import numbers
import random

from . import fragment

__all__ = ["load_quizzes", "quiz", "quiz_html"]


def _fail(where: str, what: str) -> None:
    raise ValueError(f"lmlib/data/quizzes.json, {where}: {what}")


def _check_question(q: object, where: str) -> None:
    if not isinstance(q, dict):
        _fail(where, f"a question must be an object, got {type(q).__name__}")
    if not isinstance(q.get("q"), str) or not q["q"].strip():
        _fail(where, "'q' (the question text) must be a non-empty string")
    if q.get("type") == "choice":
        options = q.get("options")
        if not isinstance(options, list) or len(options) < 2:
            _fail(where, "'options' must list at least 2 options")
        for j, o in enumerate(options):
            if not isinstance(o, dict) or not isinstance(o.get("text"), str) \
                    or not isinstance(o.get("why"), str) or not o["why"].strip():
                _fail(f"{where} option {j + 1}", "needs 'text' and 'why' (its feedback) strings")
            if not isinstance(o.get("correct", False), bool):
                _fail(f"{where} option {j + 1}", "'correct' must be true or false")
        if sum(o.get("correct", False) for o in options) != 1:
            _fail(where, "exactly one option must be 'correct'")
    elif q.get("type") == "short":
        has_answers, has_number = "answers" in q, "number" in q
        if has_answers == has_number:
            _fail(where, "a short question needs either 'answers' (strings) or 'number'")
        if has_answers and (not isinstance(q["answers"], list) or not q["answers"]
                            or not all(isinstance(a, str) and a.strip() for a in q["answers"])):
            _fail(where, "'answers' must be a non-empty list of non-empty strings")
        if has_number:
            for key in ("number", "tolerance"):
                value = q.get(key, 0)
                if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
                    _fail(where, f"'{key}' must be a number")
            if q.get("tolerance", 0) < 0:
                _fail(where, "'tolerance' must be >= 0")
        for key in ("why", "hint"):
            if not isinstance(q.get(key), str) or not q[key].strip():
                _fail(where, f"'{key}' must be a non-empty string (the feedback)")
    else:
        _fail(where, f"'type' must be 'choice' or 'short', got {q.get('type')!r}")


def load_quizzes() -> dict[str, dict]:
    """{chapter: {"title": ..., "questions": [...]}} from lmlib/data/quizzes.json, checked."""
    path = importlib.resources.files("lmlib") / "data" / "quizzes.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"lmlib/data/quizzes.json is not valid JSON: {err}") from None
    if not isinstance(data, dict) or not data:
        _fail("top level", "must map chapter names ('ch1', ...) to quizzes")
    for chapter, quiz_ in data.items():
        if not isinstance(quiz_, dict) or not isinstance(quiz_.get("title"), str) \
                or not isinstance(quiz_.get("questions"), list) or not quiz_["questions"]:
            _fail(chapter, "needs a 'title' string and a non-empty 'questions' list")
        for i, q in enumerate(quiz_["questions"]):
            _check_question(q, f"{chapter} question {i + 1}")
    return data


def quiz_html(chapter: str) -> str:
    """The HTML of `chapter`'s quiz (e.g. "ch1")."""
    quizzes = load_quizzes()
    if not isinstance(chapter, str) or chapter not in quizzes:
        raise ValueError(f"chapter must be one of {sorted(quizzes)}, got {chapter!r}")
    data = copy.deepcopy(quizzes[chapter])
    for q in data["questions"]:  # options in an order seeded by the question: the same every
        if q["type"] == "choice":  # run, and the right one not always first as in the file
            seed = int(hashlib.sha256(q["q"].encode("utf-8")).hexdigest()[:8], 16)
            random.Random(seed).shuffle(q["options"])
    return fragment("quiz", data, "lmcbQuiz")


def quiz(chapter: str) -> None:
    """Show `chapter`'s quiz below the cell (the book shows the same, without a kernel)."""
    from IPython.display import HTML, display

    display(HTML(quiz_html(chapter)))
