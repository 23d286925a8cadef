"""Sentences a reader (not a developer) understands: the pairing verdict in words, with how much was scored.

The evidence behind the verdict (nats, z, P(parallel)) stays in run.json and
`evalkit align --verbose`; reports lead with what it means.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.languages import LANGUAGES
from evalkit.results import RunResult


def language_name(code: str) -> str:
    language = LANGUAGES.get(code)
    return language.name if language is not None else code


def pairing_sentence(result: RunResult) -> str:
    """'Thai 000_….txt translates the Vietnamese 002_….txt: 16 of 17 paragraphs aligned, 94% of the text (pairing 0.8 s).'"""
    a, pivot, target = result.alignment, result.pivot, result.target
    head = (f"{language_name(target.lang)} {Path(target.path).name} translates the "
            f"{language_name(pivot.lang)} {Path(pivot.path).name}")
    c = a.coverage
    if c.get("pivot_paragraphs"):
        share = 100 * c["aligned_pivot_chars"] / c["pivot_chars"] if c.get("pivot_chars") else 0.0
        head += f": {c['aligned_pivot_paragraphs']} of {c['pivot_paragraphs']} paragraphs aligned, {share:.0f}% of the text"
    else:  # a run.json from before coverage was recorded
        head += f": {len(a.pairs)} paragraph pairs aligned"
    seconds = result.seconds.get("pairing")
    return head + (f" (pairing {seconds:.1f} s)" if seconds is not None else "")
