"""sacrebleu's corpus-score arithmetic, one score per row of summed statistics, on whole arrays at once.

Why: a bootstrap interval, a paired bootstrap or approximate randomisation
scores thousands of resampled sums. sacrebleu scores one list at a time
(`_compute_score_from_stats`, which also builds a score object and formats
strings), and a run over 400 documents x 3 languages x 3 systems x 4 metrics
spent ~40 s doing that row by row. These functions do the same arithmetic on
all rows at once.

Every result is bit-identical to sacrebleu 2.6's, not merely close: the same
IEEE operations in the same order (numpy's + - * / are correctly rounded, as
Python's are), masked accumulations where sacrebleu skips a term (adding 0.0
changes nothing), and -- for BLEU -- `math.log`, `math.exp` and the builtin
`sum` of the running Python rather than numpy's `log`/`exp`, which differ from
libm in the last bit on AVX-512 machines (measured: 4.6 % of exp results).
`tests/test_scorers.py` checks equality with sacrebleu row by row, edge cases
included.
"""

from __future__ import annotations

import math
import sys

import numpy as np

_MY_LOG_ZERO = -9999999999  # sacrebleu.utils.my_log(0.0)


def bleu_scores(
    sums: np.ndarray,
    max_ngram_order: int = 4,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
) -> np.ndarray:
    """`BLEU.compute_bleu` on every row of `sums` ([sys_len, ref_len, correct_1..N, total_1..N] per row)."""
    from sacrebleu.metrics.bleu import BLEU

    if smooth_value is None:
        smooth_value = BLEU.SMOOTH_DEFAULTS[smooth_method]
    n_orders = max_ngram_order
    sys_len = np.trunc(sums[:, 0])  # sacrebleu: int(stats[0])
    ref_len = np.trunc(sums[:, 1])
    correct = sums[:, 2 : 2 + n_orders].copy()
    total = sums[:, 2 + n_orders : 2 + 2 * n_orders].copy()
    rows = len(sums)

    with np.errstate(divide="ignore", invalid="ignore"):
        short = (sys_len < ref_len) & (sys_len > 0)
        bp = np.ones(rows)
        bp[(sys_len < ref_len) & (sys_len <= 0)] = 0.0
        bp[short] = _math_map(math.exp, 1 - ref_len[short] / sys_len[short])

        matched = np.any(correct != 0, axis=1)  # `if not any(correct): return 0.0`
        alive = np.ones(rows, dtype=bool)  # the loop over orders has not hit `break` yet
        eff_order = np.full(rows, n_orders, dtype=np.int64)
        smooth_mteval = np.ones(rows)
        precisions = np.zeros((rows, n_orders))
        for n in range(1, n_orders + 1):
            c, t = correct[:, n - 1], total[:, n - 1]
            if smooth_method == "add-k" and n > 1:
                c += smooth_value
                t += smooth_value
            alive &= t != 0
            if effective_order:
                eff_order[alive] = n
            zero = alive & (c == 0)
            if smooth_method == "exp":
                smooth_mteval[zero] *= 2
                precisions[zero, n - 1] = 100.0 / (smooth_mteval[zero] * t[zero])
            elif smooth_method == "floor":
                precisions[zero, n - 1] = 100.0 * smooth_value / t[zero]
            hit = alive & (c != 0)
            precisions[hit, n - 1] = 100.0 * c[hit] / t[hit]

    used = np.arange(n_orders)[None, :] < eff_order[:, None]  # precisions[:eff_order]
    # A zero precision among the used ones adds my_log(0) = -9999999999: exp(<= -2.5e9 / 4) is 0.0 whatever the
    # other terms, so those rows score bp * 0.0 = 0.0; only rows of positive precisions need logarithms.
    live = matched & ~np.any(used & (precisions == 0.0), axis=1)
    scores = np.zeros(rows)
    if np.any(live):
        p = precisions[live]
        logs = np.zeros_like(p)
        mask = used[live]
        logs[mask] = _math_map(math.log, p[mask])
        log_sums = _python_row_sums(logs)
        scores[live] = bp[live] * _math_map(math.exp, log_sums / eff_order[live])
    return scores


def chrf_scores(sums: np.ndarray, char_order: int = 6, word_order: int = 0, beta: int = 2,
                eps_smoothing: bool = False) -> np.ndarray:
    """`CHRF._compute_f_score` on every row of `sums` ([n_hyp, n_ref, n_match] per order, chars then words)."""
    eps = 1e-16
    factor = beta**2
    rows = len(sums)
    score = np.zeros(rows)
    avg_prec, avg_rec = np.zeros(rows), np.zeros(rows)
    effective = np.zeros(rows, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(char_order + word_order):
            n_hyp, n_ref, n_match = sums[:, 3 * i], sums[:, 3 * i + 1], sums[:, 3 * i + 2]
            prec = np.where(n_hyp > 0, n_match / n_hyp, eps)
            rec = np.where(n_ref > 0, n_match / n_ref, eps)
            if eps_smoothing:
                denom = factor * prec + rec
                score += np.where(denom > 0, (1 + factor) * prec * rec / denom, eps)
            both = (n_hyp > 0) & (n_ref > 0)
            avg_prec += np.where(both, prec, 0.0)
            avg_rec += np.where(both, rec, 0.0)
            effective += both
        if eps_smoothing:
            return 100 * score / (char_order + word_order)
        some = effective > 0
        avg_prec = np.where(some, avg_prec / effective, 0.0)
        avg_rec = np.where(some, avg_rec / effective, 0.0)
        f = (1 + factor) * avg_prec * avg_rec
        f /= (factor * avg_prec) + avg_rec
        return np.where((avg_prec + avg_rec) != 0, 100 * f, 0.0)


def ter_scores(sums: np.ndarray) -> np.ndarray:
    """`TER._compute_score_from_stats` on every row of `sums` ([edits, reference length] per row)."""
    edits, ref_len = sums[:, 0], sums[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(ref_len > 0, edits / ref_len, np.where(edits > 0, 1.0, 0.0))
    return 100 * score


def metric_scores(metric, sums: np.ndarray) -> np.ndarray | None:
    """The scores sacrebleu's `metric._compute_score_from_stats` gives each row; None for a metric not handled here."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    sums = np.asarray(sums, dtype=np.float64)
    if type(metric) is BLEU:
        return bleu_scores(sums, metric.max_ngram_order, metric.smooth_method, metric.smooth_value,
                           metric.effective_order)
    if type(metric) is CHRF:
        return chrf_scores(sums, metric.char_order, metric.word_order, metric.beta, metric.eps_smoothing)
    if type(metric) is TER:
        return ter_scores(sums)
    return None


def _python_row_sums(terms: np.ndarray) -> np.ndarray:
    """What the builtin `sum(row)` gives for each row of floats (0.0 padding at the end of a row adds nothing).

    Up to Python 3.11 `sum` adds left to right, which numpy does column by column
    at array speed; 3.12 compensates float sums (Neumaier), so there each row goes
    through the builtin itself.
    """
    if sys.version_info < (3, 12):
        total = terms[:, 0].copy()
        for j in range(1, terms.shape[1]):
            total += terms[:, j]
        return total
    return np.fromiter(map(sum, terms.tolist()), dtype=np.float64, count=len(terms))


def _math_map(function, values: np.ndarray) -> np.ndarray:
    """`function` (math.log / math.exp: libm, as sacrebleu calls it) on each element."""
    return np.fromiter(map(function, values.tolist()), dtype=np.float64, count=values.size)
