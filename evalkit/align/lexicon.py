"""Translation lexicons as alignment evidence (Moore 2002's idea, reduced to word presence).

Length and copied anchors (numbers, names) say little inside a run of ordinary
sentences: where a sentence was deleted next to a merge, "this pivot sentence
has no counterpart" and "it is the second half of a 2-1 bead" cost about the
same.  A small bilingual lexicon tells them apart: the words of a translated
sentence have their translations in the reference, those of a sentence whose
translation was deleted do not.

A lexicon maps words of one language to the words that translate them and,
per source word, ``p_hit``: how often a translation of the word is present in
the reference sentence of a real translation pair (measured on sentences the
lexicon was *not* built from, see :mod:`evalkit.align.lexicon_train`).  The
evidence of a bead is a naive-Bayes log-likelihood ratio per lexicon word of
the defining side: present translation ``log(p_hit / q)``, absent
``log((1 - p_hit) / (1 - q))``, where ``q`` is the share of the other
document's paragraphs that contain a translation — measured in the document
pair itself, so a word whose translation is everywhere ("of", "the year") says
nothing and a topic word says a little.  Both directions count (source words
in the target and target words in the source), so a paragraph on either side
that nobody translated stands out.

Lexicons are data (``lexicons/<src>-<tgt>.json.gz``), built by
``benchmarks/alignment_lexicon.py`` from the development split only; a pair
without one aligns exactly as before.
"""

from __future__ import annotations

import bisect
import gzip
import json
import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from evalkit.errors import LexiconError
from evalkit.words import SEGMENTERS

# Languages that write a space between syllables, not words.
_SYLLABIC = frozenset({"vi"})
P_CLIP = (0.02, 0.8)


def _letter_or_mark(ch: str) -> bool:
    # Thai vowels and tone marks, Devanagari vowel signs are combining marks, not letters, and Python's
    # \w does not match them: a word is letters with the marks written on them
    return ch.isalpha() or unicodedata.category(ch)[0] == "M"


def _words(text: str) -> list[str]:
    out: list[str] = []
    start = None
    for k, ch in enumerate(text + " "):
        if ch.isalpha() or (start is not None and _letter_or_mark(ch)):
            if start is None:
                start = k
        elif start is not None:
            out.append(text[start:k])
            start = None
    return out


def _is_word(token: str) -> bool:
    return any(ch.isalpha() for ch in token) and all(map(_letter_or_mark, token))


@lru_cache(maxsize=200_000)
def lexemes(text: str, lang: str) -> frozenset[str]:
    """Lower-cased word forms of a paragraph, as the lexicon spells them."""
    base = (lang or "").lower().split("-")[0]
    text = unicodedata.normalize("NFC", text)
    if base in SEGMENTERS:
        # the scorers' segmenter (Thai: PyThaiNLP newmm), remembered in the run's cache file: a re-run
        # does not segment again
        segment, _ = SEGMENTERS[base]()
        words = [w.lower() for w in segment(text).split() if _is_word(w)]
    else:
        words = [w.lower() for w in _words(text)]
    if base in SEGMENTERS or base in _SYLLABIC:
        # newmm cuts compounds ("นายก|รัฐมนตรี") and a Vietnamese word is often two syllables ("chính
        # phủ") where the translation is one word: both, and the pair
        return frozenset(words) | frozenset(f"{a}_{b}" for a, b in zip(words, words[1:]))
    return frozenset(words)


@dataclass(frozen=True)
class Direction:
    """Words of one language, the words translating each, and p_hit per word."""

    translations: Mapping[str, frozenset[str]]
    p_hit: Mapping[str, float]


@dataclass(frozen=True)
class Lexicon:
    source_lang: str
    target_lang: str
    forward: Direction  # source words -> target words
    backward: Direction  # target words -> source words
    origin: str = ""  # what it was built from (for signatures and docs)
    char_ratio: float = 0.0  # target/source non-space characters of the training sentences (0 = unknown)


def _direction(data: Mapping[str, list]) -> Direction:
    return Direction({w: frozenset(ts) for w, (p, ts) in data.items()}, {w: float(p) for w, (p, ts) in data.items()})


