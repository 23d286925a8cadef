"""A plain tab-separated test set: one segment per row, a header row naming the columns.

    source<TAB>reference                 one target language
    doc<TAB>source<TAB>reference.th<TAB>ms  several: `reference.<lang>` or `<lang>`, any spelling the language
                                         table knows (th, tha, tha_Thai)

`source` holds the pivot text (any pivot language), `doc` (optional) the
document id of each row. Fields are everything between tabs: no quoting (write
with `csv.QUOTE_NONE` / `quoting=3` in pandas), so a quote character is text.
A bare language column is a language code, so a column named `id` holds
Indonesian references: name row ids `doc` or drop them.
Every row must have the header's number of fields; an unknown column is an
error rather than silently ignored, and so is a blank line (it would be a row
with no fields and shift nothing, but it usually means a broken export).
"""

from __future__ import annotations

from collections.abc import Sequence

from evalkit.languages import find_language
from evalkit.testsets.base import TestSet, TestSetConfig, TestSetError, TestSetReader, one_file_testset, read_lines

LABELS = "column reference.{lang} or {lang}"


class TsvReader(TestSetReader):
    name = "tsv"
    description = "TSV file with a header: source, reference or reference.<lang> / <lang>, optional doc"
    path_is_file = True
    path_help = "a .tsv file with a header row"

    def read(self, config: TestSetConfig, source_lang: str, target_langs: Sequence[str]) -> TestSet:
        path = config.path
        lines = read_lines(path)
        if not lines:
            raise TestSetError(f"{path}:1: empty file; expected a header row (source, reference or reference.<lang>, doc)")
        header = [name.strip() for name in lines[0].split("\t")]
        for index, column in enumerate(header):
            if column in header[:index]:
                raise TestSetError(f"{path}:1: column {column!r} appears twice")
            if column not in ("source", "reference", "doc") and _language_of(column) is None:
                raise TestSetError(
                    f"{path}:1: unknown column {column!r}; expected source, doc, reference (one target language), "
                    "or reference.<lang> / <lang> with a language code evalkit knows"
                )
        seen: dict[object, str] = {}
        for column in header:
            code = _language_of(column)
            if code is not None:
                lang = find_language(code)
                if lang in seen:
                    raise TestSetError(f"{path}:1: columns {seen[lang]!r} and {column!r} are both {lang.name}; keep one")
                seen[lang] = column
        if "source" not in header:
            raise TestSetError(f"{path}:1: no `source` column (header: {', '.join(header)}); expected source, reference …")
        if "reference" in header and any(_language_of(c) for c in header):
            raise TestSetError(f"{path}:1: both an unlabelled `reference` column and per-language columns; use one form")

        cells: dict[str, list[str]] = {column: [] for column in header}
        for number, line in enumerate(lines[1:], start=2):
            fields = line.split("\t")
            if len(fields) != len(header):
                blank = "blank line; " if line.strip() == "" else ""
                raise TestSetError(
                    f"{path}:{number}: {blank}{len(fields)} tab-separated fields, expected {len(header)} "
                    f"({', '.join(header)})"
                )
            for column, field in zip(header, fields):
                cells[column].append(field.strip())
        if "doc" in cells:
            for number, doc in enumerate(cells["doc"], start=2):
                if not doc:
                    raise TestSetError(f"{path}:{number}: field doc is empty; expected a document id on every row")
        columns = {_language_of(c): rows for c, rows in cells.items() if _language_of(c) is not None}
        return one_file_testset(
            path, source_lang, target_langs, cells["source"], cells.get("doc"), columns, cells.get("reference"), LABELS
        )


def _language_of(column: str) -> str | None:
    """`reference.th` or `th` → "th" (as written); None when the column names no known language."""
    code = column.removeprefix("reference.")
    return code if find_language(code) is not None else None
