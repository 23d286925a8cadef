"""Pairing a whole corpus folder: every pivot with its translation in each target language.

A scrape holds hundreds of articles per language under meaningless file names, plus pages that translate nothing.
Aligning every pivot with every document (what :func:`evalkit.pairing.survey_corpus` does for one pivot) grows with
pivots × documents, so pairing runs in three stages:

1. **read and identify**: every ``*.txt`` once, language identification (lingua) on a sample of the longest
   paragraphs (menus and bylines are short; a couple of thousand characters decide as well as the whole text);
2. **pre-filter** (:mod:`evalkit.survey_fingerprint`): per target language, fingerprints that survive translation
   (numbers, Latin names and acronyms, length) scored through an inverted index; the best ``candidates_per_pivot``
   candidates of each pivot go on;
3. **verdict**: the full aligner and verdict (:func:`evalkit.align.align_paragraphs`,
   :func:`evalkit.align.assess_translation`) on those pairs only, then a greedy one-to-one assignment among the
   accepted pairs, best verdict first (ties: shared numbers): one translation belongs to at most one pivot; a pivot
   whose accepted candidates all went to better-scoring pivots looks at its next candidates.

Every document of the folder ends up somewhere: a pivot, a match, or :class:`Unpaired` with the reason; every
pivot × language without an accepted translation is a :class:`MissingTranslation` naming the closest candidate and
the evidence.  Everything is deterministic: sorted file names, stable sorts, ties broken by file order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evalkit.align import Alignment, PairingVerdict, align_paragraphs, assess_translation
from evalkit.corpus import CleanDocument, load_document
from evalkit.corpus.langid import LanguageGuess, detect_document, supported
from evalkit.errors import CorpusError
from evalkit.languages import LANGUAGES
from evalkit.survey_fingerprint import Fingerprint, Shortlist, fingerprint, shared_counts, shortlist

LANGID_SAMPLE_CHARS = 2000  # language identification reads the longest paragraphs up to this many characters
MAX_ROUNDS = 4  # a pivot that keeps losing its candidates to better-scoring pivots looks this many times further
SCORE_DECIMALS = 2  # verdict scores equal to this many decimals tie (see _Edge.key)


@dataclass(frozen=True)
class DocumentMatch:
    """A pivot and its translation in one language, aligned."""

    lang: str
    pivot: CleanDocument
    target: CleanDocument
    target_lang: LanguageGuess  # lingua's answer for the target
    alignment: Alignment
    verdict: PairingVerdict


@dataclass(frozen=True)
class MissingTranslation:
    """A pivot × language with no translation in the folder."""

    pivot: Path
    lang: str
    reason: str  # one line naming the closest candidate and the evidence


@dataclass(frozen=True)
class Unpaired:
    """A non-pivot document that ended up in no pair."""

    path: Path
    lang: str | None  # detected
    reason: str


@dataclass(frozen=True)
class CorpusPairing:
    pivots: tuple[CleanDocument, ...]  # file-name order
    pivot_langs: tuple[LanguageGuess, ...]  # detected, same order
    matches: tuple[DocumentMatch, ...]  # ordered by (pivot order, target_langs order)
    missing: tuple[MissingTranslation, ...]
    unpaired: tuple[Unpaired, ...]
    seconds: dict[str, float]  # read, language id, prefilter, align


class AlignmentResourceError(CorpusError):
    """Aligning two documents ran out of memory: one line naming both documents and their sizes."""


def language_name(code: str | None) -> str:
    language = LANGUAGES.get(code or "")
    return f"{language.name} ({code})" if language else (code or "undetermined language")


def language_sample(paragraphs: Sequence[str], limit: int = LANGID_SAMPLE_CHARS) -> list[str]:
    """The longest paragraphs up to ``limit`` characters, in document order: the article body, not its menus."""
    ranked = sorted(range(len(paragraphs)), key=lambda i: (-len(paragraphs[i]), i))
    chosen, total = [], 0
    for i in ranked:
        if total >= limit:
            break
        chosen.append(i)
        total += len(paragraphs[i])
    return [paragraphs[i] for i in sorted(chosen)]


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
class _Doc:
    path: Path
    doc: CleanDocument | None
    guess: LanguageGuess
    print_: Fingerprint | None = None


@dataclass
class _Edge:
    pivot: int  # index into pivots
    cand: int  # index into the language's candidates
    prefilter: float
    alignment: Alignment
    verdict: PairingVerdict
    numbers: float  # Jaccard similarity of the two documents' numbers (the pre-filter's)

    @property
    def key(self) -> tuple:
        # P(parallel) saturates near 1 for any translation, and also for the translation of another edition of the
        # same story (republished with another dateline, a paragraph more or less), so verdicts equal to two
        # decimals tie and the numbers decide: dates, counts and amounts are copied exactly by a translator, and they
        # are what tells editions apart.  Then the whole fingerprint, then file order.
        return (-round(self.verdict.score, SCORE_DECIMALS), -self.numbers, -self.prefilter, self.pivot, self.cand)


def _read(paths: Sequence[Path], timer: dict[str, float]) -> tuple[list[_Doc], list[Unpaired]]:
    docs, unreadable = [], []
    for path in paths:
        t = time.perf_counter()
        try:
            doc = load_document(path)
        except CorpusError as exc:
            unreadable.append(Unpaired(path, None, f"unreadable: {exc}"))
            continue
        finally:
            timer["read"] += time.perf_counter() - t
        t = time.perf_counter()
        guess = detect_document(language_sample(doc.texts))
        timer["language id"] += time.perf_counter() - t
        docs.append(_Doc(path, doc, guess))
    return docs, unreadable


def pair_corpus(
    folder: Path,
    pivot_lang: str,
    target_langs: Sequence[str],
    *,
    pivot_files: Sequence[Path] | None = None,
    candidates_per_pivot: int = 3,
) -> CorpusPairing:
    """Pair every pivot of ``folder`` with its translation in each of ``target_langs``.

    ``pivot_files`` given: only these are pivots (they may lie outside the folder); other documents in the pivot
    language are reported as other originals.  ``None``: every document detected in ``pivot_lang`` is a pivot.
    """
    if candidates_per_pivot < 1:
        raise ValueError(f"candidates_per_pivot must be at least 1, got {candidates_per_pivot}")
    if not folder.is_dir():
        raise CorpusError(f"{folder}: corpus folder not found")
    timer = {"read": 0.0, "language id": 0.0, "prefilter": 0.0, "align": 0.0}
    targets = list(dict.fromkeys(target_langs))
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".txt")
    chosen: list[Path] | None = None
    if pivot_files is not None:
        chosen = [Path(p) for p in pivot_files]
        resolved = {p.resolve() for p in chosen}
        paths = [p for p in paths if p.resolve() not in resolved]
    docs, unpaired = _read(paths, timer)

    if chosen is not None:
        pivots = []
        for path in sorted(chosen, key=lambda p: (p.name, str(p))):
            t = time.perf_counter()
            doc = load_document(path)  # a pivot the config names must be readable: its CorpusError stands
            timer["read"] += time.perf_counter() - t
            t = time.perf_counter()
            pivots.append(_Doc(path, doc, detect_document(language_sample(doc.texts))))
            timer["language id"] += time.perf_counter() - t
    else:
        pivots = [d for d in docs if d.guess.lang == pivot_lang]
    pivot_ids = {id(d) for d in pivots}

    # every other document: a candidate in a target language, or unpaired with the reason
    by_lang: dict[str, list[_Doc]] = {lang: [] for lang in targets}
    unsupported = [lang for lang in targets if not supported(lang)]
    for d in docs:
        if id(d) in pivot_ids:
            continue
        lang = d.guess.lang
        if lang in by_lang and supported(lang):
            by_lang[lang].append(d)
        elif lang == pivot_lang:
            unpaired.append(Unpaired(d.path, lang, f"pivot language {language_name(lang)}: another original"))
        elif unsupported and (lang is None or lang not in targets):
            # lingua cannot name Lao, Khmer, Burmese...: any document not in a known language may translate them
            for code in unsupported:
                by_lang[code].append(d)
        else:
            unpaired.append(Unpaired(d.path, lang, f"{language_name(lang)}: not a target language of this run"))

    t = time.perf_counter()
    for d in (*pivots, *(c for cands in by_lang.values() for c in cands)):
        if d.print_ is None:
            d.print_ = fingerprint(d.doc.texts, d.guess.lang if d.guess.lang else None)
    timer["prefilter"] += time.perf_counter() - t

    matched: dict[tuple[int, str], DocumentMatch] = {}
    missing: dict[tuple[int, str], MissingTranslation] = {}
    taken: set[int] = set()  # id() of documents already paired (a document serves one pivot in one language)
    leftover: dict[int, tuple[_Doc, str]] = {}
    for lang in targets:
        cands = [c for c in by_lang[lang] if id(c) not in taken]
        result = _pair_language(lang, pivot_lang, pivots, cands, candidates_per_pivot, timer)
        for p, (edge, why) in result.items():
            if edge is not None:
                c = cands[edge.cand]
                taken.add(id(c))
                matched[(p, lang)] = DocumentMatch(lang, pivots[p].doc, c.doc, c.guess, edge.alignment, edge.verdict)
            else:
                missing[(p, lang)] = MissingTranslation(pivots[p].path, lang, why)
        for c in cands:
            if id(c) not in taken:
                leftover[id(c)] = (c, _unpaired_reason(c, lang, result, pivots, cands))
    for key, (c, why) in leftover.items():
        if key not in taken:
            unpaired.append(Unpaired(c.path, c.guess.lang, why))

    order = {lang: k for k, lang in enumerate(targets)}
    return CorpusPairing(
        pivots=tuple(d.doc for d in pivots),
        pivot_langs=tuple(d.guess for d in pivots),
        matches=tuple(matched[k] for k in sorted(matched, key=lambda k: (k[0], order[k[1]]))),
        missing=tuple(missing[k] for k in sorted(missing, key=lambda k: (k[0], order[k[1]]))),
        unpaired=tuple(sorted(unpaired, key=lambda u: u.path.name)),
        seconds=timer,
    )


class _LanguageResult(dict):
    """pivot index -> (winning edge or None, reason when None); plus every edge computed, for the reasons."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self.edges: dict[tuple[int, int], _Edge] = {}
        self.shortlist: Shortlist | None = None


