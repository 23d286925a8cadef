"""What a run scores: for each target language, the documents paired with the pivot and their aligned segments.

Built once, before any model runs, from one of three inputs:

* one pivot document and named references (`pivot.file`, `targets[].file`);
* a corpus folder of scraped articles (`pivot: {lang: vi}` without a file, or
  targets without files): every pivot is paired with its translation in each
  target language by `evalkit.survey`, and what pairs with nothing is listed;
* a line-parallel test set (`testset:`): line i of every file is the same
  segment, so there is nothing to align and nothing to guess.

A language that has no translation is recorded, not fatal: the others still
run. Only a run in which nothing at all can be scored raises. This module holds
the types and records; `evalset_corpus` and `evalset_testset` build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evalkit.align import Alignment, PairingVerdict
from evalkit.corpus import CleanDocument, Paragraph
from evalkit.corpus.langid import LanguageGuess, detect_paragraphs
from evalkit.results import AlignmentRecord, DocumentEntry, DocumentRecord, LanguageEntry, file_sha256


@dataclass(frozen=True)
class Segment:
    """One scored unit: pivot paragraph(s) and the reference paragraph(s) they align with."""

    document: str
    source_lines: tuple[int, ...]  # 1-based lines of the pivot file (rows of a test set)
    reference_lines: tuple[int, ...]
    sources: tuple[str, ...]  # each pivot paragraph is translated on its own; candidates are joined for scoring
    reference: str
    confidence: float
    pivot: str = ""  # the file the source lines are lines of (the pivot document; a test set's source file)


@dataclass
class LanguageSet:
    """Everything one target language is scored on, documents in order, segments grouped by document."""

    lang: str
    entry: LanguageEntry
    documents: list[DocumentEntry]
    segments: list[Segment] = field(default_factory=list)


@dataclass
class EvaluationSet:
    source_lang: str
    languages: list[LanguageSet]
    pivots: tuple[CleanDocument, ...]  # what precomputed candidates are keyed by
    unpaired: list[dict]  # corpus documents in no pair: {"path", "lang", "reason"}
    source: dict  # run.json's "source"
    seconds: float = 0.0

    @property
    def scored(self) -> list[LanguageSet]:
        return [language for language in self.languages if language.segments]


def document_record(doc: CleanDocument, lang: str, detected: LanguageGuess | None) -> DocumentRecord:
    langs = detect_paragraphs(doc.texts) if detected is not None else [None] * len(doc.paragraphs)
    return DocumentRecord(
        path=str(doc.path),
        lang=lang,
        detected_lang=detected.lang if detected else None,
        lang_confidence=detected.confidence if detected else 0.0,
        paragraphs=len(doc.paragraphs),
        other_language_paragraphs=[
            {"line": p.line, "lang": found} for p, found in zip(doc.paragraphs, langs) if found not in (lang, None)
        ],
        dropped=[{"line": d.line, "reason": d.reason, "text": d.text} for d in doc.dropped],
        sha256=file_sha256(doc.path),
    )


def alignment_record(
    pivot: CleanDocument, target: CleanDocument, alignment: Alignment, verdict: PairingVerdict
) -> AlignmentRecord:
    aligned = sorted({i for bead in alignment.pairs for i in bead.source})
    return AlignmentRecord(
        pairs=[
            {
                "source_lines": [pivot.paragraphs[i].line for i in bead.source],
                "target_lines": [target.paragraphs[j].line for j in bead.target],
                "confidence": bead.confidence,
            }
            for bead in alignment.pairs
        ],
        unmatched_source_lines=[pivot.paragraphs[i].line for i in alignment.unmatched_source],
        unmatched_target_lines=[target.paragraphs[j].line for j in alignment.unmatched_target],
        is_translation=verdict.is_translation,
        pairing_score=verdict.score,
        pairing_reason=verdict.reason,
        coverage={
            "pivot_paragraphs": len(pivot.paragraphs),
            "aligned_pivot_paragraphs": len(aligned),
            "pivot_chars": sum(len(p.text) for p in pivot.paragraphs),
            "aligned_pivot_chars": sum(len(pivot.paragraphs[i].text) for i in aligned),
        },
    )


def rows_document(path: Path, texts: list[str]) -> CleanDocument:
    """A test set's source file as a pivot document: row i is paragraph i + 1, nothing cleaned away.

    Empty rows stay (as empty paragraphs): a hypothesis file has one line per row, whatever the row holds.
    """
    return CleanDocument(path, tuple(Paragraph(i + 1, t) for i, t in enumerate(texts)), ())
