"""Timing, agreement and the result table shared by every benchmark.

A benchmark times lmlib and an independent reference on the same inputs in the same run,
alternating the two (so a slow minute of the machine hits both), and records the median,
min and max of each, the largest numerical difference between their outputs and the ratio
lmlib / reference: the median of the paired runs' ratios (run i of lmlib against run i of the
reference, timed next to each other), with an exact, distribution-free 95% interval for that
median (order statistics of the paired ratios). A goal counts as met only when the whole
interval meets it, and a ratio needs at least MIN_PAIRS paired runs to count at all.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

MIN_PAIRS = 7  # paired runs a ratio needs before its goal can count as met
LEVEL = 0.95  # confidence of the interval around each median


def median_interval(xs: list[float], level: float = LEVEL) -> tuple[float, float] | None:
    """An exact, distribution-free interval for the median of the distribution `xs` came from.

    With the values sorted, [x_(k), x_(n+1-k)] holds the median with probability
    P(k <= B <= n - k), B ~ Binomial(n, 1/2), whatever the distribution; k is the largest
    that keeps this >= `level`. None when too few values can reach it (fewer than 6 at 95%).
    For 7 runs the interval is [min, max] (98.4%); for 10, the 2nd and 9th values (97.9%).
    """
    n, best = len(xs), None
    for k in range(1, n // 2 + 1):
        cover = sum(math.comb(n, i) for i in range(k, n - k + 1)) / 2 ** n
        if cover < level:
            break
        best = k
    if best is None:
        return None
    ordered = sorted(xs)
    return ordered[best - 1], ordered[n - best]


@dataclass
class Row:
    """One line of the table: a case of a benchmark, lmlib vs its reference."""

    benchmark: str
    case: str
    ours: list[float]  # seconds, one per repeat
    ref: list[float] | None = None  # None: no reference (a goal on lmlib's own time)
    ref_name: str = ""
    goal: str = ""  # as the issue states it, e.g. "ratio <= 1.05"
    max_ratio: float | None = None  # goal met when ratio <= max_ratio
    min_speedup: float | None = None  # goal met when 1 / ratio >= min_speedup
    max_seconds: float | None = None  # goal met when median(ours) <= max_seconds
    diff: float | None = None  # largest |lmlib - reference| over the compared outputs
    tol: float | None = None  # agreement met when diff <= tol
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def ref_median(self) -> float | None:
        return statistics.median(self.ref) if self.ref else None

    @property
    def paired_ratios(self) -> list[float] | None:
        """lmlib's run i / the reference's run i (compare() times them next to each other)."""
        if not self.ref:
            return None
        return [o / r for o, r in zip(self.ours, self.ref)]

    @property
    def ratio(self) -> float | None:
        """The median of the paired ratios (lmlib / reference)."""
        return statistics.median(self.paired_ratios) if self.ref else None

    @property
    def ratio_interval(self) -> tuple[float, float] | None:
        """95% interval of that median; None below MIN_PAIRS paired runs."""
        if not self.ref or len(self.paired_ratios) < MIN_PAIRS:
            return None
        return median_interval(self.paired_ratios)

    @property
    def agrees(self) -> bool | None:
        if self.tol is None:
            return None
        return self.diff is not None and math.isfinite(self.diff) and self.diff <= self.tol

    @property
    def met(self) -> bool:
        """Every goal met by the whole interval (a ratio), and the outputs agree."""
        ok = self.agrees is not False
        hi = self.ratio_interval[1] if self.ratio_interval else None
        if self.max_ratio is not None:
            ok &= hi is not None and hi <= self.max_ratio
        if self.min_speedup is not None:  # speedup = 1 / ratio: its lower end is 1 / hi
            ok &= hi is not None and 1 / hi >= self.min_speedup
        if self.max_seconds is not None:  # a chapter's run time: one run, its own goal
            ok &= self.ours_median <= self.max_seconds
        return bool(ok)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(ours_median=self.ours_median, ref_median=self.ref_median, ratio=self.ratio,
                 ratio_interval=self.ratio_interval, pairs=len(self.ref) if self.ref else 0,
                 agrees=self.agrees, met=self.met)
        return d


def _check_repeat(repeat: object) -> int:
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be an int >= 1, got {repeat!r}")
    return repeat


def time_once(fn: Callable[[], object]) -> float:
    """Seconds one call of fn takes (garbage collected before, not during)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


