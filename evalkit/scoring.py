"""The scoring stage: metrics loaded once per run, each system scored, then tested against the baseline.

One extraction of per-paragraph sufficient statistics serves a metric's corpus
score (identical to sacrebleu's), its bootstrap interval and the paired tests
(see `evalkit.scorers.stats`). A metric that fails is dropped from the whole
run with its reason, so no system keeps a score the others lack.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from evalkit.config import RunConfig, StatisticsConfig
from evalkit.errors import EvalkitError, MetricUnavailableError, ScoringError
from evalkit.results import Score, SystemResult
from evalkit.scorers import METRICS
from evalkit.scorers.base import Scorer
from evalkit.scorers.stats import (
    approximate_randomization,
    bootstrap_ci,
    bootstrap_cis_by_group,
    group_starts,
    paired_bootstrap,
    paired_bootstraps_by_group,
)


def load_scorers(config: RunConfig, target_lang: str) -> tuple[list[Scorer], dict[str, str]]:
    """Build and load every metric for one target language; one whose package or weights are missing is reported, not fatal."""
    scorers, unavailable = [], {}
    for metric in config.metrics:
        scorer = METRICS.get(metric.name)(target_lang, metric.parsed_options, config.pivot.lang)
        scorer.use_cache(config.cache_path)
        try:
            scorer.load()
        except MetricUnavailableError as exc:
            unavailable[metric.name] = str(exc)
            continue
        scorers.append(scorer)
    return scorers, unavailable


def score_system(
    settings: StatisticsConfig,
    scorers: list[Scorer],
    result: SystemResult,
    statistics: dict[str, dict[str, np.ndarray]],
    unavailable: dict[str, str],
    done_systems: Sequence[SystemResult],
) -> None:
    """Every metric on one system's aligned paragraphs; per-paragraph statistics are kept for the paired tests."""
    statistics[result.name] = {}
    extracted = _extract_in_parallel(settings, scorers, result)
    for scorer in list(scorers):
        try:
            _score(settings, scorer, result, statistics[result.name], extracted.get(scorer.name))
        except (ScoringError, MetricUnavailableError) as exc:
            # One metric failing (a learned metric out of memory, an input it rejects) loses that
            # metric for the whole run, said once; the other metrics and systems survive.
            _drop_metric(scorer, str(exc), scorers, unavailable, statistics, done_systems)


def _score(
    settings: StatisticsConfig,
    scorer: Scorer,
    result: SystemResult,
    statistics: dict[str, np.ndarray],
    extracted: np.ndarray | None = None,
) -> None:
    """One metric on one system: corpus score (with its CI where the metric has additive statistics), paragraph scores.

    `extracted`: the statistics rows, when worker processes have already extracted them.
    """
    candidates = [p.candidate for p in result.paragraphs]
    references = [p.reference for p in result.paragraphs]
    sources = [p.source for p in result.paragraphs]
    derived = None
    if scorer.has_statistics:
        # One extraction of sufficient statistics serves the corpus score (identical to
        # sacrebleu's corpus_score) and its bootstrap interval, and later the significance tests.
        stats = extracted if extracted is not None else scorer.statistics(candidates, references, sources)
        if extracted is not None:
            derived = scorer.paragraph_scores_from_statistics(stats)
        score = Score(scorer.score_from_statistics(stats), scorer.signature(), higher_is_better=scorer.higher_is_better,
                      summary=scorer.summary(stats))
        if settings.bootstrap_resamples:
            units = resampling_units(settings, stats, document_starts(result))
            interval = bootstrap_ci(scorer, units, n_resamples=settings.bootstrap_resamples, seed=settings.seed)
            score.ci_low, score.ci_high = interval.low, interval.high
        statistics[scorer.name] = stats
    else:  # no resampling without additive statistics: the score stands without an interval
        score = Score(scorer.corpus_score(candidates, references, sources).score, scorer.signature(),
                      higher_is_better=scorer.higher_is_better)
    paragraph_scores = derived if derived is not None else scorer.paragraph_scores(candidates, references, sources)
    details = scorer.paragraph_details(candidates, references, sources)
    result.corpus_scores[scorer.name] = score
    result.paragraph_signatures[scorer.name] = scorer.paragraph_signature()
    for paragraph, value in zip(result.paragraphs, paragraph_scores):
        paragraph.scores[scorer.name] = value
    if details is not None:
        for paragraph, found in zip(result.paragraphs, details):
            paragraph.details[scorer.name] = found


def document_starts(result: SystemResult) -> list[int]:
    """Row index where each document's paragraphs begin (paragraphs are grouped by document)."""
    return group_starts([p.document for p in result.paragraphs])


