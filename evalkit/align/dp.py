"""Monotonic alignment dynamic programs over precomputed bead costs.

This is the dynamic program of Gale & Church (1993), also used by Bleualign
and vecalign: a path from (0, 0) to (n, m) where every step is a bead that
consumes ``di`` source and ``dj`` target paragraphs.  The module knows nothing
about text; it sees only cost arrays (``costs[(di, dj)][i, j]`` = cost of the
bead covering source ``i:i+di`` and target ``j:j+dj``, ``inf`` = forbidden),
so it can be tested and swapped alone.

One extension over Gale & Church: *affine gaps* (Gotoh 1982).  Opening a run
of unmatched paragraphs (1-0/0-1 beads) costs ``gap_open`` once on top of the
per-paragraph skip cost.  Untranslated material comes in blocks (a page
header, a caption, the part of an article a truncated original lacks), and
with a constant skip cost the DP is indifferent between "pair the last source
paragraph with its translation, then leave the target tail unmatched" and
"leave its translation unmatched and pair the source paragraph with a
similar-length paragraph of the tail"; the gap-open cost prefers the unbroken
run.  So there are two states: M (last bead was a pair, or start) and G
(inside a gap).

Everything is vectorised along target rows with numpy.  Pair beads only look
at earlier rows; the in-row chain of 0-1 beads is a running minimum (Viterbi)
or running log-sum-exp (forward/backward) after subtracting cumulative skip
costs, e.g. ``G[j] = min_k (Y[k] + S[j] - S[k])`` with ``S`` the prefix sum of
skip costs.

Provided:

* :func:`viterbi` — best path;
* :class:`Posteriors` — forward–backward in log space; posterior probability
  of any bead under ``p(path) ∝ exp(-cost(path))``, which is low where several
  paths are almost as good (used as the per-bead confidence);
* :func:`best_cost_batch` — best cost for K 1-1 cost matrices at once (the
  shuffled-order significance test).
"""

from __future__ import annotations

import math
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


def _prefix(skip_row: np.ndarray, m: int) -> np.ndarray:
    """S[j] = sum of 0-1 costs at columns < j (length m+1)."""
    out = np.zeros(m + 1)
    out[1:] = np.cumsum(skip_row[:m])
    return out


