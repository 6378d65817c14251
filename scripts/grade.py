"""Grade a folder of submitted chapter notebooks: one row per submission, one column per exercise.

    python scripts/grade.py SUBMISSIONS/              # a table on stdout
    python scripts/grade.py SUBMISSIONS/ --json out.json

A submission is any .ipynb under SUBMISSIONS (a student's name is its path without the
suffix, e.g. kim/02_forward_backward). Its chapter is the one whose checkers it calls
(`exercises.ch2_...`). Each submission runs from top to bottom in a fresh kernel, in a
temporary folder, errors allowed (a broken cell costs only the exercises that need it);
then one more cell, added by this command, grades every exercise of the chapter with
instructor/hidden_tests.py: the chapter's visible checker call, taken from the course's own
copy of the chapter (notebooks/), so an edited or deleted checker cell changes nothing, plus
hidden cases for exercises whose answer is a function. Chapters need what they need to run
(LMLIB_NSMC_DIR for chapters 6-8, as in `make notebooks`).

Why a command of our own and not nbgrader or otter-grader: the book's exercises already have
checkers in lmlib.exercises that run in Colab and under nbval; both tools would need their own
cell metadata (nbgrader) or assertion cells (otter) in every notebook, and a second copy of
each check. Here the student's notebook stays exactly the book's, and the instructor's
checks live in one file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from nbexec import notebook_client  # noqa: E402

CHECKER = re.compile(r"^\s*(exercises\.ch(\d+)_\w+\(.*\))\s*$", re.M)
MARK = "LMCB-GRADE "


def chapter_exercises() -> dict[int, list[tuple[str, str]]]:
    """{chapter: [(exercise id "N-k", checker call)]} from the course's own notebooks."""
    table: dict[int, list[tuple[str, str]]] = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                for call, ch in CHECKER.findall(cell.source):
                    rows = table.setdefault(int(ch), [])
                    rows.append((f"{int(ch)}-{len(rows) + 1}", call))
    return table


def chapter_of(nb) -> int:
    """The chapter whose checkers the notebook calls (the most-called one)."""
    found = [int(ch) for cell in nb.cells if cell.cell_type == "code"
             for _, ch in CHECKER.findall(cell.source)]
    if not found:
        raise ValueError("no exercises.chN_... checker call in this notebook: is it a chapter of the book?")
    return max(set(found), key=found.count)


def grade_one(path: Path, table: dict[int, list[tuple[str, str]]], timeout: int = 600) -> dict:
    """Run one submission and grade it; {"chapter", "results": {id: {...}}} or {"error"}."""
    try:
        nb = nbformat.read(path, as_version=4)
        chapter = chapter_of(nb)
    except Exception as e:
        return {"chapter": None, "error": f"{type(e).__name__}: {e}"}
    code = (f"import json as _j, sys as _s\n_s.path.insert(0, {str(ROOT / 'instructor')!r})\n"
            f"from hidden_tests import grade as _grade\n"
            f"print({MARK!r} + _j.dumps(_grade({table[chapter]!r}, globals()), ensure_ascii=False))")
    nb.cells.append(nbformat.v4.new_code_cell(code))
    with tempfile.TemporaryDirectory() as tmp:
        try:
            notebook_client(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            record_timing=False, resources={"metadata": {"path": tmp}}).execute()
        except Exception as e:  # a dead kernel or a cell over the timeout
            return {"chapter": chapter, "error": f"{type(e).__name__}: {e}"[:500]}
    text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []) if o.get("name") == "stdout")
    line = next((ln for ln in text.splitlines() if ln.startswith(MARK)), None)
    if line is None:
        return {"chapter": chapter, "error": "the grading cell printed nothing (did the kernel die?)"}
    return {"chapter": chapter, "results": json.loads(line[len(MARK):])}


def grade_folder(folder: Path, timeout: int = 600) -> dict[str, dict]:
    if not folder.is_dir():
        raise SystemExit(f"SUBMISSIONS: {folder} is not a folder")
    paths = sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not paths:
        raise SystemExit(f"SUBMISSIONS: no .ipynb files under {folder}")
    table = chapter_exercises()
    from tqdm.auto import tqdm

    return {str(p.relative_to(folder).with_suffix("")): grade_one(p, table, timeout)
            for p in tqdm(paths, desc="grading")}


def render(report: dict[str, dict]) -> str:
    ids = sorted({i for r in report.values() for i in r.get("results", {})},
                 key=lambda s: tuple(int(x) for x in s.split("-")))
    head = ["제출물", *ids, "맞힘"]
    rows = []
    for name, r in report.items():
        res = r.get("results", {})
        marks = ["O" if res[i]["ok"] else "X" if i in res else "" for i in ids]
        total = f"{sum(v['ok'] for v in res.values())}/{len(res)}" if res else r.get("error", "")[:60]
        rows.append([name, *marks, total])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda row: "  ".join(str(x).ljust(w) for x, w in zip(row, widths))  # noqa: E731
    return "\n".join([fmt(head), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    p.add_argument("--json", type=Path, help="also write the full report (messages included) here")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = p.parse_args(argv)
    report = grade_folder(args.submissions, args.timeout)
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
