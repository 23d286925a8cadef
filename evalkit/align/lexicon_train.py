"""Building a translation lexicon (:mod:`evalkit.align.lexicon`) from sentence-aligned text.

IBM Model 1 (Brown et al. 1993) in both directions, trained by EM on the
sentence pairs; a word keeps the translations that are likely both ways.  Its
``p_hit`` — how often a translation is present in the counterpart of a real
pair — is measured by two-fold cross-validation over *documents*: the lexicon
of one half is tried on the other half, so a word seen in one article only
(a name, a topic word the lexicon merely memorised) gets no estimate and is
left out, and the estimate is what the aligner will meet on unseen articles.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from typing import Mapping, Sequence

from .lexicon import Direction, Lexicon, entries

Pair = tuple[frozenset[str], frozenset[str]]

ITERATIONS = 8
MIN_PROB = 0.1  # p(t|s) and p(s|t) a kept translation needs at least one of, the product below
MIN_PRODUCT = 0.02
MAX_TRANSLATIONS = 4
MIN_COUNT = 2  # sentences of the training half a word must occur in
MIN_TRIALS = 3  # cross-validation trials a word needs for its p_hit


def model1(pairs: Sequence[Pair], iterations: int = ITERATIONS) -> dict[str, dict[str, float]]:
    """p(t | s) for source words s and target words t (with a NULL source word).

    Words are visited in sorted order, so the float sums (and the lexicon file) do not depend on
    Python's string hashing (PYTHONHASHSEED)."""
    ordered = [(sorted(s), sorted(t)) for s, t in pairs]
    prob: dict[str | None, dict[str, float]] = defaultdict(dict)
    for s, t in ordered:
        for a in [None, *s]:
            row = prob[a]
            for b in t:
                row[b] = 1.0
    for row in prob.values():
        norm = float(len(row))
        for b in row:
            row[b] = 1.0 / norm
    for _ in range(iterations):
        counts: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for s, t in ordered:
            src = [None, *s]
            for b in t:
                denom = sum(prob[a][b] for a in src)
                if denom <= 0:
                    continue
                for a in src:
                    counts[a][b] += prob[a][b] / denom
        for a, row in counts.items():
            total = sum(row.values())
            prob[a] = {b: c / total for b, c in row.items()}
    prob.pop(None, None)
    return dict(prob)


def _translations(fwd: Mapping[str, Mapping[str, float]], bwd: Mapping[str, Mapping[str, float]],
                  counts: Mapping[str, int]) -> dict[str, frozenset[str]]:
    out = {}
    for s, row in fwd.items():
        if counts.get(s, 0) < MIN_COUNT:
            continue
        keep = []
        for t, p in row.items():
            back = bwd.get(t, {}).get(s, 0.0)
            if max(p, back) >= MIN_PROB and p * back >= MIN_PRODUCT:
                keep.append((p * back, t))
        if keep:
            out[s] = frozenset(t for _, t in sorted(keep, reverse=True)[:MAX_TRANSLATIONS])
    return out


def _both(pairs: Sequence[Pair]) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    fwd = model1(pairs)
    bwd = model1([(t, s) for s, t in pairs])
    return (_translations(fwd, bwd, Counter(w for s, _ in pairs for w in s)),
            _translations(bwd, fwd, Counter(w for _, t in pairs for w in t)))


def _trials(trans: Mapping[str, frozenset[str]], pairs: Sequence[Pair], hits: dict, seen: dict) -> None:
    for s, t in pairs:
        for w in entries(s, trans):
            seen[w] += 1
            hits[w] += not trans[w].isdisjoint(t)


def _folds(doc_ids) -> dict[str, int]:
    """Two halves of the documents, as equal as can be: ordered by a salted hash (so the halves do not
    follow a split the caller may have made with the same hash), then alternating."""
    order = sorted(doc_ids, key=lambda d: hashlib.sha1(f"lexicon-fold/{d}".encode()).hexdigest())
    return {d: k % 2 for k, d in enumerate(order)}


def train_lexicon(documents: Mapping[str, Sequence[Pair]], source_lang: str, target_lang: str,
                  origin: str = "", char_ratio: float = 0.0) -> Lexicon:
    """A lexicon from sentence pairs grouped by document (document id -> pairs of word sets)."""
    if len(documents) < 2:
        raise ValueError("a lexicon needs sentence pairs from at least 2 documents (p_hit is cross-validated over them)")
    fold_of = _folds(documents)
    folds = [[p for d, ps in documents.items() if fold_of[d] == k for p in ps] for k in (0, 1)]
    stats = {"f": (defaultdict(int), defaultdict(int)), "b": (defaultdict(int), defaultdict(int))}
    for k in (0, 1):
        fwd, bwd = _both(folds[k])
        other = folds[1 - k]
        _trials(fwd, other, *stats["f"])
        _trials(bwd, [(t, s) for s, t in other], *stats["b"])
    fwd, bwd = _both(folds[0] + folds[1])

    def direction(trans: dict[str, frozenset[str]], key: str) -> Direction:
        hits, seen = stats[key]
        kept = {w: ts for w, ts in trans.items() if seen.get(w, 0) >= MIN_TRIALS}
        # add-one smoothing toward 1/2: a word that hit 3 of 3 trials gets 0.8, not 1.0
        return Direction(kept, {w: (hits[w] + 1.0) / (seen[w] + 2.0) for w in kept})

    return Lexicon(source_lang, target_lang, direction(fwd, "f"), direction(bwd, "b"), origin, char_ratio)


__all__ = ["model1", "train_lexicon"]
