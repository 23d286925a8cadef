"""Pairing a whole corpus folder: every pivot with its translation in each target language.

A scrape holds hundreds of articles per language under meaningless file names, plus pages that translate nothing.
Aligning every pivot with every document (what :func:`evalkit.pairing.survey_corpus` does for one pivot) grows with
pivots × documents, so pairing runs in three stages:

1. **read and identify**: every ``*.txt`` once, language identification (lingua) on a sample of the longest
   paragraphs (menus and bylines are short; a couple of thousand characters decide as well as the whole text);
2. **pre-filter** (:mod:`evalkit.survey_fingerprint`): per slot group (a target language, or close target languages
   together: Malay and Indonesian, :mod:`evalkit.survey_langs`), fingerprints that survive translation (numbers,
   Latin names and acronyms, length) scored through an inverted index; candidates go on best first;
3. **verdict** (:mod:`evalkit.survey_slots`): the full aligner and verdict (:func:`evalkit.align.align_paragraphs`,
   :func:`evalkit.align.assess_translation`) on the first candidates only (more when the first is not a confident,
   uncontested accept), then a greedy one-to-one assignment among the accepted pairs, best verdict first (ties:
   shared numbers): one translation belongs to at most one pivot; a pivot whose accepted candidates went to
   better-scoring pivots looks at its next candidates.  Close languages: which of a pivot's two documents is Malay
   and which Indonesian is decided by comparing them, not by lingua's absolute label.

Every document of the folder ends up somewhere: a pivot, a match, or :class:`Unpaired` with the reason; every
pivot × language without an accepted translation is a :class:`MissingTranslation` naming the closest candidate and
the evidence.  Everything is deterministic: sorted file names, stable sorts, ties broken by file order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evalkit.align import Alignment, PairingVerdict
from evalkit.corpus import CleanDocument, load_document
from evalkit.corpus.langid import LanguageGuess, detect_document, supported
from evalkit.errors import CorpusError
from evalkit.survey_fingerprint import fingerprint
from evalkit.survey_langs import confusable_groups, language_evidence
from evalkit.survey_reasons import missing_reason, unpaired_reason
from evalkit.survey_slots import AlignmentResourceError, Doc, align_documents, language_name, pair_slots

__all__ = ["AlignmentResourceError", "CorpusPairing", "DocumentMatch", "MissingTranslation", "Unpaired",
           "align_documents", "language_name", "language_sample", "pair_corpus"]

LANGID_SAMPLE_CHARS = 2000  # language identification reads the longest paragraphs up to this many characters


@dataclass(frozen=True)
class DocumentMatch:
    """A pivot and its translation in one language, aligned."""

    lang: str
    pivot: CleanDocument
    target: CleanDocument
    target_lang: LanguageGuess  # lingua's answer for the target
    alignment: Alignment
    verdict: PairingVerdict
    note: str = ""  # why this language when lingua's label says another (close languages: evalkit.survey_langs)


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


def _read(paths: Sequence[Path], timer: dict[str, float]) -> tuple[list[Doc], list[Unpaired]]:
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
        docs.append(Doc(path, doc, guess))
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
            pivots.append(Doc(path, doc, detect_document(language_sample(doc.texts))))
            timer["language id"] += time.perf_counter() - t
    else:
        pivots = [d for d in docs if d.guess.lang == pivot_lang]
    pivot_ids = {id(d) for d in pivots}

    # every other document: a candidate in a target language, or unpaired with the reason
    by_lang: dict[str, list[Doc]] = {lang: [] for lang in targets}
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
    leftover: dict[int, tuple[Doc, str]] = {}
    for group in confusable_groups(targets):
        # a group of close languages pools its candidates: lingua's label decides the pool, not the slot
        pool = {id(c): c for lang in group for c in by_lang[lang] if id(c) not in taken}
        cands = sorted(pool.values(), key=lambda c: (c.path.name, str(c.path)))
        if len(group) > 1:
            t = time.perf_counter()
            for c in cands:
                if c.evidence is None:
                    c.evidence = language_evidence(c.doc.texts, language_sample(c.doc.texts), group)
            timer["language id"] += time.perf_counter() - t
        result = pair_slots(group, pivot_lang, pivots, cands, candidates_per_pivot, timer)
        for (p, lang), (edge, note) in result.kept.items():
            c = cands[edge.cand]
            taken.add(id(c))
            matched[(p, lang)] = DocumentMatch(lang, pivots[p].doc, c.doc, c.guess, edge.alignment, edge.verdict, note)
        for p in range(len(pivots)):
            for lang in group:
                if (p, lang) not in result.kept:
                    why = missing_reason(p, lang, pivots, cands, result)
                    missing[(p, lang)] = MissingTranslation(pivots[p].path, lang, why)
        for k, c in enumerate(cands):
            if id(c) not in taken:
                leftover[id(c)] = (c, unpaired_reason(k, pivots, cands, result))
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
