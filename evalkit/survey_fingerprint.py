"""Cheap pre-filter for corpus pairing: fingerprints that survive translation, scored through an inverted index.

Aligning a pivot with a candidate costs tens of milliseconds; a scrape of 500 pivots and 1,500 candidates would need
750,000 alignments.  A translator copies some things verbatim or nearly so: numbers (after normalising "1.000" and
"1,000", Thai digits and Buddhist-Era years: :func:`evalkit.align.text.extract_numbers`), Latin-script acronyms and
names (Vietnamese "Võ Văn Thưởng" is "Vo Van Thuong" in Malay; Latin words inside a Thai text were copied from the
original).  Each document becomes a set of such fingerprints; pairs are scored by TF-IDF cosine (binary term
frequency, the classic information-retrieval weighting) plus the Jaccard similarity of their numbers, both computed
feature by feature over the postings of an inverted index, so the work grows with the number of (pivot, candidate) pairs that *share* a fingerprint rather than with
pivots × candidates, and a feature carried by a large share of the documents (the year of the scrape, "1") is
dropped as a stop feature.  Document lengths only break ties between pairs that share nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from evalkit.align.text import document_features

# A feature carried by more than this share of a language's documents (pivots and candidates together) says little
# about which document translates which, and it would make the pair expansion quadratic: dropped.  A quarter, not
# less: a day of the month is carried by a few percent of a scrape's documents, and a date tells editions apart.
STOP_SHARE = 0.25
STOP_MIN_DF = 8  # ... but never in a small folder, where every feature is informative
LENGTH_WEIGHT = 0.02  # how much a plausible length ratio adds: a tie-breaker, never more than a shared rare number
PIVOT_BLOCK = 64  # pivots scored at a time: bounds the dense score block and the pair expansion


@dataclass(frozen=True)
class Fingerprint:
    """What a document shares with its translations, whatever the language pair."""

    numbers: frozenset[str]  # canonical numbers ("1000", "2023"; BE years mapped to CE)
    names: frozenset[str]  # Latin acronyms ("a:ODA") and folded names/words ("w:warren")
    chars: int  # non-space characters of the document
    paragraphs: int
    paragraph_numbers: tuple[frozenset[str], ...] = ()  # numbers of each paragraph (the aligned-numbers tie-break)

    @property
    def features(self) -> frozenset[str]:
        return frozenset(f"n:{n}" for n in self.numbers) | self.names


def fingerprint(paragraphs: Sequence[str], lang: str | None) -> Fingerprint:
    """Fingerprint of a cleaned document.  In a Latin-script text only acronyms and capitalised words that do not
    open a sentence count as names (the rest is the language's vocabulary); in a text in another script every Latin
    word was copied from somewhere and counts."""
    feats = document_features(paragraphs, lang or "")
    numbers: set[str] = set()
    names: set[str] = set()
    for p in feats.paragraphs:
        numbers |= p.numbers
        names.update(f"a:{a}" for a in p.acronyms)
        names.update(f"w:{w}" for w in (p.names if feats.latin else p.words) if len(w) >= 3)
    chars = sum(p.length for p in feats.paragraphs)
    per_paragraph = tuple(frozenset(p.numbers) for p in feats.paragraphs)
    return Fingerprint(frozenset(numbers), frozenset(names), chars, len(feats.paragraphs), per_paragraph)


def aligned_number_agreement(pivot: Fingerprint, candidate: Fingerprint, beads) -> float:
    """Jaccard similarity of the numbers of the two documents up to the last paragraph the aligner paired on each
    side (``beads``: ``.source``/``.target`` paragraph indices); 0 when they carry none.

    Why: two editions of one story (republished with another dateline, cut at another place) both translate the
    pivot for the verdict, and whole-document number overlap prefers the candidate that kept more of the story's
    numbers.  What one side lost after its last aligned paragraph (a truncated article, a comment section cut off)
    does not count here; what contradicts before it does, aligned or not: the aligner leaves a dateline
    "13/2/2013" facing "22 ก.ค. 2550" unpaired, and it may be the first paragraph after the title, so the span
    starts at the top of each document (benchmarks/pairing_scale.py: 3 swapped pairs of editions -> 0)."""
    src = [i for bead in beads for i in bead.source]
    tgt = [j for bead in beads for j in bead.target]
    if not src or not tgt:
        return 0.0
    a = frozenset().union(*pivot.paragraph_numbers[: max(src) + 1])
    b = frozenset().union(*candidate.paragraph_numbers[: max(tgt) + 1])
    union = len(a | b)
    return len(a & b) / union if union else 0.0


@dataclass(frozen=True)
class Shortlist:
    """For each pivot, candidate indices ranked best first (all candidates), with their pre-filter scores."""

    order: np.ndarray  # (pivots, candidates) int: candidate indices, best first
    scores: np.ndarray  # (pivots, candidates) float: pre-filter score of each (pivot, candidate)
    numbers: np.ndarray  # (pivots, candidates) float: Jaccard similarity of their numbers

    def ranked(self, pivot: int) -> list[int]:
        return [int(c) for c in self.order[pivot]]


def _postings(prints: Sequence[Fingerprint], vocab: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    feats, docs = [], []
    for d, fp in enumerate(prints):
        for f in sorted(fp.features):  # sorted: float sums in a fixed order, whatever PYTHONHASHSEED is
            k = vocab.get(f)
            if k is not None:
                feats.append(k)
                docs.append(d)
    return np.asarray(feats, dtype=np.int64), np.asarray(docs, dtype=np.int64)


def _cosine_block(p_feat, p_doc, p_w, c_start, c_count, c_doc, c_w, n_pivots: int, n_cands: int) -> np.ndarray:
    """Σ over shared features of w_p·w_c for every (pivot, candidate): each pivot posting is expanded into the
    candidate postings of its feature (vectorised: repeat + offsets), and the products summed with bincount."""
    counts = c_count[p_feat]
    total = int(counts.sum())
    out = np.zeros(n_pivots * n_cands, dtype=np.float64)
    if total == 0:
        return out.reshape(n_pivots, n_cands)
    rep = np.repeat(np.arange(len(p_feat)), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    cidx = c_start[p_feat][rep] + offsets
    flat = p_doc[rep] * n_cands + c_doc[cidx]
    out += np.bincount(flat, weights=p_w[rep] * c_w[cidx], minlength=n_pivots * n_cands)
    return out.reshape(n_pivots, n_cands)


def shortlist(pivots: Sequence[Fingerprint], candidates: Sequence[Fingerprint]) -> Shortlist:
    """Score every (pivot, candidate) pair by fingerprint cosine plus a small length term, and rank."""
    n_p, n_c = len(pivots), len(candidates)
    df: dict[str, int] = {}
    for fp in (*pivots, *candidates):
        for f in fp.features:
            df[f] = df.get(f, 0) + 1
    n_docs = n_p + n_c
    limit = max(STOP_MIN_DF, STOP_SHARE * n_docs)
    # only features both sides carry can score; sorted so that the index (and so every sum) is deterministic
    p_has = {f for fp in pivots for f in fp.features}
    c_has = {f for fp in candidates for f in fp.features}
    shared = sorted(f for f in p_has & c_has if df[f] <= limit)
    vocab = {f: k for k, f in enumerate(shared)}
    idf = np.array([math.log(1 + n_docs / df[f]) for f in shared], dtype=np.float64)

    def weighted(prints):
        feat, doc = _postings(prints, vocab)
        w = idf[feat] if len(feat) else np.zeros(0)
        # L2 norm over *all* of the document's informative features, so that a document full of numbers the other
        # side lacks does not look like a match for everything
        norms = np.zeros(len(prints))
        for d, fp in enumerate(prints):
            s = math.fsum(math.log(1 + n_docs / df[f]) ** 2 for f in fp.features if df[f] <= limit)
            norms[d] = math.sqrt(s) if s else 1.0
        return feat, doc, w / norms[doc] if len(feat) else w

    p_feat, p_doc, p_w = weighted(pivots)
    c_feat, c_doc, c_w = weighted(candidates)
    order_c = np.lexsort((c_doc, c_feat))
    c_feat, c_doc, c_w = c_feat[order_c], c_doc[order_c], c_w[order_c]
    c_count = np.bincount(c_feat, minlength=len(shared)) if len(c_feat) else np.zeros(len(shared), dtype=np.int64)
    c_start = np.cumsum(c_count) - c_count

    is_number = np.array([f.startswith("n:") for f in shared], dtype=bool)
    p_num = is_number[p_feat] if len(p_feat) else np.zeros(0, dtype=bool)
    c_num = (is_number[c_feat] if len(c_feat) else np.zeros(0, dtype=bool)).astype(np.float64)
    p_size = np.array([len(fp.numbers) for fp in pivots], dtype=np.float64)
    c_size = np.array([len(fp.numbers) for fp in candidates], dtype=np.float64)

    scores = np.zeros((n_p, n_c))
    numbers = np.zeros((n_p, n_c))
    for lo in range(0, n_p, PIVOT_BLOCK):
        hi = min(n_p, lo + PIVOT_BLOCK)
        keep = (p_doc >= lo) & (p_doc < hi)
        scores[lo:hi] = _cosine_block(p_feat[keep], p_doc[keep] - lo, p_w[keep], c_start, c_count, c_doc, c_w,
                                      hi - lo, n_c)
        keep &= p_num
        shared_n = _cosine_block(p_feat[keep], p_doc[keep] - lo, np.ones(int(keep.sum())), c_start, c_count, c_doc,
                                 c_num, hi - lo, n_c)
        union = p_size[lo:hi, None] + c_size[None, :] - shared_n
        numbers[lo:hi] = np.divide(shared_n, union, out=np.zeros_like(shared_n), where=union > 0)
    # the numbers count twice: a translator copies them exactly, and a date or a count is what tells two editions
    # of one story apart (benchmarks/pairing_scale.py: the right edition ranks first for 98 % of pivots instead of 85 %)
    scores += numbers + LENGTH_WEIGHT * _length_term(pivots, candidates)
    # best first; ties by candidate index (stable sort on the negated score)
    order = np.argsort(-scores, axis=1, kind="stable") if n_c else np.zeros((n_p, 0), dtype=np.int64)
    return Shortlist(order, scores, numbers)


def _length_term(pivots: Sequence[Fingerprint], candidates: Sequence[Fingerprint]) -> np.ndarray:
    """In [0, 1]: how plausible the candidate's length is for a translation of the pivot.  The character ratio of a
    language pair is not known in advance (Thai text is shorter than Vietnamese), so the expected log ratio is the
    difference of the two sides' median document lengths: robust, and good enough for a tie-breaker."""
    lp = np.log1p(np.array([fp.chars for fp in pivots], dtype=np.float64))
    lc = np.log1p(np.array([fp.chars for fp in candidates], dtype=np.float64))
    if not len(lp) or not len(lc):
        return np.zeros((len(lp), len(lc)))
    shift = float(np.median(lc) - np.median(lp))
    return np.exp(-np.abs(lc[None, :] - lp[:, None] - shift) / 0.5)


def shared_counts(pivot: Fingerprint, candidate: Fingerprint) -> str:
    """Evidence in words: "3 of 12 numbers and 2 of 9 names shared"."""
    n = len(pivot.numbers & candidate.numbers)
    m = len(pivot.names & candidate.names)
    return f"{n} of {len(pivot.numbers)} numbers and {m} of {len(pivot.names)} names shared"
