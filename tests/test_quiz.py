"""The end-of-chapter quizzes (lmlib.views.quiz): their data checks and, in headless
Chromium, the page's own feedback for right, wrong and empty answers."""

import json

import pytest

from lmlib.views import asset, fragment
from lmlib.views import quiz as quiz_module
from lmlib.views.quiz import load_quizzes, quiz_html


def test_every_chapter_has_a_quiz_with_both_kinds_of_question():
    quizzes = load_quizzes()
    assert sorted(quizzes) == [f"ch{i}" for i in range(1, 9)]
    for chapter, q in quizzes.items():
        kinds = {x["type"] for x in q["questions"]}
        assert kinds == {"choice", "short"}, chapter
        assert len(q["questions"]) >= 4, chapter


def test_the_right_option_is_not_always_in_the_same_place():
    positions = []
    for chapter in load_quizzes():
        shown = json.loads(quiz_html(chapter).split('type="application/json">')[1]
                           .split("</script>")[0].replace("\\u003c", "<"))
        positions += [[o.get("correct", False) for o in q["options"]].index(True)
                      for q in shown["questions"] if q["type"] == "choice"]
    assert len(set(positions)) >= 3


def test_the_fragment_carries_its_js_css_and_data_and_is_the_same_every_run():
    html = quiz_html("ch1")
    assert html == quiz_html("ch1")  # stored notebook outputs must not change between runs
    assert asset("quiz.js").strip() in html and asset("quiz.css").strip() in html
    assert "function lmcbQuiz" in html and "%%" not in asset("quiz.js")
    with pytest.raises(ValueError, match="chapter must be one of"):
        quiz_html("ch9")
    with pytest.raises(ValueError, match="name must be a .js or .css"):
        asset("../data.py")
    # data that would end the script element early stays inside it
    assert "</script>" not in fragment("quiz", {"x": "</script>"}, "lmcbQuiz").split(
        'type="application/json">')[1].split("</script>")[0] + "x"


@pytest.mark.parametrize("broken, message", [
    ({"type": "choice", "q": "?", "options": [{"text": "a", "why": "w"}]}, "at least 2 options"),
    ({"type": "choice", "q": "?", "options": [{"text": "a", "why": "w", "correct": True},
                                             {"text": "b", "why": "w", "correct": True}]},
     "exactly one option"),
    ({"type": "choice", "q": "?", "options": [{"text": "a", "correct": True}, {"text": "b", "why": "w"}]},
     "option 1: needs 'text' and 'why'"),
    ({"type": "short", "q": "?", "why": "w", "hint": "h"}, "either 'answers'"),
    ({"type": "short", "q": "?", "number": 1, "why": "w"}, "'hint' must be"),
    ({"type": "essay", "q": "?"}, "'type' must be"),
])
def test_a_broken_question_is_refused_naming_where(monkeypatch, tmp_path, broken, message):
    data = {"ch1": {"title": "t", "questions": [broken]}}
    folder = tmp_path / "lmlib" / "data"
    folder.mkdir(parents=True)
    (folder / "quizzes.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(quiz_module.importlib.resources, "files", lambda _: tmp_path / "lmlib")
    with pytest.raises(ValueError, match="ch1 question 1") as err:
        load_quizzes()
    assert message in str(err.value)


def test_the_quiz_gives_feedback_per_answer_in_the_browser(browser_page):
    data = load_quizzes()["ch5"]
    page = browser_page.open_html(quiz_html("ch5"))
    page.wait_for_selector(".lmcb-quiz-q")
    boxes = page.query_selector_all(".lmcb-quiz-q")
    assert len(boxes) == len(data["questions"])
    first = data["questions"][0]
    wrong = next(j for j, o in enumerate(first["options"]) if not o.get("correct"))
    right = next(j for j, o in enumerate(first["options"]) if o.get("correct"))
    def option(j):  # the button of option j (the page shows the options in its own order)
        return next(x for x in boxes[0].query_selector_all(".lmcb-quiz-option")
                    if x.text_content() == first["options"][j]["text"])

    option(wrong).click()
    feedback = boxes[0].query_selector(".lmcb-quiz-feedback")
    assert "lmcb-quiz-no" in feedback.get_attribute("class")
    assert feedback.text_content() == "아닙니다. " + first["options"][wrong]["why"]
    option(right).click()
    assert "lmcb-quiz-ok" in feedback.get_attribute("class")
    assert feedback.text_content() == "맞습니다. " + first["options"][right]["why"]
    # a short numeric answer: empty, wrong (the hint), right within its tolerance
    i = next(i for i, q in enumerate(data["questions"]) if q["type"] == "short")
    q = data["questions"][i]
    box = boxes[i]
    box.query_selector(".lmcb-quiz-check").click()
    assert box.query_selector(".lmcb-quiz-feedback").text_content() == "답을 먼저 쓰세요."
    box.query_selector("input").fill("2.5")
    box.query_selector("input").press("Enter")
    assert box.query_selector(".lmcb-quiz-feedback").text_content() == "아닙니다. " + q["hint"]
    box.query_selector("input").fill(f" {q['number'] + q['tolerance'] / 2} ")
    box.query_selector(".lmcb-quiz-check").click()
    assert box.query_selector(".lmcb-quiz-feedback").text_content() == "맞습니다. " + q["why"]
    # the latest answer of each question counts: both right now, two of the questions tried
    n = len(data["questions"])
    assert page.text_content(".lmcb-quiz-score") == f"맞힌 문제 2 / {n} (푼 문제 2)"


def test_a_short_text_answer_ignores_spaces_and_case(browser_page):
    data = load_quizzes()["ch6"]
    i = next(i for i, q in enumerate(data["questions"]) if q["type"] == "short" and "answers" in q)
    page = browser_page.open_html(quiz_html("ch6"))
    box = page.query_selector_all(".lmcb-quiz-q")[i]
    box.query_selector("input").fill(" " + data["questions"][i]["answers"][0].lower() + ". ")
    box.query_selector(".lmcb-quiz-check").click()
    assert "lmcb-quiz-ok" in box.query_selector(".lmcb-quiz-feedback").get_attribute("class")
