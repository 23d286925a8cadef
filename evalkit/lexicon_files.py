"""Building an aligner lexicon from the user's own sentence-aligned text, and writing it.

A TSV with one sentence pair per line, ``document<TAB>source<TAB>target``; the
document column lets the trainer cross-validate each word's hit rate over
documents (:mod:`evalkit.align.lexicon_train`), so a word of one document only
is left out.  The file is written as ``<folder>/<src>-<tgt>.json.gz``; put the
folder in ``$EVALKIT_LEXICONS`` and the aligner uses it for that pair (before
a shipped one).
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

from evalkit.align.lexicon import Lexicon, char_ratio, lexemes, lexicon_file_name, lexicon_to_json
from evalkit.align.lexicon_train import train_lexicon
from evalkit.errors import LexiconError

MIN_DOCUMENTS = 2  # the hit rates are cross-validated over documents


def read_sentence_pairs(path: Path) -> dict[str, list[tuple[str, str]]]:
    """document id -> its (source, target) sentence pairs, in file order."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read the sentence pairs ({exc})") from None
    docs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3 or not all(f.strip() for f in fields):
            raise LexiconError(f"{path}:{number}: expected 'document<TAB>source<TAB>target' (3 non-empty "
                               f"tab-separated fields), got {len(fields)} field(s)")
        docs[fields[0].strip()].append((" ".join(fields[1].split()), " ".join(fields[2].split())))
    if len(docs) < MIN_DOCUMENTS:
        raise LexiconError(f"{path}: {len(docs)} document(s); a lexicon needs sentence pairs from at least "
                           f"{MIN_DOCUMENTS} documents (each word's hit rate is measured on documents it was not learnt from)")
    return dict(docs)


def build_lexicon(docs: dict[str, list[tuple[str, str]]], source_lang: str, target_lang: str, origin: str) -> Lexicon:
    words = {d: [(lexemes(a, source_lang), lexemes(b, target_lang)) for a, b in pairs] for d, pairs in docs.items()}
    ratio = char_ratio([p for pairs in docs.values() for p in pairs])
    return train_lexicon(words, source_lang, target_lang, origin, ratio)


def write_lexicon(lex: Lexicon, folder: Path) -> Path:
    """Deterministic bytes: the same lexicon gives the same file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    blob = json.dumps(lexicon_to_json(lex), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path = folder / lexicon_file_name(lex.source_lang, lex.target_lang)
    path.write_bytes(gzip.compress(blob.encode("utf-8"), mtime=0))
    return path


def lexicon_from_tsv(path: Path, source_lang: str, target_lang: str, folder: Path) -> tuple[Lexicon, Path]:
    docs = read_sentence_pairs(path)
    n = sum(map(len, docs.values()))
    lex = build_lexicon(docs, source_lang, target_lang, f"IBM Model 1 on {n} sentence pairs of {len(docs)} documents of {Path(path).name}")
    return lex, write_lexicon(lex, folder)


__all__ = ["read_sentence_pairs", "build_lexicon", "write_lexicon", "lexicon_from_tsv"]
