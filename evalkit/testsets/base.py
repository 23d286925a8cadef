"""The contract every standard test-set reader fulfils, and the line-reading rules they share.

A line-parallel test set (NTREX-128, FLORES-200, a sacrebleu set, a TSV or
JSONL file) needs no alignment: row i of every file is the same segment. A
reader turns one on-disk layout into a `TestSet`: the pivot rows, one reference
per target language (same length, same order), a document id per row, and a
one-line reason for every requested language the set does not have. Rows are
never dropped or merged, so row i stays row i everywhere downstream (an empty
row is the pipeline's to report, not the reader's to hide).

Readers never download: a set that is not on disk is an error that says where
evalkit looked. Text is read as UTF-8 (a BOM is tolerated), CRLF/CR become LF,
the final newline ends the last row rather than starting an empty one, and each
row loses only its surrounding whitespace.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evalkit.errors import CorpusError
from evalkit.languages import Language, find_language, from_code
from evalkit.testsets.formats import TESTSETS


class TestSetError(CorpusError):
    """A test set's files cannot be found or read, or do not line up; the message names file:line where one applies."""

    __test__ = False  # not a pytest test class, whatever its name


class TestSetConfig(BaseModel):
    """`testset:` in a run config. Which fields a format accepts is the format's reader's to say (its ClassVars)."""

    model_config = ConfigDict(extra="forbid")
    __test__ = False

    format: str = Field(description="reader name: ntrex128 | flores200 | sacrebleu | tsv | jsonl")
    path: Path | None = Field(None, description="folder or file; relative to the config file")
    split: str | None = Field(None, description="flores200: dev or devtest")
    name: str | None = Field(None, description="sacrebleu: the test set name as sacrebleu spells it, e.g. wmt19")

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in TESTSETS:
            raise ValueError(TESTSETS.unknown_message(value))
        return value

    @model_validator(mode="after")
    def _fields_the_format_takes(self) -> TestSetConfig:
        reader = self.reader()
        if reader.needs_path and self.path is None:
            raise ValueError(f"format {self.format} needs `path` ({reader.path_help})")
        if self.split is not None and self.split not in reader.splits:
            has = f"its splits are {', '.join(reader.splits)}" if reader.splits else "it has no splits"
            raise ValueError(f"format {self.format} has no split {self.split!r}; {has}")
        if self.split is None and reader.splits:
            raise ValueError(f"format {self.format} needs `split`: one of {', '.join(reader.splits)}")
        if self.name is not None and not reader.takes_name:
            raise ValueError(f"format {self.format} takes no `name` (only sacrebleu does: the test set's sacrebleu name)")
        if self.name is None and reader.takes_name:
            raise ValueError(f"format {self.format} needs `name`: the test set as sacrebleu spells it, e.g. wmt19")
        return self

    def reader(self) -> type[TestSetReader]:
        return TESTSETS.get(self.format)

    def resolved(self, base: Path) -> TestSetConfig:
        """A copy with `path` made absolute against `base` (the config file's folder), `~` expanded."""
        if self.path is None:
            return self.model_copy()
        return self.model_copy(update={"path": (Path(base) / self.path.expanduser()).resolve()})

    def problems(self) -> list[tuple[str, str]]:
        """Cheap checks at config load (the path exists, is a file or folder as the format wants): (field, message)."""
        return self.reader().problems(self)


@dataclass(frozen=True)
class TestSet:
    """One line-parallel test set read for one pivot language and the requested target languages.

    `references` is keyed by the target codes exactly as the caller passed them
    (ISO 639-1 in configs); a requested language the set lacks is in `missing`
    with the reason instead, never an error.
    """

    __test__ = False

    name: str
    source_lang: str
    source_path: Path
    sources: tuple[str, ...]
    documents: tuple[str, ...]
    has_document_ids: bool
    references: dict[str, tuple[str, ...]]
    reference_paths: dict[str, Path]
    missing: dict[str, str]

    def __post_init__(self) -> None:
        # The readers check their files against each other with file names in the message; this only guards the type.
        for what, rows in [("documents", self.documents), *((f"references[{k}]", v) for k, v in self.references.items())]:
            if len(rows) != len(self.sources):
                raise TestSetError(f"{self.name}: {what} has {len(rows)} rows, sources {len(self.sources)}")

    @property
    def document_ids(self) -> list[str]:
        """Distinct document ids in first-seen order."""
        return list(dict.fromkeys(self.documents))


