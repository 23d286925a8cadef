"""Which writing system a document is in, from Unicode character names.

Used when evalkit must pick the reference document itself: a Thai reference
has to be in Thai script. It cannot tell Malay from Indonesian (both Latin);
the alignment verdict decides between documents in the same script.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

# FLORES-200 script codes → the first word of Unicode character names in that script.
UNICODE_SCRIPT = {
    "Latn": "LATIN", "Thai": "THAI", "Laoo": "LAO", "Khmr": "KHMER", "Mymr": "MYANMAR",
    "Hang": "HANGUL", "Hans": "CJK", "Hant": "CJK", "Jpan": "CJK", "Cyrl": "CYRILLIC", "Arab": "ARABIC",
}


def script_counts(text: str) -> Counter[str]:
    """Letters per Unicode script name."""
    counts: Counter[str] = Counter()
    for char in text:
        if char.isalpha():
            counts[unicodedata.name(char, "UNKNOWN").split(" ")[0]] += 1
    return counts


def dominant_script(texts: Iterable[str]) -> str | None:
    """The Unicode script name of most letters (e.g. "LATIN", "THAI"), or None without letters."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(script_counts(text))
    return counts.most_common(1)[0][0] if counts else None
