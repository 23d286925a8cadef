"""Candidates a user brings: outputs of a system evalkit cannot run (an API, a human post-edit, another toolkit).

Two formats. A plain text file holds one line per pivot paragraph, in the
order of the cleaned pivot (the paragraphs `evalkit align` lists); its count
must match exactly, since one missing line would shift every candidate onto the
wrong reference. A JSONL file holds `{"line": N, "translation": "..."}` records
keyed by the pivot's 1-based line number, optionally with `"source"` — when
given, it must equal the pivot text at that line, which catches files made
from another version of the document — and `"document"` (the pivot file's
name), required when the run has several pivot documents.

A run into several target languages needs one file per language: `{lang}` in
the path (`outputs/nllb.{lang}.txt`) is replaced by each target's code; one file
for every language would score one language's output against another's reference.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from evalkit.backends.base import BackendOptions, ProgressCallback, Translations, Translator, report_all
from evalkit.corpus import CleanDocument
from evalkit.corpus.clean import normalise
from evalkit.errors import ModelUnavailableError, TranslationError
from evalkit.option_types import ConfigPath


class PrecomputedOptions(BackendOptions):
    path: ConfigPath = Field(description="candidates file, relative to the config file")
    format: Literal["auto", "lines", "jsonl"] = Field("auto", description="auto: .jsonl is JSONL, anything else lines")


class PrecomputedTranslator(Translator):
    Options = PrecomputedOptions
    cacheable = False  # reading a file is already free
    text_keyed = False  # a line repeated in two places may have two translations: candidates belong to positions
    options: PrecomputedOptions

    def __init__(self, name, model, options) -> None:
        super().__init__(name, model, options)
        self._by_text: dict[str, dict[str, str]] = {}  # target language → pivot text → candidate
        self._pivots: tuple[CleanDocument, ...] = ()
        self._read: list[Path] = []
        self._current: Path | None = None  # the file the latest language's candidates come from (or were looked for in)
        self._positions: tuple[tuple[str, int], ...] | None = None
        self._by_line: dict[str, dict[tuple[str, int], str]] = {}

    @classmethod
    def config_problems(cls, options: PrecomputedOptions, target_langs: Sequence[str]) -> list[str]:
        if len(target_langs) > 1 and "{lang}" not in str(options.path):
            return [f"one candidates file cannot serve {len(target_langs)} target languages; put {{lang}} in "
                    f"options.path (e.g. {options.path.stem}.{{lang}}{options.path.suffix}), one file per language"]
        return []

    def prepare(self, pivots: Sequence[CleanDocument]) -> None:
        self._pivots = tuple(pivots)

    def locate(self, positions: Sequence[tuple[str, int]] | None) -> None:
        self._positions = tuple(positions) if positions is not None else None

    def _path(self, lang: str | None) -> Path:
        return Path(str(self.options.path).replace("{lang}", lang)) if lang else self.options.path

    def availability(self) -> tuple[bool | None, str]:
        path = self.options.path
        if "{lang}" in str(path):
            return None, f"candidates files {path} (one per target language)"
        return (True, f"candidates file {path}") if path.is_file() else (False, f"candidates file {path} not found")

    def load(self) -> None:
        if not self._pivots:
            raise TranslationError("precomputed candidates need the pivot documents (prepare() was not called)")
        if "{lang}" not in str(self.options.path):
            self._candidates(None)

    def _candidates(self, lang: str | None) -> dict[str, str]:
        key = lang if "{lang}" in str(self.options.path) else ""
        if key in self._by_text:
            return self._by_text[key]
        path = self._path(key or None)
        if not path.is_file():
            raise ModelUnavailableError(f"candidates file {path} not found; set options.path to the system's output")
        fmt = self.options.format
        if fmt == "auto":
            fmt = "jsonl" if path.suffix == ".jsonl" else "lines"
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TranslationError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
        by_line = self._read_jsonl(path, text) if fmt == "jsonl" else self._read_lines(path, text)
        self._by_line[key] = by_line
        self._by_text[key] = {p.text: by_line[(d.path.name, p.line)]
                              for d in self._pivots for p in d.paragraphs if (d.path.name, p.line) in by_line}
        self._read.append(path)
        return self._by_text[key]

    def _read_lines(self, path: Path, text: str) -> dict[tuple[str, int], str]:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(self._pivots) != 1:
            raise TranslationError(
                f"{path}: a plain text file holds one pivot document's candidates, and this run translates "
                f"{len(self._pivots)}; use JSONL records with \"document\", \"line\" and \"translation\"")
        pivot = self._pivots[0]
        paragraphs = pivot.paragraphs
        if len(lines) != len(paragraphs):
            raise TranslationError(
                f"{path}: {len(lines)} lines, but the pivot {pivot.path.name} has {len(paragraphs)} paragraphs "
                f"after cleaning; the file needs exactly one line per paragraph, in order (see `evalkit align`)"
            )
        return {(pivot.path.name, p.line): normalise(line) for p, line in zip(paragraphs, lines)}

    def _read_jsonl(self, path: Path, text: str) -> dict[tuple[str, int], str]:
        pivots = {d.path.name: {p.line: p.text for p in d.paragraphs} for d in self._pivots}
        found: dict[tuple[str, int], str] = {}
        for number, raw in enumerate(text.split("\n"), start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
                line, translation = record["line"], record["translation"]
            except json.JSONDecodeError as exc:
                raise TranslationError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            except (KeyError, TypeError):
                raise TranslationError(f'{path}:{number}: expected {{"line": N, "translation": "..."}}') from None
            if not isinstance(line, int) or not isinstance(translation, str):
                raise TranslationError(f"{path}:{number}: line must be an integer and translation a string")
            document = record.get("document")
            if document is None:
                if len(pivots) != 1:
                    raise TranslationError(f'{path}:{number}: "document" is required: this run translates '
                                           f"{len(pivots)} pivot documents (name the pivot file, e.g. {next(iter(pivots))})")
                document = next(iter(pivots))
            if document not in pivots:
                raise TranslationError(f"{path}:{number}: document {document!r} is not a pivot document of this run")
            pivot_text = pivots[document]
            if line not in pivot_text:
                raise TranslationError(
                    f"{path}:{number}: line {line} is not a paragraph of {document} "
                    f"(blank, dropped as boilerplate, or past the end)"
                )
            if (document, line) in found:
                raise TranslationError(f"{path}:{number}: line {line} appears twice")
            source = record.get("source")
            if source is not None and normalise(source) != pivot_text[line]:
                raise TranslationError(
                    f"{path}:{number}: source text differs from {document} line {line}; "
                    f"the file was made from another version of the document"
                )
            found[(document, line)] = normalise(translation)
        return found

    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        self._current = self._path(target_lang if "{lang}" in str(self.options.path) else None)
        by_text = self._candidates(target_lang)
        if self._positions is not None and len(self._positions) == len(texts):
            by_line = self._by_line[target_lang if "{lang}" in str(self.options.path) else ""]
            absent = [p for p in self._positions if p not in by_line]
            if absent:
                shown = ", ".join(f"{d}:{line}" if len(self._pivots) > 1 else str(line) for d, line in absent[:10])
                raise TranslationError(f"{self._path(target_lang)}: no candidate for pivot line(s) {shown}"
                                       f"{' …' if len(absent) > 10 else ''}; every aligned paragraph needs one")
            outputs = [by_line[p] for p in self._positions]
            report_all(progress, outputs)
            return Translations.whole(outputs)
        missing = set(texts) - set(by_text)
        if missing:
            lines = [f"{d.path.name}:{p.line}" if len(self._pivots) > 1 else str(p.line)
                     for d in self._pivots for p in d.paragraphs if p.text in missing]
            raise TranslationError(
                f"{self._path(target_lang)}: no candidate for pivot line(s) {', '.join(lines[:10])}"
                f"{' …' if len(lines) > 10 else ''}; every aligned paragraph needs one"
            )
        outputs = [by_text[t] for t in texts]
        report_all(progress, outputs)
        return Translations.whole(outputs)

    def signature(self) -> str:
        import hashlib

        from evalkit import __version__

        path = self._current or self.options.path
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "missing"
        return f"backend:precomputed|file:{path.name}|sha256:{digest}|evalkit:{__version__}"
