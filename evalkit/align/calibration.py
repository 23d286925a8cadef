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
W_EXCESS = 6.985
W_ANCHOR = 2.896
W_COVERAGE = 0.584
BIAS = -10.895
# The same fitted with the lexicon switched off (`alignment_calibrate.py --without-lexicon`): for pairs
# evalkit has no lexicon for, whose order-test gain lacks the word evidence.
NO_LEXICON = (6.457, 4.823, 7.472, -15.049)  # W_EXCESS, W_ANCHOR, W_COVERAGE, BIAS
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
    w_excess, w_anchor, w_coverage, bias = (W_EXCESS, W_ANCHOR, W_COVERAGE, BIAS) if ev.lexical else NO_LEXICON
    return bias + w_excess * excess + w_anchor * anchor + w_coverage * coverage


def calibrated_p_parallel(ev: ParallelEvidence) -> float:
    return _sigmoid(parallel_logit(ev))


