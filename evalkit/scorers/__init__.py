"""Metrics: one class each, registered by the name used in configs and run.json."""

from evalkit.registry import Registry

METRICS: Registry = Registry("metric")
METRICS.register("chrf", "evalkit.scorers.lexical:ChrfScorer")
METRICS.register("chrf++", "evalkit.scorers.lexical:ChrfPlusPlusScorer")
METRICS.register("bleu", "evalkit.scorers.lexical:BleuScorer")
METRICS.register("ter", "evalkit.scorers.lexical:TerScorer")
METRICS.register("spbleu", "evalkit.scorers.spbleu:SpBleuScorer")
METRICS.register("comet", "evalkit.scorers.neural:CometScorer")
METRICS.register("cometkiwi", "evalkit.scorers.neural:CometKiwiScorer")
METRICS.register("bertscore", "evalkit.scorers.neural:BertScoreScorer")
METRICS.register("numbers", "evalkit.scorers.numbers:NumbersScorer")


def default_metric_names() -> list[str]:
    """The metrics a config without `metrics:` scores, in registration order (which is report column order)."""
    return [name for name in METRICS.registered() if METRICS.get(name).in_default_set]


def default_gate_margins() -> dict[str, float]:
    """Each registered metric's default `evalkit check` margin, where it has one."""
    margins = {}
    for name in METRICS.registered():
        try:
            margin = METRICS.get(name).gate_margin
        except ImportError:  # an optional metric whose module needs a package that is not installed
            continue
        if margin is not None:
            margins[name] = margin
    return margins