def resampling_units(settings: StatisticsConfig, stats: np.ndarray, starts: Sequence[int]) -> np.ndarray:
    """The rows the bootstrap draws: paragraphs, or whole documents (their paragraphs' statistics summed).

    Statistics are additive, so a document's summed row is exactly what its
    paragraphs contribute to the corpus score; resampling those rows resamples
    documents, which is right when paragraphs of one article are correlated.
    """
    if resampling_unit(settings, starts) == "document" and stats.ndim == 2 and len(stats):
        return np.add.reduceat(stats, np.asarray(starts, dtype=np.intp), axis=0)
    return stats


# Fewer documents than this and a bootstrap over documents says nothing (one document: every resample is the
# document itself, an interval of zero width): paragraphs are resampled instead, and the run records it.
MIN_RESAMPLED_DOCUMENTS = 2


def resampling_unit(settings: StatisticsConfig, starts: Sequence[int]) -> str:
    """The unit actually resampled: documents when asked for and there are enough of them, else paragraphs."""
    if settings.resample == "document" and len(starts) >= MIN_RESAMPLED_DOCUMENTS:
        return "document"
    return "paragraph"


def document_scores(
    settings: StatisticsConfig, scorers: Sequence[Scorer], result: SystemResult, statistics: dict[str, np.ndarray]
) -> dict[str, dict[str, Score]]:
    """Each document's corpus score per metric, from its paragraphs' rows (CIs by paragraph resamples).

    Every document's interval is what `bootstrap_ci` gives on its rows alone;
    all documents are resampled in one vectorised call per metric. Metrics
    without additive statistics have no per-document score here: a learned
    metric would be run again on every document.
    """
    starts = document_starts(result)
    ends = [*starts[1:], len(result.paragraphs)]
    documents = [result.paragraphs[a].document for a in starts]
    found: dict[str, dict[str, Score]] = {document: {} for document in documents}
    for scorer in scorers:
        stats = statistics.get(scorer.name)
        if stats is None:
            continue
        sums = np.add.reduceat(stats, np.asarray(starts, dtype=np.intp), axis=0)
        values = scorer.scores_from_statistics(sums)
        intervals = (bootstrap_cis_by_group(scorer, stats, starts, n_resamples=settings.bootstrap_resamples,
                                            seed=settings.seed) if settings.bootstrap_resamples else [None] * len(starts))
        for document, value, interval, a, b in zip(documents, values, intervals, starts, ends):
            score = Score(float(value), scorer.signature(), higher_is_better=scorer.higher_is_better)
            if interval is not None and b - a > 1:
                score.ci_low, score.ci_high = interval.low, interval.high
            found[document][scorer.name] = score
    return found


def document_significance(
    settings: StatisticsConfig, scorers: Sequence[Scorer], result: SystemResult, own: dict[str, np.ndarray],
    baseline: dict[str, np.ndarray],
) -> dict[str, dict[str, dict[str, object]]]:
    """Per document and metric: the paired bootstrap of `result` against the baseline on that document's paragraphs.

    Only the paired bootstrap (all documents in one vectorised call per metric):
    approximate randomisation on every document would multiply the run's testing
    time by the number of documents.
    """
    starts = document_starts(result)
    documents = [result.paragraphs[a].document for a in starts]
    found: dict[str, dict[str, dict[str, object]]] = {document: {} for document in documents}
    for scorer in scorers:
        if scorer.name not in own or scorer.name not in baseline:
            continue
        tests = paired_bootstraps_by_group(scorer, own[scorer.name], baseline[scorer.name], starts,
                                           n_resamples=settings.paired_resamples, seed=settings.seed, alpha=settings.alpha)
        for document, boot in zip(documents, tests):
            found[document][scorer.name] = {"delta": boot.delta, "p_bootstrap": boot.p_value,
                                            "significant": boot.significant, "better": boot.better}
    return found


# Below this many paragraphs, starting worker processes (each imports sacrebleu, PyThaiNLP) costs more than it saves.
PARALLEL_MIN_PARAGRAPHS = 2000


def _workers(settings: StatisticsConfig, paragraphs: int) -> int:
    if settings.workers is not None:
        return min(settings.workers, max(1, paragraphs))
    return (os.cpu_count() or 1) if paragraphs >= PARALLEL_MIN_PARAGRAPHS else 1


