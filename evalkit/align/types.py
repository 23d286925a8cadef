"""Result types of the paragraph aligner.

They are frozen dataclasses of plain tuples/floats so that alignments can be
hashed, compared in tests and serialised without custom code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bead:
    """One step of a monotonic alignment (Gale & Church 1993 call it a "bead").

    ``source``/``target`` hold 0-based paragraph indices; one side is empty for
    a 1-0 (source paragraph left unmatched) or 0-1 bead (target paragraph left
    unmatched).  ``confidence`` is in [0, 1]: for a pair, how likely it is a
    real translation pair; for a 1-0/0-1 bead, how sure we are that the
    paragraph really has no counterpart.
    """

    source: tuple[int, ...]
    target: tuple[int, ...]
    confidence: float

    @property
    def is_pair(self) -> bool:
        return bool(self.source) and bool(self.target)


@dataclass(frozen=True)
class Alignment:
    """Every source and target index appears in exactly one bead; beads are in
    source order, and in target order too except the pairs of a moved block
    (:mod:`evalkit.align.moved`), which a monotonic alignment cannot make."""

    beads: tuple[Bead, ...]

    @property
    def pairs(self) -> tuple[Bead, ...]:
        return tuple(b for b in self.beads if b.source and b.target)

    @property
    def unmatched_source(self) -> tuple[int, ...]:
        return tuple(i for b in self.beads if not b.target for i in b.source)

    @property
    def unmatched_target(self) -> tuple[int, ...]:
        return tuple(j for b in self.beads if not b.source for j in b.target)


@dataclass(frozen=True)
class PairingVerdict:
    """Document-level answer to "is the target a translation of the source?"."""

    is_translation: bool
    score: float
    reason: str


@dataclass(frozen=True)
class ParallelEvidence:
    """Document-level evidence that source and target are parallel."""

    gain: float  # nats saved by the best path in document order vs leaving all unmatched (tested windows)
    shuffled_mean: float  # the same for shuffled target orders
    shuffled_sd: float
    z: float  # (gain - shuffled_mean) / shuffled_sd; 0 when not testable
    order_testable: bool  # False when a side has too few paragraphs
    anchor_mean: float  # mean anchor bonus of the aligned pairs (nats, >0 = agreement)
    n_pairs: int
    p_parallel: float  # filled by the verdict's calibration
    tested: int = 0  # source paragraphs inside the tested windows
    excess: float = 0.0  # (gain - shuffled_mean) per tested paragraph of the shorter side
    coverage: float = 0.0  # share of the better-covered side's characters inside pairs
    lexical: bool = False  # a translation lexicon took part (the calibration differs: its evidence is stronger)
