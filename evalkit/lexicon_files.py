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
from evalkit.languages import LANGUAGES, language_label
from evalkit.words import SEGMENTERS

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


def language_pair(source_lang: str, target_lang: str) -> tuple[str, str]:
    """The base codes a lexicon is filed under ("th-TH" -> "th"), checked: two different languages the
    lexicon can find words in (a script without spaces needs a segmenter, which evalkit has for Thai)."""
    s, t = (code.strip().lower().split("-")[0] for code in (source_lang, target_lang))
    if s == t:
        raise LexiconError(f"a lexicon translates between two languages; got {source_lang!r} twice")
    for code in (s, t):
        language = LANGUAGES.get(code)
        if language is None:
            raise LexiconError(f"unknown language code {code!r}; expected an ISO 639-1 code such as vi, th, ms, id, en")
        if not language.spaces and code not in SEGMENTERS:
            raise LexiconError(f"{language_label(code)} is written without spaces and evalkit has no word segmenter "
                               f"for it (only for {', '.join(sorted(SEGMENTERS))}), so a lexicon would hold whole "
                               f"clauses, not words; the aligner uses length and anchors for this pair")
    return s, t


def build_lexicon(docs: dict[str, list[tuple[str, str]]], source_lang: str, target_lang: str, origin: str) -> Lexicon:
    source_lang, target_lang = language_pair(source_lang, target_lang)
    words = {d: [(lexemes(a, source_lang), lexemes(b, target_lang)) for a, b in pairs] for d, pairs in docs.items()}
    ratio = char_ratio([p for pairs in docs.values() for p in pairs])
    try:
        lex = train_lexicon(words, source_lang, target_lang, origin, ratio)
    except ValueError as exc:
        raise LexiconError(str(exc)) from None
    if not lex.forward.translations or not lex.backward.translations:
        raise LexiconError(f"no word of {source_lang}-{target_lang} recurs across documents often enough to learn "
                           f"a translation ({sum(map(len, docs.values()))} sentence pairs in {len(docs)} documents); "
                           f"give more sentence pairs — nothing was written")
    return lex


def write_lexicon(lex: Lexicon, folder: Path) -> Path:
    """Deterministic bytes: the same lexicon gives the same file."""
    folder = Path(folder)
    blob = json.dumps(lexicon_to_json(lex), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path = folder / lexicon_file_name(lex.source_lang, lex.target_lang)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(blob.encode("utf-8"), mtime=0))
    except OSError as exc:
        raise LexiconError(f"cannot write the lexicon to {path}: {exc.strerror or exc}") from None
    return path


def lexicon_from_tsv(path: Path, source_lang: str, target_lang: str, folder: Path) -> tuple[Lexicon, Path]:
    docs = read_sentence_pairs(path)
    n = sum(map(len, docs.values()))
    lex = build_lexicon(docs, source_lang, target_lang,
                        f"IBM Model 1 on {n} sentence pairs of {len(docs)} documents of {Path(path).name}")
    return lex, write_lexicon(lex, folder)


__all__ = ["read_sentence_pairs", "build_lexicon", "write_lexicon", "lexicon_from_tsv"]
