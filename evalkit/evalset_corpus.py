"""A corpus folder as an evaluation set: named references, or every pivot paired with its translations by the survey."""

from __future__ import annotations

from pathlib import Path

from evalkit.align import Alignment, PairingVerdict
from evalkit.config import RunConfig
from evalkit.corpus import CleanDocument
from evalkit.corpus.langid import LanguageGuess
from evalkit.evalset import EvaluationSet, LanguageSet, Segment, alignment_record, document_record
from evalkit.pairing import check_language, pair_named
from evalkit.results import DocumentEntry, DocumentRecord, LanguageEntry
from evalkit.survey import CorpusPairing, DocumentMatch, pair_corpus


def _surveyed(config: RunConfig, langs: list[str]) -> CorpusPairing:
    """Every pivot of the corpus (or the named one) paired with its translation in each of `langs`."""
    pivot_files = [config.pivot.file] if config.pivot.file is not None else None
    found = pair_corpus(config.corpus, config.pivot.lang, langs, pivot_files=pivot_files)
    if config.pivot.file is None:  # a declared language the documents contradict is refused, as for a named pivot
        for pivot in found.pivots:
            check_language(pivot, config.pivot, "pivot")
    return found


def corpus_evaluation_set(config: RunConfig) -> EvaluationSet:
    src = config.pivot.lang
    named = [t for t in config.targets if t.file is not None]
    searched = [t.lang for t in config.targets if t.file is None]
    matches, missing, unpaired, pivots, pivot_guesses = [], [], [], [], {}
    if named:
        pivot, pivot_guess, paired = pair_named(config, named)
        pivots.append(pivot)
        pivot_guesses[pivot.path] = pivot_guess
        matches += [DocumentMatch(p.lang, pivot, p.target, p.target_lang, p.alignment, p.verdict) for p in paired]
    if searched or config.pivot.file is None:
        survey = _surveyed(config, searched)
        matches += survey.matches
        missing += survey.missing
        named_files = {t.file for t in named}  # a reference the config names is paired, not left over
        unpaired += [{"path": str(u.path), "lang": u.lang, "reason": u.reason} for u in survey.unpaired
                     if u.path not in named_files]
        for pivot, guess in zip(survey.pivots, survey.pivot_langs):
            if pivot.path not in pivot_guesses:
                pivots.append(pivot)
                pivot_guesses[pivot.path] = guess
    pivots.sort(key=lambda d: d.path.name)
    order = {d.path: k for k, d in enumerate(pivots)}
    pivot_records = {d.path: document_record(d, src, pivot_guesses[d.path]) for d in pivots}
    languages = []
    for target in config.targets:
        lang = target.lang
        mine = sorted((m for m in matches if m.lang == lang), key=lambda m: order[m.pivot.path])
        documents, segments = [], []
        for m in mine:
            entry = _paired_entry(m.pivot, m.target, m.alignment, m.verdict, lang, pivot_records[m.pivot.path],
                                  m.target_lang)
            entry.note = m.note or None
            documents.append(entry)
            if entry.status == "paired":
                segments += _aligned_segments(m.pivot, m.target, m.alignment)
        for gap in (g for g in missing if g.lang == lang):
            documents.append(DocumentEntry(gap.pivot.name, lang, "missing", gap.reason, pivot_records.get(gap.pivot)))
        documents.sort(key=lambda d: order.get(Path(d.pivot.path), 0) if d.pivot else 0)
        scored = [d for d in documents if d.status == "paired"]
        gaps = [d for d in documents if d.status != "paired"]
        reason = None if scored else _summary([d.reason or d.status for d in gaps])
        languages.append(LanguageSet(
            lang,
            LanguageEntry(lang, "ok" if scored else "missing", reason, len(scored),
                          sum(d.paragraphs for d in scored), len(gaps)),
            documents,
            segments,
        ))
    return EvaluationSet(src, languages, tuple(pivots), unpaired, {"kind": "corpus", "path": str(config.corpus)})


def _summary(reasons: list[str]) -> str:
    """One line for a language with nothing scored: the first document's reason and how many more share the fate."""
    if not reasons:
        return "no document to pair"
    more = f" (and {len(reasons) - 1} more pivot document(s) without one; all listed in run.json)" if len(reasons) > 1 else ""
    return reasons[0] + more


def _paired_entry(pivot: CleanDocument, target: CleanDocument, alignment: Alignment, verdict: PairingVerdict,
                  lang: str, pivot_record: DocumentRecord, target_guess: LanguageGuess) -> DocumentEntry:
    record = alignment_record(pivot, target, alignment, verdict)
    entry = DocumentEntry(pivot.path.name, lang, "paired", None, pivot_record,
                          document_record(target, lang, target_guess), record, len(alignment.pairs))
    if not verdict.is_translation:
        entry.status, entry.paragraphs = "not-a-translation", 0
        entry.reason = f"{target.path.name} is not a translation of {pivot.path.name}: {verdict.reason}"
    elif not alignment.pairs:
        entry.status, entry.paragraphs = "nothing-aligned", 0
        entry.reason = f"no paragraph of {target.path.name} aligns with {pivot.path.name}"
    return entry


def _aligned_segments(pivot: CleanDocument, target: CleanDocument, alignment: Alignment) -> list[Segment]:
    return [
        Segment(
            document=pivot.path.name,
            source_lines=tuple(pivot.paragraphs[i].line for i in bead.source),
            reference_lines=tuple(target.paragraphs[j].line for j in bead.target),
            sources=tuple(pivot.paragraphs[i].text for i in bead.source),
            reference=" ".join(target.paragraphs[j].text for j in bead.target),
            confidence=bead.confidence,
            pivot=pivot.path.name,
        )
        for bead in alignment.pairs
    ]


