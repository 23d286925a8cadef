"""Compare systems across runs (or within one) and gate regressions.

Two runs are comparable only when they score the same pivot against the same
reference in the same language pair, with metrics of identical signatures;
anything else is refused with the reason, because a delta between
differently tokenised BLEU scores is not a measurement. Paragraphs are matched
by their pivot and reference line numbers; pairs aligned in only one run are
left out and counted.

Per-paragraph statistics are recomputed from the stored candidate and
reference strings with the stored metric settings, so the paired tests (paired
bootstrap, approximate randomisation; see `evalkit.scorers.stats`) need nothing
beyond the two run.json files.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import ResultsError
from evalkit.results import ParagraphResult, RunResult, SystemResult
from evalkit.scorers import METRICS
from evalkit.scorers.stats import approximate_randomization, paired_bootstrap



@dataclass(frozen=True)
class MetricDelta:
    metric: str
    baseline: float
    candidate: float
    delta: float  # candidate - baseline, in the metric's units
    drop: float  # how much worse the candidate is (positive = worse), whatever the metric's direction
    p_bootstrap: float
    p_randomization: float | None
    significant: bool


@dataclass(frozen=True)
class ParagraphDelta:
    source_lines: list[int]
    reference_lines: list[int]
    source: str
    reference: str
    baseline_candidate: str
    candidate: str
    baseline_score: float
    score: float
    drop: float


@dataclass
class SystemComparison:
    baseline_label: str  # e.g. "20261101-120000-vi-th:nllb" or "copy"
    candidate_label: str
    paragraphs: int  # compared (aligned in both)
    left_out: int  # aligned in only one of the two
    metrics: list[MetricDelta] = field(default_factory=list)
    improved: list[ParagraphDelta] = field(default_factory=list)
    regressed: list[ParagraphDelta] = field(default_factory=list)
    focus_metric: str = "chrf"


def _key(p: ParagraphResult) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return tuple(p.source_lines), tuple(p.reference_lines)


def check_comparable(baseline: RunResult, candidate: RunResult) -> None:
    for role in ("pivot", "target"):
        a, b = getattr(baseline, role), getattr(candidate, role)
        if Path(a.path).name != Path(b.path).name or a.lang != b.lang:
            raise ResultsError(
                f"runs {baseline.run_id} and {candidate.run_id} are not comparable: {role} is "
                f"{Path(a.path).name} ({a.lang}) in one and {Path(b.path).name} ({b.lang}) in the other"
            )


def check_baseline_fits(baseline: RunResult, config) -> None:
    """Refuse, before translating anything, a baseline made from other documents or languages than `config`."""
    expected = {"pivot": (config.pivot.file, config.pivot.lang), "target": (config.target.file, config.target.lang)}
    for role, (file, lang) in expected.items():
        record = getattr(baseline, role)
        if record.lang != lang or (file is not None and Path(record.path).name != Path(file).name):
            raise ResultsError(
                f"baseline {baseline.run_id} scored {role} {Path(record.path).name} ({record.lang}), but the config "
                f"names {Path(file).name if file else '(detected)'} ({lang}); use a baseline of the same corpus and language pair"
            )


def compare_systems(
    baseline_run: RunResult,
    baseline: SystemResult,
    candidate_run: RunResult,
    candidate: SystemResult,
    *,
    metrics: list[str] | None = None,
    focus_metric: str | None = None,
    resamples: int = 1000,
    trials: int = 10000,
    seed: int = 12345,
    alpha: float = 0.05,
    top: int = 5,
) -> SystemComparison:
    """Paired comparison of `candidate` against `baseline` on the paragraphs both runs aligned."""
    check_comparable(baseline_run, candidate_run)
    for system, run in ((baseline, baseline_run), (candidate, candidate_run)):
        if system.status != "ok":
            raise ResultsError(f"{run.run_id}: system {system.name!r} has no scores ({system.status}: {system.reason})")
    shared = [m for m in (metrics or list(baseline.corpus_scores)) if m in baseline.corpus_scores and m in candidate.corpus_scores]
    if not shared:
        raise ResultsError(f"{baseline.name} and {candidate.name} share no metric")
    for m in shared:
        a, b = baseline.corpus_scores[m].signature, candidate.corpus_scores[m].signature
        if a != b:
            raise ResultsError(f"{m} was computed differently in the two runs ({a} vs {b}); the scores are not comparable")
    base_by_key = {_key(p): p for p in baseline.paragraphs}
    pairs = [(base_by_key[_key(p)], p) for p in candidate.paragraphs if _key(p) in base_by_key]
    if not pairs:
        raise ResultsError("the two runs have no aligned paragraph in common")
    left_out = len(baseline.paragraphs) + len(candidate.paragraphs) - 2 * len(pairs)
    references = [c.reference for _, c in pairs]
    sources = [c.source for _, c in pairs]
    label = lambda run, s: s.name if run is baseline_run and run is candidate_run else f"{run.run_id}:{s.name}"  # noqa: E731
    result = SystemComparison(label(baseline_run, baseline), label(candidate_run, candidate), len(pairs), left_out,
                              focus_metric=focus_metric or shared[0])
    lang = candidate_run.target.lang
    options = candidate_run.config.get("metric_options", {})
    for m in shared:
        scorer_class = METRICS.get(m)
        scorer = scorer_class(lang, scorer_class.Options(**options.get(m, {})), candidate_run.pivot.lang)
        scorer.load()
        base_stats = scorer.statistics([b.candidate for b, _ in pairs], references, sources)
        cand_stats = scorer.statistics([c.candidate for _, c in pairs], references, sources)
        boot = paired_bootstrap(scorer, cand_stats, base_stats, n_resamples=resamples, seed=seed, alpha=alpha)
        ar = approximate_randomization(scorer, cand_stats, base_stats, n_trials=trials, seed=seed, alpha=alpha) if trials else None
        sign = 1 if scorer.higher_is_better else -1
        result.metrics.append(MetricDelta(
            metric=m, baseline=boot.baseline_score, candidate=boot.system_score, delta=boot.delta,
            drop=-sign * boot.delta, p_bootstrap=boot.p_value, p_randomization=ar.p_value if ar else None,
            significant=boot.significant and (ar.significant if ar else True),
        ))
    focus = result.focus_metric
    sign = 1 if METRICS.get(focus).higher_is_better else -1
    deltas = [
        ParagraphDelta(c.source_lines, c.reference_lines, c.source, c.reference, b.candidate, c.candidate,
                       b.scores.get(focus, 0.0), c.scores.get(focus, 0.0),
                       -sign * (c.scores.get(focus, 0.0) - b.scores.get(focus, 0.0)))
        for b, c in pairs
    ]
    ranked = sorted(deltas, key=lambda d: d.drop)
    result.improved = [d for d in ranked[:top] if d.drop < 0]
    result.regressed = [d for d in reversed(ranked[-top:]) if d.drop > 0]
    return result


@dataclass
class GateResult:
    comparisons: list[SystemComparison]
    failures: list[str]  # one line per reason the gate fails
    notes: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failures": self.failures, "notes": self.notes,
                "comparisons": [asdict(c) for c in self.comparisons]}


def gate(
    baseline_run: RunResult,
    candidate_run: RunResult,
    *,
    max_drop: dict[str, float],
    max_paragraph_drop: dict[str, float] | None = None,
    significance: bool = True,
    alpha: float = 0.05,
    resamples: int = 1000,
    trials: int = 10000,
    seed: int = 12345,
) -> GateResult:
    """Fail on a drop beyond its margin that a paired test also calls real (unless significance=False)."""
    check_comparable(baseline_run, candidate_run)
    failures: list[str] = []
    notes: list[str] = []
    comparisons = []
    baseline_systems = {s.name: s for s in baseline_run.systems}
    for system in candidate_run.systems:
        before = baseline_systems.get(system.name)
        if before is None or before.status != "ok":
            notes.append(f"{system.name}: not in the baseline with scores; not checked")
            continue
        if system.status != "ok":
            failures.append(f"{system.name}: produced no scores ({system.status}: {system.reason})")
            continue
        metrics = [m for m in system.corpus_scores if m in before.corpus_scores]
        comparison = compare_systems(baseline_run, before, candidate_run, system, metrics=metrics, alpha=alpha,
                                     resamples=resamples, trials=trials if significance else 0, seed=seed)
        comparisons.append(comparison)
        for d in comparison.metrics:
            margin = max_drop.get(d.metric, 0.0)
            if d.drop <= margin:
                continue
            p = max(d.p_bootstrap, d.p_randomization or 0.0)
            if significance and not d.significant:
                notes.append(f"{system.name} {d.metric}: dropped {d.drop:.2f} (> {margin}), but p = {p:.3f} ≥ {alpha}: "
                             f"within noise")
                continue
            why = f"p = {p:.3f} < {alpha}" if significance else "significance not tested"
            failures.append(f"{system.name} {d.metric}: {d.baseline:.2f} → {d.candidate:.2f} "
                            f"(worse by {d.drop:.2f}, margin {margin}; {why})")
        for metric, limit in (max_paragraph_drop or {}).items():
            if metric not in metrics:
                continue
            sign = 1 if METRICS.get(metric).higher_is_better else -1
            before_by_key = {_key(p): p for p in before.paragraphs}
            for p in system.paragraphs:
                old = before_by_key.get(_key(p))
                if old is None:
                    continue
                drop = -sign * (p.scores[metric] - old.scores[metric])
                if drop > limit:
                    failures.append(f"{system.name} {metric}: pivot line(s) {p.source_lines} dropped {drop:.1f} "
                                    f"(paragraph limit {limit})")
    return GateResult(comparisons, failures, notes)
