"""One run, end to end: config → corpus → alignment → candidates → scores.

Orchestration only: no printing, no exit codes. Progress is reported to an
observer so the CLI can draw bars and a notebook can ignore them. A system
whose weights are missing or whose generation fails is recorded with its status
and reason, and the run goes on with the others; only input errors that make
the whole run meaningless (unreadable corpus, a reference that does not
translate the pivot) raise.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Protocol

import numpy as np

from evalkit import __version__
from evalkit.align import Alignment, PairingVerdict
from evalkit.backends.store import TranslationCache
from evalkit.config import RunConfig, SystemConfig
from evalkit.corpus import CleanDocument
from evalkit.corpus.langid import LanguageGuess, detect_paragraphs
from evalkit.errors import NotATranslationError, RunInterrupted, TerminationRequested
from evalkit.executors import EXECUTORS
from evalkit.executors.base import Executor
from evalkit.pairing import pair_documents
from evalkit.results import (
    AlignmentRecord,
    DocumentRecord,
    ParagraphResult,
    RunResult,
    SystemResult,
    file_sha256,
)
from evalkit.scorers.base import Scorer
from evalkit.scoring import load_scorers, score_system, test_against_baseline


class RunObserver(Protocol):
    def system_started(self, system: SystemConfig, paragraphs: int) -> None: ...
    def advanced(self, paragraphs: int) -> None: ...
    def system_finished(self, result: SystemResult) -> None: ...


class _NoObserver:
    def system_started(self, system: SystemConfig, paragraphs: int) -> None:
        pass

    def advanced(self, paragraphs: int) -> None:
        pass

    def system_finished(self, result: SystemResult) -> None:
        pass


def make_run_id(config: RunConfig, when: datetime) -> str:
    """Sortable by time, readable by name: 20261123-142501-vi-th."""
    return f"{when:%Y%m%d-%H%M%S}-{config.name}"


def run(config: RunConfig, observer: RunObserver | None = None) -> RunResult:
    """One run; Ctrl-C or SIGTERM anywhere becomes `RunInterrupted`, saying what the cache kept."""
    executor: Executor = EXECUTORS.get(config.executor)(config)  # it keeps every system's translator
    try:
        return _run(config, observer or _NoObserver(), executor)
    except KeyboardInterrupt as exc:
        raise _interrupted(exc, executor, config) from None


def _run(config: RunConfig, observer: RunObserver, executor: Executor) -> RunResult:
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    paired = pair_documents(config)
    pivot, target, alignment, verdict = paired.pivot, paired.target, paired.alignment, paired.verdict
    if not verdict.is_translation:
        raise NotATranslationError(
            f"{target.path.name} is not a translation of {pivot.path.name}: {verdict.reason}; nothing was scored"
        )
    if not alignment.pairs:
        raise NotATranslationError(f"no paragraph of {target.path.name} aligns with {pivot.path.name}; nothing was scored")
    pairing_seconds = time.perf_counter() - clock

    scorers, unavailable_metrics = load_scorers(config)
    cache = TranslationCache(config.cache_path) if config.cache_path else None
    statistics: dict[str, dict[str, np.ndarray]] = {}  # system → metric → per-paragraph sufficient statistics
    systems: list[SystemResult] = []
    try:
        with executor:
            for system in config.systems:
                systems.append(_run_system(config, system, pivot, target, alignment, scorers, cache, observer,
                                           statistics, unavailable_metrics, systems, executor))
    finally:
        if cache is not None:
            cache.close()
        for scorer in scorers:
            scorer.close()
    test_against_baseline(config.statistics, config.baseline_system, systems, scorers, statistics)
    return RunResult(
        run_id=make_run_id(config, started.astimezone()),
        created=started.isoformat(timespec="seconds"),
        evalkit_version=__version__,
        config=config.to_record(),
        pivot=document_record(pivot, config.pivot.lang, paired.pivot_lang),
        target=document_record(target, config.target.lang, paired.target_lang),
        alignment=alignment_record(pivot, target, alignment, verdict),
        systems=systems,
        baseline=config.baseline_system,
        unavailable_metrics=unavailable_metrics,
        seconds={"pairing": pairing_seconds, "total": time.perf_counter() - clock},
    )


def _run_system(
    config: RunConfig,
    system: SystemConfig,
    pivot: CleanDocument,
    target: CleanDocument,
    alignment: Alignment,
    scorers: list[Scorer],
    cache: TranslationCache | None,
    observer: RunObserver,
    statistics: dict[str, dict[str, np.ndarray]],
    unavailable_metrics: dict[str, str],
    done_systems: Sequence[SystemResult],
    executor: Executor,
) -> SystemResult:
    result = SystemResult(
        name=system.name, backend=system.backend, model=None if system.model is None else str(system.model), status="ok"
    )
    pairs = alignment.pairs
    needed = sorted({i for bead in pairs for i in bead.source})
    observer.system_started(system, len(needed))
    done = executor.translate_system(
        system, pivot, [pivot.paragraphs[i].text for i in needed], config.pivot.lang, config.target.lang,
        cache, observer.advanced,
    )
    result.status, result.reason, outputs = done.status, done.reason, done.outputs
    result.seconds = done.seconds
    result.signature = done.signature
    result.model_info = done.info
    if result.status != "ok":
        observer.system_finished(result)
        return result
    result.from_cache, result.translated = outputs.cached, len(needed) - outputs.cached

    candidate_of = dict(zip(needed, outputs.texts))
    pieces_of = dict(zip(needed, outputs.pieces))
    for bead in pairs:
        notes = [
            f"pivot line {pivot.paragraphs[i].line} exceeded the model's input limit: "
            f"translated in {pieces_of[i]} pieces, joined"
            for i in bead.source if pieces_of[i] > 1
        ]
        result.paragraphs.append(
            ParagraphResult(
                source_lines=[pivot.paragraphs[i].line for i in bead.source],
                reference_lines=[target.paragraphs[j].line for j in bead.target],
                source=" ".join(pivot.paragraphs[i].text for i in bead.source),
                reference=" ".join(target.paragraphs[j].text for j in bead.target),
                candidate=" ".join(candidate_of[i] for i in bead.source),
                alignment_confidence=bead.confidence,
                notes=notes,
            )
        )
    clock = time.perf_counter()
    score_system(config.statistics, scorers, result, statistics, unavailable_metrics, done_systems)
    result.seconds["score"] = time.perf_counter() - clock
    observer.system_finished(result)
    return result


def _interrupted(exc: KeyboardInterrupt, executor: Executor, config: RunConfig) -> RunInterrupted:
    """What a user needs after Ctrl-C: how much work is kept, and that a re-run resumes."""
    signal_name, code = ("SIGTERM", 143) if isinstance(exc, TerminationRequested) else ("Ctrl-C", 130)
    kept = executor.kept
    if config.cache_path is None:
        where = "the translation cache is off, so nothing was kept; a re-run translates everything again"
    else:
        where = (f"{kept} newly translated paragraph(s) are kept in {config.cache_path}; "
                 f"running the same command again resumes from there")
    return RunInterrupted(f"{signal_name}: the run stopped and wrote no results; {where}", exit_code=code)


def document_record(doc: CleanDocument, lang: str, detected: LanguageGuess) -> DocumentRecord:
    langs = detect_paragraphs(doc.texts)
    return DocumentRecord(
        path=str(doc.path),
        lang=lang,
        detected_lang=detected.lang,
        lang_confidence=detected.confidence,
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

