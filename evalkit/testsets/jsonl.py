"""A JSON Lines test set: one object per line, one segment per object.

    {"source": "...", "reference": "...", "doc": "a1"}                  one target language
    {"source": "...", "references": {"th": "...", "ms": "..."}}         several; keys in any spelling the
                                                                         language table knows (th, tha, tha_Thai)

`source` (the pivot text, any pivot language) is required; `doc` (a string or
integer document id) is optional but, if one line has it, every line must. Every
line must name the same reference languages, since a reference present on some
rows only cannot be scored as a set. Unknown keys are errors rather than
silently ignored; so are blank lines (JSON Lines has none).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from evalkit.languages import find_language
from evalkit.testsets.base import TestSet, TestSetConfig, TestSetError, TestSetReader, one_file_testset, read_lines

KEYS = ("source", "reference", "references", "doc")
LABELS = "key references.{lang}"


class JsonlReader(TestSetReader):
    name = "jsonl"
    description = "JSON Lines file: {source, reference | references: {lang: text}, doc?} per line"
    path_is_file = True
    path_help = "a .jsonl file, one JSON object per line"

    def read(self, config: TestSetConfig, source_lang: str, target_langs: Sequence[str]) -> TestSet:
        path = config.path
        lines = read_lines(path)
        if not lines:
            raise TestSetError(f"{path}:1: empty file; expected one JSON object per line with `source`")

        sources: list[str] = []
        documents: list[str] = []
        single: list[str] = []
        columns: dict[str, list[str]] = {}
        first_form: tuple[str, ...] | None = None  # the first line's reference labels: every line must match
        for number, line in enumerate(lines, start=1):
            where = f"{path}:{number}"
            row = _parse(where, line)
            unknown = [key for key in row if key not in KEYS]
            if unknown:
                raise TestSetError(f"{where}: unknown field {unknown[0]!r}; expected {', '.join(KEYS)}")
            sources.append(_text(where, row, "source"))
            if number == 1:
                has_doc = "doc" in row
            elif ("doc" in row) != has_doc:
                state = "has" if "doc" in row else "lacks"
                raise TestSetError(f"{where}: {state} field doc, unlike line 1; expected doc on every line or on none")
            if "doc" in row:
                documents.append(_doc(where, row["doc"]))
            if "reference" in row and "references" in row:
                raise TestSetError(f"{where}: both `reference` and `references`; use one")
            if "reference" in row:
                form: tuple[str, ...] = ("reference",)
                single.append(_text(where, row, "reference"))
            elif "references" in row:
                refs = row["references"]
                if not isinstance(refs, dict):
                    raise TestSetError(f"{where}: field references is {type(refs).__name__}; expected an object "
                                       '{"<lang>": "text", ...}')
                form = tuple(sorted(refs))
                named: dict[object, str] = {}
                for code in refs:
                    lang = find_language(code)
                    if lang is None:
                        raise TestSetError(f"{where}: field references.{code}: unknown language code {code!r}")
                    if lang in named:
                        raise TestSetError(f"{where}: references.{named[lang]} and references.{code} are both "
                                           f"{lang.name}; keep one")
                    named[lang] = code
                    columns.setdefault(code, []).append(_text(where, refs, code, label=f"references.{code}"))
            else:
                form = ()
            if first_form is None:
                first_form = form
            elif form != first_form:
                raise TestSetError(
                    f"{where}: references for {', '.join(form) or 'nothing'}, but line 1 has "
                    f"{', '.join(first_form) or 'none'}; expected the same reference languages on every line"
                )
        return one_file_testset(
            path, source_lang, target_langs, sources, documents or None, columns,
            single if first_form == ("reference",) else None, LABELS,
        )


def _parse(where: str, line: str) -> dict[str, Any]:
    if not line.strip():
        raise TestSetError(f"{where}: blank line; expected one JSON object per line")
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TestSetError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno}); expected one object per line") from None
    if not isinstance(row, dict):
        raise TestSetError(f"{where}: a JSON {type(row).__name__}; expected an object with `source`")
    return row


def _text(where: str, row: dict[str, Any], key: str, label: str | None = None) -> str:
    label = label or key
    if key not in row:
        raise TestSetError(f"{where}: no field {label}; expected a string")
    value = row[key]
    if not isinstance(value, str):
        raise TestSetError(f"{where}: field {label} is {json.dumps(value)[:40]}; expected a string")
    return value.strip()


def _doc(where: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise TestSetError(f"{where}: field doc is {json.dumps(value)[:40]}; expected a non-empty string or integer")
    return str(value).strip()
