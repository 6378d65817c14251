import numpy as np
import pytest

from lmlib.stats import Interval, bootstrap_ci, paired_bootstrap


def test_interval_of_a_proportion_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    x = (rng.random(2000) < 0.3).astype(float)
    ci = bootstrap_ci(x, n_boot=4000)
    se = x.std() / np.sqrt(x.size)
    assert ci.low < ci.estimate < ci.high
    assert abs((ci.high - ci.low) - 2 * 1.96 * se) < 0.1 * 2 * 1.96 * se
    assert ci.n == 2000 and ci.excludes(0.0) and not ci.excludes(x.mean())


def test_paired_difference_keeps_pairs():
    rng = np.random.default_rng(2)
    base = rng.normal(size=500)
    # b = a + 0.05 with tiny noise: separately the intervals overlap, paired it is clear.
    a, b = base, base + 0.05 + rng.normal(scale=0.01, size=500)
    d = paired_bootstrap(b, a)
    assert d.excludes(0.0) and abs(d.estimate - 0.05) < 0.01
    noise = rng.normal(scale=0.1, size=500)
    same = paired_bootstrap(a, a + noise - noise.mean())  # mean difference exactly 0
    assert not same.excludes(0.0)


def test_same_seed_same_interval_and_str_is_korean():
    x = [0.1, 0.5, 0.2, 0.9, 0.4]
    assert bootstrap_ci(x, seed=3) == bootstrap_ci(x, seed=3)
    assert "95% 구간" in str(bootstrap_ci(x)) and "n=5" in str(bootstrap_ci(x))


@pytest.mark.parametrize("values, error, match", [
    ("0101", TypeError, "sequence of numbers"),
    ([1.0], ValueError, "at least 2"),
    ([1.0, float("nan")], ValueError, "NaN"),
    ([[1, 2], [3, 4]], ValueError, "one-dimensional"),
    ([1, "a"], TypeError, "numbers only"),
])
def test_bad_values(values, error, match):
    with pytest.raises(error, match=match):
        bootstrap_ci(values)


def test_bad_options_and_mismatched_pairs():
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci([1, 2, 3], level=95)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci([1, 2, 3], n_boot=10)
    with pytest.raises(ValueError, match="same items"):
        paired_bootstrap([1, 2, 3], [1, 2])
    assert Interval(0.1, -0.1, 0.2, 10).excludes(0.0) is False


def test_proportion_ci_is_the_wilson_interval_and_refuses_impossible_counts():
    from lmlib.stats import proportion_ci

    ci = proportion_ci(850, 1000)
    # Wilson 95% for 850/1000 by hand: centre 0.848664, half-width 0.022130
    assert ci.estimate == 0.85 and abs(ci.low - 0.826534) < 1e-5 and abs(ci.high - 0.870794) < 1e-5
    assert proportion_ci(0, 10).low == 0.0 and proportion_ci(10, 10).high == 1.0
    assert proportion_ci(5, 10).high - proportion_ci(5, 10).low > \
        proportion_ci(500, 1000).high - proportion_ci(500, 1000).low
    with pytest.raises(ValueError, match="correct must be in"):
        proportion_ci(11, 10)
    with pytest.raises(TypeError, match="correct must be an int"):
        proportion_ci(0.85, 1000)
    with pytest.raises(ValueError, match="n must be >= 1"):
        proportion_ci(0, 0)
