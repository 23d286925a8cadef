"""Paragraph alignment: parameter estimation, banded DP, confidences, parallelism evidence.

Pipeline (everything deterministic and I/O free):

1. Extract features (:mod:`evalkit.align.text`); a :class:`~evalkit.align.costs.CostModel`
   computes bead costs on demand, so nothing of size n x m is built.  The pair's translation
   lexicon (:mod:`evalkit.align.lexicon`), where one is shipped, adds word evidence to the costs
   (not to the verdict's anchor agreement: two articles on one topic share vocabulary).
2. Choose the band the DP runs in.  Small documents (up to
   ``FULL_CELLS`` DP cells) get the full DP.  Larger ones are aligned the way
   vecalign does (Thompson & Koehn 2019): merge every ``COARSE_FACTOR``
   consecutive paragraphs into one, align the coarse documents (recursively,
   so 100,000 paragraphs take a few levels), and run the fine DP in a
   corridor of ``BAND_MARGIN`` paragraphs around the coarse path.  If the
   fine path touches the corridor's edge the band did not hold: it is
   widened and the DP rerun, so where the result comes back it is the full
   DP's.  Memory and time grow with n x width, not n x m.
3. Estimate the target/source length ratio from the documents themselves:
   start from the ratio of typical paragraph lengths with a deliberately wide
   variance, align, re-estimate ``c`` and the variance from the 1-1 beads
   (trimmed around the median ratio), realign; repeat until stable.
4. Final Viterbi path plus forward–backward posteriors per bead
   (:mod:`evalkit.align.dp`).  A pair's confidence is its posterior: how sure
   the aligner is that *this* pair is right given that the documents are
   parallel.  It is deliberately not scaled by the document evidence (step 5),
   which is a different question with its own answer.  Pairs whose posterior
   is under ``MIN_PAIR_POSTERIOR`` are left unmatched; then, where the document
   already looks parallel, :mod:`evalkit.align.moved` pairs moved blocks among
   the leftovers (beads stay in source order; only those pairs break target order).
5. Document-level evidence that the two texts are parallel at all, the
   *order test*: a real translation aligns much better in its own paragraph
   order than with its paragraphs shuffled, while an unrelated text — even
   one on the same event, sharing names and dates — aligns about equally
   badly in any order.  Both orders are aligned with the same bead types as
   the aligner (1-1, 1-2, 2-1, 1-0, 0-1), so merges and splits do not count
   against parallelism.  Long documents are tested on a few windows along the
   path (``ORDER_WINDOW`` paragraphs each), so the shuffles cost a bounded
   amount however long the documents are.  Plus the *anchor agreement* of
   the aligned pairs.  :mod:`evalkit.align.verdict` turns these into P(parallel).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from .costs import GAP_OPEN, GC_VARIANCE, LENGTH_FLOOR, SKIP_COST, BandCosts, CostModel, LengthParams
from .dp import Band, BandedPosteriors, Step, best_cost_batch_moves, viterbi_banded
from .text import DocumentFeatures, coarsen, document_features
from .calibration import calibrated_p_parallel
from .lexicon import LEXICONS_ENV, Lexicon, load_lexicon
from .moved import MovedPair, best_block_move, moved_blocks
from .types import Alignment, Bead, ParallelEvidence

# Re-estimation of the length parameters.
MAX_PASSES = 5
INITIAL_VARIANCE_FACTOR = 4.0  # first pass: tolerant, the ratio is only a guess
TRIM_LOG_RATIO = 0.35  # 1-1 beads further than this from the median log-ratio are ignored
VARIANCE_PRIOR_WEIGHT = 4.0  # pseudo-count of Gale & Church's 6.8 in the estimate
MIN_PAIRS_FOR_ESTIMATE = 3
MIN_VARIANCE, MAX_VARIANCE = 1.0, 40.0
# Weight of the language pair's typical character ratio (from its lexicon) in the estimate, in source
# characters: about three sentences, so it steers short articles and vanishes in long ones.
RATIO_PRIOR_CHARS = 300.0

# A pair the path takes but whose posterior is below this is left unmatched: other paths are
# likelier, and a wrong pair puts a wrong reference in front of a metric.  (Measured on the dev
# split: 0.3 removes a third of the wrong pairs; 0.5 would remove two thirds but also drop real
# pairs of the shipped corpus, whose title pairs sit at 0.3-0.5.)
MIN_PAIR_POSTERIOR = 0.3

# Moved blocks (:mod:`evalkit.align.moved`) are looked for only where the monotonic evidence already
# makes a translation plausible: between unrelated documents every leftover paragraph is a candidate,
# and chance pairs would add coverage to a document that is not a translation.  (Dev split: unrelated
# pairs reach P(parallel) 0.043 at most.)
MOVED_PASS_MIN_P = 0.2
# The single-block-move search runs only where both sides have unmatched paragraphs or some pair is below this.
BLOCK_SEARCH_BELOW = 0.9

# Band (vecalign-style recursive downsampling).
FULL_CELLS = 250_000  # (n+1)(m+1) up to which the full DP runs
COARSE_FACTOR = 8  # paragraphs per coarse unit
BAND_MARGIN = 24  # paragraphs each side of the coarse path
MAX_WIDENINGS = 3

# Order test.
N_SHUFFLES = 32
SHUFFLE_SEED = 20231128
MIN_SHUFFLE_SD = 1.0  # nats; keeps z finite when every shuffle scores the same
MIN_ORDER_TEST = 3  # paragraphs per side below which order says nothing
ORDER_WINDOW = 64  # source paragraphs per window of the order test
ORDER_WINDOWS = 3  # windows for documents longer than one window


@dataclass(frozen=True)
class AlignmentAnalysis:
    alignment: Alignment
    length: LengthParams
    evidence: ParallelEvidence
    n_source: int
    n_target: int
    band_width: int = 0
    full_band: bool = True


class AlignmentResourceError(MemoryError):
    """The alignment needs more memory than is available; carries the sizes."""

    def __init__(self, n: int, m: int, cells: int):
        super().__init__(f"aligning {n} x {m} paragraphs ({cells:,} DP cells) ran out of memory")
        self.n, self.m, self.cells = n, m, cells


def _initial_params(src_median: float, tgt_median: float) -> LengthParams:
    ratio = tgt_median / src_median if src_median > 0 and tgt_median > 0 else 1.0
    return LengthParams(ratio=ratio, variance=GC_VARIANCE * INITIAL_VARIANCE_FACTOR)


def _reestimate(bc: BandCosts, steps: list[Step], fallback: LengthParams, prior: float = 0.0) -> LengthParams:
    """Ratio and variance from the 1-1 beads of a path (trimmed around the
    median log-ratio so mismatched or boilerplate pairs do not drag it).  ``prior``: the language
    pair's typical ratio (from its lexicon; 0 = unknown), worth ``RATIO_PRIOR_CHARS`` source
    characters, so a short article with site lines does not get a ratio from three pairs."""
    ones = [bc.lengths(s) for s in steps if (s[2], s[3]) == (1, 1)]
    ls = np.array([a for a, _ in ones])
    lt = np.array([b for _, b in ones])
    keep = (ls > 0) & (lt > 0)
    ls, lt = ls[keep], lt[keep]
    if len(ls) < MIN_PAIRS_FOR_ESTIMATE:
        return LengthParams(prior or fallback.ratio, GC_VARIANCE)
    lr = np.log(lt / ls)
    ok = np.abs(lr - np.median(lr)) <= TRIM_LOG_RATIO
    if ok.sum() < MIN_PAIRS_FOR_ESTIMATE:
        return LengthParams(prior or fallback.ratio, GC_VARIANCE)
    ls, lt = ls[ok], lt[ok]
    if prior > 0:
        c = float((lt.sum() + prior * RATIO_PRIOR_CHARS) / (ls.sum() + RATIO_PRIOR_CHARS))
    else:
        c = float(lt.sum() / ls.sum())
    delta2 = (lt - c * ls) ** 2 / (0.5 * (ls + lt / c) + LENGTH_FLOOR)
    k = len(ls)
    s2 = (float(delta2.sum()) + VARIANCE_PRIOR_WEIGHT * GC_VARIANCE) / (k + VARIANCE_PRIOR_WEIGHT)
    return LengthParams(ratio=c, variance=float(min(MAX_VARIANCE, max(MIN_VARIANCE, s2))))


def _fit(bc: BandCosts, params: LengthParams, prior: float = 0.0) -> tuple[LengthParams, list[Step]]:
    for _ in range(MAX_PASSES):
        _, steps = viterbi_banded(bc.with_lengths(params), bc.band, GAP_OPEN)
        new = _reestimate(bc, steps, params, prior)
        stable = (
            abs(math.log(new.ratio / params.ratio)) < 0.005
            and abs(new.variance - params.variance) < 0.05 * params.variance
        )
        params = new
        if stable:
            break
    _, steps = viterbi_banded(bc.with_lengths(params), bc.band, GAP_OPEN)
    return params, steps


def _band_around(coarse: list[Step], n: int, m: int, factor: int, margin: int) -> Band:
    """Fine band: every cell within ``margin`` paragraphs of the projected coarse path."""
    lo = np.full(n + 1, m, dtype=np.int64)
    hi = np.zeros(n + 1, dtype=np.int64)
    for ci, cj, di, dj in coarse:
        r0, r1 = ci * factor, min(n, (ci + di) * factor)
        c0, c1 = cj * factor, min(m, (cj + dj) * factor)
        lo[r0 : r1 + 1] = np.minimum(lo[r0 : r1 + 1], c0 - margin)
        hi[r0 : r1 + 1] = np.maximum(hi[r0 : r1 + 1], c1 + margin)
    lo = np.clip(lo, 0, m)
    hi = np.clip(hi, 0, m)
    # spread the corridor over `margin` rows as well (a skip in one side shifts the path sideways)
    lo = np.array([lo[max(0, r - margin) : r + margin + 1].min() for r in range(n + 1)], dtype=np.int64)
    hi = np.array([hi[max(0, r - margin) : r + margin + 1].max() for r in range(n + 1)], dtype=np.int64)
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    lo[0], hi[n] = 0, m
    hi = np.maximum(hi, lo)
    return Band(n, m, lo, hi)


def _touches_edge(steps: list[Step], band: Band) -> bool:
    for i, j, di, dj in steps:
        for r, c in ((i, j), (i + di, j + dj)):
            if (band.lo[r] > 0 and c <= band.lo[r] + 1) or (band.hi[r] < band.m and c >= band.hi[r] - 1):
                return True
    return False


def _solve(src: DocumentFeatures, tgt: DocumentFeatures, lexicon: Lexicon | None
           ) -> tuple[CostModel, BandCosts, LengthParams, list[Step]]:
    n, m = len(src.paragraphs), len(tgt.paragraphs)
    cm = CostModel(src, tgt, lexicon)
    prior = lexicon.char_ratio if lexicon is not None else 0.0
    params = _initial_params(src.content_median, tgt.content_median) if not prior else \
        LengthParams(prior, GC_VARIANCE * INITIAL_VARIANCE_FACTOR)
    if (n + 1) * (m + 1) <= FULL_CELLS or min(n, m) <= 4 * COARSE_FACTOR:
        bc = cm.full_costs()
        params, steps = _fit(bc, params, prior)
        return cm, bc, params, steps
    _, _, coarse_params, coarse_steps = _solve(coarsen(src, COARSE_FACTOR), coarsen(tgt, COARSE_FACTOR), lexicon)
    params = LengthParams(coarse_params.ratio, GC_VARIANCE * INITIAL_VARIANCE_FACTOR)
    margin = BAND_MARGIN
    for attempt in range(MAX_WIDENINGS + 1):
        band = _band_around(coarse_steps, n, m, COARSE_FACTOR, margin)
        bc = cm.band_costs(band)
        params, steps = _fit(bc, params, prior)
        if band.is_full or not _touches_edge(steps, band) or attempt == MAX_WIDENINGS:
            return cm, bc, params, steps
        margin *= 2
    raise AssertionError("unreachable")


def _windows(steps: list[Step], n: int, m: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(source window, target window) pairs for the order test."""
    if n <= ORDER_WINDOW * ORDER_WINDOWS and m <= ORDER_WINDOW * ORDER_WINDOWS * 2 and n * m <= 160 * 160:
        return [(np.arange(n), np.arange(m))]
    row_col = np.zeros(n + 1, dtype=np.int64)  # target position of the path when it enters each source row
    seen = np.zeros(n + 1, dtype=bool)
    for i, j, _, _ in steps:
        if not seen[i]:
            row_col[i], seen[i] = j, True
    row_col[n] = m
    row_col = np.maximum.accumulate(row_col)  # rows inside a 2-1 bead take the bead's start
    out = []
    for k in range(ORDER_WINDOWS):
        a = int(round((n - ORDER_WINDOW) * (k + 0.5) / ORDER_WINDOWS))
        a = max(0, min(a, n - ORDER_WINDOW))
        b = a + ORDER_WINDOW
        t0, t1 = int(row_col[a]), int(row_col[b])
        if t1 - t0 < ORDER_WINDOW // 2:  # no diagonal here: take the proportional region
            mid = int((a + b) / 2 * m / n)
            t0, t1 = max(0, mid - ORDER_WINDOW // 2), min(m, mid + ORDER_WINDOW // 2)
        t1 = min(t1, t0 + 2 * ORDER_WINDOW)
        out.append((np.arange(a, b), np.arange(t0, t1)))
    return out


def _order_test(cm: CostModel, steps: list[Step], params: LengthParams, n: int, m: int):
    rng = np.random.default_rng(SHUFFLE_SEED)
    gain = mean = var = 0.0
    tested = tested_short = 0
    for s_win, t_win in _windows(steps, n, m):
        a, b = len(s_win), len(t_win)
        if min(a, b) < MIN_ORDER_TEST:
            continue
        perms = [np.arange(b)] + [rng.permutation(b) for _ in range(N_SHUFFLES)]
        costs = cm.shuffled_costs(s_win, t_win, perms, params)
        baseline = (a + b) * SKIP_COST + GAP_OPEN
        gains = baseline - best_cost_batch_moves(costs, SKIP_COST, GAP_OPEN)
        gain += float(gains[0])
        mean += float(gains[1:].mean())
        var += float(gains[1:].var())
        tested += a
        tested_short += min(a, b)
    return gain, mean, math.sqrt(var), tested, tested_short


def _with_moved_blocks(beads: list[Bead], cm: CostModel, params: LengthParams) -> tuple[list[Bead], list[MovedPair]]:
    """The beads with moved blocks (:mod:`evalkit.align.moved`) paired: each moved pair takes the place
    of its first source paragraph's 1-0 bead, so beads stay in source order."""
    unmatched_s = [b.source[0] for b in beads if not b.target]
    unmatched_t = [b.target[0] for b in beads if not b.source]
    moved = [mp for mp in moved_blocks(cm, params, unmatched_s, unmatched_t) if mp.confidence >= MIN_PAIR_POSTERIOR]
    if not moved:
        return beads, moved
    taken_s = {i: mp for mp in moved for i in mp.source}
    taken_t = {j for mp in moved for j in mp.target}
    out = []
    for b in beads:
        if b.target and not b.source and b.target[0] in taken_t:
            continue
        if b.source and not b.target and b.source[0] in taken_s:
            mp = taken_s[b.source[0]]
            if b.source[0] == mp.source[0]:
                out.append(Bead(mp.source, mp.target, mp.confidence))
            continue
        out.append(b)
    return out, moved


def _beads(steps: list[Step], post, src_unmatched, tgt_unmatched, tmap: Sequence[int] | None = None) -> list[Bead]:
    """Beads of a path: pairs with their posterior (or, under ``MIN_PAIR_POSTERIOR``, unmatched
    paragraphs), skips with their probability of having no counterpart.  ``tmap`` maps the path's
    target positions to the document's (a block-moved order)."""
    tm = (lambda k: k) if tmap is None else (lambda k: int(tmap[k]))
    beads: list[Bead] = []
    for step in steps:
        i, j, di, dj = step
        if di and dj:
            conf = post.bead(step)
            if conf < MIN_PAIR_POSTERIOR:
                # weak evidence: several paths are about as good (a neighbour of a deleted paragraph, a
                # merge or a split that could go either way), so leave the paragraphs unmatched rather
                # than score a pair that is more likely wrong than right
                beads.extend(Bead((k,), (), float(src_unmatched[k])) for k in range(i, i + di))
                beads.extend(Bead((), (tm(k),), float(tgt_unmatched[k])) for k in range(j, j + dj))
                continue
        else:
            conf = src_unmatched[i] if di else tgt_unmatched[j]
        beads.append(Bead(tuple(range(i, i + di)), tuple(tm(k) for k in range(j, j + dj)),
                          float(min(1.0, max(0.0, conf)))))
    return beads


def _block_moved(beads: list[Bead], cm: CostModel, params: LengthParams, src: DocumentFeatures,
                 target: Sequence[str], target_lang: str) -> list[Bead] | None:
    """Beads (in document target positions) of the best single-block-moved target order
    (:func:`evalkit.align.moved.best_block_move`), or None where no move gains enough or the path
    has no sign of one (no paragraph left on both sides, every pair sure): a deletion or inserted
    site lines leave one side only, and the search costs about 0.1 s for a 25-paragraph article."""
    both_sides_left = any(not b.target for b in beads) and any(not b.source for b in beads)
    if not both_sides_left and not any(b.is_pair and b.confidence < BLOCK_SEARCH_BELOW for b in beads):
        return None
    found = best_block_move(cm, params)
    if found is None:
        return None
    order, _ = found
    tgt2 = document_features([target[k] for k in order], target_lang, lexical=cm.scorer.lexicon is not None)
    cm2, bc2, params2, steps2 = _solve(src, tgt2, cm.scorer.lexicon)
    post2 = BandedPosteriors(bc2.with_lengths(params2), bc2.band, GAP_OPEN)
    su, tu = post2.unmatched()
    return _beads(steps2, post2, su, tu, order)


def _chars(paragraph: str) -> int:
    return max(1, sum(map(len, paragraph.split())))


def _coverage(steps: list[Step], moved: Sequence[MovedPair | Bead], source: Sequence[str], target: Sequence[str]) -> float:
    """Share of the better-covered side's characters inside pairs (of the path, and of moved blocks)."""
    src_len = [_chars(p) for p in source]
    tgt_len = [_chars(p) for p in target]
    src_in = [range(i, i + di) for i, j, di, dj in steps if di and dj] + [mp.source for mp in moved]
    tgt_in = [range(j, j + dj) for i, j, di, dj in steps if di and dj] + [mp.target for mp in moved]
    s = sum(src_len[i] for group in src_in for i in group)
    t = sum(tgt_len[j] for group in tgt_in for j in group)
    return max(s / max(1, sum(src_len)), t / max(1, sum(tgt_len)))


@lru_cache(maxsize=16)
def _analyse_cached(
    source: tuple[str, ...], target: tuple[str, ...], source_lang: str, target_lang: str, lexicon_dirs: str = ""
) -> AlignmentAnalysis:
    """``lexicon_dirs`` ($EVALKIT_LEXICONS) is part of the key: the lexicon found depends on it."""
    n, m = len(source), len(target)
    if n == 0 or m == 0:
        beads = tuple(Bead((i,), (), 1.0) for i in range(n)) + tuple(Bead((), (j,), 1.0) for j in range(m))
        evidence = ParallelEvidence(0.0, 0.0, 0.0, 0.0, False, 0.0, 0, 0.0)
        return AlignmentAnalysis(Alignment(beads), LengthParams(1.0, GC_VARIANCE), evidence, n, m)

    lexicon = load_lexicon(source_lang, target_lang)
    src = document_features(source, source_lang, lexical=lexicon is not None)
    tgt = document_features(target, target_lang, lexical=lexicon is not None)
    try:
        cm, bc, params, steps = _solve(src, tgt, lexicon)
        post = BandedPosteriors(bc.with_lengths(params), bc.band, GAP_OPEN)
        src_unmatched, tgt_unmatched = post.unmatched()
        gain, mean, sd, tested, tested_short = (
            _order_test(cm, steps, params, n, m) if min(n, m) >= MIN_ORDER_TEST else (0.0, 0.0, 0.0, 0, 0)
        )
    except MemoryError:
        raise AlignmentResourceError(n, m, (n + 1) * (m + 1)) from None
    bonuses = [-cm.scorer.cost(range(i, i + di), range(j, j + dj), lexical=False) for i, j, di, dj in steps if di and dj]
    anchor_mean = float(np.mean(bonuses)) if bonuses else 0.0
    testable = tested > 0
    z = (gain - mean) / max(sd, MIN_SHUFFLE_SD) if testable else 0.0
    excess = (gain - mean) / tested_short if testable else 0.0
    beads = _beads(steps, post, src_unmatched, tgt_unmatched)
    evidence = ParallelEvidence(gain, mean, sd, z, testable, anchor_mean, len(bonuses), 0.0, tested, excess,
                                _coverage(steps, [], source, target), lexicon is not None)
    evidence = ParallelEvidence(**{**evidence.__dict__, "p_parallel": calibrated_p_parallel(evidence)})
    if evidence.p_parallel >= MOVED_PASS_MIN_P:
        block = _block_moved(beads, cm, params, src, target, target_lang)
        if block is not None:
            beads = block
        beads, moved = _with_moved_blocks(beads, cm, params)
        if moved or block is not None:
            cover = _coverage([], [b for b in beads if b.is_pair], source, target) if block is not None \
                else _coverage(steps, moved, source, target)
            evidence = ParallelEvidence(**{**evidence.__dict__, "coverage": cover})
            evidence = ParallelEvidence(**{**evidence.__dict__, "p_parallel": calibrated_p_parallel(evidence)})
    band = bc.band
    return AlignmentAnalysis(Alignment(tuple(beads)), params, evidence, n, m, band.width, band.is_full)


def analyse(source: Sequence[str], target: Sequence[str], source_lang: str, target_lang: str) -> AlignmentAnalysis:
    """Alignment plus the estimated length parameters and the parallelism evidence."""
    return _analyse_cached(tuple(source), tuple(target), str(source_lang or ""), str(target_lang or ""),
                           os.environ.get(LEXICONS_ENV, ""))


def align_paragraphs(source: Sequence[str], target: Sequence[str], source_lang: str, target_lang: str) -> Alignment:
    """Monotonic paragraph alignment with 1-1, 1-2, 2-1, 1-0 and 0-1 beads.

    ``source_lang``/``target_lang`` are ISO 639-1 codes; they only switch on
    script-specific number handling (Thai/Lao Buddhist-Era years, also
    triggered by Thai/Lao script), so unknown codes get generic behaviour.
    Each pair's confidence is its posterior probability under the alignment
    model (not scaled by the document verdict); a 1-0/0-1 bead's is the
    probability that the paragraph has no counterpart.  Raises
    :class:`AlignmentResourceError` (a ``MemoryError``) when memory runs out.
    """
    return analyse(source, target, source_lang, target_lang).alignment


__all__ = ["align_paragraphs", "analyse", "AlignmentAnalysis", "AlignmentResourceError", "ParallelEvidence"]
