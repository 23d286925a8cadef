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

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.errors import ResultsError
from evalkit.results import (
    DocumentEntry,
    DocumentRecord,
    ParagraphResult,
    RunResult,
    SystemResult,
    changed_document,
    file_sha256,
)
from evalkit.scorers import METRICS
from evalkit.scorers.stats import (
    approximate_randomization,
    bootstrap_p_floor,
    changed_paragraphs,
    group_starts,
    paired_bootstrap,
    randomization_p_floor,
)



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
    # What the tests could decide at all (see `evalkit.scorers.stats`, "p-value floors"):
    changed: int = 0  # paragraphs whose statistics differ between the two systems
    effective_changed: float = 0.0  # how many equal changes the corpus difference amounts to (<= changed)
    p_floor_bootstrap: float = 1.0  # smallest p the paired bootstrap can reach with these changes
    p_floor_randomization: float | None = None  # the same for approximate randomisation (None: not run)
    p_floor: float = 1.0  # the larger of the two: both tests must agree for `significant`
    underpowered: bool = False  # p_floor >= alpha: no test could call this drop significant


@dataclass(frozen=True)
class ParagraphDelta:
    document: str
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
    lang: str = ""  # the target language both systems were scored in


def _key(p: ParagraphResult) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """A paragraph's identity across runs: its document and its pivot and reference lines (within one language)."""
    return p.document, tuple(p.source_lines), tuple(p.reference_lines)


def _sides(entry: DocumentEntry) -> list[tuple[str, DocumentRecord]]:
    return [(role, record) for role, record in (("pivot", entry.pivot), ("target", entry.target)) if record is not None]


def check_comparable(baseline: RunResult, candidate: RunResult) -> None:
    """Refuse two runs that scored other text: per language and document, the same files with the same bytes."""
    def refuse(why: str) -> ResultsError:
        return ResultsError(f"runs {baseline.run_id} and {candidate.run_id} are not comparable: {why}")

    kinds = baseline.source.get("kind"), candidate.source.get("kind")
    if None not in kinds and kinds[0] != kinds[1]:
        raise refuse(f"one scored a {kinds[0]}, the other a {kinds[1]}")
    if baseline.source.get("kind") == "testset" and candidate.source.get("kind") == "testset":
        a, b = (f"{r.source.get('name')} {r.source.get('split') or ''}".strip() for r in (baseline, candidate))
        if a != b:
            raise refuse(f"test set {a} in one and {b} in the other")
    one_a, one_b = baseline.single_document(), candidate.single_document()
    if one_a is not None and one_b is not None:  # one pivot, one reference: say which side differs
        pairs = [(one_a, one_b)]
    else:
        documents = {(d.lang, d.document): d for d in candidate.documents if d.status == "paired"}
        pairs = [(d, documents[(d.lang, d.document)]) for d in baseline.documents
                 if d.status == "paired" and (d.lang, d.document) in documents]
        if not pairs:
            raise refuse("no document is scored in the same language in both")
    for a_entry, b_entry in pairs:
        for (role, a), (_, b) in zip(_sides(a_entry), _sides(b_entry)):
            if Path(a.path).name != Path(b.path).name or a.lang != b.lang:
                raise refuse(f"{role} is {Path(a.path).name} ({a.lang}) in one and {Path(b.path).name} ({b.lang}) in the other")
            changed = changed_document(a, b)
            if changed:
                raise refuse(changed)


