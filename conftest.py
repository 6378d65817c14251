"""Repository-wide pytest hooks: print how long each notebook takes under nbval.

The budget is 60 s per chapter on a 2-core machine; the table makes every CI log
show where the time goes.
"""

from collections import defaultdict

_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_SECONDS:
        return
    tr = terminalreporter
    tr.section("notebook execution time (nbval, budget 60 s each)")
    for path, seconds in sorted(_NOTEBOOK_SECONDS.items()):
        flag = "" if seconds <= 60 else "   <-- over the 60 s budget"
        tr.write_line(f"{seconds:7.1f} s  {path}{flag}")
