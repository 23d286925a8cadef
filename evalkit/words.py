"""Word segmentation of Thai (PyThaiNLP's dictionary-based ``newmm``, offline), shared by the scorers
(BLEU/TER/chrF++ need words) and the aligner's translation lexicon, and remembered in the run's cache
file (:mod:`evalkit.memo`) so a re-run segments nothing again."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from functools import cache, lru_cache

from evalkit.memo import remembered


@cache
def thai_newmm() -> tuple[Callable[[str], str], str]:
    """(segment: text -> words joined by spaces, signature); one per process, so the scorers and the
    aligner share its in-process cache."""
    # The version from metadata: importing pythainlp is deferred to the first paragraph the memo lacks.
    signature = f"pythainlp.newmm-{importlib.metadata.version('pythainlp')}"

    def newmm(texts: list[str]) -> list[str]:
        from pythainlp.tokenize import word_tokenize

        return [" ".join(w for w in word_tokenize(t, engine="newmm", keep_whitespace=False) if w.strip()) for t in texts]

    @lru_cache(maxsize=1 << 17)  # BLEU, chrF++ and TER segment the same paragraphs: once each, not three times
    def segment(text: str) -> str:
        # remembered across runs by the run's memo: a re-run need not build PyThaiNLP's dictionary (0.6 s)
        return remembered("segment-th", lambda: signature, newmm, [text])[0]

    return segment, signature


# Languages written without spaces that evalkit can split into words, and how.
SEGMENTERS: dict[str, Callable[[], tuple[Callable[[str], str], str]]] = {"th": thai_newmm}

__all__ = ["thai_newmm", "SEGMENTERS"]
