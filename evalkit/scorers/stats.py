"""Confidence intervals and paired significance tests over sufficient statistics.

A corpus score of a lexical metric is a function of per-paragraph statistics
summed over the corpus (`Scorer.statistics`, `Scorer.score_from_statistics`).
Every resample below is therefore a weighted row sum of a statistics matrix,
done for all resamples at once as one matrix product, followed by the scores of
all those sums in one vectorised call (`Scorer.scores_from_statistics`,
bit-identical to scoring each sum alone). Nothing is re-tokenised or
re-matched: on 10,000 paragraphs a 1,000-resample interval takes well under a
second, where re-scoring the strings of each resample takes hours (see
`benchmarks/scoring_speed.py`). Per-document intervals and paired tests
(`bootstrap_cis_by_group`, `paired_bootstraps_by_group`) score every document's
resamples together, each identical to the one-document call.

Methods and conventions
-----------------------
* Bootstrap confidence interval and paired bootstrap test: Koehn (2004),
  "Statistical Significance Tests for Machine Translation Evaluation", EMNLP.
  Paragraphs are resampled with replacement; the interval is the percentile
  interval of the resampled corpus scores.
* Approximate randomisation: Riezler & Maxwell (2005), "On Some Pitfalls in
  Automatic Evaluation and Significance Testing for MT", ACL workshop on
  intrinsic and extrinsic evaluation measures for MT.
* Both tests follow `sacrebleu.significance` (2.6) -- same random draws from
  `numpy.random.default_rng(seed)`, default seed 12345 as ``SACREBLEU_SEED``,
  same test statistics, the same ``(c + 1) / (n + 1)`` p-value -- with one
  deliberate difference: a resample counts as "at least as extreme" when its
  statistic is ``>=`` the observed one, where sacrebleu uses ``>``. With ``>``,
  a system compared with itself gets p = 1/(n+1) (0.0001 for 10,000 trials), i.e.
  "significant"; with ``>=`` it gets p = 1. The two differ only on exact ties,
  which happen precisely when swapping or resampling cannot change the
  difference (identical outputs on the paragraphs that matter).

p-values (two-sided; d = |score(system) - score(baseline)| on all paragraphs)
---------------------------------------------------------------------------
* Paired bootstrap, B resamples: draw B index vectors of length n with
  replacement, the same vector for both systems; d_b = |score_sys(b) -
  score_base(b)|; centre them, e_b = d_b - mean(d_1..d_B), to approximate the
  distribution of d under "no difference" (as sacrebleu does, which follows
  Moses' ``bootstrap-hypothesis-difference-significance.pl``);
  ``p = (1 + #{b : e_b >= d}) / (B + 1)``.
* Approximate randomisation, N trials: in each trial every paragraph's pair of
  outputs is swapped between the two systems with probability 1/2;
  a_t, b_t are the scores of the two shuffled pseudo-systems;
  ``p = (1 + #{t : |a_t - b_t| >= d}) / (N + 1)``.

A tie (``>=``) is judged with a relative slack of 1e-14 of d, as in
`scipy.stats.permutation_test`. Ties are common for TER under approximate
randomisation: swapping keeps the two systems' total edits constant over a
shared reference length, so its null distribution is discrete and often hits d
exactly (6 % of trials on a 30-paragraph test set here), which is where evalkit's
p-value is larger than sacrebleu's.

Degenerate inputs
-----------------
* One paragraph: no sampling distribution exists, so both tests return p = 1
  (AR gets there by itself: both of its shuffles reproduce d). The interval
  collapses to the score.
* Identical statistics for both systems: d = 0, every resample ties, p = 1.
* Zero spread of the bootstrap differences (every resample gives the same
  d_b, e.g. the same paragraph repeated): the bootstrap has seen no variability
  to compare d with, so it returns p = 1 rather than the 1/(B+1) its formula
  would give; approximate randomisation still tests such data.
The single-paragraph and zero-spread cases are named in the result's ``note``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evalkit.errors import ScoringError
from evalkit.scorers.base import Scorer

DEFAULT_SEED = 12345  # sacrebleu's SACREBLEU_SEED default, so numbers are comparable
_TIE_SLACK = 1e-14  # relative; see _p_value
_CHUNK_CELLS = 4_000_000  # resample weights materialised at once (x 8 bytes)
_SCORE_BLOCK_CELLS = 1 << 18  # summed statistics scored per vectorised call in the by-group functions (2 MB: cache-sized)


@dataclass(frozen=True)
class ConfidenceInterval:
    """Percentile bootstrap interval for one system's corpus score."""

    low: float
    high: float
    n_resamples: int
    seed: int
    confidence: float
    score: float  # corpus score on all paragraphs (the point estimate)
    signature: str  # the metric's signature plus the resampling settings
    note: str | None = None


