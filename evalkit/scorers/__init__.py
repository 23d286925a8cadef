"""Metrics: one class each, registered by the name used in configs and run.json."""

from evalkit.registry import Registry

METRICS: Registry = Registry("metric")
METRICS.register("chrf", "evalkit.scorers.lexical:ChrfScorer")
METRICS.register("chrf++", "evalkit.scorers.lexical:ChrfPlusPlusScorer")
METRICS.register("bleu", "evalkit.scorers.lexical:BleuScorer")
METRICS.register("ter", "evalkit.scorers.lexical:TerScorer")
