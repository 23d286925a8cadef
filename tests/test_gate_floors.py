"""p-value floors of the paired tests, checked against independent computations.

The floors say how small a p-value approximate randomisation and the paired
bootstrap can return when only k paragraphs changed; `evalkit check` judges on
magnitude where the floor is not below alpha. Each is checked here against an
implementation written separately: exact enumeration of all 2**k swaps for
approximate randomisation, and a binomial tail from math.comb for the bootstrap.
"""

import itertools
import math

import numpy as np
import pytest

from evalkit.compare import effective_changes
from evalkit.scorers import METRICS
from evalkit.scorers.stats import (
    approximate_randomization,
    bootstrap_p_floor,
    changed_paragraphs,
    paired_bootstrap,
    randomization_p_floor,
)
from test_check import BAD, GOOD


@pytest.fixture(scope="module")
def chrf():
    scorer = METRICS.get("chrf")("ms")
    scorer.load()
    return scorer


def _exact_ar_p(scorer, system, baseline):
    """Exact permutation p-value over all 2**k swaps of the changed paragraphs (no sampling)."""
    rows = [i for i in range(len(system)) if not np.array_equal(system[i], baseline[i])]
    observed = abs(scorer.score_from_statistics(system) - scorer.score_from_statistics(baseline))
    hits = 0
    for pattern in itertools.product((False, True), repeat=len(rows)):
        a, b = system.copy(), baseline.copy()
        for i, swap in zip(rows, pattern):
            if swap:
                a[i], b[i] = baseline[i], system[i]
        diff = abs(scorer.score_from_statistics(a) - scorer.score_from_statistics(b))
        hits += diff >= observed - 1e-14 * observed
    return hits / 2 ** len(rows)


def test_randomization_floor_is_two_in_two_to_the_k():
    assert randomization_p_floor(0) == 1.0 and randomization_p_floor(1) == 1.0
    assert randomization_p_floor(3, 10000) == pytest.approx((1 + 10000 * 0.25) / 10001)
    assert randomization_p_floor(5, 10000) == pytest.approx(0.0626, abs=1e-4)
    assert randomization_p_floor(6, 10000) < 0.05 <= randomization_p_floor(5, 10000)
    assert randomization_p_floor(40, 1000) == pytest.approx(1 / 1001)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_no_regression_on_k_paragraphs_can_beat_the_randomization_floor(chrf, k):
    candidates = list(GOOD)
    for i in range(k):
        candidates[i * 3] = "Lorem ipsum dolor sit amet."
    system, baseline = chrf.statistics(candidates, GOOD), chrf.statistics(GOOD, GOOD)
    assert changed_paragraphs(system, baseline) == k
    exact = _exact_ar_p(chrf, system, baseline)
    assert exact == pytest.approx(2 / 2 ** k)  # every change points the same way: exactly the floor
    sampled = approximate_randomization(chrf, system, baseline, n_trials=4000, seed=7).p_value
    assert sampled == pytest.approx(randomization_p_floor(k, 4000), abs=0.03)


def test_randomization_over_distinct_swaps_matches_scoring_every_trial(chrf):
    """The p-value is the same as the straightforward computation with the same draws."""
    candidates = [BAD[i] if i in (1, 4, 9) else GOOD[i] for i in range(len(GOOD))]
    system, baseline = chrf.statistics(candidates, GOOD), chrf.statistics(GOOD, GOOD)
    rng = np.random.default_rng(99)
    swap = rng.integers(2, size=(500, len(GOOD)), dtype=bool)
    observed = abs(chrf.score_from_statistics(system) - chrf.score_from_statistics(baseline))
    count = 0
    for row in swap:
        a = np.where(row[:, None], baseline, system).sum(axis=0)
        b = np.where(row[:, None], system, baseline).sum(axis=0)
        count += abs(chrf.score_from_statistics(a) - chrf.score_from_statistics(b)) >= observed * (1 - 1e-14)
    assert approximate_randomization(chrf, system, baseline, n_trials=500, seed=99).p_value == (count + 1) / 501


def test_bootstrap_floor_is_the_binomial_tail_of_twice_the_changes():
    def tail(n, k):
        p = k / n
        return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(2 * k, n + 1))

    for n, k in [(16, 1), (16, 3), (16, 5), (40, 7), (200, 2)]:
        assert bootstrap_p_floor(n, k, 1000) == pytest.approx((1 + 1000 * tail(n, k)) / 1001, rel=1e-9)
    assert bootstrap_p_floor(16, 0) == 1.0 and bootstrap_p_floor(1, 1) == 1.0
    assert bootstrap_p_floor(16, 16, 1000) == pytest.approx(1 / 1001)


@pytest.mark.parametrize("k", [1, 3, 6])
def test_bootstrap_p_on_equal_changes_is_near_its_floor(chrf, k):
    """Measured: the real test lands near the first-order floor (a little below for tiny k: chrF is not linear)."""
    candidates = list(GOOD)
    for i in range(k):
        candidates[i * 2] = "Lorem ipsum dolor sit amet."
    system, baseline = chrf.statistics(candidates, GOOD), chrf.statistics(GOOD, GOOD)
    floor = bootstrap_p_floor(len(GOOD), k, 1000)
    p = paired_bootstrap(chrf, system, baseline, n_resamples=1000, seed=3).p_value
    assert 0.5 * floor <= p <= 3 * floor + 0.01


def test_effective_changes_counts_equal_changes_fully_and_crumbs_barely(chrf):
    three = [("Lorem ipsum dolor sit amet." if i in (2, 7, 12) else g) for i, g in enumerate(GOOD)]
    base = chrf.statistics(GOOD, GOOD)
    k, effective = effective_changes(chrf, chrf.statistics(three, GOOD), base)
    assert k == 3 and 2.5 <= effective <= 3.0
    crumbs = [(t + "," if i not in (2,) else "Lorem ipsum dolor sit amet.") for i, t in enumerate(GOOD)]
    k, effective = effective_changes(chrf, chrf.statistics(crumbs, GOOD), base)
    assert k == len(GOOD) and effective < 3
    assert effective_changes(chrf, base, base) == (0, 0.0)