def lexicon_from_json(data: Mapping) -> Lexicon:
    return Lexicon(data["source_lang"], data["target_lang"], _direction(data["forward"]), _direction(data["backward"]),
                   str(data.get("origin", "")), float(data.get("char_ratio", 0.0)))


def char_ratio(pairs: Sequence[tuple[str, str]]) -> float:
    """Target/source ratio of non-space characters over sentence pairs (the aligner's length unit)."""
    src = sum(len(a) - a.count(" ") for a, _ in pairs)
    tgt = sum(len(b) - b.count(" ") for _, b in pairs)
    return tgt / src if src and tgt else 0.0


def lexicon_to_json(lex: Lexicon) -> dict:
    def one(d: Direction) -> dict:
        return {w: [round(d.p_hit[w], 4), sorted(d.translations[w])] for w in sorted(d.translations)}

    return {"source_lang": lex.source_lang, "target_lang": lex.target_lang, "origin": lex.origin,
            "char_ratio": round(lex.char_ratio, 4),
            "forward": one(lex.forward), "backward": one(lex.backward)}


def _swap(lex: Lexicon) -> Lexicon:
    return Lexicon(lex.target_lang, lex.source_lang, lex.backward, lex.forward, lex.origin,
                   1.0 / lex.char_ratio if lex.char_ratio else 0.0)


# Folders searched before the shipped lexicons (os.pathsep-separated), for a pair evalkit has none for
# or a lexicon built from the user's own parallel text (`evalkit lexicon`).
LEXICONS_ENV = "EVALKIT_LEXICONS"


def lexicon_file_name(source_lang: str, target_lang: str) -> str:
    return f"{source_lang}-{target_lang}.json.gz"


def load_lexicon(source_lang: str, target_lang: str) -> Lexicon | None:
    """The lexicon for a language pair (either direction): from the folders in $EVALKIT_LEXICONS first,
    then the shipped ones; None when there is none."""
    s, t = (source_lang or "").lower().split("-")[0], (target_lang or "").lower().split("-")[0]
    if not s or not t or s == t:
        return None
    dirs = tuple(d for d in os.environ.get(LEXICONS_ENV, "").split(os.pathsep) if d)
    return _load(s, t, dirs)


@lru_cache(maxsize=32)
def _load(s: str, t: str, dirs: tuple[str, ...]) -> Lexicon | None:
    shipped = resources.files("evalkit.align") / "lexicons"
    for folder in [Path(d) for d in dirs] + [shipped]:
        for a, b, swap in ((s, t, False), (t, s, True)):
            f = folder / lexicon_file_name(a, b)
            if f.is_file():
                lex = read_lexicon(f)
                return _swap(lex) if swap else lex
    return None


def read_lexicon(path) -> Lexicon:
    try:
        data = json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))
        lex = lexicon_from_json(data)
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LexiconError(f"{path}: not a readable evalkit lexicon ({type(exc).__name__}: {exc}); "
                           f"rebuild it with `evalkit lexicon` or remove it from ${LEXICONS_ENV}") from None
    if lexicon_file_name(lex.source_lang, lex.target_lang) != path.name:
        raise LexiconError(f"{path}: holds a {lex.source_lang}-{lex.target_lang} lexicon, not what its name says; "
                           f"rename it to {lexicon_file_name(lex.source_lang, lex.target_lang)}")
    return lex


@dataclass(frozen=True)
class LexicalChannel:
    """One direction's evidence over a document pair, in the anchor channels' shape (see
    :class:`evalkit.align.costs.AnchorScorer`): ids per paragraph on the defining side (its lexicon
    words) and on the other side (the defining words whose translation it contains), and per word the
    evidence of a present translation, ``log(p/q)``, and of an absent one, ``log((1-q)/(1-p))``, both 0
    for a word whose translation is no likelier in a counterpart than anywhere."""

    defining: list[np.ndarray]
    covering: list[np.ndarray]
    hit: np.ndarray
    miss: np.ndarray


