"""Statistics for comparisons on a sample: 95% bootstrap intervals.

Whenever the book compares two methods on a sample (blanks, sentence pairs, word senses),
it reports the sample size and a 95% interval, and calls a difference a win only when
the interval excludes 0. `bootstrap_ci` gives the interval of a mean; `paired_bootstrap`
the interval of the mean difference of two methods scored on the same items (resampling
items, so the pairing is kept); `proportion_ci` the Wilson interval of an accuracy known only
as a count (k correct of n), as a training script's report gives it.

The resampling uses numpy's PCG64 generator with a fixed seed, whose integers are the same
on every platform, so an interval printed in a notebook reproduces on any CPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "bootstrap_ci", "paired_bootstrap", "proportion_ci"]


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile-bootstrap interval over n items."""

    estimate: float
    low: float
    high: float
    n: int
    level: float = 0.95

    def __post_init__(self) -> None:
        for name in ("estimate", "low", "high"):
            _check_number(getattr(self, name), name)
        if isinstance(self.n, bool) or not isinstance(self.n, (int, np.integer)) or self.n < 1:
            raise ValueError(f"n must be an int >= 1 (the sample size), got {self.n!r}")
        if not self.low <= self.high:
            raise ValueError(f"low must be <= high, got low={self.low!r}, high={self.high!r}")
        if isinstance(self.level, bool) or not isinstance(self.level, (int, float)) \
                or not 0 < self.level < 1:
            raise ValueError(f"level must be a number strictly between 0 and 1, got {self.level!r}")

    def excludes(self, value: float = 0.0) -> bool:
        """True when the whole interval lies on one side of value (a difference that counts)."""
        _check_number(value, "value")
        return self.low > value or self.high < value

    def __str__(self) -> str:
        return (f"{self.estimate:.3f} (95% 구간 {self.low:.3f}~{self.high:.3f}, n={self.n:,})"
                if self.level == 0.95 else
                f"{self.estimate:.3f} ({self.level:.0%} 구간 {self.low:.3f}~{self.high:.3f}, "
                f"n={self.n:,})")


def _check_number(x: object, name: str) -> float:
    """A finite real number (numpy floats included, bool refused)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(x).__name__} {x!r}")
    if not np.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return float(x)


def _as_sample(values: object, name: str) -> np.ndarray:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name} must hold numbers only: {e}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size < 2:
        raise ValueError(f"{name} needs at least 2 values for an interval, got {arr.size}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values (at index "
                         f"{int(np.flatnonzero(~np.isfinite(arr))[0])})")
    return arr


def _check_options(level: float, n_boot: int, seed: int) -> None:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level must be a number strictly between 0 and 1, got {level!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        raise ValueError(f"n_boot must be an int >= 100, got {n_boot!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:  # numpy's PCG64 takes non-negative seeds only
        raise ValueError(f"seed must be an int >= 0, got {seed}")


def bootstrap_ci(values: Sequence[float], level: float = 0.95, n_boot: int = 10_000,
                 seed: int = 0) -> Interval:
    """Mean of values with its percentile-bootstrap interval (items resampled with replacement).

    >>> bootstrap_ci([1, 0, 1, 1, 0, 1, 1, 1]).estimate
    0.75
    """
    arr = _as_sample(values, "values")
    _check_options(level, n_boot, seed)
    rng = np.random.Generator(np.random.PCG64(seed))
    means = np.empty(n_boot)
    for start in range(0, n_boot, 1000):  # chunks keep memory small for large samples
        stop = min(start + 1000, n_boot)
        idx = rng.integers(0, arr.size, size=(stop - start, arr.size))
        means[start:stop] = arr[idx].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(float(arr.mean()), float(low), float(high), int(arr.size), float(level))


def paired_bootstrap(a: Sequence[float], b: Sequence[float], level: float = 0.95,
                     n_boot: int = 10_000, seed: int = 0) -> Interval:
    """Mean of a - b over the same items, with its bootstrap interval (pairs resampled together).

    Use it for two methods scored on the same blanks or sentences: the interval of the
    difference, not two separate intervals, says whether one is better.
    """
    a_arr, b_arr = _as_sample(a, "a"), _as_sample(b, "b")
    if a_arr.size != b_arr.size:
        raise ValueError(f"a and b must score the same items: got {a_arr.size} and {b_arr.size} "
                         "values")
    return bootstrap_ci(a_arr - b_arr, level=level, n_boot=n_boot, seed=seed)


def proportion_ci(correct: int, n: int, level: float = 0.95) -> Interval:
    """Share correct / n with its Wilson score interval (for an accuracy reported as a count).

    >>> round(proportion_ci(850, 1000).low, 3)
    0.827
    """
    from statistics import NormalDist

    for name, value in (("correct", correct), ("n", n)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int (a count), got {type(value).__name__} {value!r}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 <= correct <= n:
        raise ValueError(f"correct must be in [0, n] = [0, {n}], got {correct}")
    _check_options(level, 100, 0)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if correct == 0 else float(max(0.0, centre - half))  # exact ends, no rounding residue
    high = 1.0 if correct == n else float(min(1.0, centre + half))
    return Interval(p, low, high, int(n), float(level))
