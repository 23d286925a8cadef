"""The scorer contract, shaped after sacrebleu's metrics.

The base class owns the public methods and the input checks, so no metric can
score unaligned or empty input by accident; subclasses only compute. Corpus
scores are computed from corpus statistics by each metric, never by averaging
paragraph scores (for BLEU the two differ by several points).

Metrics whose corpus score is a function of summed per-paragraph statistics
(all of sacrebleu's) also expose those statistics. Resampling paragraphs then
only re-sums rows of a matrix instead of re-tokenising and re-matching strings,
which is what makes bootstrap intervals and significance tests on 10,000
paragraphs take seconds rather than hours (see `evalkit.scorers.stats`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from evalkit.errors import ScoringError


@dataclass(frozen=True)
class MetricScore:
    score: float
    signature: str


class ScorerOptions(BaseModel):
    """Per-metric settings from the config (`- {name: comet, model: ...}`); unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Sources = Sequence[str] | None


class Scorer(ABC):
    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    needs_sources: ClassVar[bool] = False  # COMET-style metrics read the source paragraph too
    Options: ClassVar[type[ScorerOptions]] = ScorerOptions
    has_statistics: ClassVar[bool] = True
    """Whether the corpus score is a function of summed per-paragraph statistics (`_statistics`).

    False for a metric aggregated some other way: it still scores, but gets no
    bootstrap interval and no paired test (they resample statistics).
    """
    chunkable: ClassVar[bool] = False
    """Statistics of a slice of paragraphs are those paragraphs' rows, and the metric can be rebuilt in another
    process from (name, target_lang, options, source_lang): large runs then extract them on every core."""
    in_default_set: ClassVar[bool] = False
    """Scored when a config lists no metrics."""
    gate_margin: ClassVar[float | None] = None
    """The corpus drop `evalkit check` tolerates by default, in the metric's points; None: not gated unless configured."""

    def __init__(self, target_lang: str, options: ScorerOptions | None = None, source_lang: str | None = None) -> None:
        self.target_lang = target_lang
        self.source_lang = source_lang
        self.options = options if options is not None else self.Options()

    def load(self) -> None:
        """Load packages and weights; raise MetricUnavailableError with a one-line how-to when absent."""

    def use_cache(self, path: Path | None) -> None:
        """The run's SQLite cache file (None: caching is off), given before `load`.

        Expensive metrics (COMET) keep segment scores there, in tables of their
        own, so a re-run re-scores only what changed; cheap ones ignore it.
        """

    def close(self) -> None:
        """Release what `load` started (a worker process, a model on a GPU); called once at the end of a run."""

    def corpus_score(self, candidates: Sequence[str], references: Sequence[str], sources: Sources = None) -> MetricScore:
        self._check(candidates, references, sources)
        return MetricScore(self._corpus(list(candidates), list(references), _list(sources)), self.signature())

    def paragraph_scores(self, candidates: Sequence[str], references: Sequence[str], sources: Sources = None) -> list[float]:
        self._check(candidates, references, sources)
        return self._paragraphs(list(candidates), list(references), _list(sources))

    def statistics(self, candidates: Sequence[str], references: Sequence[str], sources: Sources = None) -> np.ndarray:
        """Sufficient statistics, one float64 row per paragraph (columns are metric-specific).

        Summing any multiset of rows and passing the sum to `score_from_statistics`
        gives the corpus score of those paragraphs; for the full set it equals
        `corpus_score(...).score` exactly.
        """
        self._check(candidates, references, sources)
        stats = np.asarray(self._statistics(list(candidates), list(references), _list(sources)), dtype=np.float64)
        if stats.ndim != 2 or stats.shape[0] != len(references):
            raise ScoringError(f"{self.name}: statistics of shape {stats.shape} for {len(references)} paragraphs")
        return stats

    def score_from_statistics(self, stats: np.ndarray) -> float:
        """Corpus score from summed statistics (1-D), or from per-paragraph rows (2-D), summed here.

        Rows are summed in float64, which is exact for the integer counts the
        lexical metrics use (up to 2**53).
        """
        stats = np.asarray(stats, dtype=np.float64)
        if stats.ndim == 2:
            if stats.shape[0] == 0:
                raise ScoringError(f"{self.name}: nothing to score (no statistics rows)")
            stats = stats.sum(axis=0)
        if stats.ndim != 1:
            raise ScoringError(f"{self.name}: statistics must be 1-D (summed) or 2-D (rows), got shape {stats.shape}")
        return float(self._score_from_statistics(stats))

    def scores_from_statistics(self, sums: np.ndarray) -> np.ndarray:
        """One corpus score per row of already-summed statistics: (R x C) -> (R,).

        Unlike `score_from_statistics` on a 2-D array (which sums the rows into
        one corpus), every row here is a corpus of its own: a bootstrap resample,
        a shuffle of approximate randomisation, one document. Element r equals
        `score_from_statistics(sums[r])` exactly; metrics override
        `_scores_from_statistics` with array arithmetic because resampling scores
        thousands of rows per interval.
        """
        sums = np.asarray(sums, dtype=np.float64)
        if sums.ndim != 2:
            raise ScoringError(f"{self.name}: summed statistics must be 2-D (one row per corpus), got shape {sums.shape}")
        if sums.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        scores = np.asarray(self._scores_from_statistics(sums), dtype=np.float64)
        if scores.shape != (sums.shape[0],):
            raise ScoringError(f"{self.name}: {scores.shape} scores for {sums.shape[0]} rows of statistics")
        return scores

    def _check(self, candidates: Sequence[str], references: Sequence[str], sources: Sources = None) -> None:
        if self.needs_sources and sources is None:
            raise ScoringError(f"{self.name}: needs the source paragraphs as well")
        if sources is not None and len(sources) != len(candidates):
            raise ScoringError(f"{self.name}: {len(sources)} sources for {len(candidates)} candidates")
        if len(candidates) != len(references):
            raise ScoringError(
                f"{self.name}: {len(candidates)} candidates but {len(references)} references; "
                f"only aligned pairs can be scored"
            )
        if not references:
            raise ScoringError(f"{self.name}: nothing to score (no aligned paragraphs)")
        empty = [i + 1 for i, ref in enumerate(references) if not ref.strip()]
        if empty:
            raise ScoringError(f"{self.name}: empty reference at pair(s) {empty[:5]}")

    @abstractmethod
    def _corpus(self, candidates: list[str], references: list[str], sources: list[str] | None) -> float: ...

    @abstractmethod
    def _paragraphs(self, candidates: list[str], references: list[str], sources: list[str] | None) -> list[float]: ...

    # Not abstract: a metric whose corpus score is not a function of summed
    # statistics (e.g. a learned metric averaged in some other way) can still be a
    # Scorer; it just cannot be resampled cheaply, and says so.
    def _statistics(self, candidates: list[str], references: list[str], sources: list[str] | None) -> np.ndarray:
        raise ScoringError(
            f"{self.name}: this metric has no additive sufficient statistics, so bootstrap intervals "
            f"and significance tests over statistics are not available for it"
        )

    def _score_from_statistics(self, summed: np.ndarray) -> float:
        raise ScoringError(f"{self.name}: this metric cannot compute a score from sufficient statistics")

    def _scores_from_statistics(self, sums: np.ndarray) -> np.ndarray:
        """Scores of many summed rows (2-D float64, at least one row); the default scores them one by one."""
        return np.fromiter((float(self._score_from_statistics(row)) for row in sums), dtype=np.float64, count=len(sums))

    def paragraph_scores_from_statistics(self, stats: np.ndarray) -> list[float] | None:
        """Paragraph scores computed from per-paragraph statistics rows, where the metric can (None: it cannot).

        Lets statistics extracted elsewhere (in worker processes) serve the
        paragraph scores without extracting them again.
        """
        return None

    def summary(self, stats: np.ndarray) -> dict[str, float] | None:
        """Per-system figures beside the corpus score, from summed statistics (None: the score says it all).

        E.g. `numbers` adds precision, recall and the paragraphs with a lost
        number; computed from the same rows, so they are exactly the score's.
        """
        return None

    def paragraph_details(
        self, candidates: Sequence[str], references: Sequence[str], sources: Sources = None
    ) -> list[dict[str, Any]] | None:
        """Per-paragraph findings beyond the score (JSON-able), stored in run.json; None when a metric has none.

        Why a separate hook: a checker such as `numbers` explains *which* items
        were lost, which a reader needs beside the number.
        """
        return None

    @abstractmethod
    def signature(self) -> str:
        """Everything needed to reproduce the corpus score."""

    def paragraph_signature(self) -> str:
        """Paragraph-level scores may use other settings (e.g. BLEU smoothing); say so."""
        return self.signature()


def _list(sources: Sources) -> list[str] | None:
    return None if sources is None else list(sources)