def viterbi(
    costs: Mapping[Move, np.ndarray], n: int, m: int, gap_open: float = 0.0
) -> tuple[float, list[Step]]:
    """Cheapest monotonic path as a list of beads ``(i, j, di, dj)``.

    Deterministic tie-breaking: pair beads in the order of ``costs``, state M
    before G, 1-0 before 0-1, leftmost start of a 0-1 chain."""
    pair_moves = _split_moves(costs)
    c = {mv: np.asarray(v, dtype=float) for mv, v in costs.items()}
    dm = np.full((n + 1, m + 1), _INF)
    dg = np.full((n + 1, m + 1), _INF)
    bm = np.full((n + 1, m + 1), -1, dtype=np.int64)  # index*2 + prev state
    bg_src = np.full((n + 1, m + 1), -1, dtype=np.int64)  # Y's origin: 0/1 = 1-0 from M/G, 2 = 0-1 from M
    bg_k = np.zeros((n + 1, m + 1), dtype=np.int64)  # start column of the 0-1 chain
    cols = np.arange(m + 1)
    dm[0, 0] = 0.0
    for i in range(n + 1):
        if i:
            for idx, (di, dj) in enumerate(pair_moves):
                if i - di < 0 or dj > m:
                    continue
                pm, pg = dm[i - di, : m + 1 - dj], dg[i - di, : m + 1 - dj]
                prev_state = (pg < pm).astype(np.int64)
                cand = np.minimum(pm, pg) + c[(di, dj)][i - di, : m + 1 - dj]
                better = cand < dm[i, dj:]
                dm[i, dj:] = np.where(better, cand, dm[i, dj:])
                bm[i, dj:] = np.where(better, idx * 2 + prev_state, bm[i, dj:])
        skip0 = c[SKIP_TGT][i]
        y = np.full(m + 1, _INF)
        ysrc = np.full(m + 1, -1, dtype=np.int64)
        if i:
            s1 = c[SKIP_SRC][i - 1]
            from_m = dm[i - 1] + s1 + gap_open
            from_g = dg[i - 1] + s1
            ysrc = np.where(from_g < from_m, 1, 0)
            y = np.minimum(from_m, from_g)
        from_left = np.full(m + 1, _INF)
        from_left[1:] = dm[i, :m] + skip0[:m] + gap_open
        use_left = from_left < y
        ysrc = np.where(use_left, 2, ysrc)
        y = np.where(use_left, from_left, y)
        if i == 0:
            y[0] = _INF
        s = _prefix(skip0, m)
        vals = y - s
        run = np.minimum.accumulate(vals)
        record = np.where(vals <= run, cols, 0)
        dg[i] = run + s
        bg_src[i] = ysrc
        bg_k[i] = np.maximum.accumulate(record)

    state = M_STATE if dm[n, m] <= dg[n, m] else G_STATE
    total = float(min(dm[n, m], dg[n, m]))
    if not math.isfinite(total):
        raise ValueError("no monotonic path: the cost arrays forbid every path")
    steps: list[Step] = []
    i, j = n, m
    while i or j:
        if state == M_STATE:
            code = int(bm[i, j])
            di, dj = pair_moves[code // 2]
            state = code % 2
        else:
            k = int(bg_k[i, j])
            if k < j:  # 0-1 bead from the gap state on the left
                di, dj = 0, 1
                state = G_STATE
            else:
                src = int(bg_src[i, j])
                if src == 2:
                    di, dj, state = 0, 1, M_STATE
                else:
                    di, dj, state = 1, 0, src
        i, j = i - di, j - dj
        steps.append((i, j, di, dj))
    steps.reverse()
    return total, steps


def _lse(*arrays: np.ndarray) -> np.ndarray:
    out = arrays[0]
    for a in arrays[1:]:
        out = np.logaddexp(out, a)
    return out


class Posteriors:
    """Forward–backward scores of the two-state model in log space (weights
    ``exp(-cost / temperature)``) and bead posteriors derived from them."""

    def __init__(
        self,
        costs: Mapping[Move, np.ndarray],
        n: int,
        m: int,
        gap_open: float = 0.0,
        temperature: float = 1.0,
    ):
        pair_moves = _split_moves(costs)
        t = 1.0 / temperature
        # scaled costs (log-weights are their negatives)
        c = {mv: np.asarray(v, dtype=float) * t for mv, v in costs.items()}
        o = gap_open * t
        self.n, self.m, self.c, self.o = n, m, c, o
        ninf = -np.inf
        fm = np.full((n + 1, m + 1), ninf)
        fg = np.full((n + 1, m + 1), ninf)
        fm[0, 0] = 0.0
        with np.errstate(invalid="ignore"):
            for i in range(n + 1):
                if i:
                    acc = np.full(m + 1, ninf)
                    for di, dj in pair_moves:
                        if i - di < 0 or dj > m:
                            continue
                        prev = np.logaddexp(fm[i - di, : m + 1 - dj], fg[i - di, : m + 1 - dj])
                        acc[dj:] = np.logaddexp(acc[dj:], prev - c[(di, dj)][i - di, : m + 1 - dj])
                    fm[i] = acc
                skip0 = c[SKIP_TGT][i]
                y = np.full(m + 1, ninf)
                if i:
                    s1 = c[SKIP_SRC][i - 1]
                    y = np.logaddexp(fm[i - 1] - s1 - o, fg[i - 1] - s1)
                left = np.full(m + 1, ninf)
                left[1:] = fm[i, :m] - skip0[:m] - o
                y = np.logaddexp(y, left)
                if i == 0:
                    y[0] = ninf
                s = _prefix(skip0, m)
                fg[i] = np.logaddexp.accumulate(y + s) - s
            bm_ = np.full((n + 2, m + 2), ninf)
            bg_ = np.full((n + 2, m + 2), ninf)
            for i in range(n, -1, -1):
                p = np.full(m + 1, ninf)
                for di, dj in pair_moves:
                    if i + di > n:
                        continue
                    nxt = np.full(m + 1, ninf)
                    nxt[: m + 1 - dj] = bm_[i + di, dj : m + 1] - c[(di, dj)][i, : m + 1 - dj]
                    p = np.logaddexp(p, nxt)
                q = np.full(m + 1, ninf)
                if i < n:
                    q = bg_[i + 1, : m + 1] - c[SKIP_SRC][i]
                if i == n:
                    p[m] = 0.0  # a path may end here in either state
                r = np.logaddexp(p, q)
                skip0 = c[SKIP_TGT][i]
                u = _prefix(skip0, m)
                # BG[j] = U[j] + log sum_{k>=j} exp(R[k] - U[k])
                bg_[i, : m + 1] = u + np.logaddexp.accumulate((r - u)[::-1])[::-1]
                nxt_g = np.full(m + 1, ninf)
                nxt_g[:m] = bg_[i, 1 : m + 1] - skip0[:m] - o
                bm_[i, : m + 1] = _lse(p, q - o, nxt_g)
        self.fm, self.fg = fm, fg
        self.bm, self.bg = bm_[: n + 1, : m + 1], bg_[: n + 1, : m + 1]
        self.log_z = float(np.logaddexp(fm[n, m], fg[n, m]))

    def bead(self, step: Step) -> float:
        """Posterior probability that the bead ``step`` lies on the path."""
        i, j, di, dj = step
        cost = self.c[(di, dj)][i, j]
        if not math.isfinite(cost) or not math.isfinite(self.log_z):
            return 0.0
        fm, fg = self.fm[i, j], self.fg[i, j]
        if di and dj:
            v = np.logaddexp(fm, fg) - cost + self.bm[i + di, j + dj]
        else:
            v = np.logaddexp(fm - cost - self.o, fg - cost) + self.bg[i + di, j + dj]
        return float(min(1.0, math.exp(min(0.0, float(v) - self.log_z))))

    def source_unmatched(self, i: int) -> float:
        """P(source paragraph i is left unmatched), wherever the 1-0 bead sits."""
        s = self.c[SKIP_SRC][i]
        v = np.logaddexp(self.fm[i] - s - self.o, self.fg[i] - s) + self.bg[i + 1]
        return float(min(1.0, np.exp(v - self.log_z).sum()))

    def target_unmatched(self, j: int) -> float:
        s = self.c[SKIP_TGT][:, j]
        v = np.logaddexp(self.fm[:, j] - s - self.o, self.fg[:, j] - s) + self.bg[:, j + 1]
        return float(min(1.0, np.exp(v - self.log_z).sum()))


def best_cost_batch(pair_costs: np.ndarray, skip_cost: float, gap_open: float = 0.0) -> np.ndarray:
    """Best path cost with only 1-1 (``pair_costs[k, i, j]``), 1-0 and 0-1 beads
    (each skip costs ``skip_cost``, each gap ``gap_open`` more), for K cost
    matrices at once; the same recursion as :func:`viterbi`, batched."""
    k, n, m = pair_costs.shape
    ramp = skip_cost * np.arange(m + 1, dtype=float)
    pm = np.full((k, m + 1), _INF)
    pm[:, 0] = 0.0
    pg = np.full((k, m + 1), _INF)
    pg[:, 1:] = gap_open + ramp[1:]
    for i in range(1, n + 1):
        cm = np.full((k, m + 1), _INF)
        cm[:, 1:] = np.minimum(pm[:, :-1], pg[:, :-1]) + pair_costs[:, i - 1, :]
        y = np.minimum(pg + skip_cost, pm + skip_cost + gap_open)
        y[:, 1:] = np.minimum(y[:, 1:], cm[:, :-1] + skip_cost + gap_open)
        pg = np.minimum.accumulate(y - ramp, axis=1) + ramp
        pm = cm
    return np.minimum(pm[:, m], pg[:, m])