def check_baseline_fits(baseline: RunResult, config) -> None:
    """Refuse, before translating anything, a baseline made from other documents or languages than `config`."""
    kind = "testset" if config.testset is not None else "corpus"
    if baseline.source.get("kind") and baseline.source["kind"] != kind:
        raise ResultsError(f"baseline {baseline.run_id} scored a {baseline.source['kind']}, but the config names a {kind}; "
                           f"use a baseline of the same corpus or test set")
    if kind == "testset" and baseline.source.get("name"):
        ours = (config.testset.format, config.testset.split)
        theirs = (baseline.source.get("format"), baseline.source.get("split"))
        if ours != theirs:
            raise ResultsError(f"baseline {baseline.run_id} scored test set {baseline.source['name']} "
                               f"({theirs[0]}, split {theirs[1]}), but the config names {ours[0]} (split {ours[1]}); "
                               f"use a baseline of the same test set")
    expected = [("pivot", config.pivot.file, config.pivot.lang, baseline.pivot)]
    single = baseline.single_document()
    if config.single_target is not None and single is not None:  # one reference each: name the files that differ
        expected.append(("target", config.single_target.file, config.single_target.lang, single.target))
    elif not set(config.target_langs) & set(baseline.scored_langs):
        langs = ", ".join(baseline.scored_langs) or "none"
        raise ResultsError(f"baseline {baseline.run_id} scored {langs}, but the config targets "
                           f"{', '.join(config.target_langs)}; use a baseline of the same corpus and language pair")
    else:  # languages the baseline lacks are reported by the gate as not checked
        for target in config.targets:
            entry = baseline.single_document(target.lang) if target.lang in baseline.langs else None
            expected.append(("target", target.file, target.lang, entry.target if entry else None))
    for role, file, lang, record in expected:
        if record is None:
            continue
        if record.lang != lang or (file is not None and Path(record.path).name != Path(file).name):
            raise ResultsError(
                f"baseline {baseline.run_id} scored {role} {Path(record.path).name} ({record.lang}), but the config "
                f"names {Path(file).name if file else '(detected)'} ({lang}); use a baseline of the same corpus and language pair"
            )
        current = file_sha256(file) if file is not None else None
        if record.sha256 and current and record.sha256 != current:
            raise ResultsError(
                f"{Path(file).name} changed since baseline {baseline.run_id} was made (sha256 {record.sha256[:12]}… vs "
                f"{current[:12]}… now); a gate against a baseline of other text measures nothing: re-make the baseline"
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
    resample: str | None = None,
) -> SystemComparison:
    """Paired comparison of `candidate` against `baseline` on the paragraphs both runs aligned.

    `resample` (default: what the candidate run used): "document" resamples whole
    documents in the paired tests, as the run's own tests did, so a gate does not
    call a difference significant that the run, resampling articles, did not.
    """
    check_comparable(baseline_run, candidate_run)
    if baseline.lang and candidate.lang and baseline.lang != candidate.lang:
        raise ResultsError(f"{baseline.name} ({baseline.lang}) and {candidate.name} ({candidate.lang}) translate into "
                           f"different languages; compare a system with one of the same language")
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
    def label(run: RunResult, s: SystemResult) -> str:
        name = s.name if len(run.scored_langs) < 2 else f"{s.name} [{s.lang}]"
        return name if baseline_run is candidate_run else f"{run.run_id}:{name}"

    result = SystemComparison(label(baseline_run, baseline), label(candidate_run, candidate), len(pairs), left_out,
                              focus_metric=focus_metric or shared[0], lang=candidate.lang)
    lang = candidate.lang
    starts = np.asarray(group_starts([c.document for _, c in pairs]), dtype=np.intp)
    by_document = (resample or candidate_run.resample) == "document" and len(starts) >= 2
    pivot_lang = (candidate_run.config.get("pivot") or {}).get("lang")
    options = candidate_run.config.get("metric_options", {})
    for m in shared:
        scorer_class = METRICS.get(m)
        scorer = scorer_class(lang, scorer_class.Options(**options.get(m, {})), pivot_lang)
        scorer.load()
        base_stats = scorer.statistics([b.candidate for b, _ in pairs], references, sources)
        cand_stats = scorer.statistics([c.candidate for _, c in pairs], references, sources)
        if by_document:
            base_stats, cand_stats = (np.add.reduceat(x, starts, axis=0) for x in (base_stats, cand_stats))
        boot = paired_bootstrap(scorer, cand_stats, base_stats, n_resamples=resamples, seed=seed, alpha=alpha)
        ar = approximate_randomization(scorer, cand_stats, base_stats, n_trials=trials, seed=seed, alpha=alpha) if trials else None
        sign = 1 if scorer.higher_is_better else -1
        changed, effective = effective_changes(scorer, cand_stats, base_stats)
        units = len(cand_stats)
        floor_bs = bootstrap_p_floor(units, min(units, effective), resamples)
        floor_ar = randomization_p_floor(effective, trials) if trials else None
        floor = max(floor_bs, floor_ar or 0.0)
        result.metrics.append(MetricDelta(
            metric=m, baseline=boot.baseline_score, candidate=boot.system_score, delta=boot.delta,
            drop=-sign * boot.delta, p_bootstrap=boot.p_value, p_randomization=ar.p_value if ar else None,
            significant=boot.significant and (ar.significant if ar else True),
            changed=changed, effective_changed=effective, p_floor_bootstrap=floor_bs, p_floor_randomization=floor_ar,
            p_floor=floor, underpowered=floor >= alpha,
        ))
    focus = result.focus_metric
    sign = 1 if METRICS.get(focus).higher_is_better else -1
    deltas = [
        ParagraphDelta(c.document, c.source_lines, c.reference_lines, c.source, c.reference, b.candidate, c.candidate,
                       b.scores.get(focus, 0.0), c.scores.get(focus, 0.0),
                       -sign * (c.scores.get(focus, 0.0) - b.scores.get(focus, 0.0)))
        for b, c in pairs
    ]
    ranked = sorted(deltas, key=lambda d: d.drop)
    result.improved = [d for d in ranked[:top] if d.drop < 0]
    result.regressed = [d for d in reversed(ranked[-top:]) if d.drop > 0]
    return result


