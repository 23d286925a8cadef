"""Sentences a reader (not a developer) understands: the pairing verdict in words, with how much was scored.

The evidence behind the verdict (nats, z, P(parallel)) stays in run.json and
`evalkit align --verbose`; reports lead with what it means.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.languages import LANGUAGES
from evalkit.results import AlignmentRecord, DocumentEntry, RunResult


def language_name(code: str) -> str:
    language = LANGUAGES.get(code)
    return language.name if language is not None else code


def _coverage(a: AlignmentRecord) -> str:
    c = a.coverage
    if c.get("pivot_paragraphs"):
        share = 100 * c["aligned_pivot_chars"] / c["pivot_chars"] if c.get("pivot_chars") else 0.0
        return f"{c['aligned_pivot_paragraphs']} of {c['pivot_paragraphs']} paragraphs aligned, {share:.0f}% of the text"
    return f"{len(a.pairs)} paragraph pairs aligned"  # a run.json from before coverage was recorded


def document_sentence(entry: DocumentEntry) -> str:
    """'Thai 000_….txt translates the Vietnamese 002_….txt: 16 of 17 paragraphs aligned, 94% of the text'."""
    if entry.status == "missing" or entry.target is None or entry.pivot is None:
        return f"{language_name(entry.lang)}: {entry.reason or entry.status}"
    head = (f"{language_name(entry.target.lang)} {Path(entry.target.path).name} translates the "
            f"{language_name(entry.pivot.lang)} {Path(entry.pivot.path).name}")
    if entry.alignment is None:  # a line-parallel test set's document
        return f"{head}: {entry.paragraphs} segments, line-parallel"
    if entry.status != "paired":
        return f"{head}? {entry.status}: {entry.reason or entry.alignment.pairing_reason}"
    return f"{head}: {_coverage(entry.alignment)}"


def pairing_sentence(result: RunResult, lang: str | None = None) -> str:
    """How the reference text of one language (the only one when None) was found, in one sentence.

    One document: 'Thai 000_….txt translates the Vietnamese 002_….txt: 16 of 17 paragraphs aligned,
    94% of the text (pairing 0.8 s)'. A test set: 'Thai: line-parallel test set NTREX-128 (14 documents),
    197 segments'. A corpus of many: 'Thai: 12 of 14 Vietnamese documents paired (2 with no translation),
    340 of 365 paragraphs aligned, 93% of the text'.
    """
    seconds = result.seconds.get("pairing")
    # the pairing time is the run's (every language at once): said where the sentence speaks for the whole run
    timing = f" (pairing {seconds:.1f} s)" if seconds is not None and len(result.langs) == 1 else ""
    if lang is None and len(result.langs) != 1:
        return "; ".join(pairing_sentence(result, code) for code in result.langs)
    lang = lang if lang is not None else result.langs[0]
    entries = result.documents_in(lang)
    single = entries[0] if len(entries) == 1 else None
    if single is not None and single.alignment is not None and single.target is not None and single.pivot is not None:
        return document_sentence(single) + timing
    name = language_name(lang)
    scored = [d for d in entries if d.scored]
    language = next((e for e in result.languages if e.lang == lang), None)
    paragraphs = sum(d.paragraphs for d in scored)
    source = result.source or {}
    if source.get("kind") == "testset":
        set_name = source.get("name") or source.get("format") or "test set"
        head = f"{name}: line-parallel test set {set_name} ({len(scored)} document{'s' if len(scored) != 1 else ''})"
        skipped = sum(len(d.skipped) for d in entries)
        head += f", {paragraphs} segments scored" + (f", {skipped} rows skipped" if skipped else "")
        if not scored and language is not None and language.reason:
            head += f": {language.reason}"
        return head + timing
    pivot_lang = next((language_name(d.pivot.lang) for d in entries if d.pivot is not None), "pivot")
    head = f"{name}: {len(scored)} of {len(entries)} {pivot_lang} documents paired"
    unscored = len(entries) - len(scored)
    if unscored:
        missing = sum(1 for d in entries if d.status == "missing")
        parts = [f"{missing} with no translation"] if missing else []
        if unscored - missing:
            parts.append(f"{unscored - missing} refused or with nothing aligned")
        head += f" ({', '.join(parts)})"
    pivot_paragraphs = sum(d.alignment.coverage.get("pivot_paragraphs", 0) for d in scored if d.alignment)
    pivot_chars = sum(d.alignment.coverage.get("pivot_chars", 0) for d in scored if d.alignment)
    aligned_chars = sum(d.alignment.coverage.get("aligned_pivot_chars", 0) for d in scored if d.alignment)
    if pivot_paragraphs and pivot_chars:
        aligned = sum(d.alignment.coverage.get("aligned_pivot_paragraphs", 0) for d in scored if d.alignment)
        head += (f", {aligned} of {pivot_paragraphs} paragraphs aligned, "
                 f"{100 * aligned_chars / pivot_chars:.0f}% of the text")
    elif scored:
        head += f", {paragraphs} paragraph pairs aligned"
    return head + timing
