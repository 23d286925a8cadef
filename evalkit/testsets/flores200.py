"""FLORES-200 (NLLB Team, CC BY-SA 4.0) and FLORES+ (its maintained successor) in their text-file layouts.

    FLORES-200:  flores200_dataset/{dev,devtest}/<nllb code>.<split>    e.g. devtest/vie_Latn.devtest
                 flores200_dataset/metadata_<split>.tsv                 header row; URL, domain, topic, ...
    FLORES+:     <root>/{dev,devtest}/<iso639-3>_<Script>               e.g. devtest/vie_Latn (no extension)

`path` may be `flores200_dataset/` (or a FLORES+ root: the folder holding
`dev/` and `devtest/`), its parent, or a parent holding exactly one such folder.
The layout is detected from the pivot's file name; the language table supplies
every code a language may be filed under (Chinese: zho_Hans, then FLORES+'s
cmn_Hans).

Documents: FLORES translates whole Wikinews/Wikivoyage/Wikibooks articles in
order, and its metadata has one row per sentence with the article's URL, so a
run of consecutive rows with one URL is one document. They are numbered in
order, `doc1`, `doc2`, …: short enough for a terminal table, and stable for a
given release and split (the URL of `docN` is in every one of its rows of the
metadata file). Without a metadata file the rows read with no document ids.
Hugging Face's parquet release of FLORES+ is not read: use the text release.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from evalkit.languages import Language, from_code
from evalkit.testsets.base import (
    TestSet,
    TestSetConfig,
    TestSetError,
    TestSetReader,
    check_rows,
    read_reference,
    read_lines,
    read_rows,
    runs_to_documents,
)

SPLITS = ("dev", "devtest")


class Flores200Reader(TestSetReader):
    name = "flores200"
    description = "FLORES-200 (flores200_dataset/{dev,devtest}/<code>.<split>) or FLORES+ ({dev,devtest}/<code>) files"
    splits = SPLITS
    path_help = "flores200_dataset/ (or a FLORES+ folder holding dev/ and devtest/), or the folder above it"

    @classmethod
    def problems(cls, config: TestSetConfig) -> list[tuple[str, str]]:
        found = super().problems(config)
        if not found:
            try:
                _root(config.path, config.split)
            except TestSetError as exc:
                found.append(("testset.path", str(exc)))
        return found

    def read(self, config: TestSetConfig, source_lang: str, target_langs: Sequence[str]) -> TestSet:
        split = config.split
        root = _root(config.path, split)
        folder = root / split

        source_path = _language_file(folder, split, from_code(source_lang))
        if source_path is None:
            tried = ", ".join(_file_names(from_code(source_lang), split))
            raise TestSetError(f"{folder}: no FLORES file for the pivot language {source_lang} (looked for {tried})")
        set_name = f"{'FLORES-200' if source_path.suffix == f'.{split}' else 'FLORES+'} {split}"
        sources = read_rows(source_path)

        metadata = next((p for p in (root / f"metadata_{split}.tsv", folder / f"metadata_{split}.tsv") if p.is_file()), None)
        if metadata is not None:
            urls = _urls(metadata)
            check_rows(source_path, sources, metadata, urls)
            documents = runs_to_documents(urls)
        else:
            documents = (set_name,) * len(sources)

        references: dict[str, tuple[str, ...]] = {}
        paths: dict[str, Path] = {}
        missing: dict[str, str] = {}
        for target in target_langs:
            path = _language_file(folder, split, from_code(target))
            if path is None:
                names = _file_names(from_code(target), split)
                also = f" (also looked for {', '.join(names[1:])})" if len(names) > 1 else ""
                missing[target] = f"{set_name} has no {names[0]} in {folder}{also}"
                continue
            references[target], paths[target] = read_reference(source_path, sources, path), path

        return TestSet(
            name=set_name, source_lang=source_lang, source_path=source_path, sources=tuple(sources),
            documents=documents, has_document_ids=metadata is not None,
            references=references, reference_paths=paths, missing=missing,
        )


def _root(path: Path, split: str) -> Path:
    """The folder holding `<split>/`: `path`, `path/flores200_dataset`, or the one child of `path` that has it."""
    for candidate in (path, path / "flores200_dataset"):
        if (candidate / split).is_dir():
            return candidate
    children = sorted(c for c in path.iterdir() if (c / split).is_dir()) if path.is_dir() else []
    if len(children) == 1:
        return children[0]
    if children:
        raise TestSetError(
            f"{path}: several folders hold {split}/ ({', '.join(c.name for c in children)}); point `path` at one of them"
        )
    raise TestSetError(f"{path}: no {split}/ folder here or in flores200_dataset/; expected {Flores200Reader.path_help}")


def _file_names(lang: Language, split: str) -> list[str]:
    """FLORES-200 names (`vie_Latn.devtest`) before FLORES+ names (`vie_Latn`), for each code the table lists."""
    return [name for code in lang.flores_codes for name in (f"{code}.{split}", code)]


def _language_file(folder: Path, split: str, lang: Language) -> Path | None:
    return next((folder / name for name in _file_names(lang, split) if (folder / name).is_file()), None)


def _urls(path: Path) -> list[str]:
    """The URL column of a metadata file, one entry per data row (the header row names the columns)."""
    lines = read_lines(path)
    if not lines:
        raise TestSetError(f"{path}:1: empty file; expected a header row with a URL column")
    header = [name.strip().lower() for name in lines[0].split("\t")]
    if "url" not in header:
        raise TestSetError(f"{path}:1: no URL column (header: {lines[0].strip()}); expected URL, domain, topic, …")
    column = header.index("url")
    urls = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split("\t")
        url = fields[column].strip() if column < len(fields) else ""
        if not url:
            raise TestSetError(f"{path}:{number}: no URL; expected one in column {column + 1} on every row")
        urls.append(url)
    return urls
