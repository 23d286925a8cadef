"""Document pairing: which corpus documents translate the pivot, in which language.

A corpus folder of scrapes mixes translations of the pivot with other articles
on the same story. Scoring an MT system against a document that is not a
translation of its input produces confident-looking nonsense, so evalkit checks
two things before anything is translated: each document is in the language the
config declares (lingua, offline), and the reference aligns with the pivot as a
translation does (`evalkit.align.assess_translation`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evalkit.align import Alignment, PairingVerdict
from evalkit.config import DocumentConfig, RunConfig
from evalkit.corpus import CleanDocument, load_document
from evalkit.corpus.langid import LanguageGuess, detect_document, supported
from evalkit.errors import CorpusError
from evalkit.languages import language_label
from evalkit.survey import align_documents

MIN_LANGUAGE_CONFIDENCE = 0.5  # below this lingua is undecided and the declaration stands


@dataclass(frozen=True)
class DocumentSurvey:
    """One corpus document judged against the pivot."""

    path: Path
    detected_lang: str | None
    lang_confidence: float
    is_translation: bool
    score: float
    reason: str


@dataclass(frozen=True)
class PairedDocuments:
    pivot: CleanDocument
    target: CleanDocument
    alignment: Alignment
    verdict: PairingVerdict
    pivot_lang: LanguageGuess
    target_lang: LanguageGuess
    survey: tuple[DocumentSurvey, ...]  # every other document of the corpus; empty unless asked for


def check_language(doc: CleanDocument, declared: DocumentConfig, role: str) -> LanguageGuess:
    """Detect the document's language and refuse a config that declares another."""
    guess = detect_document(doc.texts)
    if (
        declared.check_lang
        and supported(declared.lang)
        and guess.lang is not None
        and guess.lang != declared.lang
        and guess.confidence >= MIN_LANGUAGE_CONFIDENCE
    ):
        raise CorpusError(
            f"{doc.path}: the text is {language_label(guess.lang)} (lingua confidence {guess.confidence:.2f}) but "
            f"{role}.lang is {declared.lang!r}; fix {role}.lang or {role}.file (or set {role}.check_lang: false)"
        )
    return guess


def survey_corpus(corpus: Path, pivot: CleanDocument, pivot_lang: str) -> list[DocumentSurvey]:
    """Judge every other .txt document of the corpus folder against the pivot."""
    found = []
    for path in sorted(p for p in corpus.iterdir() if p.is_file() and p.suffix == ".txt" and p != pivot.path):
        try:
            doc = load_document(path)
        except CorpusError as exc:
            found.append(DocumentSurvey(path, None, 0.0, False, 0.0, f"unreadable: {exc}"))
            continue
        guess = detect_document(doc.texts)
        _, verdict = align_documents(pivot, doc, pivot_lang, guess.lang or "und")
        reason = verdict.reason
        if guess.lang == pivot_lang:
            reason = f"same language as the pivot; {reason}"
        found.append(DocumentSurvey(path, guess.lang, guess.confidence, verdict.is_translation, verdict.score, reason))
    return found


def pair_documents(config: RunConfig, survey: bool = False, target: DocumentConfig | None = None) -> PairedDocuments:
    """Load, language-check and align the pivot with one reference (chosen from the corpus when not named).

    What `evalkit align` shows; `target` defaults to the config's only target.
    """
    target_config = target or config.single_target
    if target_config is None:
        raise CorpusError(f"{config.source_path or 'config'}: name the target language to align "
                          f"(the config has {', '.join(config.target_langs)})")
    if config.pivot.file is None or config.corpus is None:
        raise CorpusError(f"{config.source_path or 'config'}: evalkit align shows one pivot document; "
                          f"set pivot.file (a corpus or test set is paired by `evalkit run`)")
    pivot = load_document(config.pivot.file)
    pivot_lang = check_language(pivot, config.pivot, "pivot")
    src, tgt = config.pivot.lang, target_config.lang
    surveyed = survey_corpus(config.corpus, pivot, src) if survey or target_config.file is None else []
    if target_config.file is not None:
        target_doc = load_document(target_config.file)
    else:
        # lingua knows ~75 languages; for others (Lao, Khmer, Burmese) any translation not in the pivot's language qualifies.
        candidates = [s for s in surveyed if s.is_translation
                      and (s.detected_lang == tgt if supported(tgt) else s.detected_lang != src)]
        if not candidates:
            listing = "; ".join(
                f"{s.path.name}: {language_label(s.detected_lang)}, {'translation' if s.is_translation else 'not a translation'}"
                for s in surveyed
            ) or "no other .txt files"
            raise CorpusError(
                f"{config.corpus}: no {language_label(tgt)} document translates {pivot.path.name} ({listing}); "
                f"set target.file to choose one"
            )
        target_doc = load_document(max(candidates, key=lambda s: s.score).path)
    target_lang = check_language(target_doc, target_config, "target")
    alignment, verdict = align_documents(pivot, target_doc, src, tgt)
    return PairedDocuments(pivot, target_doc, alignment, verdict, pivot_lang, target_lang, tuple(surveyed))


@dataclass(frozen=True)
class NamedPair:
    """The pivot against a reference the config names."""

    lang: str
    target: CleanDocument
    target_lang: LanguageGuess
    alignment: Alignment
    verdict: PairingVerdict


def pair_named(config: RunConfig, named: Sequence[DocumentConfig]) -> tuple[CleanDocument, LanguageGuess, list[NamedPair]]:
    """The pivot file against each reference the config names: language-checked and aligned, no search."""
    pivot = load_document(config.pivot.file)
    pivot_lang = check_language(pivot, config.pivot, "pivot")
    pairs = []
    for target_config in named:
        role = "target" if config.target is not None else f"targets[{config.targets.index(target_config)}]"
        target = load_document(target_config.file)
        guess = check_language(target, target_config, role)
        alignment, verdict = align_documents(pivot, target, config.pivot.lang, target_config.lang)
        pairs.append(NamedPair(target_config.lang, target, guess, alignment, verdict))
    return pivot, pivot_lang, pairs
