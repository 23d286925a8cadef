"""Candidates a user brings: outputs of a system evalkit cannot run (an API, a human post-edit, another toolkit).

Two formats. A plain text file holds one line per pivot paragraph, in the
order of the cleaned pivot (the paragraphs `evalkit align` lists); its count
must match exactly, since one missing line would shift every candidate onto the
wrong reference. A JSONL file holds `{"line": N, "translation": "..."}` records
keyed by the pivot's 1-based line number, optionally with `"source"` — when
given, it must equal the pivot text at that line, which catches files made
from another version of the document.
"""

from __future__ import annotations

import json
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
    options: PrecomputedOptions

    def __init__(self, name, model, options) -> None:
        super().__init__(name, model, options)
        self._by_text: dict[str, str] | None = None
        self._pivot: CleanDocument | None = None

    def prepare(self, pivot: CleanDocument) -> None:
        self._pivot = pivot

    def availability(self) -> tuple[bool | None, str]:
        path = self.options.path
        return (True, f"candidates file {path}") if path.is_file() else (False, f"candidates file {path} not found")

    def load(self) -> None:
        path = self.options.path
        if not path.is_file():
            raise ModelUnavailableError(f"candidates file {path} not found; set options.path to the system's output")
        if self._pivot is None:
            raise TranslationError("precomputed candidates need the pivot document (prepare() was not called)")
        fmt = self.options.format
        if fmt == "auto":
            fmt = "jsonl" if path.suffix == ".jsonl" else "lines"
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TranslationError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
        by_line = self._read_jsonl(path, text) if fmt == "jsonl" else self._read_lines(path, text)
        self._by_text = {p.text: by_line[p.line] for p in self._pivot.paragraphs if p.line in by_line}

    def _read_lines(self, path: Path, text: str) -> dict[int, str]:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        paragraphs = self._pivot.paragraphs
        if len(lines) != len(paragraphs):
            raise TranslationError(
                f"{path}: {len(lines)} lines, but the pivot {self._pivot.path.name} has {len(paragraphs)} paragraphs "
                f"after cleaning; the file needs exactly one line per paragraph, in order (see `evalkit align`)"
            )
        return {p.line: normalise(line) for p, line in zip(paragraphs, lines)}

    def _read_jsonl(self, path: Path, text: str) -> dict[int, str]:
        pivot_text = {p.line: p.text for p in self._pivot.paragraphs}
        found: dict[int, str] = {}
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
            if line not in pivot_text:
                raise TranslationError(
                    f"{path}:{number}: line {line} is not a paragraph of {self._pivot.path.name} "
                    f"(blank, dropped as boilerplate, or past the end)"
                )
            if line in found:
                raise TranslationError(f"{path}:{number}: line {line} appears twice")
            source = record.get("source")
            if source is not None and normalise(source) != pivot_text[line]:
                raise TranslationError(
                    f"{path}:{number}: source text differs from {self._pivot.path.name} line {line}; "
                    f"the file was made from another version of the document"
                )
            found[line] = normalise(translation)
        return found

    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        if self._by_text is None:
            self.load()
        missing = [t for t in texts if t not in self._by_text]
        if missing:
            lines = [p.line for p in self._pivot.paragraphs if p.text in set(missing)]
            raise TranslationError(
                f"{self.options.path}: no candidate for pivot line(s) {', '.join(map(str, lines[:10]))}"
                f"{' …' if len(lines) > 10 else ''}; every aligned paragraph needs one"
            )
        outputs = [self._by_text[t] for t in texts]
        report_all(progress, outputs)
        return Translations.whole(outputs)

    def signature(self) -> str:
        import hashlib

        from evalkit import __version__

        path = self.options.path
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "missing"
        return f"backend:precomputed|file:{path.name}|sha256:{digest}|evalkit:{__version__}"