def effective_changes(scorer, system_stats, baseline_stats) -> tuple[int, float]:
    """(k, k_eff): paragraphs whose statistics differ, and how many equal changes the difference amounts to.

    Each changed paragraph's own effect w_i is the corpus-score change from
    swapping only that paragraph's statistics into the baseline. k_eff is the
    participation ratio (sum |w_i|)**2 / sum w_i**2: k when the k changes are
    equal, about 1 when one paragraph carries the drop and the rest moved by
    crumbs. The tests' floors are computed at k_eff, because a test cannot do
    better than it would with k_eff equal changes: a regression in 3 paragraphs
    amid tiny changes everywhere else is as hard to call significant as 3 alone.
    """
    import numpy as np

    system_stats = np.asarray(system_stats, dtype=np.float64)
    baseline_stats = np.asarray(baseline_stats, dtype=np.float64)
    k = changed_paragraphs(system_stats, baseline_stats)
    if k == 0:
        return 0, 0.0
    rows = np.flatnonzero(np.any(system_stats != baseline_stats, axis=1))
    total = baseline_stats.sum(axis=0)
    base_score = scorer.score_from_statistics(total)
    effects = np.array([scorer.score_from_statistics(total - baseline_stats[i] + system_stats[i]) - base_score
                        for i in rows])
    squares = float(np.sum(effects ** 2))
    if squares == 0.0:
        return k, 0.0
    return k, float(min(k, np.sum(np.abs(effects)) ** 2 / squares))


# Magnitude rules on by default (see README "Regression gate for CI" and
# benchmarks/gate_calibration.py for how they were chosen). A metric class may
# declare its own with `gate_paragraph_drop` / `gate_paragraphs_worse`.
# chrF 10: benign edits of a paragraph (punctuation, a synonym, clause order)
# moved its chrF by at most ~11 points in the calibration set, a truncated
# paragraph by 25 or more, a dropped sentence by 11 or more (shipped documents).
DEFAULT_PARAGRAPH_DROP: dict[str, float] = {"chrf": 10.0}
"""Any one paragraph falling by more than this many points fails the gate, whatever the tests say."""
DEFAULT_PARAGRAPHS_WORSE: dict[str, int] = {"numbers": 0}
"""More than this many paragraphs scoring lower than in the baseline fails (numbers: any number lost)."""


