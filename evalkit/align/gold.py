"""Alignment accuracy against a hand-checked gold alignment (vecalign's scorer, strict variant).

A predicted pair counts as correct only when both its source lines and its
target lines equal a gold pair's; precision and recall are over pairs (1-0 and
0-1 beads are not pairs). `spurious` counts predicted pairs that touch a line
the gold leaves unmatched (a caption, boilerplate, an untranslated tail): those
are the errors that put wrong text in front of a metric, so they are reported
on their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evalkit.errors import CorpusError

LinePair = tuple[tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True)
class GoldAlignment:
    path: Path
    pivot: str
    target: str
    source_lang: str
    target_lang: str
    pairs: tuple[LinePair, ...]


@dataclass(frozen=True)
class AlignmentAccuracy:
    precision: float
    recall: float
    f1: float
    correct: int
    predicted: int
    gold: int
    spurious: int  # predicted pairs touching a line the gold leaves unmatched


def load_gold(path: Path) -> GoldAlignment:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pairs = tuple((tuple(map(int, s)), tuple(map(int, t))) for s, t in data["pairs"])
        return GoldAlignment(path, data["pivot"], data["target"], data["source_lang"], data["target_lang"], pairs)
    except FileNotFoundError:
        raise CorpusError(f"{path}: gold alignment not found") from None
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except KeyError as exc:
        raise CorpusError(f"{path}: missing field {exc.args[0]!r}") from None
    except (TypeError, ValueError):
        raise CorpusError(f"{path}: pairs must be [[source lines], [target lines]] lists of integers") from None


def score_alignment(predicted: Iterable[LinePair], gold: Sequence[LinePair]) -> AlignmentAccuracy:
    predicted = [(tuple(s), tuple(t)) for s, t in predicted if s and t]
    gold_set = set(gold)
    correct = sum(1 for pair in predicted if pair in gold_set)
    gold_source = {line for s, _ in gold for line in s}
    gold_target = {line for _, t in gold for line in t}
    spurious = sum(1 for s, t in predicted if not set(s) <= gold_source or not set(t) <= gold_target)
    precision = correct / len(predicted) if predicted else 0.0
    recall = correct / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return AlignmentAccuracy(precision, recall, f1, correct, len(predicted), len(gold), spurious)
