"""One run, end to end: config → corpus or test set → alignment → candidates → scores, per target language.

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
from evalkit.backends import BACKENDS
from evalkit.backends.store import TranslationCache
from evalkit.config import RunConfig, SystemConfig
from evalkit.errors import NotATranslationError, RunInterrupted, TerminationRequested
from evalkit.evalset import EvaluationSet, LanguageSet
from evalkit.languages import language_label
from evalkit.evalset_corpus import corpus_evaluation_set
from evalkit.evalset_testset import testset_evaluation_set
from evalkit.executors import EXECUTORS
from evalkit.executors.base import Executor, TranslationJob
from evalkit.memo import memo_in
from evalkit.results import ParagraphResult, RunResult, SystemResult
from evalkit.scorers.base import Scorer
from evalkit.scorers.stats import group_starts
from evalkit.scoring import (
    document_scores,
    document_significance,
    load_scorers,
    resampling_unit,
    score_system,
    test_against_baseline,
)


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
        with memo_in(config.cache_path):  # language ID and word segmentation of a re-run come from the cache file
            return _run(config, observer or _NoObserver(), executor)
    except KeyboardInterrupt as exc:
        raise _interrupted(exc, executor, config) from None


def build_evaluation_set(config: RunConfig) -> EvaluationSet:
    """The pairing stage, from a corpus or a test set; raises only when nothing at all can be scored."""
    clock = time.perf_counter()
    found = testset_evaluation_set(config) if config.testset is not None else corpus_evaluation_set(config)
    found.seconds = time.perf_counter() - clock
    if not found.scored:
        reasons = "; ".join(f"{language_label(s.lang)}: {s.entry.reason or 'nothing aligned'}" for s in found.languages)
        raise NotATranslationError(f"nothing was scored: {reasons}")
    return found


def _run(config: RunConfig, observer: RunObserver, executor: Executor) -> RunResult:
    started = datetime.now(timezone.utc)
    clock = time.perf_counter()
    evalset = build_evaluation_set(config)
    languages = evalset.scored
    scorers: dict[str, list[Scorer]] = {}
    unavailable_metrics: dict[str, str] = {}
    for language in languages:
        scorers[language.lang], unavailable = load_scorers(config, language.lang)
        unavailable_metrics.update(unavailable)
    _drop_everywhere(unavailable_metrics, scorers, [], {})
    cache = TranslationCache(config.cache_path) if config.cache_path else None
    statistics: dict[str, dict[str, dict[str, np.ndarray]]] = {lang.lang: {} for lang in languages}
    systems: list[SystemResult] = []
    try:
        with executor:
            for system in config.systems:
                systems += _run_system(config, system, evalset, languages, scorers, cache, observer,
                                       statistics, unavailable_metrics, systems, executor)
    finally:
        if cache is not None:
            cache.close()
        for own in scorers.values():
            for scorer in own:
                scorer.close()
    for language in languages:
        language.entry.resample = resampling_unit(config.statistics, group_starts([s.document for s in language.segments]))
        mine = [s for s in systems if s.lang == language.lang]
        test_against_baseline(config.statistics, config.baseline_system, mine, scorers[language.lang],
                              statistics[language.lang])
        _document_scores(config, language, mine, scorers[language.lang], statistics[language.lang])
    return RunResult(
        run_id=make_run_id(config, started.astimezone()),
        created=started.isoformat(timespec="seconds"),
        evalkit_version=__version__,
        config=config.to_record(),
        systems=systems,
        languages=[language.entry for language in evalset.languages],
        documents=[entry for language in evalset.languages for entry in language.documents],
        unpaired=evalset.unpaired,
        source=evalset.source,
        baseline=config.baseline_system,
        unavailable_metrics=unavailable_metrics,
        seconds={"pairing": evalset.seconds, "total": time.perf_counter() - clock},
        resample=config.statistics.resample,
    )


def _document_scores(config: RunConfig, language: LanguageSet, systems: list[SystemResult], scorers: list[Scorer],
                     statistics: dict[str, dict[str, np.ndarray]]) -> None:
    entries = {entry.document: entry for entry in language.documents if entry.status == "paired"}
    baseline = config.baseline_system
    for result in systems:
        if result.name not in statistics:
            continue
        for document, scores in document_scores(config.statistics, scorers, result, statistics[result.name]).items():
            entries[document].scores[result.name] = scores
        if result.name != baseline and baseline in statistics and len(entries) > 1:  # one document: the run's own tests
            tests = document_significance(config.statistics, scorers, result, statistics[result.name], statistics[baseline])
            for document, found in tests.items():
                entries[document].significance[result.name] = found


def _run_system(
    config: RunConfig,
    system: SystemConfig,
    evalset: EvaluationSet,
    languages: list[LanguageSet],
    scorers: dict[str, list[Scorer]],
    cache: TranslationCache | None,
    observer: RunObserver,
    statistics: dict[str, dict[str, dict[str, np.ndarray]]],
    unavailable_metrics: dict[str, str],
    done_systems: list[SystemResult],
    executor: Executor,
) -> list[SystemResult]:
    """One system into every scored language (its model loaded once), each language scored on its own segments.

    An MT system translates each distinct pivot text once; a backend whose
    outputs belong to positions (precomputed candidates) is asked for every
    (pivot file, line), so a line repeated in two documents keeps its own.
    """
    by_position = not BACKENDS.get(system.backend).text_keyed
    needed = [_units(language, by_position) for language in languages]
    observer.system_started(system, sum(map(len, needed)))
    jobs = [TranslationJob(language.lang, tuple(units.values()), tuple(units) if by_position else None)
            for language, units in zip(languages, needed)]
    done = executor.translate_system(system, evalset.pivots, jobs, config.pivot.lang, cache, observer.advanced)
    results = []
    for language, units, translation in zip(languages, needed, done):
        result = SystemResult(
            name=system.name, backend=system.backend, model=None if system.model is None else str(system.model),
            status=translation.status, reason=translation.reason, seconds=translation.seconds,
            signature=translation.signature, model_info=translation.info, lang=language.lang,
        )
        results.append(result)
        if result.status != "ok":
            observer.system_finished(result)
            continue
        outputs = translation.outputs
        result.from_cache, result.translated = outputs.cached, len(units) - outputs.cached
        candidate_of = dict(zip(units, outputs.texts))
        pieces_of = dict(zip(units, outputs.pieces))
        for segment in language.segments:
            keys = [(segment.pivot, line) if by_position else text
                    for line, text in zip(segment.source_lines, segment.sources)]
            notes = [
                f"pivot line {line} exceeded the model's input limit: translated in {pieces_of[key]} pieces, joined"
                for line, key in zip(segment.source_lines, keys) if pieces_of[key] > 1
            ]
            result.paragraphs.append(
                ParagraphResult(
                    source_lines=list(segment.source_lines),
                    reference_lines=list(segment.reference_lines),
                    source=" ".join(segment.sources),
                    reference=segment.reference,
                    candidate=" ".join(candidate_of[key] for key in keys),
                    alignment_confidence=segment.confidence,
                    notes=notes,
                    lang=language.lang,
                    document=segment.document,
                )
            )
        clock = time.perf_counter()
        own = scorers[language.lang]
        score_system(config.statistics, own, result, statistics[language.lang], unavailable_metrics,
                     [s for s in done_systems if s.lang == language.lang])
        _drop_everywhere(unavailable_metrics, scorers, [*done_systems, *results], statistics)
        result.seconds["score"] = time.perf_counter() - clock
        observer.system_finished(result)
    return results


def _units(language: LanguageSet, by_position: bool) -> dict:
    """What to translate into one language: distinct pivot texts, or every (pivot file, line) → its text."""
    if by_position:
        return {(segment.pivot, line): text for segment in language.segments
                for line, text in zip(segment.source_lines, segment.sources)}
    return {text: text for segment in language.segments for text in segment.sources}


def _drop_everywhere(
    unavailable: dict[str, str],
    scorers: dict[str, list[Scorer]],
    systems: Sequence[SystemResult],
    statistics: dict[str, dict[str, dict[str, np.ndarray]]],
) -> None:
    """A metric unavailable or failed in one language leaves every language: the matrix keeps one set of metrics."""
    for lang, own in scorers.items():
        for scorer in [s for s in own if s.name in unavailable]:
            own.remove(scorer)
            scorer.close()
    for per_system in statistics.values():
        for per_metric in per_system.values():
            for name in unavailable:
                per_metric.pop(name, None)
    for system in systems:
        for name in unavailable:
            system.corpus_scores.pop(name, None)
            system.paragraph_signatures.pop(name, None)
            for paragraph in system.paragraphs:
                paragraph.scores.pop(name, None)
                paragraph.details.pop(name, None)


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