def default_paragraph_rules() -> tuple[dict[str, float], dict[str, int]]:
    """(max_paragraph_drop, max_paragraphs_worse) defaults for every registered metric that has them."""
    drops, worse = dict(DEFAULT_PARAGRAPH_DROP), dict(DEFAULT_PARAGRAPHS_WORSE)
    for name in METRICS.registered():
        try:
            cls = METRICS.get(name)
        except ImportError:  # an optional metric whose package is not installed
            continue
        if getattr(cls, "gate_paragraph_drop", None) is not None:
            drops[name] = cls.gate_paragraph_drop
        if getattr(cls, "gate_paragraphs_worse", None) is not None:
            worse[name] = cls.gate_paragraphs_worse
    return drops, worse


@dataclass(frozen=True)
class GateRules:
    """The thresholds of one target language."""

    max_drop: dict[str, float]
    max_paragraph_drop: dict[str, float]
    max_paragraphs_worse: dict[str, int]


@dataclass
class GateDecision:
    """How the gate judged one metric of one system in one language, and why."""

    system: str
    metric: str
    failed: bool
    decided_by: list[str]  # the rules that failed it, or the one that let it pass (see RULES)
    reason: str  # one line: what a CI log shows
    baseline: float
    candidate: float
    drop: float
    margin: float | None
    p: float | None  # the larger of the two tests' p-values (both must agree); None: not tested
    p_floor: float  # the smallest p the tests could reach with these changes
    changed: int
    effective_changed: float
    underpowered: bool
    paragraph_failures: list[dict[str, Any]]  # paragraphs beyond a paragraph rule
    worst_paragraphs: list[dict[str, Any]]  # this metric's largest paragraph drops
    lang: str = ""


RULES = {
    "within margin": "the document drop is within its margin",
    "no margin": "no document margin is set for this metric",
    "within noise": "beyond the margin, but the paired tests (which could have decided) call it noise",
    "significance": "beyond the margin and significant in both paired tests",
    "magnitude": "beyond the margin, and too few paragraphs changed for a test to decide",
    "threshold": "beyond the margin; significance testing is off",
    "paragraph drop": "a paragraph fell by more than the paragraph limit",
    "paragraphs worse": "more paragraphs scored lower than the baseline than allowed (numbers: a number lost)",
}


@dataclass
class GateResult:
    comparisons: list[SystemComparison]
    failures: list[str]  # one line per reason the gate fails
    notes: list[str]  # one line per metric that moved but passed, and why
    decisions: list[GateDecision] = field(default_factory=list)  # per system and metric: numbers and rule

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "failures": self.failures, "notes": self.notes,
                "decisions": [asdict(d) for d in self.decisions],
                "comparisons": [asdict(c) for c in self.comparisons]}