def entries(words: frozenset[str], vocab: Mapping[str, object]) -> frozenset[str]:
    """The lexicon words of a paragraph, longest first: a syllable that is part of a two-syllable entry
    present in the paragraph is not an entry of its own ("nhật" of "Chủ nhật" is not "nhật" of "Nhật Bản")."""
    found = frozenset(w for w in words if w in vocab)
    pairs = [w for w in found if "_" in w]
    if not pairs:
        return found
    inside = {part for w in pairs for part in w.split("_")}
    return found - inside


def _covering(direction: Direction, ordered: Sequence[str], other: Sequence[frozenset[str]],
              other_texts: Sequence[str] | None) -> list[np.ndarray]:
    """Per paragraph of the other side, the (sorted) indices of ``ordered`` whose translation it holds:
    as a word, or (``other_texts`` given: unspaced scripts) anywhere in its text.  An inverted index and
    one scan of the joined texts per translation, so the cost follows the text, not vocabulary x paragraphs."""
    by_translation: dict[str, list[int]] = {}
    for k, w in enumerate(ordered):
        for t in direction.translations[w]:
            by_translation.setdefault(t, []).append(k)
    found: list[set[int]] = [set() for _ in other]
    for r, words in enumerate(other):
        for w in words:
            ks = by_translation.get(w)
            if ks:
                found[r].update(ks)
    if other_texts is not None and len(other_texts):
        joined = "\n".join(other_texts)  # paragraphs hold no newline, so no match spans two
        starts = np.cumsum([0] + [len(t) + 1 for t in other_texts[:-1]]).tolist()
        ends = starts[1:] + [len(joined) + 1]
        for t, ks in by_translation.items():
            flat = t.replace("_", "")
            pos = joined.find(flat) if flat else -1
            while pos != -1:
                r = bisect.bisect_right(starts, pos) - 1
                found[r].update(ks)
                pos = joined.find(flat, ends[r])
    return [np.array(sorted(f), dtype=np.int64) for f in found]


def _channel(direction: Direction, defining: Sequence[frozenset[str]], other: Sequence[frozenset[str]],
             other_texts: Sequence[str] | None = None) -> LexicalChannel:
    defining = [entries(words, direction.translations) for words in defining]
    vocab: dict[str, int] = {}
    for words in defining:
        for w in words:
            vocab.setdefault(w, len(vocab))
    ordered = list(vocab)
    covering = _covering(direction, ordered, other, other_texts)
    present = np.bincount(np.concatenate(covering), minlength=len(ordered)) if covering else np.zeros(len(ordered))
    q = np.clip((present + 0.5) / (max(1, len(other)) + 1.0), 1e-3, 0.999)
    p = np.clip(np.array([direction.p_hit[w] for w in ordered], dtype=float), *P_CLIP)
    hit, miss = np.log(p / q), np.log((1 - q) / (1 - p))
    useful = hit > 0  # a translation no likelier in the counterpart than anywhere: no evidence
    ids = [np.array(sorted(vocab[w] for w in words), dtype=np.int64) for words in defining]
    return LexicalChannel(ids, covering, np.where(useful, hit, 0.0), np.where(useful, np.maximum(miss, 0.0), 0.0))


def lexical_channels(lex: Lexicon, src: Sequence[frozenset[str]], tgt: Sequence[frozenset[str]],
                     src_texts: Sequence[str] | None = None, tgt_texts: Sequence[str] | None = None
                     ) -> tuple[LexicalChannel, LexicalChannel]:
    """(source words found in the target, target words found in the source)."""
    tt = tgt_texts if lex.target_lang in SEGMENTERS else None
    st = src_texts if lex.source_lang in SEGMENTERS else None
    return _channel(lex.forward, src, tgt, tt), _channel(lex.backward, tgt, src, st)


__all__ = ["Lexicon", "Direction", "LexicalChannel", "lexemes", "load_lexicon", "lexical_channels",
           "lexicon_from_json", "lexicon_to_json", "entries", "char_ratio", "read_lexicon", "lexicon_file_name",
           "LEXICONS_ENV"]

