"""Monotonic alignment dynamic programs over precomputed bead costs, in a band.

This is the dynamic program of Gale & Church (1993), also used by Bleualign
and vecalign: a path from (0, 0) to (n, m) where every step is a bead that
consumes ``di`` source and ``dj`` target paragraphs.  The module knows nothing
about text; it sees only cost arrays, so it can be tested and swapped alone.

**Band.**  Row ``i`` (source position) only keeps the columns
``lo[i] .. hi[i]`` (``lo``/``hi`` non-decreasing), and every array is stored
as ``(n + 1, width)`` with entry ``[i, k]`` for column ``lo[i] + k``.  The
aligner restricts the band to a corridor around a coarse path (vecalign's
recursive downsampling, Thompson & Koehn 2019), so time and memory grow with
``n x width`` instead of ``n x m``; a full band (``lo = 0``, ``hi = m``) is the
classic full DP, and both run through the same code.  Banded costs
``costs[(di, dj)][i, k]`` are the cost of the bead *starting* at
``(i, lo[i] + k)``; ``inf`` forbids it.

One extension over Gale & Church: *affine gaps* (Gotoh 1982).  Opening a run
of unmatched paragraphs (1-0/0-1 beads) costs ``gap_open`` once on top of the
per-paragraph skip cost: untranslated material comes in blocks (a page
header, a caption, the tail a truncated original lacks), and the gap-open
cost prefers an unbroken run.  So there are two states: M (last bead was a
pair, or start) and G (inside a gap).

Everything is vectorised along a row with numpy.  Pair beads only look at
earlier rows; the in-row chain of 0-1 beads is a running minimum (Viterbi)
or running log-sum-exp (forward/backward) after subtracting cumulative skip
costs, e.g. ``G[j] = min_k (Y[k] + S[j] - S[k])`` with ``S`` the prefix sum of
skip costs.

Provided:

* :class:`Band`, :func:`viterbi_banded`, :class:`BandedPosteriors`;
* :func:`viterbi` and :class:`Posteriors` — the same over full ``(n+1, m+1)``
  cost matrices (kept for tests and small problems);
* :func:`best_cost_batch` — best cost for K problems at once (the shuffled
  order test), with any bead types.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Mapping

import numpy as np

Move = tuple[int, int]
Step = tuple[int, int, int, int]  # (i, j, di, dj): bead starting at source i, target j
M_STATE, G_STATE = 0, 1
SKIP_SRC: Move = (1, 0)
SKIP_TGT: Move = (0, 1)

_INF = np.inf


def _split_moves(costs: Mapping[Move, np.ndarray]) -> list[Move]:
    if SKIP_SRC not in costs or SKIP_TGT not in costs:
        raise ValueError("costs must define the 1-0 and 0-1 beads")
    pair_moves = [mv for mv in costs if mv[0] > 0 and mv[1] > 0]
    if len(pair_moves) + 2 != len(costs):
        raise ValueError(f"unsupported bead types: {sorted(costs)}")
    return pair_moves


@dataclass(frozen=True)
class Band:
    """Columns ``lo[i] .. hi[i]`` (inclusive) of every row ``i`` in ``0..n``."""

    n: int
    m: int
    lo: np.ndarray
    hi: np.ndarray

    @cached_property
    def width(self) -> int:
        return int((self.hi - self.lo).max()) + 1

    @cached_property
    def _ks(self) -> np.ndarray:
        return np.arange(self.width)

    @property
    def cells(self) -> int:
        return (self.n + 1) * self.width

    @classmethod
    def full(cls, n: int, m: int) -> "Band":
        return cls(n, m, np.zeros(n + 1, dtype=np.int64), np.full(n + 1, m, dtype=np.int64))

    @property
    def is_full(self) -> bool:
        return bool((self.lo == 0).all() and (self.hi == self.m).all())

    def columns(self) -> np.ndarray:
        """(n+1, width) column index of every cell (may exceed ``hi``: check :meth:`valid`)."""
        return self.lo[:, None] + np.arange(self.width)[None, :]

    def valid(self) -> np.ndarray:
        return self.columns() <= self.hi[:, None]

    def row_map(self, src_row: int, dst_row: int, shift: int) -> tuple[np.ndarray, np.ndarray]:
        """For each cell k of ``dst_row``, the index into ``src_row`` of column ``lo[dst]+k+shift``
        (clipped) and whether it exists in both rows' bands."""
        k = self._ks
        col = self.lo[dst_row] + k + shift
        idx = col - self.lo[src_row]
        ok = (idx >= 0) & (col <= self.hi[src_row]) & (self.lo[dst_row] + k <= self.hi[dst_row])
        return np.clip(idx, 0, self.width - 1), ok