def gate(
    baseline_run: RunResult,
    candidate_run: RunResult,
    *,
    max_drop: dict[str, float],
    max_paragraph_drop: dict[str, float] | None = None,
    max_paragraphs_worse: dict[str, int] | None = None,
    significance: bool = True,
    alpha: float = 0.05,
    resamples: int = 1000,
    trials: int = 10000,
    seed: int = 12345,
    worst: int = 3,
    rules_for: Callable[[str], GateRules] | None = None,
) -> GateResult:
    """Judge every system of `candidate_run` against the same system in `baseline_run`.

    Per metric, the document drop is judged against its margin: where the paired
    tests could reach `alpha` with the paragraphs that changed, a drop beyond the
    margin fails only if both tests call it significant (unless significance=False);
    where they could not (their p-value floor is >= alpha), it fails on magnitude
    alone. Independently, a paragraph falling by more than `max_paragraph_drop`
    fails, and more than `max_paragraphs_worse[m]` paragraphs scoring lower than
    before fails. Callers pass the defaults (`default_paragraph_rules`) explicitly;
    `rules_for(lang)` gives each target language its own thresholds (`check.per_language`).
    """
    check_comparable(baseline_run, candidate_run)
    failures: list[str] = []
    notes: list[str] = []
    comparisons = []
    decisions: list[GateDecision] = []
    baseline_systems = {(s.name, s.lang): s for s in baseline_run.systems}
    several = len(set(baseline_run.scored_langs) | set(candidate_run.scored_langs)) > 1
    for system in candidate_run.systems:
        name = f"{system.name} [{system.lang}]" if several else system.name
        before = baseline_systems.get((system.name, system.lang))
        if before is None or before.status != "ok":
            notes.append(f"{name}: not in the baseline with scores; not checked")
            continue
        if system.status != "ok":
            failures.append(f"{name}: produced no scores ({system.status}: {system.reason})")
            continue
        rules = rules_for(system.lang) if rules_for else GateRules(max_drop, max_paragraph_drop or {},
                                                                    max_paragraphs_worse or {})
        metrics = [m for m in system.corpus_scores if m in before.corpus_scores]
        comparison = compare_systems(baseline_run, before, candidate_run, system, metrics=metrics, alpha=alpha,
                                     resamples=resamples, trials=trials if significance else 0, seed=seed,
                                     resample=candidate_run.resample)
        comparisons.append(comparison)
        before_by_key = {_key(p): p for p in before.paragraphs}
        pairs = [(before_by_key[_key(p)], p) for p in system.paragraphs if _key(p) in before_by_key]
        for d in comparison.metrics:
            decision = _decide(name, d, pairs, rules.max_drop.get(d.metric), rules.max_paragraph_drop.get(d.metric),
                               rules.max_paragraphs_worse.get(d.metric), significance, alpha, worst)
            decision.lang = system.lang
            decisions.append(decision)
            if decision.failed:
                failures.extend(decision.reason.split("\n"))
            elif d.drop > 0 or decision.decided_by != ["within margin"]:
                notes.append(decision.reason)
    now = {(s.name, s.lang) for s in candidate_run.systems}
    reasons = {e.lang: e.reason for e in candidate_run.languages if e.status != "ok"}
    for before in baseline_run.systems:
        if before.status == "ok" and (before.name, before.lang) not in now:
            name = f"{before.name} [{before.lang}]" if several else before.name
            why = reasons.get(before.lang) or "the system is not in this run"
            failures.append(f"{name}: scored in the baseline, not scored now ({why})")
    return GateResult(comparisons, failures, notes, decisions)


def _power_phrase(d: MetricDelta) -> str:
    if d.changed == 0:
        return "no paragraph changed"
    count = f"{d.changed} paragraph{'s' if d.changed != 1 else ''} changed"
    if d.effective_changed < d.changed - 0.5:
        count += f", the change carried by about {d.effective_changed:.1f}"
    return count


def _lost_items(details: Any) -> str:
    """' (lost: 1973 changed to 1937, ...)' from a paragraph's details where they list items with a status.

    Written for the `numbers` metric's details (items with status missing or changed,
    source and candidate text); any other shape gives "".
    """
    if not isinstance(details, dict) or not isinstance(details.get("items"), list):
        return ""
    lost = []
    for item in details["items"]:
        if not isinstance(item, dict) or item.get("status") not in ("missing", "changed"):
            continue
        source = (item.get("source") or {}).get("text", "?")
        candidate = (item.get("candidate") or {}).get("text")
        lost.append(f"{source} changed to {candidate}" if item["status"] == "changed" and candidate else f"{source} missing")
    return f" (lost: {', '.join(lost[:3])}{' …' if len(lost) > 3 else ''})" if lost else ""