def _pair_language(lang, pivot_lang, pivots, cands, per_pivot, timer) -> _LanguageResult:
    result = _LanguageResult(lang)
    if not pivots:
        return result
    if not cands:
        for p, d in enumerate(pivots):
            result[p] = (None, f"no {language_name(lang)} translation of {d.path.name} found: "
                               f"no {language_name(lang)} document in the folder")
        return result
    t = time.perf_counter()
    sl = shortlist([d.print_ for d in pivots], [c.print_ for c in cands])
    timer["prefilter"] += time.perf_counter() - t
    result.shortlist = sl
    looked = [0] * len(pivots)  # how far down its ranking each pivot has looked
    open_ = list(range(len(pivots)))
    assignment: dict[int, _Edge] = {}
    for _ in range(MAX_ROUNDS):
        t = time.perf_counter()
        for p in open_:
            ranked = sl.order[p]
            new = [int(c) for c in ranked[looked[p]: looked[p] + per_pivot]]
            looked[p] += len(new)
            for c in new:
                alignment, verdict = align_documents(pivots[p].doc, cands[c].doc, pivot_lang, lang)
                result.edges[(p, c)] = _Edge(p, c, float(sl.scores[p, c]), alignment, verdict,
                                             float(sl.numbers[p, c]))
        timer["align"] += time.perf_counter() - t
        assignment = _greedy(result.edges.values())
        # a pivot looks further only when it lost an accepted candidate to another pivot (it has none, or a worse
        # one): near-duplicates (editions of one story, the same page scraped twice) crowd its shortlist
        best: dict[int, tuple] = {}
        for (q, _), e in result.edges.items():
            if e.verdict.is_translation and (q not in best or e.key < best[q]):
                best[q] = e.key
        open_ = [p for p in sorted(best) if looked[p] < len(cands)
                 and (p not in assignment or assignment[p].key != best[p])]
        if not open_:
            break
    for p in range(len(pivots)):
        if p in assignment:
            result[p] = (assignment[p], "")
        else:
            result[p] = (None, _missing_reason(p, lang, pivots, cands, result, assignment))
    return result


