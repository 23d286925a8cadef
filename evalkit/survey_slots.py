"""Corpus pairing, stage 3: the full verdict on shortlisted pairs and the one-to-one assignment, per slot group.

A *slot group* is one target language, or several close ones a run asks for together (Malay and Indonesian:
:func:`evalkit.survey_langs.confusable_groups`).  All candidates labelled with a language of the group compete for
the group's slots of every pivot; a pivot takes at most one document per language of the group, and which of its
documents is which language is decided by comparing them (:func:`evalkit.survey_langs.decide_languages`), not by
lingua's absolute label.

Depth is adaptive: a pivot first aligns only its best pre-filter candidate per slot; it looks further (the next
``per_pivot`` candidates, up to MAX_ROUNDS times) only when that is not a confident accept, or is contested (another
pivot shortlisted the same document first, or the pre-filter barely preferred it), or when it lost an accepted
candidate to a better-scoring pivot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path


from evalkit.align import Alignment, PairingVerdict, align_paragraphs, assess_translation
from evalkit.corpus import CleanDocument
from evalkit.corpus.langid import LanguageGuess
from evalkit.errors import CorpusError
from evalkit.languages import LANGUAGES
from evalkit.survey_fingerprint import Fingerprint, Shortlist, aligned_number_agreement, shortlist
from evalkit.survey_langs import LanguageEvidence, decide_languages, same_language

MAX_ROUNDS = 4  # a pivot that keeps losing its candidates to better-scoring pivots looks this many times further
SCORE_DECIMALS = 2  # verdict scores equal to this many decimals tie (see _Edge.key)
CONFIDENT = 0.9  # a verdict score at least this high, uncontested, needs no second candidate
PREFILTER_MARGIN = 1.25  # ... uncontested: the pre-filter scored it at least this many times the next candidate


class AlignmentResourceError(CorpusError):
    """Aligning two documents ran out of memory: one line naming both documents and their sizes."""


def language_name(code: str | None) -> str:
    language = LANGUAGES.get(code or "")
    return f"{language.name} ({code})" if language else (code or "undetermined language")


def align_documents(pivot: CleanDocument, target: CleanDocument, src: str, tgt: str) -> tuple[Alignment, PairingVerdict]:
    try:
        alignment = align_paragraphs(pivot.texts, target.texts, src, tgt)
        return alignment, assess_translation(pivot.texts, target.texts, alignment, src, tgt)
    except MemoryError:
        raise AlignmentResourceError(
            f"{pivot.path} ({len(pivot.paragraphs):,} paragraphs) and {target.path} "
            f"({len(target.paragraphs):,} paragraphs): not enough memory to align them; "
            f"split the documents into smaller files or free memory"
        ) from None


@dataclass
class Doc:
    path: Path
    doc: CleanDocument | None
    guess: LanguageGuess
    print_: Fingerprint | None = None
    evidence: LanguageEvidence | None = None  # only for candidates of a group of close languages


@dataclass
class Edge:
    pivot: int  # index into pivots
    cand: int  # index into the group's candidates
    prefilter: float
    alignment: Alignment
    verdict: PairingVerdict
    numbers: float  # Jaccard similarity of the two documents' numbers (the pre-filter's)
    aligned_numbers: float  # agreement of the numbers of aligned paragraphs (aligned_number_agreement)

    @property
    def key(self) -> tuple:
        # P(parallel) saturates near 1 for any translation, and also for the translation of another edition of the
        # same story (republished with another dateline, a paragraph more or less), so verdicts equal to two
        # decimals tie and the numbers decide: dates, counts and amounts are copied exactly by a translator, and they
        # are what tells editions apart; first those of the paragraphs the aligner paired (what one side lost does
        # not count), then the whole documents', then the whole fingerprint, then file order.
        return (-round(self.verdict.score, SCORE_DECIMALS), -round(self.aligned_numbers, 6), -self.numbers,
                -self.prefilter, self.pivot, self.cand)


@dataclass
class SlotResult:
    """The outcome for one slot group: kept edges with their language, and what the reasons need."""

    group: tuple[str, ...]
    edges: dict[tuple[int, int], Edge] = field(default_factory=dict)
    shortlist: Shortlist | None = None
    kept: dict[tuple[int, str], tuple[Edge, str]] = field(default_factory=dict)  # (pivot, lang) -> (edge, note)
    released: dict[int, str] = field(default_factory=dict)  # candidate -> why a pivot that accepted it let it go

    def owner(self) -> dict[int, int]:
        """candidate -> the pivot it was kept for"""
        return {e.cand: p for (p, _), (e, _) in self.kept.items()}


def pair_slots(group: tuple[str, ...], pivot_lang: str, pivots: list[Doc], cands: list[Doc], per_pivot: int,
               timer: dict[str, float]) -> SlotResult:
    result = SlotResult(group)
    if not pivots or not cands:
        return result
    t = time.perf_counter()
    sl = shortlist([d.print_ for d in pivots], [c.print_ for c in cands])
    timer["prefilter"] += time.perf_counter() - t
    result.shortlist = sl
    capacity = len(group)
    firsts = _first_choices(sl, capacity)
    looked = [0] * len(pivots)  # how far down its ranking each pivot has looked
    open_ = {p: capacity for p in range(len(pivots))}  # pivot -> how many more candidates to align
    assignment: dict[int, list[Edge]] = {}
    for _ in range(MAX_ROUNDS + 1):
        t = time.perf_counter()
        for p, depth in sorted(open_.items()):
            new = [int(c) for c in sl.order[p][looked[p]: looked[p] + depth]]
            looked[p] += len(new)
            for c in new:
                # the slot's language (lingua cannot name Lao...); in a group, the candidate's own label
                tgt = cands[c].guess.lang if cands[c].guess.lang in group else group[0]
                alignment, verdict = align_documents(pivots[p].doc, cands[c].doc, pivot_lang, tgt)
                agreement = aligned_number_agreement(pivots[p].print_, cands[c].print_, alignment.pairs)
                result.edges[(p, c)] = Edge(p, c, float(sl.scores[p, c]), alignment, verdict, float(sl.numbers[p, c]),
                                            agreement)
        timer["align"] += time.perf_counter() - t
        assignment, ambiguous = _greedy(result.edges.values(), capacity, cands, pivots)
        _swap_pairs(assignment, result.edges, cands, capacity)
        open_ = _looking_further(result.edges, assignment, capacity, per_pivot, looked, len(cands), sl, firsts)
        if not open_:
            break
    result.released.update(ambiguous)
    _languages(result, assignment, cands)
    return result


def _first_choices(sl: Shortlist, capacity: int) -> dict[int, list[int]]:
    """candidate -> the pivots that rank it among their first ``capacity`` candidates (a contest before aligning)"""
    firsts: dict[int, list[int]] = {}
    for p in range(sl.order.shape[0]):
        for c in sl.order[p][:capacity]:
            firsts.setdefault(int(c), []).append(p)
    return firsts


def _looking_further(edges, assignment, capacity, per_pivot, looked, n_cands, sl: Shortlist, firsts) -> dict[int, int]:
    """pivot -> how many more candidates it aligns next round"""
    owner = {e.cand: q for q, mine in assignment.items() for e in mine}
    by_pivot: dict[int, list[Edge]] = {}
    for e in edges.values():
        if e.verdict.is_translation:
            by_pivot.setdefault(e.pivot, []).append(e)
    out = {}
    for p in range(len(looked)):
        if looked[p] >= n_cands:
            continue
        mine = assignment.get(p, [])
        accepted = by_pivot.get(p, [])
        lost = [e for e in accepted if owner.get(e.cand, p) != p]
        if lost and (len(mine) < capacity or any(e.key < max(m.key for m in mine) for e in lost)):
            out[p] = per_pivot * capacity
        elif looked[p] < per_pivot * capacity and not _confident(p, mine, capacity, sl, firsts):
            out[p] = per_pivot * capacity - looked[p]  # its first choices do not settle it: the usual depth
    return out


def _confident(p: int, mine: list[Edge], capacity: int, sl: Shortlist, firsts) -> bool:
    if len(mine) < capacity or any(e.verdict.score < CONFIDENT for e in mine):
        return False
    if any(len(firsts.get(e.cand, ())) > 1 for e in mine):
        return False  # another pivot wants the same document first
    ranked = sl.order[p]
    if len(ranked) <= capacity:
        return True
    next_score = float(sl.scores[p, ranked[capacity]])
    return all(e.prefilter >= PREFILTER_MARGIN * next_score for e in mine)


def _greedy(edges, capacity: int, cands: list[Doc], pivots: list[Doc]) -> tuple[dict[int, list[Edge]], dict[int, str]]:
    """Accepted edges, best verdict first; each candidate used once, each pivot at most ``capacity`` times, and two
    documents of one pivot never both clearly in the same language.

    A candidate that two different pivots accept equally (same verdict score, same numbers) is given to neither:
    a wrong pair scores a system against another article's reference, a missing one only loses coverage.  Returns
    the assignment and, for such candidates, the reason."""
    assignment: dict[int, list[Edge]] = {}
    used: set[int] = set()
    ambiguous: dict[int, str] = {}
    accepted = sorted((e for e in edges if e.verdict.is_translation), key=lambda e: e.key)
    by_cand: dict[int, list[Edge]] = {}
    for e in accepted:
        by_cand.setdefault(e.cand, []).append(e)
    for e in accepted:
        mine = assignment.setdefault(e.pivot, [])
        if e.cand in used or len(mine) >= capacity:
            continue
        if capacity > 1 and any(same_language(cands[m.cand].evidence, cands[e.cand].evidence) for m in mine):
            continue
        rivals = [r.pivot for r in by_cand[e.cand] if r.pivot != e.pivot and r.key[:3] == e.key[:3]
                  and len(assignment.get(r.pivot, ())) < capacity and pivots[r.pivot].doc.texts != pivots[e.pivot].doc.texts]
        if rivals:
            names = ", ".join(pivots[q].path.name for q in sorted({e.pivot, *rivals}))
            ambiguous[e.cand] = (f"matches two pivots equally: {names} (pairing score {e.verdict.score:.2f}, "
                                 f"numbers of the aligned spans {e.aligned_numbers:.2f} with each)")
            used.add(e.cand)
            continue
        mine.append(e)
        used.add(e.cand)
    return {p: mine for p, mine in assignment.items() if mine}, ambiguous


def _pair_value(*edges: Edge) -> tuple:
    return (round(sum(round(e.verdict.score, SCORE_DECIMALS) for e in edges), 6),
            round(sum(e.aligned_numbers for e in edges), 9), round(sum(e.numbers for e in edges), 9))


def _swap_pairs(assignment: dict[int, list[Edge]], edges: dict[tuple[int, int], Edge], cands: list[Doc],
                capacity: int) -> None:
    """Exchange the documents of two pivots when both pairs together are better that way.

    Why: greedy takes the single best pair first.  Two editions of one story, each with a paragraph lost on one
    side, can make pivot A's best pair A-b (b shares more of A's numbers than A's own a, which lost a paragraph)
    and leave B with a; together A-a and B-b agree better (benchmarks/pairing_scale.py, seed 12)."""
    owner = {e.cand: (q, e) for q, mine in assignment.items() for e in mine}
    for _ in range(3):  # a few passes: each swap strictly improves the total, so this ends; 3 is plenty in practice
        swapped = False
        for (p1, c2), cross in sorted(edges.items()):
            if not cross.verdict.is_translation or c2 not in owner:
                continue
            p2, e22 = owner[c2]
            if p2 == p1:
                continue
            for e11 in list(assignment.get(p1, [])):
                back = edges.get((p2, e11.cand))
                if back is None or not back.verdict.is_translation:
                    continue
                if _pair_value(cross, back) <= _pair_value(e11, e22):
                    continue
                mine1 = [e for e in assignment[p1] if e is not e11] + [cross]
                mine2 = [e for e in assignment[p2] if e is not e22] + [back]
                if capacity > 1 and (_clash(mine1, cands) or _clash(mine2, cands)):
                    continue
                assignment[p1], assignment[p2] = mine1, mine2
                owner[c2], owner[e11.cand] = (p1, cross), (p2, back)
                swapped = True
                break
        if not swapped:
            return


def _clash(mine: list[Edge], cands: list[Doc]) -> bool:
    return any(same_language(cands[a.cand].evidence, cands[b.cand].evidence)
               for i, a in enumerate(mine) for b in mine[i + 1:])


def _languages(result: SlotResult, assignment: dict[int, list[Edge]], cands: list[Doc]) -> None:
    """Which language each kept document fills: the group's only one, or by comparing the pivot's documents."""
    group = result.group
    for p, mine in assignment.items():
        if len(group) == 1:
            result.kept[(p, group[0])] = (mine[0], "")
            continue
        docs = [cands[e.cand] for e in mine]
        if len(mine) == 1:
            d = docs[0]
            lang = d.evidence.clearly() or (d.guess.lang if d.guess.lang in group else group[0])
            note = "" if lang == d.guess.lang else (
                f"{language_name(lang)}, not lingua's {language_name(d.guess.lang)}: {d.evidence.describe()}")
            result.kept[(p, lang)] = (mine[0], note)
            continue
        decision = decide_languages([d.evidence for d in docs])
        if decision.langs is None:  # cannot tell them apart: the better pair stays, under lingua's label
            d = docs[0]
            result.kept[(p, d.guess.lang if d.guess.lang in group else group[0])] = (mine[0], "")
            for e, other in zip(mine[1:], docs[1:]):
                result.released[e.cand] = (f"translates the same pivot as {d.path.name}, and nothing tells which of "
                                           f"them is {' or '.join(group)} ({other.evidence.describe()}; "
                                           f"{d.path.name}: {d.evidence.describe()})")
            continue
        for e, d, lang in zip(mine, docs, decision.langs):
            rivals = ", ".join(f"{o.path.name}: {o.evidence.describe()}" for o in docs if o is not d)
            note = (f"{language_name(lang)} by {decision.by} (lingua alone: {language_name(d.guess.lang)}): "
                    f"{d.evidence.describe()}; against {rivals}")
            result.kept[(p, lang)] = (e, note)
