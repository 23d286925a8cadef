"""The scorer contract, shaped after sacrebleu's metrics.

The base class owns the public methods and the input checks, so no metric can
score unaligned or empty input by accident; subclasses only compute. Corpus
scores are computed from corpus statistics by each metric, never by averaging
paragraph scores (for BLEU the two differ by several points).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from evalkit.errors import ScoringError


@dataclass(frozen=True)
class MetricScore:
    score: float
    signature: str


class Scorer(ABC):
    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True

    def __init__(self, target_lang: str) -> None:
        self.target_lang = target_lang

    def corpus_score(self, candidates: Sequence[str], references: Sequence[str]) -> MetricScore:
        self._check(candidates, references)
        return MetricScore(self._corpus(list(candidates), list(references)), self.signature())

    def paragraph_scores(self, candidates: Sequence[str], references: Sequence[str]) -> list[float]:
        self._check(candidates, references)
        return self._paragraphs(list(candidates), list(references))

    def _check(self, candidates: Sequence[str], references: Sequence[str]) -> None:
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
    def _corpus(self, candidates: list[str], references: list[str]) -> float: ...

    @abstractmethod
    def _paragraphs(self, candidates: list[str], references: list[str]) -> list[float]: ...

    @abstractmethod
    def signature(self) -> str:
        """Everything needed to reproduce the corpus score."""

    def paragraph_signature(self) -> str:
        """Paragraph-level scores may use other settings (e.g. BLEU smoothing); say so."""
        return self.signature()
