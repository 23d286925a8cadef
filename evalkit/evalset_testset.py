"""A line-parallel test set as an evaluation set: row i of every file is one segment, nothing to align.

Rows are never dropped silently: a row whose pivot or reference is empty is not
scored and is listed with its row number in its document's `skipped`.
"""

from __future__ import annotations

from evalkit.config import RunConfig
from evalkit.evalset import EvaluationSet, LanguageSet, Segment, rows_document
from evalkit.languages import language_label
from evalkit.results import DocumentEntry, DocumentRecord, LanguageEntry, file_sha256
from evalkit.testsets import read_testset
from evalkit.testsets.base import TestSet


def _file_record(path, lang: str, rows: int) -> DocumentRecord:
    return DocumentRecord(path=str(path), lang=lang, detected_lang=None, lang_confidence=0.0, paragraphs=rows,
                          other_language_paragraphs=[], dropped=[], sha256=file_sha256(path))


def _documents(found: TestSet) -> dict[str, list[int]]:
    """Document id → its row indices, documents in order of first appearance."""
    rows: dict[str, list[int]] = {}
    for index, document in enumerate(found.documents):
        rows.setdefault(document, []).append(index)
    return rows


def testset_evaluation_set(config: RunConfig) -> EvaluationSet:
    spec = config.testset
    found = read_testset(spec, config.pivot.lang, config.target_langs)
    src = config.pivot.lang
    pivot_record = _file_record(found.source_path, src, len(found.sources))
    documents = _documents(found)
    languages = []
    for lang in config.target_langs:
        if lang not in found.references:
            reason = found.missing.get(lang) or f"{found.name} has no {language_label(lang)} reference"
            languages.append(LanguageSet(lang, LanguageEntry(lang, "missing", reason), []))
            continue
        references = found.references[lang]
        target_record = _file_record(found.reference_paths[lang], lang, len(references))
        entries, segments = [], []
        for document, rows in documents.items():
            skipped, mine = [], []
            for index in rows:
                source, reference = found.sources[index], references[index]
                if not source or not reference:
                    side = "pivot" if not source else "reference"
                    skipped.append({"line": index + 1, "reason": f"empty {side} row"})
                    continue
                mine.append(Segment(document, (index + 1,), (index + 1,), (source,), reference, 1.0,
                                    found.source_path.name))
            entries.append(DocumentEntry(document, lang, "paired" if mine else "nothing-aligned",
                                         None if mine else "every row of the document is empty on one side",
                                         pivot_record, target_record, None, len(mine), skipped=skipped))
            segments += mine
        scored = [e for e in entries if e.status == "paired"]
        languages.append(LanguageSet(
            lang, LanguageEntry(lang, "ok" if scored else "missing", None if scored else "every row is empty",
                                len(scored), len(segments), len(entries) - len(scored)),
            entries, segments,
        ))
    source = {"kind": "testset", "format": spec.format, "name": found.name,
              "path": str(spec.path) if spec.path else None, "split": spec.split,
              "document_ids": found.has_document_ids}
    return EvaluationSet(src, languages, (rows_document(found.source_path, list(found.sources)),), [], source)
