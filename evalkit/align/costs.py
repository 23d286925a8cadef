"""Bead costs: a Gale–Church length term plus translation-invariant anchors.

All costs are in nats (negative log-probabilities, up to constants), so they
can be added and turned into posteriors by the forward–backward pass in
:mod:`evalkit.align.dp`.

Length (Gale & Church 1993, "A program for aligning sentences in bilingual
corpora"): the target length of a translated unit is roughly ``c`` times the
source length with a variance proportional to the length.  Two departures
from the paper, both motivated by paragraphs rather than sentences:

* ``c`` and the variance ``s2`` are *estimated from the document pair* (see
  :func:`evalkit.align.aligner._reestimate`) instead of being fixed constants, because
  character ratios differ wildly between scripts (Thai/Vietnamese is close to
  1.0, Malay/Vietnamese about 1.13 on the development corpus) and a table of
  ratios would be tuned to whatever corpus it was built on;
* the normal tail is replaced by a Student-t tail: a real translation pair is
  sometimes 40% longer than expected (a translator expands a sentence), and a
  Gaussian would then rather skip both paragraphs than pair them.

Anchors (the idea of Bleualign/vecalign that some content is shared verbatim,
reduced to what needs no MT system or embeddings): numbers, acronyms, Latin
words copied into non-Latin text, quotation marks/parentheses, and names.
Agreement lowers the cost; anchors that appear on one side only raise it,
because translations keep numbers and acronyms, so a paragraph that has "27"
and "VTV" is unlikely to be the translation of one that has neither.  Names
count only when the *documents* share them ("Kishida", "Vo Van Thuong" occur
in both): capitalised words differ between languages for ordinary reasons
("Nhật Bản" / "Jepun"), but a name that demonstrably survives translation in
this document pair should appear on both sides of a bead.

Boilerplate the cleaner missed is handled by a per-paragraph *pairing
penalty*: text in another script/accent profile than the document, repeated
text (duplicated captions, headlines shown twice) and very short lines cost
extra to pair, so leaving them unmatched (1-0/0-1) wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .text import DocumentFeatures, ParagraphFeatures, profile_distance

# Bead types (source paragraphs, target paragraphs), as in Gale & Church.
MOVES: tuple[tuple[int, int], ...] = ((1, 1), (1, 2), (2, 1), (1, 0), (0, 1))

# Prior costs of bead types.  Gale & Church estimated P(1-1)=0.89,
# P(2-1)+P(1-2)=0.089, so a merge costs log(0.89/0.0445) ~ 3 nats over a 1-1.
MERGE_PRIOR = 3.0
# Leaving a paragraph unmatched, and opening a run of unmatched paragraphs
# (affine gaps, see :mod:`evalkit.align.dp`).  Inside a run of pairs, two skips
# plus a gap (5.5 nats) are what a 1-1 bead may cost before the DP prefers to
# leave both sides unmatched; with the t-tail below that is a length mismatch
# of ~5 standard deviations, less when anchors disagree or a side looks like
# boilerplate.
SKIP_COST = 2.0
GAP_OPEN = 1.5

# Gale & Church's variance per character; used as the prior for ``s2``.
GC_VARIANCE = 6.8
# Degrees of freedom of the Student-t length term.
T_DOF = 4.0
# Pseudo-length added to the variance so that very short lines (titles,
# captions) are not judged with an absurdly tight tolerance.
LENGTH_FLOOR = 20.0

# Anchor weights (nats per unit of anchor weight) and caps.
ANCHOR_MATCH = 2.0
ANCHOR_MISS = 1.0
NAME_MATCH = 1.0
NAME_MISS = 0.5
MARK_WEIGHT = 0.5  # quotes/parentheses: weaker than a number
MAX_ANCHOR_BONUS = 8.0
MAX_ANCHOR_PENALTY = 6.0
MAX_NAME_BONUS = 3.0
MAX_NAME_PENALTY = 3.0

# Pairing penalties for boilerplate-looking paragraphs.
PROFILE_TOLERANCE = 0.08  # total-variation distance still considered "normal"
PROFILE_WEIGHT = 25.0
MAX_PROFILE_PENALTY = 6.0
DUPLICATE_PENALTY = 2.5
SHORT_FRACTION = 0.08  # of the document's typical paragraph length
SHORT_WEIGHT = 2.0
EMPTY_PENALTY = 20.0  # an empty paragraph carries no evidence: never pair it


@dataclass(frozen=True)
class LengthParams:
    """Expected target/source character ratio and variance per character."""

    ratio: float
    variance: float


def length_cost(ls: np.ndarray | float, lt: np.ndarray | float, params: LengthParams) -> np.ndarray:
    """Gale–Church delta with a symmetric variance and a Student-t tail.

    delta = (lt - c*ls) / sqrt(s2 * (mean(ls, lt/c) + floor)); using the mean
    of both sides (rather than ls alone, as in the paper) keeps the cost
    symmetric, and the floor keeps it sane when one side is empty or tiny.
    The cost is the Student-t negative log-density (up to a constant).
    """
    ls = np.asarray(ls, dtype=float)
    lt = np.asarray(lt, dtype=float)
    c = params.ratio
    scale = params.variance * 0.5 * (ls + lt / c) + params.variance * LENGTH_FLOOR
    delta = (lt - c * ls) / np.sqrt(scale)
    return 0.5 * (T_DOF + 1.0) * np.log1p(delta * delta / T_DOF)


def pairing_penalties(doc: DocumentFeatures) -> np.ndarray:
    """Extra cost for putting each paragraph into a pair (boilerplate prior)."""
    out = np.zeros(len(doc.paragraphs))
    ref = SHORT_FRACTION * doc.content_median
    for k, p in enumerate(doc.paragraphs):
        d = profile_distance(p.profile, doc.profile)
        pen = min(MAX_PROFILE_PENALTY, PROFILE_WEIGHT * max(0.0, d - PROFILE_TOLERANCE))
        if doc.duplicated[k]:
            pen += DUPLICATE_PENALTY
        if ref > 0 and p.length < ref:
            pen += SHORT_WEIGHT * math.log(ref / max(p.length, 1))
        if p.length == 0:
            pen += EMPTY_PENALTY
        out[k] = pen
    return out


class AnchorScorer:
    """Anchor agreement between groups of consecutive source and target paragraphs.

    Anchors are weighted by ``1/sqrt(document frequency)`` (the larger of the
    two documents' counts): a name that is in every paragraph ("Japan" in an
    article about Japan) says little about which paragraphs correspond.

    Each paragraph is a 0/1 row over an anchor vocabulary, a group of
    paragraphs (a 1-2/2-1 bead side) is the element-wise max of its rows, and
    weighted overlaps of all group pairs are matrix products, so scoring every
    possible bead is a handful of numpy operations.
    """

    def __init__(self, src: DocumentFeatures, tgt: DocumentFeatures):
        # Latin words inside a non-Latin-script document were copied from the
        # original, so they are strong anchors there (and only there).
        self.src_foreign = not src.latin
        self.tgt_foreign = not tgt.latin
        self.names = src.latin and tgt.latin
        df_src = _doc_freq(src.paragraphs)
        df_tgt = _doc_freq(tgt.paragraphs)

        strong_vocab: dict[tuple[str, str], int] = {}
        word_vocab: dict[str, int] = {}
        for doc in (src, tgt):
            for p in doc.paragraphs:
                for x in p.numbers:
                    strong_vocab.setdefault(("num", x), len(strong_vocab))
                for x in p.acronyms:
                    strong_vocab.setdefault(("acr", x), len(strong_vocab))
                for x in p.marks:
                    strong_vocab.setdefault(("mark", x), len(strong_vocab))
                for x in p.words:
                    if len(x) >= 2:
                        word_vocab.setdefault(x, len(word_vocab))

        def weight(kind: str, token: str) -> float:
            key = (kind, token)
            df = max(df_src.get(key, 0), df_tgt.get(key, 0), 1)
            base = 1.0
            if kind == "mark" or (kind == "num" and len(token.replace(".", "")) == 1):
                base = MARK_WEIGHT  # single digits (months, counts) and quote marks are weak
            return base / math.sqrt(df)

        self.w_strong = np.array([weight(k, t) for (k, t) in strong_vocab]) if strong_vocab else np.zeros(0)
        self.w_word = np.array([weight("word", t) for t in word_vocab]) if word_vocab else np.zeros(0)

        # names shared by the two documents: capitalised mid-sentence somewhere
        # and present (in any case) on both sides
        all_names = set().union(*(p.names for d in (src, tgt) for p in d.paragraphs))
        src_words = set().union(*(p.words for p in src.paragraphs))
        tgt_words = set().union(*(p.words for p in tgt.paragraphs))
        shared = np.zeros(len(word_vocab))
        for x in all_names & src_words & tgt_words:
            if x in word_vocab:
                shared[word_vocab[x]] = 1.0
        self.w_name = self.w_word * shared

        def rows(doc: DocumentFeatures) -> tuple[np.ndarray, np.ndarray]:
            strong = np.zeros((len(doc.paragraphs), len(strong_vocab)))
            words = np.zeros((len(doc.paragraphs), len(word_vocab)))
            for r, p in enumerate(doc.paragraphs):
                for x in p.numbers:
                    strong[r, strong_vocab[("num", x)]] = 1.0
                for x in p.acronyms:
                    strong[r, strong_vocab[("acr", x)]] = 1.0
                for x in p.marks:
                    strong[r, strong_vocab[("mark", x)]] = 1.0
                for x in p.words:
                    if x in word_vocab:
                        words[r, word_vocab[x]] = 1.0
            return strong, words

        self.src_rows = rows(src)
        self.tgt_rows = rows(tgt)

    @staticmethod
    def _groups(mat: np.ndarray, size: int) -> np.ndarray:
        """Rows for every run of ``size`` consecutive paragraphs (union = max)."""
        out = mat[: len(mat) - size + 1]
        for k in range(1, size):
            out = np.maximum(out, mat[k : len(mat) - size + 1 + k])
        return out

    def matrix(self, di: int, dj: int) -> np.ndarray:
        """Anchor cost of every bead covering source ``i:i+di`` and target
        ``j:j+dj``, shape (n-di+1, m-dj+1)."""
        s_strong, s_words = (self._groups(x, di) for x in self.src_rows)
        t_strong, t_words = (self._groups(x, dj) for x in self.tgt_rows)
        ws, ww = self.w_strong, self.w_word

        match = (s_strong * ws) @ t_strong.T
        miss = (s_strong @ ws)[:, None] + (t_strong @ ws)[None, :] - 2.0 * match
        if self.src_foreign or self.tgt_foreign:
            shared = (s_words * ww) @ t_words.T
            if self.tgt_foreign:  # target's Latin words must come from the source
                match = match + shared
                miss = miss + (t_words @ ww)[None, :] - shared
            if self.src_foreign:
                match = match + shared
                miss = miss + (s_words @ ww)[:, None] - shared
        cost = -np.minimum(MAX_ANCHOR_BONUS, ANCHOR_MATCH * match) + np.minimum(
            MAX_ANCHOR_PENALTY, ANCHOR_MISS * np.maximum(miss, 0.0)
        )
        if self.names:
            wn = self.w_name
            n_match = (s_words * wn) @ t_words.T
            n_miss = (s_words @ wn)[:, None] + (t_words @ wn)[None, :] - 2.0 * n_match
            cost = cost - np.minimum(MAX_NAME_BONUS, NAME_MATCH * n_match)
            cost = cost + np.minimum(MAX_NAME_PENALTY, NAME_MISS * np.maximum(n_miss, 0.0))
        return cost

    def cost(self, src_idx: Sequence[int], tgt_idx: Sequence[int]) -> float:
        """Anchor cost of one bead (consecutive indices); for inspection."""
        i, j = src_idx[0], tgt_idx[0]
        return float(self.matrix(len(src_idx), len(tgt_idx))[i, j])


def _doc_freq(paras: Sequence[ParagraphFeatures]) -> dict[tuple[str, str], int]:
    """In how many paragraphs each anchor occurs (names are counted as words)."""
    df: dict[tuple[str, str], int] = {}
    for p in paras:
        keys = (
            {("num", x) for x in p.numbers}
            | {("acr", x) for x in p.acronyms}
            | {("mark", x) for x in p.marks}
            | {("word", x) for x in p.words}
        )
        for k in keys:
            df[k] = df.get(k, 0) + 1
    return df


@dataclass(frozen=True)
class BeadCosts:
    """Precomputed costs of every bead that can start at (i, j).

    ``static[move][i, j]`` holds everything except the length term (anchors,
    boilerplate penalties, bead prior), which does not depend on the length
    parameters and so is computed once; ``ls``/``lt`` hold the lengths the
    length term needs.  Entries that would run past the end are +inf.
    """

    n: int
    m: int
    static: dict[tuple[int, int], np.ndarray]
    anchor: dict[tuple[int, int], np.ndarray]  # the anchor part of ``static`` (pair beads only)
    ls: dict[tuple[int, int], np.ndarray]
    lt: dict[tuple[int, int], np.ndarray]

    def with_lengths(self, params: LengthParams) -> dict[tuple[int, int], np.ndarray]:
        out = {}
        for mv in MOVES:
            if mv[0] and mv[1]:
                with np.errstate(invalid="ignore"):
                    out[mv] = self.static[mv] + length_cost(self.ls[mv], self.lt[mv], params)
            else:
                out[mv] = self.static[mv]
        return out


def build_bead_costs(src: DocumentFeatures, tgt: DocumentFeatures) -> BeadCosts:
    n, m = len(src.paragraphs), len(tgt.paragraphs)
    scorer = AnchorScorer(src, tgt)
    pen_s = pairing_penalties(src)
    pen_t = pairing_penalties(tgt)
    len_s = np.array([p.length for p in src.paragraphs], dtype=float)
    len_t = np.array([p.length for p in tgt.paragraphs], dtype=float)
    static, anchor, ls, lt = {}, {}, {}, {}
    for di, dj in MOVES:
        st = np.full((n + 1, m + 1), np.inf)
        an = np.zeros((n + 1, m + 1))
        a = np.zeros((n + 1, m + 1))
        b = np.zeros((n + 1, m + 1))
        if di and dj:
            if n >= di and m >= dj:
                prior = 0.0 if (di, dj) == (1, 1) else MERGE_PRIOR
                ks, kt = np.ones(di), np.ones(dj)
                pen_rows = np.convolve(pen_s, ks)[di - 1 : n]
                pen_cols = np.convolve(pen_t, kt)[dj - 1 : m]
                an[: n - di + 1, : m - dj + 1] = scorer.matrix(di, dj)
                st[: n - di + 1, : m - dj + 1] = (
                    prior + an[: n - di + 1, : m - dj + 1] + pen_rows[:, None] + pen_cols[None, :]
                )
                a[: n - di + 1, : m - dj + 1] = np.convolve(len_s, ks)[di - 1 : n][:, None]
                b[: n - di + 1, : m - dj + 1] = np.convolve(len_t, kt)[dj - 1 : m][None, :]
        elif di:
            st[:n, :] = SKIP_COST
        else:
            st[:, :m] = SKIP_COST
        static[(di, dj)] = st
        anchor[(di, dj)] = an
        ls[(di, dj)] = a
        lt[(di, dj)] = b
    return BeadCosts(n, m, static, anchor, ls, lt)