PROFILE = {"on": False, "rows": 15}  # python -m bench --profile: print where the time goes


def profile(fn: Callable[[], object], title: str, rows: int = 15) -> str:
    """torch.profiler's table of one call of fn, the operators sorted by their own CPU time."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)
    return f"--- profile: {title}\n{table}"


def compare(ours: Callable[[], object], ref: Callable[[], object] | None, repeat: int = 5,
            warmup: int = 1) -> tuple[list[float], list[float] | None]:
    """Time `ours` and `ref` alternately, `repeat` times each after `warmup` untimed calls.

    With PROFILE["on"] (python -m bench --profile) each is also profiled once, after timing.
    """
    _check_repeat(repeat)
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")
    for _ in range(warmup):
        ours()
        if ref is not None:
            ref()
    t_ours, t_ref = [], []
    for i in range(repeat):
        # alternate which goes first, so neither always runs on a warmer cache
        pair = [(ours, t_ours), (ref, t_ref)] if i % 2 == 0 else [(ref, t_ref), (ours, t_ours)]
        for fn, out in pair:
            if fn is not None:
                out.append(time_once(fn))
    if PROFILE["on"]:
        print(profile(ours, "lmlib", PROFILE["rows"]), flush=True)
        if ref is not None:
            print(profile(ref, "reference", PROFILE["rows"]), flush=True)
    return t_ours, (t_ref if ref is not None else None)


def machine() -> str:
    """CPU model, cores, torch threads and versions: enough to know what a number means."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    parts = [cpu, f"{os.cpu_count()} cores"]
    try:
        import torch

        parts += [f"{torch.get_num_threads()} torch threads", f"torch {torch.__version__}"]
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    parts.append(f"Python {platform.python_version()}")
    return ", ".join(parts)


def _fmt_s(xs: list[float] | None) -> str:
    if not xs:
        return "—"
    med, lo, hi = statistics.median(xs), min(xs), max(xs)
    if med >= 1:
        return f"{med:.2f} s ({lo:.2f}–{hi:.2f})"
    return f"{med * 1e3:.2f} ms ({lo * 1e3:.2f}–{hi * 1e3:.2f})"


def _fmt_diff(row: Row) -> str:
    if row.tol is None:
        return "—"
    mark = "✓" if row.agrees else "✗"
    return f"{row.diff:.1e} ≤ {row.tol:.0e} {mark}"


def markdown_table(rows: list[Row]) -> str:
    """The result table in Markdown (the book's appendix and the terminal print the same)."""
    head = ("| benchmark | case | lmlib median (min–max) | reference | reference median (min–max) "
            "| ratio | goal | agreement | met |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}x"
        if r.ratio is not None:
            ci = r.ratio_interval
            ratio += (f" [{ci[0]:.2f}, {ci[1]:.2f}], n={len(r.ref)}" if ci else
                      f" (n={len(r.ref)}: too few runs for an interval)")
        if r.min_speedup is not None and r.ratio:
            ratio += f"; {1 / r.ratio:.1f}x faster" + (
                f" [{1 / r.ratio_interval[1]:.1f}, {1 / r.ratio_interval[0]:.1f}]" if r.ratio_interval else "")
        case = r.case + (f" — {r.note}" if r.note else "")
        lines.append(f"| {r.benchmark} | {case} | {_fmt_s(r.ours)} | {r.ref_name or '—'} | "
                     f"{_fmt_s(r.ref)} | {ratio} | {r.goal} | {_fmt_diff(r)} | "
                     f"{'yes' if r.met else '**no**'} |")
    return "\n".join(lines)