def _extract_in_parallel(settings: StatisticsConfig, scorers: Sequence[Scorer], result: SystemResult) -> dict[str, np.ndarray]:
    """Statistics of the chunkable metrics, extracted on contiguous slices of the paragraphs in worker processes.

    Each worker rebuilds the metrics from their names and options and computes
    every metric on its slice (so Thai text is segmented once per slice, not
    once per metric); rows are concatenated in order, so the numbers are the
    same as one process's. Spawned, not forked: the parent may hold torch threads.
    """
    chunkable = [s for s in scorers if s.chunkable and s.has_statistics]
    workers = _workers(settings, len(result.paragraphs))
    if workers < 2 or not chunkable:
        return {}
    specs = [(s.name, s.target_lang, s.options.model_dump(mode="json"), s.source_lang) for s in chunkable]
    texts = [(p.candidate, p.reference, p.source) for p in result.paragraphs]
    bounds = np.linspace(0, len(texts), workers + 1).astype(int)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_slice_statistics, [specs] * workers,
                                  [texts[a:b] for a, b in zip(bounds[:-1], bounds[1:])]))
    except (EvalkitError, OSError, BrokenProcessPool):
        # A metric that fails on some input fails the same way in this process, where its error is
        # reported per metric; a pool that cannot start (no /dev/shm, a process limit) costs only speed.
        return {}
    return {name: np.concatenate([part[name] for part in parts]) for name, *_ in specs}


def _slice_statistics(specs: list[tuple], texts: list[tuple[str, str, str]]) -> dict[str, np.ndarray]:
    """In a worker: every metric's statistics rows for one slice of paragraphs."""
    candidates, references, sources = (list(column) for column in zip(*texts))
    found = {}
    for name, target_lang, options, source_lang in specs:
        cls = METRICS.get(name)
        scorer = cls(target_lang, cls.Options.model_validate(options), source_lang)
        scorer.load()
        found[name] = scorer.statistics(candidates, references, sources)
    return found


def _drop_metric(
    scorer: Scorer,
    reason: str,
    scorers: list[Scorer],
    unavailable: dict[str, str],
    statistics: dict[str, dict[str, np.ndarray]],
    systems: Sequence[SystemResult],
) -> None:
    """Remove a metric that failed from the run: no system keeps a score the others lack."""
    scorers.remove(scorer)
    scorer.close()  # a worker process or a model it holds is released now, not at the end of the run
    unavailable[scorer.name] = f"failed while scoring: {reason}"
    for per_metric in statistics.values():
        per_metric.pop(scorer.name, None)
    for system in systems:
        system.corpus_scores.pop(scorer.name, None)
        system.paragraph_signatures.pop(scorer.name, None)
        for paragraph in system.paragraphs:
            paragraph.scores.pop(scorer.name, None)
            paragraph.details.pop(scorer.name, None)


def test_against_baseline(
    settings: StatisticsConfig,
    baseline: str,
    systems: list[SystemResult],
    scorers: Sequence[Scorer],
    statistics: dict[str, dict[str, np.ndarray]],
) -> None:
    """Paired bootstrap (Koehn 2004) and approximate randomisation (Riezler & Maxwell 2005) against the baseline.

    Both systems are scored on the same aligned paragraphs, so the tests are
    paired. A difference is marked significant only when both tests agree at
    alpha: they answer the same question with different resampling, and a
    published claim should survive either.
    """
    if baseline not in statistics:
        # The baseline produced no scores: say so on every scored system instead of silently omitting the tests.
        for result in systems:
            if result.name != baseline and result.name in statistics:
                result.significance = {"baseline": baseline, "skipped": f"baseline {baseline!r} produced no scores"}
        return
    for result in systems:
        if result.name == baseline or result.name not in statistics:
            continue
        metrics = {}
        starts = document_starts(result)
        for scorer in scorers:
            if not scorer.has_statistics:  # a paired test resamples statistics; without them there is none
                continue
            own = resampling_units(settings, statistics[result.name][scorer.name], starts)
            base = resampling_units(settings, statistics[baseline][scorer.name], starts)
            boot = paired_bootstrap(scorer, own, base, n_resamples=settings.paired_resamples,
                                    seed=settings.seed, alpha=settings.alpha)
            entry = {
                "delta": boot.delta,
                "better": boot.better,
                "p_bootstrap": boot.p_value,
                "bootstrap_resamples": boot.n_samples,
                "significant": boot.significant,
            }
            if settings.randomization_trials:
                ar = approximate_randomization(scorer, own, base, n_trials=settings.randomization_trials,
                                               seed=settings.seed, alpha=settings.alpha)
                entry.update(p_randomization=ar.p_value, randomization_trials=ar.n_samples,
                             significant=boot.significant and ar.significant)
            metrics[scorer.name] = entry
        result.significance = {"baseline": baseline, "alpha": settings.alpha, "seed": settings.seed,
                               "resample": resampling_unit(settings, starts), "metrics": metrics}
