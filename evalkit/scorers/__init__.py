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