def _greedy(edges) -> dict[int, _Edge]:
    """Accepted edges, best verdict first; each pivot and each candidate used once."""
    assignment: dict[int, _Edge] = {}
    used: set[int] = set()
    for e in sorted((e for e in edges if e.verdict.is_translation), key=lambda e: e.key):
        if e.pivot in assignment or e.cand in used:
            continue
        assignment[e.pivot] = e
        used.add(e.cand)
    return assignment


def _evidence(edge: _Edge, pivot: _Doc, cand: _Doc) -> str:
    return f"pairing score {edge.verdict.score:.2f}, {shared_counts(pivot.print_, cand.print_)}"


def _missing_reason(p, lang, pivots, cands, result: _LanguageResult, assignment) -> str:
    head = f"no {language_name(lang)} translation of {pivots[p].path.name} found"
    mine = sorted((e for (q, _), e in result.edges.items() if q == p), key=lambda e: e.key)
    if not mine:
        return f"{head}: no candidate"
    owner = {e.cand: e.pivot for e in assignment.values()}
    accepted = [e for e in mine if e.verdict.is_translation]
    if accepted:
        e = accepted[0]
        return (f"{head}: {cands[e.cand].path.name} translates it ({_evidence(e, pivots[p], cands[e.cand])}) but "
                f"pairs better with {pivots[owner[e.cand]].path.name}")
    e = mine[0]
    elsewhere = f", and translates {pivots[owner[e.cand]].path.name}" if e.cand in owner else ""
    return (f"{head}; {cands[e.cand].path.name} is another article "
            f"({_evidence(e, pivots[p], cands[e.cand])}{elsewhere})")


def _unpaired_reason(c: _Doc, lang: str, result: _LanguageResult, pivots, cands) -> str:
    if not pivots:
        return f"{language_name(lang)}: no pivot in the folder to translate"
    k = next(i for i, x in enumerate(cands) if x is c)
    mine = sorted((e for (_, j), e in result.edges.items() if j == k), key=lambda e: e.key)
    accepted = [e for e in mine if e.verdict.is_translation]
    if accepted:
        e = accepted[0]
        winner, _ = result.get(e.pivot, (None, ""))
        other = cands[winner.cand].path.name if winner is not None else "none"
        return (f"a better-scoring document translates the same pivot ({other} for {pivots[e.pivot].path.name}; "
                f"this one: score {e.verdict.score:.2f})")
    if mine:
        e = mine[0]
        return (f"not a translation of any pivot (closest: {pivots[e.pivot].path.name}, "
                f"{_evidence(e, pivots[e.pivot], c)})")
    sl = result.shortlist
    best = int(sl.scores[:, k].argmax())
    return (f"not a translation of any pivot: no pivot's pre-filter ranked it among its closest "
            f"(closest: {pivots[best].path.name}, {shared_counts(pivots[best].print_, c.print_)})")