def _decide(system: str, d: MetricDelta, pairs: list[tuple[ParagraphResult, ParagraphResult]], margin: float | None,
            paragraph_limit: float | None, worse_limit: int | None, significance: bool, alpha: float,
            worst: int) -> GateDecision:
    metric = d.metric
    sign = 1 if METRICS.get(metric).higher_is_better else -1
    rows = []
    for old, new in pairs:
        a, b = old.scores.get(metric), new.scores.get(metric)
        if a is None or b is None:
            continue
        rows.append({"document": new.document, "source_lines": new.source_lines, "baseline": a, "score": b, "drop": -sign * (b - a),
                     **({"details": new.details[metric]} if metric in new.details else {})})
    rows.sort(key=lambda r: -r["drop"])
    several = len({r["document"] for r in rows}) > 1

    def where(r: dict[str, Any]) -> str:  # which document, when lines alone are ambiguous
        return f"{r['document']}:{r['source_lines']}" if several else str(r["source_lines"])
    p = max(d.p_bootstrap, d.p_randomization or 0.0) if significance else None
    head = f"{system} {metric}: {d.baseline:.2f} → {d.candidate:.2f}"
    lines: list[str] = []
    decided: list[str] = []
    # The document drop.
    if margin is None:
        doc_rule, doc_failed = "no margin", False
    elif d.drop <= margin:
        doc_rule, doc_failed = "within margin", False
    elif not significance:
        doc_rule, doc_failed = "threshold", True
    elif d.underpowered:
        doc_rule, doc_failed = "magnitude", True
    elif d.significant:
        doc_rule, doc_failed = "significance", True
    else:
        doc_rule, doc_failed = "within noise", False
    power = (f"{_power_phrase(d)}: a significance test cannot decide (best reachable p {d.p_floor:.3f} ≥ {alpha}); "
             f"judged on magnitude")
    if doc_rule == "threshold":
        why = "significance not tested"
    elif doc_rule == "magnitude":
        why = power
    elif doc_rule == "significance":
        why = f"p = {p:.3f} < {alpha}, floor {d.p_floor:.3f}; {_power_phrase(d)}"
    elif doc_rule == "within noise":
        why = f"p = {p:.3f} ≥ {alpha} (floor {d.p_floor:.3f}; {_power_phrase(d)}): within noise"
    else:
        why = ""
    if doc_failed:
        decided.append(doc_rule)
        lines.append(f"{head} (worse by {d.drop:.2f}, margin {margin}; {why})")
    # Paragraph rules: on whatever the tests say.
    beyond = [r for r in rows if paragraph_limit is not None and r["drop"] > paragraph_limit]
    if beyond:
        decided.append("paragraph drop")
        listed = ", ".join(f"{where(r)} {r['baseline']:.1f} → {r['score']:.1f}" for r in beyond[:5])
        more = f" and {len(beyond) - 5} more" if len(beyond) > 5 else ""
        lines.append(f"{system} {metric}: {len(beyond)} paragraph(s) dropped more than {paragraph_limit:g} points "
                     f"(paragraph limit): pivot line(s) {listed}{more}")
    worse = [r for r in rows if r["drop"] > 1e-9]
    if worse_limit is not None and len(worse) > worse_limit:
        decided.append("paragraphs worse")
        listed = ", ".join(f"{where(r)} {r['baseline']:.1f} → {r['score']:.1f}{_lost_items(r.get('details'))}"
                           for r in worse[:5])
        lines.append(f"{system} {metric}: {len(worse)} paragraph(s) scored lower than in the baseline "
                     f"(at most {worse_limit} allowed): pivot line(s) {listed}")
    failed = bool(decided)
    if not failed:
        decided = [doc_rule]
        if doc_rule == "within noise":
            lines.append(f"{system} {metric}: dropped {d.drop:.2f} (> {margin}), but {why}")
        elif doc_rule == "within margin" and d.drop > 0:
            extra = f"; p = {p:.3f}, floor {d.p_floor:.3f}" if p is not None else ""
            lines.append(f"{head}: dropped {d.drop:.2f} (≤ margin {margin}{extra}; {_power_phrase(d)}): passes")
        elif doc_rule == "no margin":
            lines.append(f"{head}: no margin set for {metric}; not gated on the document score")
        else:
            lines.append(f"{head}: passes")
    return GateDecision(
        system=system, metric=metric, failed=failed, decided_by=decided, reason="\n".join(lines),
        baseline=d.baseline, candidate=d.candidate, drop=d.drop, margin=margin, p=p, p_floor=d.p_floor,
        changed=d.changed, effective_changed=d.effective_changed, underpowered=d.underpowered,
        paragraph_failures=beyond if beyond else [], worst_paragraphs=[r for r in rows[:worst] if r["drop"] > 0],
    )
