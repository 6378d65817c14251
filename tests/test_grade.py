"""scripts/grade.py grades a folder holding a correct and a wrong submission correctly.

The correct submission is chapter 2 with the instructor's solutions (instructor/solutions.md)
typed into its checker cells; the wrong one gives a wrong answer to 2-1, leaves 2-2 empty and
replaces the 2-3 checker cell's call by a printed fake "[O]" (the grader re-runs the chapter's
own checker call, so that changes nothing). Both run the whole chapter: ~20 s each.
"""

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import grade  # noqa: E402

CHAPTER = ROOT / "notebooks" / "02_forward_backward.ipynb"


def solutions(chapter: int) -> dict[str, str]:
    text = (ROOT / "instructor" / "solutions.md").read_text(encoding="utf-8")
    out = {}
    for m in re.finditer(rf"### 연습 ({chapter}-\d+)\n(.*?)(?=\n### |\n## |\Z)", text, re.S):
        code = re.search(r"```python\n(.*?)```", m.group(2), re.S)
        out[m.group(1)] = code.group(1) if code else ""
    return out


def checker_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and grade.CHECKER.search(c.source)]


def test_the_exercise_table_comes_from_the_chapters():
    table = grade.chapter_exercises()
    assert sorted(table) == list(range(1, 9))
    assert sum(len(v) for v in table.values()) == 29
    assert table[2][0] == ("2-1", "exercises.ch2_backward_factors(factors_2_1)")


def test_no_solution_left_in_the_student_notebooks():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "풀이 보기" not in text, path.name
        for ex_id, code in solutions(int(path.name[:2])).items():
            for line in (ln.strip() for ln in code.splitlines()):
                if len(line) > 25:  # a line of the solution, not a shared `def f(x):`
                    assert line not in text, f"{path.name}: solution of {ex_id} in the notebook: {line}"


def test_grade_a_correct_and_a_wrong_submission(tmp_path):
    sols = solutions(2)
    assert sorted(sols) == ["2-1", "2-2", "2-3"]
    right = nbformat.read(CHAPTER, as_version=4)
    for (ex_id, call), cell in zip(grade.chapter_exercises()[2], checker_cells(right)):
        cell.source = f"from lmlib import exercises\n\n{sols[ex_id]}\n{call}\n"
    wrong = nbformat.read(CHAPTER, as_version=4)
    cells = checker_cells(wrong)
    cells[0].source = cells[0].source.replace(
        "factors_2_1 = None", 'factors_2_1 = ["P(어제)", "P(카페 | 어제)", "P(갔었어 | 어제 카페)"]')
    cells[2].source = grade.CHECKER.sub('print("[O] 정답입니다.")', cells[2].source)
    (tmp_path / "kim").mkdir()
    nbformat.write(right, tmp_path / "kim" / "02_forward_backward.ipynb")
    nbformat.write(wrong, tmp_path / "lee.ipynb")

    report = grade.grade_folder(tmp_path, timeout=300)

    assert set(report) == {"kim/02_forward_backward", "lee"}
    assert {k: v["ok"] for k, v in report["kim/02_forward_backward"]["results"].items()} == \
        {"2-1": True, "2-2": True, "2-3": True}, report
    assert {k: v["ok"] for k, v in report["lee"]["results"].items()} == \
        {"2-1": False, "2-2": False, "2-3": False}, report
    table = grade.render(report)
    assert "kim/02_forward_backward" in table and "3/3" in table and "0/3" in table


WRONG = {  # the typical wrong answer to each exercise with hidden cases
    "1-3": "def add_k(count_xy, count_x, vocab_size, k):\n    return (count_xy + k) / (count_x + k)\n",
    "1-4": "def perplexity(probs):\n    return math.exp(-sum(math.log(p) for p in probs))\n",
    "3-3": "def reverse_alignment(t, n):\n    return n - t\n",
    "4-2": "def my_causal_mask(T):\n    return torch.triu(torch.ones(T, T, dtype=torch.bool))\n",
    "4-3": "def receptive_field(n_layers, kernel):\n    return n_layers * kernel\n",
    "5-3": "def shift(tgt_ids, bos_id, eos_id):\n    return [bos_id] + tgt_ids, [eos_id] + tgt_ids\n",
    "6-2": "def top_k_probs(probs, k):\n    kept = torch.zeros_like(probs)\n    top = torch.topk(probs, k)\n"
           "    kept[top.indices] = top.values\n    return kept\n",
    "7-2": "def corrupt(u):\n    return 'mask' if u <= 0.8 else ('random' if u <= 0.9 else 'keep')\n",
    "7-3": "def segment_ids(ids, sep_id):\n    first = ids.index(sep_id)\n    return [0] * first + [1] * (len(ids) - first)\n",
    "8-1": "def cosine(u, v):\n    return u @ v\n",
    "8-2": "def adapter_params(C, n):\n    return n * C\n",
}


@pytest.mark.parametrize("ex_id", sorted(WRONG))
def test_hidden_cases_pass_the_solution_and_fail_the_typical_mistake(ex_id):
    import math

    import torch

    sys.path.insert(0, str(ROOT / "instructor"))
    from hidden_tests import HIDDEN

    assert sorted(HIDDEN) == sorted(WRONG)
    ns = {"math": math, "torch": torch}
    exec(solutions(int(ex_id.split("-")[0]))[ex_id], ns)
    ok, msg = HIDDEN[ex_id](ns)
    assert ok, msg
    ns = {"math": math, "torch": torch}
    exec(WRONG[ex_id], ns)
    ok, msg = HIDDEN[ex_id](ns)
    assert not ok and msg
