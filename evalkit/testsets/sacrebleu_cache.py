"""A test set from sacrebleu's download cache, read offline: evalkit never downloads.

sacrebleu 2.x (`sacrebleu/dataset/base.py`) extracts each set it downloads into
plain text files, one segment per line, under its cache folder (`$SACREBLEU`,
else `~/.sacrebleu`; `path` overrides both):

    <cache>/<name>/<name with / as _>.<src>-<tgt>.<field>
    e.g. ~/.sacrebleu/wmt20/wmt20.en-de.src, wmt20.en-de.ref, wmt20.en-de.docid
         ~/.sacrebleu/wmt19/dev/wmt19_dev.de-en.src                     (a sub-set: name "wmt19/dev")

Fields are `src`, `ref` (or `ref-A`, `ref-B`, … for several references, the
colon of `ref:A` made a dash: the one sacrebleu's catalogue prefers for the pair
is used, else `ref`, else the first), system outputs (WMT21+), and, for WMT
sets, `docid` (document ids: used), `origlang`, `genre`. The raw download sits
in `<cache>/<name>/raw/`; the text files appear when sacrebleu first reads the
pair (`sacrebleu -t NAME -l PAIR --echo src`), which then works offline.

Pair codes are sacrebleu's (mostly ISO 639-1), matched through the language
table. Each pair has its own source side: in WMT, en-de and en-zh translate
different English sentences. A run needs one pivot side, so a target whose
pair's source differs from the first target's is reported missing with that
reason (run it in its own config) rather than misaligned.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path

from evalkit.languages import Language, find_language, from_code
from evalkit.testsets.base import (
    TestSet,
    TestSetConfig,
    TestSetError,
    TestSetReader,
    check_rows,
    read_reference,
    read_rows,
    sacrebleu_home,
)


class SacrebleuCacheReader(TestSetReader):
    name = "sacrebleu"
    description = "a test set in sacrebleu's download cache ($SACREBLEU or ~/.sacrebleu), read offline"
    takes_name = True
    needs_path = False
    path_help = "sacrebleu's cache folder (default: $SACREBLEU, else ~/.sacrebleu)"

    @classmethod
    def problems(cls, config: TestSetConfig) -> list[tuple[str, str]]:
        found = super().problems(config)
        if not found:
            try:
                _set_folder(config)
            except TestSetError as exc:
                found.append(("testset.name", str(exc)))
        return found

    def read(self, config: TestSetConfig, source_lang: str, target_langs: Sequence[str]) -> TestSet:
        name = config.name
        folder = _set_folder(config)
        prefix = name.replace("/", "_")
        pivot = from_code(source_lang)
        pairs = _cached_pairs(folder, prefix)  # (src code, tgt code) as sacrebleu spells them
        with_pivot = [(src, tgt) for src, tgt in pairs if find_language(src) is pivot]
        if not with_pivot:
            cached = ", ".join(f"{s}-{t}" for s, t in pairs) or "none"
            raise TestSetError(
                f"{folder}: sacrebleu {name} has no pair from the pivot language {source_lang} in the cache "
                f"(cached pairs: {cached}); {_fetch_hint(name, f'{pivot.iso1}-<target>', folder)}"
            )

        chosen: dict[str, tuple[str, str]] = {}
        missing: dict[str, str] = {}
        for target in target_langs:
            lang = from_code(target)
            pair = next(((s, t) for s, t in with_pivot if find_language(t) is lang), None)
            if pair is None:
                missing[target] = _missing_pair(name, folder, pivot, lang)
            else:
                chosen[target] = pair

        first = next(iter(chosen.values()), with_pivot[0])
        source_path = folder / f"{prefix}.{first[0]}-{first[1]}.src"
        sources = read_rows(source_path)
        docid_path = folder / f"{prefix}.{first[0]}-{first[1]}.docid"
        if docid_path.is_file():
            documents = tuple(read_rows(docid_path))
            check_rows(source_path, sources, docid_path, documents)
        else:
            documents = (name,) * len(sources)

        references: dict[str, tuple[str, ...]] = {}
        paths: dict[str, Path] = {}
        for target, (src, tgt) in chosen.items():
            stem = folder / f"{prefix}.{src}-{tgt}"
            pair_source = stem.with_name(f"{stem.name}.src")
            if pair_source != source_path and read_rows(pair_source) != sources:
                missing[target] = (
                    f"sacrebleu {name} {src}-{tgt} translates other source sentences than {first[0]}-{first[1]} "
                    f"({pair_source.name} vs {source_path.name}); evaluate it in a config of its own"
                )
                continue
            reference_path = _reference_file(stem, _preferred_references(name, f"{src}-{tgt}"))
            if reference_path is None:
                missing[target] = f"sacrebleu {name} {src}-{tgt} has no {stem.name}.ref (or .ref-A, …) in {folder}"
                continue
            references[target], paths[target] = read_reference(source_path, sources, reference_path), reference_path

        return TestSet(
            name=f"sacrebleu {name}", source_lang=source_lang, source_path=source_path, sources=tuple(sources),
            documents=documents, has_document_ids=docid_path.is_file(),
            references=references, reference_paths=paths, missing=missing,
        )


def _home(config: TestSetConfig) -> Path:
    return config.path if config.path is not None else sacrebleu_home()


def _set_folder(config: TestSetConfig) -> Path:
    """`<cache>/<name>`, holding the extracted text files; else an error saying where evalkit looked."""
    home, name = _home(config), config.name
    folder = home / name
    prefix = name.replace("/", "_")
    if folder.is_dir() and _cached_pairs(folder, prefix):
        return folder
    known = _sacrebleu_sets()
    if known is not None and name not in known:
        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise TestSetError(
            f"{folder}: not in the cache, and the installed sacrebleu knows no test set {name!r} ({hint}"
            f"sacrebleu --list shows them; FLORES-200 files are read with format: flores200)"
        )
    if (folder / "raw").is_dir():
        raise TestSetError(
            f"{folder}: sacrebleu downloaded {name} (raw/) but has not extracted its text files; "
            f"run `sacrebleu -t {name} -l <src>-<tgt> --echo src > /dev/null` once here (offline is fine)"
        )
    raise TestSetError(f"{folder}: sacrebleu {name} is not in the cache; {_fetch_hint(name, '<src>-<tgt>', folder)}")


def _fetch_hint(name: str, pair: str, folder: Path) -> str:
    return (
        f"evalkit never downloads: on a connected machine run `sacrebleu -t {name} -l {pair} --echo src > /dev/null`, "
        f"then copy its ~/.sacrebleu/{name} to {folder} (or set $SACREBLEU / `path` to the cache folder)"
    )


def _cached_pairs(folder: Path, prefix: str) -> list[tuple[str, str]]:
    """Language pairs with an extracted source file, sorted: `<prefix>.<src>-<tgt>.src`."""
    pairs = []
    for path in sorted(folder.glob(f"{prefix}.*.src")):
        pair = path.name[len(prefix) + 1 : -len(".src")]
        src, sep, tgt = pair.partition("-")
        if sep and src and tgt and "-" not in tgt:
            pairs.append((src, tgt))
    return pairs


def _reference_file(stem: Path, preferred: Sequence[str] = ()) -> Path | None:
    """The reference sacrebleu itself would score against: its preferred field for the pair where its catalogue
    names one (WMT21+: e.g. `ref:A`), else `.ref`, else the first of `.ref-A`, `.ref-B`, … (`:` is `-` in file names).
    """
    for field in (*preferred, "ref"):
        path = stem.with_name(f"{stem.name}.{field.replace(':', '-')}")
        if path.is_file():
            return path
    return next(iter(sorted(stem.parent.glob(f"{stem.name}.ref-*"))), None)


def _preferred_references(name: str, pair: str) -> list[str]:
    """sacrebleu's own choice of reference for a WMT21+ pair (catalogue metadata, no I/O); [] where it has none."""
    try:
        from sacrebleu.dataset import DATASETS
    except ImportError:
        return []
    dataset = DATASETS.get(name)
    choose = getattr(dataset, "_get_langpair_allowed_refs", None)  # WMTXMLDataset only (sacrebleu 2.x)
    if choose is None or pair not in dataset.langpairs:
        return []
    return list(choose(pair))


def _missing_pair(name: str, folder: Path, pivot: Language, target: Language) -> str:
    known = _sacrebleu_sets()
    if known is not None and name in known:
        pairs = [p for p in known[name] if p.count("-") == 1 and
                 find_language(p.split("-")[0]) is pivot and find_language(p.split("-")[1]) is target]
        if not pairs:
            return f"sacrebleu {name} has no {pivot.iso1}-{target.iso1} pair"
        return (f"sacrebleu {name} {pairs[0]} is not in the cache {folder}; "
                + _fetch_hint(name, pairs[0], folder))
    return f"sacrebleu {name} has no {pivot.iso1}-{target.iso1} pair in the cache {folder}"


def _sacrebleu_sets() -> dict[str, list[str]] | None:
    """Test set name → language pairs, from the installed sacrebleu's catalogue (metadata only, no I/O); None if absent."""
    try:
        from sacrebleu.dataset import DATASETS
    except ImportError:
        return None
    return {name: list(dataset.langpairs) for name, dataset in DATASETS.items()}
