"""Pure helpers shared by model backends: fitting inputs under a length limit, and planning batches.

Splitting: a paragraph longer than the model's input limit is cut at sentence
ends (then at spaces, for scripts like Thai that mark sentence ends with a
space), each piece translated, and the pieces joined in order. Truncating would
silently drop the end of the paragraph and score the system on a translation
of less than its reference.

Batching: inputs sorted by token length are packed into batches bounded by a
paragraph count and by a token budget (padded length × rows), so one long
paragraph does not make a whole batch pad to its length and run out of memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from evalkit.backends.base import Finished, Translations
from evalkit.errors import TranslationError

_SENTENCE_END = re.compile(r"(?<=[.!?。！？…»”\"'])\s+")
_SPACE = re.compile(r"\s+")


def _pack(units: list[str], count: Callable[[str], int], limit: int) -> list[str] | None:
    """Greedily join consecutive units into pieces under the limit; None if one unit alone exceeds it."""
    pieces: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current} {unit}" if current else unit
        if count(candidate) <= limit:
            current = candidate
            continue
        if not current or count(unit) > limit:
            return None
        pieces.append(current)
        current = unit
    if current:
        pieces.append(current)
    return pieces


def split_to_fit(text: str, count: Callable[[str], int], limit: int) -> list[str]:
    """`[text]` when it fits; otherwise sentence-sized pieces that each fit, in order."""
    if count(text) <= limit:
        return [text]
    for splitter in (_SENTENCE_END, _SPACE):
        pieces = _pack([u for u in splitter.split(text) if u], count, limit)
        if pieces:
            return pieces
    raise TranslationError(
        f"a paragraph of {count(text)} tokens has a run without spaces longer than the model's limit of {limit} "
        f"tokens; evalkit does not truncate silently"
    )


def plan_batches(
    lengths: Sequence[int], batch_size: int, max_batch_tokens: int | None, beams: int = 1
) -> list[list[int]]:
    """Indices grouped into batches, longest first; each ≤ batch_size rows and ≤ max_batch_tokens padded tokens.

    With beam search every paragraph is decoded as `beams` rows, each with its
    own copy of the encoder states and cross-attention cache, so the token
    budget counts padded tokens × rows × beams: a beam-4 batch holds as many
    decoder rows, and as much memory, as a greedy batch under the same budget.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    for index in order:
        if batches:
            batch = batches[-1]
            padded = lengths[batch[0]] * (len(batch) + 1) * beams  # the first item is the longest
            if len(batch) < batch_size and (max_batch_tokens is None or padded <= max_batch_tokens):
                batch.append(index)
                continue
        batches.append([index])
    return batches


class Pieces:
    """Paragraphs cut into pieces that fit the model, translated in any order, reassembled in order.

    `pieces[k]` belongs to paragraph `owner[k]`; `counts[i]` is how many pieces
    paragraph i was cut into (reported, never hidden). `put` returns the
    paragraph its output completed, if any, which is what a progress callback
    (and the cache behind it) receives.
    """

    def __init__(self, texts: Sequence[str], count: Callable[[str], int], limit: int) -> None:
        self.pieces: list[str] = []
        self.owner: list[int] = []
        self.counts: list[int] = []
        for index, text in enumerate(texts):
            parts = split_to_fit(text, count, limit)
            self.counts.append(len(parts))
            self.pieces += parts
            self.owner += [index] * len(parts)
        self._remaining = list(self.counts)
        self._outputs = [""] * len(self.pieces)
        self._first = {}  # paragraph → index of its first piece
        for k, index in enumerate(self.owner):
            self._first.setdefault(index, k)

    def put(self, k: int, output: str) -> Finished | None:
        self._outputs[k] = output
        index = self.owner[k]
        self._remaining[index] -= 1
        if self._remaining[index]:
            return None
        return Finished(index, self._joined(index), self.counts[index])

    def _joined(self, index: int) -> str:
        start = self._first[index]
        parts = self._outputs[start : start + self.counts[index]]
        return " ".join(part for part in parts if part)

    def result(self) -> Translations:
        return Translations([self._joined(i) for i in range(len(self.counts))], list(self.counts))