class TestSetReader(ABC):
    """One class per on-disk layout, one file each, registered by name in `evalkit.testsets.TESTSETS`."""

    __test__ = False

    name: ClassVar[str]
    description: ClassVar[str]
    splits: ClassVar[tuple[str, ...]] = ()  # non-empty: `split` is required and must be one of these
    takes_name: ClassVar[bool] = False  # `name` required (sacrebleu) or refused (the rest)
    needs_path: ClassVar[bool] = True
    path_is_file: ClassVar[bool] = False  # the path names one file (tsv, jsonl), not a folder
    path_help: ClassVar[str] = "the test set's file or folder"

    @abstractmethod
    def read(self, config: TestSetConfig, source_lang: str, target_langs: Sequence[str]) -> TestSet: ...

    @classmethod
    def problems(cls, config: TestSetConfig) -> list[tuple[str, str]]:
        """Default load-time check: the path exists. Readers add layout checks that cost no more than a stat."""
        if config.path is not None and not config.path.exists():
            return [("testset.path", f"{config.path} does not exist ({cls.path_help})")]
        if config.path is not None and cls.path_is_file and not config.path.is_file():
            return [("testset.path", f"{config.path} is not a file ({cls.path_help})")]
        return []


# --- shared by the readers -------------------------------------------------------------------------------------


def read_rows(path: Path) -> list[str]:
    """The rows of a line-per-segment text file, by the module's rules; bad bytes are `file:line` errors."""
    return [row.strip() for row in read_lines(path)]


def read_lines(path: Path) -> list[str]:
    """A text file's lines, decoded and split by the module's rules but not stripped (TSV fields, JSON)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TestSetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return split_rows(decode(path, data))


def decode(path: Path, data: bytes) -> str:
    """UTF-8 text with a leading BOM dropped and CRLF/CR made LF; undecodable bytes name file:line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
        raise TestSetError(
            f"{path}:{line}: bytes {data[exc.start:exc.end]!r} are not UTF-8; expected UTF-8 text"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_rows(text: str) -> list[str]:
    """Rows split on LF only (not str.splitlines, which also splits on U+2028, form feed, ...); the final LF ends a row."""
    if text == "":
        return []
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def read_reference(source_path: Path, sources: Sequence[str], path: Path) -> tuple[str, ...]:
    """A reference file's rows, refused unless it has exactly one row per source row."""
    rows = read_rows(path)
    check_rows(source_path, sources, path, rows)
    return tuple(rows)


def check_rows(first: Path, first_rows: Sequence[object], other: Path, other_rows: Sequence[object]) -> None:
    """Line-parallel files must have the same number of rows: anything else misaligns every row after the gap."""
    if len(first_rows) != len(other_rows):
        raise TestSetError(
            f"{other}: {len(other_rows)} rows, but {first} has {len(first_rows)}; "
            "expected line-parallel files with one segment per line in each"
        )


def runs_to_documents(keys: Sequence[str]) -> tuple[str, ...]:
    """Document ids `doc1`, `doc2`, ... for runs of consecutive equal keys (FLORES: rows with one URL)."""
    ids: list[str] = []
    count = 0
    previous: str | None = None
    for index, key in enumerate(keys):
        if index == 0 or key != previous:
            count += 1
        ids.append(f"doc{count}")
        previous = key
    return tuple(ids)


def sacrebleu_home() -> Path:
    """sacrebleu's cache folder as sacrebleu itself computes it: `$SACREBLEU`, else `~/.sacrebleu` (read each call)."""
    return Path(os.environ.get("SACREBLEU") or Path.home() / ".sacrebleu").expanduser()


def one_file_testset(
    path: Path,
    source_lang: str,
    target_langs: Sequence[str],
    sources: list[str],
    documents: list[str] | None,
    columns: dict[str, list[str]],
    single: list[str] | None,
    what: str,
) -> TestSet:
    """A TestSet from one TSV/JSONL file: `columns` maps a language code as written in the file to its rows;
    `single` is the rows of an unlabelled `reference`, valid only when one target language is asked for.

    `what` names the labels the file could have used, for the `missing` reasons ("column reference.th or th").
    """
    if single is not None and len(target_langs) > 1:
        raise TestSetError(
            f"{path}:1: one unlabelled reference for {len(target_langs)} target languages ({', '.join(target_langs)}); "
            f"expected one labelled per language ({what.format(lang='<lang>')})"
        )
    by_language: dict[Language, list[str]] = {}
    for code, rows in columns.items():
        lang = find_language(code)
        if lang is not None:
            by_language.setdefault(lang, rows)
    references: dict[str, tuple[str, ...]] = {}
    missing: dict[str, str] = {}
    for target in target_langs:
        rows = single if single is not None else by_language.get(from_code(target))
        if rows is None:
            missing[target] = f"{path.name} has no {what.format(lang=target)} in {path.parent}"
        else:
            references[target] = tuple(rows)
    return TestSet(
        name=path.name, source_lang=source_lang, source_path=path, sources=tuple(sources),
        documents=tuple(documents) if documents is not None else (path.name,) * len(sources),
        has_document_ids=documents is not None, references=references,
        reference_paths={target: path for target in references}, missing=missing,
    )