def band_from_full(costs: Mapping[Move, np.ndarray], n: int, m: int) -> tuple[Band, dict[Move, np.ndarray]]:
    """Full cost matrices ``(n+1, m+1)`` as a full band (the same arrays)."""
    return Band.full(n, m), {mv: np.asarray(v, dtype=float) for mv, v in costs.items()}


def viterbi_banded(costs: Mapping[Move, np.ndarray], band: Band, gap_open: float = 0.0) -> tuple[float, list[Step]]:
    """Cheapest monotonic path inside the band, as beads ``(i, j, di, dj)``.

    Deterministic tie-breaking: pair beads in the order of ``costs``, state M
    before G, 1-0 before 0-1."""
    pair_moves = _split_moves(costs)
    n, m, w = band.n, band.m, band.width
    lo, hi = band.lo, band.hi
    dm = np.full((n + 1, w), _INF)
    dg = np.full((n + 1, w), _INF)
    bm = np.full((n + 1, w), -1, dtype=np.int8)  # pair index*2 + prev state
    bg_src = np.full((n + 1, w), -1, dtype=np.int8)  # Y's origin: 0/1 = 1-0 from M/G, 2 = 0-1 from M
    bg_k = np.zeros((n + 1, w), dtype=np.int32)  # start cell of the 0-1 chain
    ks = np.arange(w)
    for i in range(n + 1):
        cols = lo[i] + ks
        valid = cols <= hi[i]
        cur = np.full(w, _INF)
        code = np.full(w, -1, dtype=np.int8)
        if i == 0:
            cur[0] = 0.0 if lo[0] == 0 else _INF
        for idx, (di, dj) in enumerate(pair_moves):
            p = i - di
            if p < 0:
                continue
            pidx, ok = band.row_map(p, i, -dj)
            pm = np.where(ok, dm[p, pidx], _INF)
            pg = np.where(ok, dg[p, pidx], _INF)
            c = np.where(ok, costs[(di, dj)][p, pidx], _INF)
            prev_state = (pg < pm).astype(np.int8)
            cand = np.minimum(pm, pg) + c
            better = cand < cur
            cur = np.where(better, cand, cur)
            code = np.where(better, np.int8(idx * 2) + prev_state, code)
        dm[i] = cur
        bm[i] = code
        skip0 = np.where(valid, costs[SKIP_TGT][i], _INF)
        y = np.full(w, _INF)
        ysrc = np.full(w, -1, dtype=np.int8)
        if i:
            pidx, ok = band.row_map(i - 1, i, 0)
            s1 = np.where(ok, costs[SKIP_SRC][i - 1, pidx], _INF)
            from_m = np.where(ok, dm[i - 1, pidx], _INF) + s1 + gap_open
            from_g = np.where(ok, dg[i - 1, pidx], _INF) + s1
            ysrc = np.where(from_g < from_m, 1, 0).astype(np.int8)
            y = np.minimum(from_m, from_g)
        from_left = np.full(w, _INF)
        from_left[1:] = cur[:-1] + skip0[:-1] + gap_open
        use_left = from_left < y
        ysrc = np.where(use_left, np.int8(2), ysrc)
        y = np.where(use_left, from_left, y)
        y = np.where(valid, y, _INF)
        s = np.zeros(w)
        s[1:] = np.cumsum(np.where(np.isfinite(skip0[:-1]), skip0[:-1], 0.0))
        vals = y - s
        run = np.minimum.accumulate(vals)
        record = np.where(vals <= run, ks, 0)
        dg[i] = np.where(valid, run + s, _INF)
        bg_src[i] = ysrc
        bg_k[i] = np.maximum.accumulate(record)

    kn = m - lo[n]
    state = M_STATE if dm[n, kn] <= dg[n, kn] else G_STATE
    total = float(min(dm[n, kn], dg[n, kn]))
    if not math.isfinite(total):
        raise ValueError("no monotonic path: the cost arrays forbid every path")
    steps: list[Step] = []
    i, j = n, m
    while i or j:
        k = j - lo[i]
        if state == M_STATE:
            c = int(bm[i, k])
            di, dj = pair_moves[c // 2]
            state = c % 2
        else:
            if int(bg_k[i, k]) < k:  # 0-1 bead from the gap state on the left
                di, dj, state = 0, 1, G_STATE
            else:
                src = int(bg_src[i, k])
                if src == 2:
                    di, dj, state = 0, 1, M_STATE
                else:
                    di, dj, state = 1, 0, src
        i, j = i - di, j - dj
        steps.append((i, j, di, dj))
    steps.reverse()
    return total, steps


def viterbi(costs: Mapping[Move, np.ndarray], n: int, m: int, gap_open: float = 0.0) -> tuple[float, list[Step]]:
    """:func:`viterbi_banded` over full ``(n+1, m+1)`` cost matrices."""
    band, banded = band_from_full(costs, n, m)
    return viterbi_banded(banded, band, gap_open)


class BandedPosteriors:
    """Forward–backward scores of the two-state model in log space (weights
    ``exp(-cost / temperature)``) inside a band, and bead posteriors."""

    def __init__(self, costs: Mapping[Move, np.ndarray], band: Band, gap_open: float = 0.0, temperature: float = 1.0):
        pair_moves = _split_moves(costs)
        t = 1.0 / temperature
        c = {mv: np.asarray(v, dtype=float) * t for mv, v in costs.items()}
        o = gap_open * t
        n, m, w = band.n, band.m, band.width
        lo = band.lo
        self.band, self.c, self.o = band, c, o
        ninf = -np.inf
        valid_all = band.valid()
        fm = np.full((n + 1, w), ninf)
        fg = np.full((n + 1, w), ninf)
        with np.errstate(invalid="ignore"):
            for i in range(n + 1):
                valid = valid_all[i]
                acc = np.full(w, ninf)
                if i == 0 and lo[0] == 0:
                    acc[0] = 0.0
                for di, dj in pair_moves:
                    p = i - di
                    if p < 0:
                        continue
                    pidx, ok = band.row_map(p, i, -dj)
                    prev = np.where(ok, np.logaddexp(fm[p, pidx], fg[p, pidx]) - c[(di, dj)][p, pidx], ninf)
                    acc = np.logaddexp(acc, prev)
                fm[i] = acc
                skip0 = np.where(valid, c[SKIP_TGT][i], np.inf)
                y = np.full(w, ninf)
                if i:
                    pidx, ok = band.row_map(i - 1, i, 0)
                    s1 = c[SKIP_SRC][i - 1, pidx]
                    y = np.where(ok, np.logaddexp(fm[i - 1, pidx] - s1 - o, fg[i - 1, pidx] - s1), ninf)
                left = np.full(w, ninf)
                left[1:] = acc[:-1] - skip0[:-1] - o
                y = np.where(valid, np.logaddexp(y, left), ninf)
                s = np.zeros(w)
                s[1:] = np.cumsum(np.where(np.isfinite(skip0[:-1]), skip0[:-1], 0.0))
                fg[i] = np.where(valid, np.logaddexp.accumulate(y + s) - s, ninf)
            bm_ = np.full((n + 1, w), ninf)
            bg_ = np.full((n + 1, w), ninf)
            for i in range(n, -1, -1):
                valid = valid_all[i]
                p = np.full(w, ninf)
                for di, dj in pair_moves:
                    if i + di > n:
                        continue
                    nidx, ok = band.row_map(i + di, i, dj)
                    nxt = np.where(ok, bm_[i + di, nidx] - c[(di, dj)][i], ninf)
                    p = np.logaddexp(p, nxt)
                q = np.full(w, ninf)
                if i < n:
                    nidx, ok = band.row_map(i + 1, i, 0)
                    q = np.where(ok, bg_[i + 1, nidx] - c[SKIP_SRC][i], ninf)
                if i == n:
                    p[m - lo[n]] = 0.0  # a path may end here in either state
                r = np.where(valid, np.logaddexp(p, q), ninf)
                skip0 = np.where(valid, c[SKIP_TGT][i], np.inf)
                u = np.zeros(w)
                u[1:] = np.cumsum(np.where(np.isfinite(skip0[:-1]), skip0[:-1], 0.0))
                bg_[i] = np.where(valid, u + np.logaddexp.accumulate((r - u)[::-1])[::-1], ninf)
                nxt_g = np.full(w, ninf)
                nxt_g[:-1] = bg_[i, 1:] - skip0[:-1] - o
                bm_[i] = np.where(valid, np.logaddexp(np.logaddexp(p, q - o), nxt_g), ninf)
        self.fm, self.fg, self.bm, self.bg = fm, fg, bm_, bg_
        kn = m - lo[n]
        self.log_z = float(np.logaddexp(fm[n, kn], fg[n, kn]))

    def _at(self, arr: np.ndarray, i: int, j: int) -> float:
        k = j - int(self.band.lo[i])
        if k < 0 or j > self.band.hi[i]:
            return -np.inf
        return float(arr[i, k])

    def bead(self, step: Step) -> float:
        """Posterior probability that the bead ``step`` lies on the path."""
        i, j, di, dj = step
        k = j - int(self.band.lo[i])
        if k < 0 or j > self.band.hi[i] or not math.isfinite(self.log_z):
            return 0.0
        cost = float(self.c[(di, dj)][i, k])
        if not math.isfinite(cost):
            return 0.0
        fm, fg = self.fm[i, k], self.fg[i, k]
        if di and dj:
            v = np.logaddexp(fm, fg) - cost + self._at(self.bm, i + di, j + dj)
        else:
            v = np.logaddexp(fm - cost - self.o, fg - cost) + self._at(self.bg, i + di, j + dj)
        return float(min(1.0, math.exp(min(0.0, float(v) - self.log_z))))

    def unmatched(self) -> tuple[np.ndarray, np.ndarray]:
        """P(source paragraph i unmatched) for every i and P(target paragraph j unmatched) for every j."""
        band, o = self.band, self.o
        n, m, w = band.n, band.m, band.width
        src = np.zeros(n)
        tgt = np.zeros(m)
        if not math.isfinite(self.log_z):
            return src, tgt
        with np.errstate(invalid="ignore", over="ignore"):
            for i in range(n):
                nidx, ok = band.row_map(i + 1, i, 0)
                s = self.c[SKIP_SRC][i]
                v = np.logaddexp(self.fm[i] - s - o, self.fg[i] - s) + np.where(ok, self.bg[i + 1, nidx], -np.inf)
                src[i] = min(1.0, float(np.exp(v - self.log_z).sum()))
            s0 = self.c[SKIP_TGT]
            nxt = np.full((n + 1, w), -np.inf)
            nxt[:, :-1] = self.bg[:, 1:]
            v = np.logaddexp(self.fm - s0 - o, self.fg - s0) + nxt
            cols = band.columns()
            keep = np.isfinite(v) & band.valid() & (cols < m)
            np.add.at(tgt, cols[keep], np.exp(v[keep] - self.log_z))
        return src, np.minimum(tgt, 1.0)


class Posteriors(BandedPosteriors):
    """:class:`BandedPosteriors` over full ``(n+1, m+1)`` cost matrices."""

    def __init__(self, costs: Mapping[Move, np.ndarray], n: int, m: int, gap_open: float = 0.0,
                 temperature: float = 1.0):
        band, banded = band_from_full(costs, n, m)
        super().__init__(banded, band, gap_open, temperature)
        self._src, self._tgt = self.unmatched()

    def source_unmatched(self, i: int) -> float:
        return float(self._src[i])

    def target_unmatched(self, j: int) -> float:
        return float(self._tgt[j])


def best_cost_batch(pair_costs: np.ndarray, skip_cost: float, gap_open: float = 0.0) -> np.ndarray:
    """Best path cost with only 1-1 (``pair_costs[k, i, j]``), 1-0 and 0-1 beads
    (each skip costs ``skip_cost``, each gap ``gap_open`` more), for K cost
    matrices at once."""
    k, n, m = pair_costs.shape
    full = np.full((k, n + 1, m + 1), _INF)
    full[:, :n, :m] = pair_costs
    return best_cost_batch_moves({(1, 1): full}, skip_cost, gap_open)


def best_cost_batch_moves(pair_costs: Mapping[Move, np.ndarray], skip_cost: float, gap_open: float = 0.0) -> np.ndarray:
    """Best path cost for K problems at once: ``pair_costs[(di, dj)]`` has shape
    ``(K, n+1, m+1)`` (bead starting at (i, j)); every 1-0/0-1 bead costs
    ``skip_cost`` and each gap ``gap_open`` more.  The recursion of
    :func:`viterbi`, batched over the first axis (the shuffled-order test)."""
    first = next(iter(pair_costs.values()))
    k, n1, m1 = first.shape
    n, m = n1 - 1, m1 - 1
    ramp = skip_cost * np.arange(m + 1, dtype=float)
    dm = [None] * (n + 1)
    dg = [None] * (n + 1)
    for i in range(n + 1):
        cm = np.full((k, m + 1), _INF)
        if i == 0:
            cm[:, 0] = 0.0
        for (di, dj), c in pair_costs.items():
            p = i - di
            if p < 0:
                continue
            prev = np.minimum(dm[p][:, : m + 1 - dj], dg[p][:, : m + 1 - dj]) + c[:, p, : m + 1 - dj]
            cm[:, dj:] = np.minimum(cm[:, dj:], prev)
        y = np.full((k, m + 1), _INF)
        if i:
            y = np.minimum(dg[i - 1] + skip_cost, dm[i - 1] + skip_cost + gap_open)
        y[:, 1:] = np.minimum(y[:, 1:], cm[:, :-1] + skip_cost + gap_open)
        dg[i] = np.minimum.accumulate(y - ramp, axis=1) + ramp
        dm[i] = cm
        if i >= 3:
            dm[i - 3] = dg[i - 3] = None
    return np.minimum(dm[n][:, m], dg[n][:, m])
