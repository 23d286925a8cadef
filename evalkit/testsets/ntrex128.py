"""NTREX-128 (Microsoft, "News Test References for MT Evaluation", CC BY-SA 4.0) in its upstream layout.

    <path>/DOCUMENT_IDS.tsv                      document id of each row, no header
    <path>/NTREX-128/newstest2019-src.eng.txt    the English original (1,997 rows upstream)
    <path>/NTREX-128/newstest2019-ref.<code>.txt human translations of it, ISO 639-3 file codes

`path` may also be the `NTREX-128/` folder itself (DOCUMENT_IDS.tsv is then
looked for next to it, and inside it). English is the original: an English
pivot or target reads the `src` file. Other languages try every spelling the
language table lists (Malay: zsm, msa, may, ...), because NTREX names Malay by
its macrolanguage `msa` where NLLB/FLORES say `zsm_Latn`. Without
DOCUMENT_IDS.tsv the rows still read, with `has_document_ids` False.
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
    read_rows,
)

SET_NAME = "NTREX-128"
SOURCE_FILE = "newstest2019-src.eng.txt"
DOCUMENT_IDS = "DOCUMENT_IDS.tsv"


def reference_names(lang: Language) -> list[str]:
    """File names that may hold `lang`, in the order tried (English: the original first)."""
    names = [f"newstest2019-ref.{code}.txt" for code in lang.file_codes]
    return [SOURCE_FILE, *names] if lang.iso1 == "en" else names


class Ntrex128Reader(TestSetReader):
    name = "ntrex128"
    description = "NTREX-128 folder (NTREX-128/newstest2019-*.txt + DOCUMENT_IDS.tsv)"
    path_help = "the folder holding NTREX-128/ and DOCUMENT_IDS.tsv, or the NTREX-128/ folder"

    @classmethod
    def problems(cls, config: TestSetConfig) -> list[tuple[str, str]]:
        found = super().problems(config)
        if not found and _files_folder(config.path) is None:
            found.append(("testset.path", f"{config.path} holds neither NTREX-128/{SOURCE_FILE} nor {SOURCE_FILE}"))
        return found

    def read(self, config: TestSetConfig, source_lang: str, target_langs: Sequence[str]) -> TestSet:
        root = config.path
        folder = _files_folder(root)
        if folder is None:
            raise TestSetError(f"{root}: no NTREX-128 files; expected {root}/NTREX-128/{SOURCE_FILE} ({self.path_help})")

        source_path = _first_file(folder, reference_names(from_code(source_lang)))
        if source_path is None:
            tried = ", ".join(reference_names(from_code(source_lang)))
            raise TestSetError(f"{folder}: {SET_NAME} has no file for the pivot language {source_lang} (looked for {tried})")
        sources = read_rows(source_path)

        ids_path = next((p for p in (folder.parent / DOCUMENT_IDS, folder / DOCUMENT_IDS) if p.is_file()), None)
        if ids_path is not None:
            documents = tuple(row.split("\t", 1)[0] for row in read_rows(ids_path))
            check_rows(source_path, sources, ids_path, documents)
            for number, doc in enumerate(documents, start=1):
                if not doc:
                    raise TestSetError(f"{ids_path}:{number}: empty document id; expected one id per line")
        else:
            documents = (SET_NAME,) * len(sources)

        references: dict[str, tuple[str, ...]] = {}
        paths: dict[str, Path] = {}
        missing: dict[str, str] = {}
        for target in target_langs:
            names = reference_names(from_code(target))
            path = _first_file(folder, names)
            if path is None:
                also = f" (also looked for {', '.join(names[1:])})" if len(names) > 1 else ""
                missing[target] = f"{SET_NAME} has no {names[0]} in {folder}{also}"
                continue
            references[target], paths[target] = read_reference(source_path, sources, path), path

        return TestSet(
            name=SET_NAME, source_lang=source_lang, source_path=source_path, sources=tuple(sources),
            documents=documents, has_document_ids=ids_path is not None,
            references=references, reference_paths=paths, missing=missing,
        )


def _files_folder(root: Path | None) -> Path | None:
    """The folder holding the newstest2019-*.txt files: `root/NTREX-128`, or `root` itself."""
    if root is None:
        return None
    for folder in (root / "NTREX-128", root):
        if (folder / SOURCE_FILE).is_file():
            return folder
    return None


def _first_file(folder: Path, names: Sequence[str]) -> Path | None:
    return next((folder / name for name in names if (folder / name).is_file()), None)
