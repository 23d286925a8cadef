"""Word segmentation for languages written without spaces between words.

sacrebleu's BLEU and TER split on spaces, so a Thai paragraph is a single
"word" and BLEU is 0.00 even for an exact copy, with no warning. Segmenting
both candidate and reference into words first (PyThaiNLP's dictionary-based
`newmm`, which works offline) makes BLEU/TER meaningful; the segmenter is part
of the score's signature because a different segmenter gives a different number.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from evalkit.errors import ScoringError
from evalkit.languages import get_language
from evalkit.words import SEGMENTERS

# Languages for which sacrebleu itself has a word tokenizer.
SACREBLEU_TOKENIZERS = {"zh": "zh", "ja": "ja-mecab", "ko": "ko-mecab"}


@cache
def segmenter(lang: str) -> tuple[Callable[[str], str], str] | None:
    """(segment function, its signature) for a language without spaces, or None when spaces suffice."""
    if get_language(lang).spaces or lang in SACREBLEU_TOKENIZERS:
        return None
    if lang not in SEGMENTERS:
        raise ScoringError(
            f"word-based metrics (BLEU, TER, chrF++) need a word segmenter for {lang!r}, which evalkit lacks; "
            f"use chrf, which does not depend on words"
        )
    return SEGMENTERS[lang]()
