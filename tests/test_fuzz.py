"""Bad input over lmlib's public API, damaged checkpoints included (issue 15, item 6).

The table is tests/fuzz_cases.py: each case is (callable, args, kwargs, expectation), the
expectation either a clear lmlib error (the right type, raised in lmlib, its message naming
the argument the caller passed) or a correct result. Cases that fail now in modules this
suite does not own are xfail(strict=True), each with what happens now: the to-do list of
defects (an xfail that starts passing fails the run, so the mark is removed with the fix).

Outcome classes, as `python tests/fuzz_cases.py` counts them: (a) clear lmlib error,
(b) correct result, (c) error raised outside lmlib / not naming the argument, (d) silent
wrong result. Accepted (c) cases carry their justification in the table (Foreign).

Tiny models and tokenizers are built once per session on first use; nothing is downloaded
and nothing trains beyond a step or two. NSMC files are tests/test_data_integrity.py's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import fuzz_cases  # noqa: E402

CASES = fuzz_cases.build()


def _param(case):
    reason = fuzz_cases.xfail_reason(case)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module", autouse=True)
def _tmp_root(tmp_path_factory):
    """Checkpoint folders (and their damaged copies) live under pytest's tmp_path."""
    fuzz_cases._TMP_ROOT[:] = [tmp_path_factory.mktemp("fuzz")]
    yield


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case):
    if fuzz_cases.xfail_reason(case) is None:
        fuzz_cases.check(case)
        return
    try:  # a known defect: one line instead of a traceback through torch (formatting those is slow)
        fuzz_cases.check(case)
    except BaseException as exc:  # noqa: BLE001 - pytest.raises' own Failed included
        pytest.fail(f"{type(exc).__name__}: {exc}"[:300], pytrace=False)


def test_table_size_and_ids():
    """At least 700 cases, ids unique, every public lmlib module covered."""
    assert len(CASES) >= 700
    assert len({c.id for c in CASES}) == len(CASES)
    modules = {p.stem for p in (Path(fuzz_cases.LMLIB_DIR)).glob("*.py")} - {"__init__"}
    assert modules <= {c.module for c in CASES}, modules - {c.module for c in CASES}


def test_xfail_ids_exist():
    """Every XFAIL entry names a case of the table (a renamed case must not hide a stale mark)."""
    ids = {c.id for c in CASES}
    assert not set(fuzz_cases.XFAIL) - ids, sorted(set(fuzz_cases.XFAIL) - ids)


def test_foreign_within_budget():
    """Errors accepted from outside lmlib (class c) stay at or under 2 % of the cases."""
    foreign = [c for c in CASES if isinstance(c.expect, fuzz_cases.Foreign)]
    assert len(foreign) <= 0.02 * len(CASES), [c.id for c in foreign]
    assert all(c.expect.why for c in foreign)