@dataclass(frozen=True)
class Comparison:
    """A paired test of a system against a baseline on the same paragraphs.

    `delta` is system - baseline in the metric's own units and direction (a TER
    improvement is negative). `significant` means the two-sided test rejects "no
    difference" at `alpha`; `better` says which side won, using the metric's
    `higher_is_better`, and is None when the difference is not significant.
    """

    test: str  # "paired_bootstrap" or "approximate_randomization"
    system_score: float
    baseline_score: float
    delta: float
    p_value: float
    alpha: float
    significant: bool
    better: str | None  # "system", "baseline" or None
    higher_is_better: bool
    n_samples: int
    seed: int
    signature: str
    note: str | None = None


def bootstrap_ci(
    scorer: Scorer,
    stats: np.ndarray,
    n_resamples: int = 1000,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> ConfidenceInterval:
    """Percentile interval of the corpus score over paragraphs resampled with replacement.

    The bounds are order statistics k and B-1-k of the B sorted resampled scores,
    k = floor(B * (1 - confidence) / 2): for B = 1000 at 95 % these are the same
    order statistics sacrebleu uses (25 and 974), and the resampling indices are
    the same as `corpus_score(..., n_bootstrap=B)` with the same seed.
    """
    stats = _as_matrix(scorer, stats, "stats")
    _check_count(n_resamples, "n_resamples")
    _check_confidence(confidence)
    n = stats.shape[0]
    rng = np.random.default_rng(seed)
    indices = rng.choice(n, size=(n_resamples, n), replace=True)
    resampled = _scores(scorer, _resampled_sums(stats, indices))
    return _interval(scorer, stats, resampled, n_resamples, seed, confidence, scorer.signature())


def group_starts(documents: Sequence[str]) -> list[int]:
    """Index where each run of one document begins, in rows grouped by document: the `starts` that resampling by
    document and the by-group functions below cut at."""
    return [0] + [i for i in range(1, len(documents)) if documents[i] != documents[i - 1]] if documents else []


def bootstrap_cis_by_group(
    scorer: Scorer,
    stats: np.ndarray,
    starts: Sequence[int],
    n_resamples: int = 1000,
    seed: int = DEFAULT_SEED,
    confidence: float = 0.95,
) -> list[ConfidenceInterval]:
    """`bootstrap_ci(scorer, stats[a:b], n_resamples, seed, confidence)` for every group [a, b), in group order.

    Groups are consecutive rows (documents): group i runs from starts[i] to
    starts[i+1] (the last to the end); starts[0] must be 0. Each group draws
    from a fresh `default_rng(seed)` exactly as `bootstrap_ci` does, so every
    interval is identical to the one-group call; the difference is speed: all
    groups' resampled sums are scored in a few vectorised calls
    (`Scorer.scores_from_statistics`), and groups of one size share their
    draws (same seed, same size: the same indices), which 400 documents x 4
    metrics would otherwise redo one Python call at a time.
    """
    stats = _as_matrix(scorer, stats, "stats")
    _check_count(n_resamples, "n_resamples")
    _check_confidence(confidence)
    bounds = _group_bounds(scorer, starts, stats.shape[0])
    resampled = _resampled_scores_by_group(scorer, [stats], bounds, n_resamples, seed)
    signature = scorer.signature()  # once: sacrebleu builds it anew on every call
    return [_interval(scorer, stats[a:b], scores, n_resamples, seed, confidence, signature)
            for (a, b), (scores,) in zip(bounds, resampled)]


def _interval(
    scorer: Scorer, stats: np.ndarray, resampled: np.ndarray, n_resamples: int, seed: int, confidence: float,
    signature: str,
) -> ConfidenceInterval:
    """The percentile interval from one group's resampled scores (shared by the one-group and by-group calls)."""
    scores = np.sort(resampled)
    k = math.floor(n_resamples * (1.0 - confidence) / 2.0 + 1e-9)
    note = "a single paragraph: the interval is the score itself" if stats.shape[0] == 1 else None
    return ConfidenceInterval(
        low=float(scores[k]),
        high=float(scores[n_resamples - 1 - k]),
        n_resamples=n_resamples,
        seed=seed,
        confidence=confidence,
        score=scorer.score_from_statistics(stats),
        signature=f"{signature}|bs:{n_resamples}|rs:{seed}",
        note=note,
    )


def paired_bootstrap(
    scorer: Scorer,
    system_stats: np.ndarray,
    baseline_stats: np.ndarray,
    n_resamples: int = 1000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
) -> Comparison:
    """Koehn's (2004) paired bootstrap; p-value as defined in the module docstring."""
    system_stats, baseline_stats = _as_pair(scorer, system_stats, baseline_stats)
    _check_count(n_resamples, "n_resamples")
    _check_alpha(alpha)
    n = system_stats.shape[0]
    rng = np.random.default_rng(seed)
    indices = rng.choice(n, size=(n_resamples, n), replace=True)
    system_resampled = _scores(scorer, _resampled_sums(system_stats, indices))
    baseline_resampled = _scores(scorer, _resampled_sums(baseline_stats, indices))
    return _paired_bootstrap_result(
        scorer, system_stats, baseline_stats, system_resampled, baseline_resampled, n_resamples, seed, alpha
    )


def paired_bootstraps_by_group(
    scorer: Scorer,
    system_stats: np.ndarray,
    baseline_stats: np.ndarray,
    starts: Sequence[int],
    n_resamples: int = 1000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
) -> list[Comparison]:
    """`paired_bootstrap(scorer, system_stats[a:b], baseline_stats[a:b], n_resamples, seed, alpha)` for every group.

    Groups as in `bootstrap_cis_by_group`; every result is identical to the
    one-group call, with all groups' resamples scored in a few vectorised calls.
    """
    system_stats, baseline_stats = _as_pair(scorer, system_stats, baseline_stats)
    _check_count(n_resamples, "n_resamples")
    _check_alpha(alpha)
    bounds = _group_bounds(scorer, starts, system_stats.shape[0])
    resampled = _resampled_scores_by_group(scorer, [system_stats, baseline_stats], bounds, n_resamples, seed)
    return [
        _paired_bootstrap_result(scorer, system_stats[a:b], baseline_stats[a:b], own, base, n_resamples, seed, alpha)
        for (a, b), (own, base) in zip(bounds, resampled)
    ]


def _paired_bootstrap_result(
    scorer: Scorer,
    system_stats: np.ndarray,
    baseline_stats: np.ndarray,
    system_resampled: np.ndarray,
    baseline_resampled: np.ndarray,
    n_resamples: int,
    seed: int,
    alpha: float,
) -> Comparison:
    """The paired bootstrap's p-value and verdict from the resampled scores of both systems."""
    n = system_stats.shape[0]
    system_score = scorer.score_from_statistics(system_stats)
    baseline_score = scorer.score_from_statistics(baseline_stats)
    observed = abs(system_score - baseline_score)
    diffs = np.abs(system_resampled - baseline_resampled)
    note = None
    if n == 1:
        p_value, note = 1.0, "a single paragraph: no test is possible, p set to 1"
    elif observed > 0 and np.ptp(diffs) == 0:
        p_value, note = 1.0, "resampled differences have zero spread: the bootstrap cannot test this, p set to 1"
    else:
        p_value = _p_value(diffs - diffs.mean(), observed)
    return _comparison(
        scorer, "paired_bootstrap", system_score, baseline_score, p_value, alpha, n_resamples, seed, "bs", note
    )


def approximate_randomization(
    scorer: Scorer,
    system_stats: np.ndarray,
    baseline_stats: np.ndarray,
    n_trials: int = 10000,
    seed: int = DEFAULT_SEED,
    alpha: float = 0.05,
) -> Comparison:
    """Riezler & Maxwell's (2005) approximate randomisation; p-value as in the module docstring."""
    system_stats, baseline_stats = _as_pair(scorer, system_stats, baseline_stats)
    _check_count(n_trials, "n_trials")
    n = system_stats.shape[0]
    system_score = scorer.score_from_statistics(system_stats)
    baseline_score = scorer.score_from_statistics(baseline_stats)
    observed = abs(system_score - baseline_score)

    rng = np.random.default_rng(seed)
    # True: the paragraph's baseline output goes to pseudo-system a (sacrebleu's draw).
    swap = rng.integers(2, size=(n_trials, n), dtype=bool)
    # a = swap @ base + ~swap @ sys = sys_total + swap @ (base - sys); b mirrors it.
    gap = baseline_stats - system_stats
    # Only paragraphs whose statistics differ move anything, so with k of them there are
    # at most 2**k distinct shuffles: score each distinct one once and map back. The
    # sums are exact integer arithmetic, so this gives the very same p-value as
    # scoring every trial (the draws above are unchanged).
    changed = np.flatnonzero(np.any(gap != 0, axis=1))
    if len(changed) < 16 and 2 ** len(changed) < n_trials:
        packed = swap[:, changed].astype(np.int64) @ (np.int64(1) << np.arange(len(changed), dtype=np.int64))
        _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
        representatives = swap[first]
    else:
        representatives, inverse = swap, None
    moved = _weighted_sums(representatives, gap)
    sums_a = system_stats.sum(axis=0) + moved
    sums_b = baseline_stats.sum(axis=0) - moved
    diffs = np.abs(_scores(scorer, sums_a) - _scores(scorer, sums_b))
    if inverse is not None:
        diffs = diffs[np.ravel(inverse)]
    p_value = _p_value(diffs, observed)
    note = "a single paragraph: no test is possible" if n == 1 else None
    return _comparison(
        scorer, "approximate_randomization", system_score, baseline_score, p_value, alpha, n_trials, seed, "ar", note
    )


# --- pure helpers -------------------------------------------------------------


def _p_value(null_stats: np.ndarray, observed: float) -> float:
    """(1 + #{null >= observed}) / (N + 1): ties count as extreme (see module docstring).

    A tie is judged with a relative slack of 1e-14, as `scipy.stats.permutation_test`
    does, so that a resample whose statistic equals the observed one mathematically
    but was rounded differently on the way still counts as a tie.
    """
    count = int(np.count_nonzero(null_stats >= observed - _TIE_SLACK * abs(observed)))
    return (count + 1) / (len(null_stats) + 1)


def _resampled_scores_by_group(
    scorer: Scorer, matrices: list[np.ndarray], bounds: list[tuple[int, int]], n_resamples: int, seed: int
) -> list[list[np.ndarray]]:
    """For each group [a, b): the scores of `bootstrap_ci`'s resamples of every matrix's rows a..b (same draws).

    The sums of each group are computed by the very calls `bootstrap_ci` makes
    (`_resampled_sums`, or `_weighted_sums` of the same weights where they fit one
    chunk, which is what `_resampled_sums` does then), so they are identical; only
    the scoring is batched, in blocks of about `_SCORE_BLOCK_CELLS` statistics. Groups
    are visited by size so that each size's weights are drawn and kept once.
    """
    found: list[list[np.ndarray]] = [[] for _ in bounds]
    pending: list[tuple[int, list[np.ndarray]]] = []
    pending_cells = 0

    def flush() -> None:
        for j in range(len(matrices)):
            block = np.concatenate([sums[j] for _, sums in pending])
            scores = _scores(scorer, block).reshape(len(pending), n_resamples)
            for row, (group, _) in enumerate(pending):
                found[group].append(scores[row])
        pending.clear()

    weights_size, weights = -1, None
    for group in sorted(range(len(bounds)), key=lambda g: bounds[g][1] - bounds[g][0]):
        a, b = bounds[group]
        n = b - a
        if n_resamples <= max(1, _CHUNK_CELLS // n):  # one chunk in _resampled_sums: share the weights by size
            if n != weights_size:
                indices = np.random.default_rng(seed).choice(n, size=(n_resamples, n), replace=True)
                weights_size, weights = n, _resample_weights(indices, n)
            sums = [_weighted_sums(weights, m[a:b]) for m in matrices]
        else:
            indices = np.random.default_rng(seed).choice(n, size=(n_resamples, n), replace=True)
            sums = [_resampled_sums(m[a:b], indices) for m in matrices]
        pending.append((group, sums))
        pending_cells += sum(s.size for s in sums)
        if pending_cells >= _SCORE_BLOCK_CELLS:
            flush()
            pending_cells = 0
    if pending:
        flush()
    return found


def _group_bounds(scorer: Scorer, starts: Sequence[int], rows: int) -> list[tuple[int, int]]:
    """[(a, b), ...] of consecutive groups from their start rows; every row belongs to exactly one group."""
    starts = [int(s) for s in starts]
    if not starts or starts[0] != 0 or any(b <= a for a, b in zip(starts, starts[1:])) or starts[-1] >= rows:
        shown = starts if len(starts) <= 8 else [*starts[:8], "..."]
        raise ScoringError(
            f"{scorer.name}: group starts must begin at 0 and increase strictly, each below the {rows} rows of "
            f"statistics, got {shown}"
        )
    return list(zip(starts, [*starts[1:], rows]))


def _comparison(
    scorer: Scorer,
    test: str,
    system_score: float,
    baseline_score: float,
    p_value: float,
    alpha: float,
    n_samples: int,
    seed: int,
    abbreviation: str,
    note: str | None,
) -> Comparison:
    _check_alpha(alpha)
    delta = system_score - baseline_score
    significant = p_value < alpha and delta != 0
    better = None
    if significant:
        better = "system" if (delta > 0) == scorer.higher_is_better else "baseline"
    return Comparison(
        test=test,
        system_score=system_score,
        baseline_score=baseline_score,
        delta=delta,
        p_value=p_value,
        alpha=alpha,
        significant=significant,
        better=better,
        higher_is_better=scorer.higher_is_better,
        n_samples=n_samples,
        seed=seed,
        signature=f"{scorer.signature()}|{abbreviation}:{n_samples}|rs:{seed}",
        note=note,
    )


def _scores(scorer: Scorer, sums: np.ndarray) -> np.ndarray:
    """One corpus score per row of already-summed statistics (vectorised by the metric where it can be)."""
    return scorer.scores_from_statistics(sums)


def _resample_weights(indices: np.ndarray, n: int) -> np.ndarray:
    """How many times each paragraph is drawn in each resample: (resamples, n) counts."""
    rows = indices.shape[0]
    offsets = (np.arange(rows, dtype=np.int64) * n)[:, None]
    return np.bincount((indices + offsets).ravel(), minlength=rows * n).reshape(rows, n)


def _resampled_sums(stats: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Summed statistics of each resample, chunked so memory stays O(chunk x n)."""
    n = stats.shape[0]
    chunk = max(1, _CHUNK_CELLS // n)
    return np.concatenate(
        [_weighted_sums(_resample_weights(indices[i : i + chunk], n), stats) for i in range(0, len(indices), chunk)]
    )


def _weighted_sums(weights: np.ndarray, stats: np.ndarray) -> np.ndarray:
    """weights @ stats in float64, chunked over rows of weights.

    Exact for the integer counts and weights used here: every partial sum is an
    integer far below 2**53.
    """
    n = stats.shape[0]
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    out = np.empty((weights.shape[0], stats.shape[1]), dtype=np.float64)
    for i in range(0, weights.shape[0], chunk):
        out[i : i + chunk] = weights[i : i + chunk].astype(np.float64) @ stats
    return out


def _as_matrix(scorer: Scorer, stats: np.ndarray, what: str) -> np.ndarray:
    stats = np.asarray(stats, dtype=np.float64)
    if stats.ndim != 2 or stats.shape[0] == 0:
        raise ScoringError(
            f"{scorer.name}: {what} must be per-paragraph statistics (one row per paragraph, from "
            f"Scorer.statistics), got shape {stats.shape}"
        )
    return stats


def _as_pair(scorer: Scorer, system: np.ndarray, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    system, baseline = _as_matrix(scorer, system, "system_stats"), _as_matrix(scorer, baseline, "baseline_stats")
    if system.shape != baseline.shape:
        raise ScoringError(
            f"{scorer.name}: system statistics {system.shape} and baseline statistics {baseline.shape} differ; "
            f"a paired test needs both systems scored on the same paragraphs"
        )
    return system, baseline


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ScoringError(f"alpha must be between 0 and 1, got {alpha}")


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ScoringError(f"confidence must be between 0 and 1, got {confidence}")


def _check_count(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ScoringError(f"{name} must be a positive integer, got {value}")


# --- what a paired test can reach: p-value floors ---------------------------------
#
# Only paragraphs whose statistics differ between the two systems can move either
# test: swapping or resampling identical rows changes nothing. With k such
# paragraphs among n, both tests have a smallest p-value they can return however
# large the change is, and a regression confined to a few paragraphs may be unable
# to reach `alpha` by construction. `evalkit check` compares these floors with
# alpha and judges on magnitude where the test cannot decide.


def changed_paragraphs(system_stats: np.ndarray, baseline_stats: np.ndarray) -> int:
    """How many paragraphs have different sufficient statistics in the two systems (the k below)."""
    system_stats = np.asarray(system_stats, dtype=np.float64)
    baseline_stats = np.asarray(baseline_stats, dtype=np.float64)
    if system_stats.shape != baseline_stats.shape or system_stats.ndim != 2:
        raise ScoringError(f"statistics of shapes {system_stats.shape} and {baseline_stats.shape} are not paired rows")
    return int(np.count_nonzero(np.any(system_stats != baseline_stats, axis=1)))


def randomization_p_floor(k: float, n_trials: int = 10000) -> float:
    """The smallest p-value approximate randomisation can be expected to return with k changed paragraphs.

    Swapping an unchanged paragraph's pair does nothing, so there are only 2**k
    distinct shuffles, and two of them -- no swap and swapping all k -- reproduce
    the observed |difference| exactly (they give the two systems back, possibly
    exchanged). So at least a fraction q = 2 / 2**k of the trials count as "at least
    as extreme" whatever the scores are: the exact permutation p-value can never
    be below q (k = 3: 0.25, k = 5: 0.0625, k = 6: 0.031). With N Monte Carlo
    trials the p-value (1 + c) / (N + 1) has expectation (1 + N q) / (N + 1),
    which also caps the resolution at 1 / (N + 1) for large k.
    """
    _check_count(n_trials, "n_trials")
    if k < 0:
        raise ScoringError(f"k must be >= 0, got {k}")
    q = 1.0 if k <= 1 else 2.0 ** (1 - k)
    return (1.0 + n_trials * q) / (n_trials + 1.0)


def bootstrap_p_floor(n: int, k: float, n_resamples: int = 1000) -> float:
    """The smallest p-value the paired bootstrap can be expected to return with k of n paragraphs changed.

    Derivation (first order: a corpus score difference is close to a sum of
    per-paragraph contributions w_i, zero for unchanged paragraphs). A resample
    draws paragraph i c_i times, (c_1..c_n) ~ Multinomial(n, 1/n), so
    d_b = |sum w_i c_i| and the observed d = |sum w_i|. The test centres the
    resampled differences, e_b = d_b - mean(d_b), and counts e_b >= d. The p-value
    is smallest when every change points the same way (otherwise mean(d_b)
    exceeds d, raising the bar) and the k contributions are equal (unequal ones
    make sum w_i c_i more spread out, so it crosses the bar more often). Then
    d_b = w S_b with S_b = sum of the k counts ~ Binomial(n, k/n), mean(d_b) = w k = d,
    and e_b >= d  <=>  S_b >= 2k. So

        q = P(Binomial(n, k/n) >= 2k)     (k = 1: ~0.26, k = 3: ~0.08, k = 5: ~0.03 for n = 16)

    and with B resamples the expected p-value is (1 + B q) / (B + 1). One paragraph,
    or none changed, gives 1 (the test returns p = 1 there).
    """
    _check_count(n_resamples, "n_resamples")
    if not 0 <= k <= n:
        raise ScoringError(f"k must be between 0 and n = {n}, got {k}")
    if n <= 1 or k == 0:
        return 1.0
    # k may be an effective (fractional) count; the binomial count is an integer.
    q = _binomial_upper_tail(n, k / n, math.ceil(2 * k - 1e-9))
    return (1.0 + n_resamples * q) / (n_resamples + 1.0)


def _binomial_upper_tail(n: int, prob: float, at_least: int) -> float:
    """P(Binomial(n, prob) >= at_least), summed in log space (no scipy needed)."""
    if at_least <= 0:
        return 1.0
    if at_least > n or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return 1.0
    log_p, log_q = math.log(prob), math.log1p(-prob)
    log_terms = [math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) + j * log_p + (n - j) * log_q
                 for j in range(at_least, n + 1)]
    top = max(log_terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in log_terms))
