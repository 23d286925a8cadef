"""Calibration of the document verdict: evidence -> P(parallel).

See :mod:`evalkit.align.verdict` for what the evidence means and
``benchmarks/alignment_calibrate.py`` for how the constants were fitted.
"""

from __future__ import annotations

import math

from .types import ParallelEvidence

THRESHOLD = 0.5  # on P(parallel)

# Logistic calibration: `benchmarks/alignment_calibrate.py` fits these on the dev split and lowers
# the bias until the most translation-like unrelated dev pair is 2 logits below the threshold.
EXCESS_CAP = 2.5  # nats per paragraph; beyond this a document is plainly parallel
ANCHOR_CAP = 3.0  # nats per pair
W_EXCESS = 7.530
W_ANCHOR = 3.013
W_COVERAGE = 1.482
BIAS = -11.171
# Without an order test (a side with 1-2 paragraphs): anchors alone, and they must clearly agree.
SMALL_DOC_ANCHOR_MIDPOINT = 1.5
SMALL_DOC_ANCHOR_SLOPE = 1.0


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def features(ev: ParallelEvidence) -> tuple[float, float, float]:
    """(excess per paragraph, anchor agreement per pair, coverage), capped."""
    return min(ev.excess, EXCESS_CAP), min(ev.anchor_mean, ANCHOR_CAP), ev.coverage


def parallel_logit(ev: ParallelEvidence) -> float:
    if ev.n_pairs == 0:
        return -20.0
    if not ev.order_testable:
        return SMALL_DOC_ANCHOR_SLOPE * (ev.anchor_mean - SMALL_DOC_ANCHOR_MIDPOINT)
    excess, anchor, coverage = features(ev)
    return BIAS + W_EXCESS * excess + W_ANCHOR * anchor + W_COVERAGE * coverage


def calibrated_p_parallel(ev: ParallelEvidence) -> float:
    return _sigmoid(parallel_logit(ev))


