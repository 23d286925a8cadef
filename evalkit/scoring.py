"""The scoring stage: metrics loaded once per run, each system scored, then tested against the baseline.

One extraction of per-paragraph sufficient statistics serves a metric's corpus
score (identical to sacrebleu's), its bootstrap interval and the paired tests
(see `evalkit.scorers.stats`). A metric that fails is dropped from the whole
run with its reason, so no system keeps a score the others lack.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evalkit.config import RunConfig, StatisticsConfig
from evalkit.errors import MetricUnavailableError, ScoringError
from evalkit.results import Score, SystemResult
from evalkit.scorers import METRICS
from evalkit.scorers.base import Scorer
from evalkit.scorers.stats import approximate_randomization, bootstrap_ci, paired_bootstrap


def load_scorers(config: RunConfig) -> tuple[list[Scorer], dict[str, str]]:
    """Build and load every metric; one whose package or weights are missing is reported, not fatal."""
    scorers, unavailable = [], {}
    for metric in config.metrics:
        scorer = METRICS.get(metric.name)(config.target.lang, metric.parsed_options, config.pivot.lang)
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
    for scorer in list(scorers):
        try:
            _score(settings, scorer, result, statistics[result.name])
        except (ScoringError, MetricUnavailableError) as exc:
            # One metric failing (a learned metric out of memory, an input it rejects) loses that
            # metric for the whole run, said once; the other metrics and systems survive.
            _drop_metric(scorer, str(exc), scorers, unavailable, statistics, done_systems)


def _score(settings: StatisticsConfig, scorer: Scorer, result: SystemResult, statistics: dict[str, np.ndarray]) -> None:
    """One metric on one system: corpus score (with its CI where the metric has additive statistics), paragraph scores."""
    candidates = [p.candidate for p in result.paragraphs]
    references = [p.reference for p in result.paragraphs]
    sources = [p.source for p in result.paragraphs]
    if scorer.has_statistics:
        # One extraction of sufficient statistics serves the corpus score (identical to
        # sacrebleu's corpus_score) and its bootstrap interval, and later the significance tests.
        stats = scorer.statistics(candidates, references, sources)
        score = Score(scorer.score_from_statistics(stats), scorer.signature(), higher_is_better=scorer.higher_is_better,
                      summary=scorer.summary(stats))
        if settings.bootstrap_resamples:
            interval = bootstrap_ci(scorer, stats, n_resamples=settings.bootstrap_resamples, seed=settings.seed)
            score.ci_low, score.ci_high = interval.low, interval.high
        statistics[scorer.name] = stats
    else:  # no resampling without additive statistics: the score stands without an interval
        score = Score(scorer.corpus_score(candidates, references, sources).score, scorer.signature(),
                      higher_is_better=scorer.higher_is_better)
    paragraph_scores = scorer.paragraph_scores(candidates, references, sources)
    details = scorer.paragraph_details(candidates, references, sources)
    result.corpus_scores[scorer.name] = score
    result.paragraph_signatures[scorer.name] = scorer.paragraph_signature()
    for paragraph, value in zip(result.paragraphs, paragraph_scores):
        paragraph.scores[scorer.name] = value
    if details is not None:
        for paragraph, found in zip(result.paragraphs, details):
            paragraph.details[scorer.name] = found


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
        for scorer in scorers:
            if not scorer.has_statistics:  # a paired test resamples statistics; without them there is none
                continue
            own, base = statistics[result.name][scorer.name], statistics[baseline][scorer.name]
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
        result.significance = {"baseline": baseline, "alpha": settings.alpha, "seed": settings.seed, "metrics": metrics}
