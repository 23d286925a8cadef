"""Language-light text features used by the aligner.

The aligner has to work for any language pair (Thai has no spaces, Malay
spells Vietnamese names without diacritics), so most of what is extracted here
*survives translation* and needs no dictionary or model:

* character lengths (Gale & Church 1993 showed they correlate across
  languages; the ratio is estimated per document pair elsewhere);
* numbers, normalised so that "1.000", "1,000" and "1000" compare equal, Thai
  digits read as digits and Buddhist-Era years (Thai/Lao) mapped to CE;
* Latin-script acronyms (ODA, UNCLOS, VNA), which translators copy verbatim;
* Latin words embedded in a non-Latin-script text (they were copied from the
  original, so they should be found there);
* capitalised Latin words (names), compared after stripping diacritics so that
  "Võ Văn Thưởng" matches "Vo Van Thuong";
* whether a paragraph quotes something or has a parenthesis ("(OSA)").

It also computes the per-paragraph "script profile" that lets us spot
boilerplate written in another language/script than the document body (the
Vietnamese site slogan inside the Thai page, "Leave a Reply" under a
Vietnamese article).

Each paragraph also carries its word forms (``lexemes``) for the translation
lexicon of :mod:`evalkit.align.lexicon`, used where one exists for the pair.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Mapping, Sequence

from .lexicon import lexemes

# Languages whose press routinely writes years in the Buddhist Era
# (CE = BE - 543).  Script detection below also triggers the mapping, so an
# unknown code with Thai-script text still gets it.
BUDDHIST_ERA_LANGS = frozenset({"th", "lo"})
BUDDHIST_ERA_SCRIPTS = frozenset({"THAI", "LAO"})
BE_OFFSET = 543
BE_YEAR_RANGE = (2400, 2700)

_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_WORD_RE = re.compile(r"[^\W\d_]+")
_MARKS = {"quote": "\"“”„«»「」『』", "paren": "()（）"}
_NON_ASCII_DIGIT_RE = re.compile(r"(?![0-9])\d")
# characters after which a capitalised word is probably sentence-initial and
# therefore not evidence of a name
_SENTENCE_OPENERS = set(".!?:;\"'“”‘’«»([{–—-•*")
_EXTRA_LATIN_FOLD = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i"})


def strip_diacritics(text: str) -> str:
    """Fold Latin letters to ASCII ("Thưởng" -> "Thuong", "đ" -> "d").

    Only Latin letters and the generic combining diacritics (U+0300 block) are
    touched; other scripts (e.g. Thai vowel signs, which are also combining
    marks) are left alone.
    """
    if text.isascii():
        return text
    return "".join(map(_fold_char, unicodedata.normalize("NFC", text)))


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ord(ch) < 128:
        return ch
    if unicodedata.combining(ch):
        return "" if unicodedata.name(ch, "").startswith("COMBINING") else ch
    if _script_of(ch) != "LATIN":
        return ch
    ch = ch.translate(_EXTRA_LATIN_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


@lru_cache(maxsize=4096)
def _script_of(ch: str) -> str:
    """Coarse script name of a character from its Unicode name ("LATIN",
    "THAI", "CJK", "CYRILLIC", ...).  Hiragana/Katakana/CJK are merged because
    Japanese mixes them within one paragraph."""
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "OTHER"
    head = name.split(" ", 1)[0]
    if head in ("HIRAGANA", "KATAKANA", "CJK"):
        return "CJK"
    if head in ("FULLWIDTH", "HALFWIDTH"):
        return "LATIN" if "LATIN" in name else "CJK"
    return head


def script_profile(text: str) -> dict[str, float]:
    """Fraction of letters per script; Latin is split into plain ASCII and
    accented letters because for Vietnamese the accent rate is what separates
    the article from English boilerplate."""
    counts: Counter[str] = Counter()
    for ch, k in Counter(text).items():
        cls = _letter_class(ch)
        if cls:
            counts[cls] += k
    total = sum(counts.values())
    if not total:
        return {}
    return {k: v / total for k, v in counts.items()}


@lru_cache(maxsize=8192)
def _letter_class(ch: str) -> str:
    if not ch.isalpha():
        return ""
    if ord(ch) < 128:
        return "LATIN_ASCII"
    script = _script_of(ch)
    return "LATIN_ACCENTED" if script == "LATIN" else script


def profile_distance(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Total-variation distance in [0, 1]; an empty profile (no letters) is
    treated as maximally foreign."""
    if not a or not b:
        return 1.0 if (a or b) else 0.0
    keys = set(a) | set(b)
    return 0.5 * sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)


def dominant_script(profile: Mapping[str, float]) -> str:
    if not profile:
        return "NONE"
    merged: Counter[str] = Counter()
    for k, v in profile.items():
        merged["LATIN" if k.startswith("LATIN") else k] += v
    return merged.most_common(1)[0][0]


def _ascii_digits(text: str) -> str:
    """Map every Unicode decimal digit (Thai ๐-๙, Arabic-Indic, full-width...)
    to ASCII so one regex finds all numbers."""
    if text.isascii():
        return text
    return _NON_ASCII_DIGIT_RE.sub(lambda mo: str(unicodedata.decimal(mo.group())), text)


def canonical_number(token: str) -> str:
    """Normalise a digit token so that formatting conventions compare equal.

    "100", "1.000"/"1,000" (thousands), "268,5"/"268.5" (decimals),
    "1.234,5"/"1,234.5" (mixed).  A single separator followed by exactly three
    digits is read as a thousands separator, which is the usual case in news
    text ("1.000 người", "1,000 people").
    """
    seps = [c for c in token if c in ".,"]
    if not seps:
        return str(int(token))
    if len(set(seps)) == 2:
        dec = seps[-1]
        thou = "," if dec == "." else "."
        whole, _, frac = token.replace(thou, "").partition(dec)
    else:
        sep = seps[0]
        groups = token.split(sep)
        if all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3:
            whole, frac = "".join(groups), ""
        elif len(groups) == 2:
            whole, frac = groups
        else:  # e.g. "1.2.3" (a version or a date): keep digits as separate numbers
            return "|".join(str(int(g)) for g in groups)
    frac = frac.rstrip("0")
    whole = str(int(whole)) if whole else "0"
    return f"{whole}.{frac}" if frac else whole


def extract_numbers(text: str, buddhist_era: bool) -> frozenset[str]:
    """Canonical numbers of a text.  With ``buddhist_era``, bare 4-digit
    numbers in 2400-2700 are read as BE years and mapped to CE ("2566" ->
    "2023"); amounts written with separators ("2,500 baht") are left alone."""
    out: set[str] = set()
    for tok in _NUMBER_RE.findall(_ascii_digits(text)):
        if buddhist_era and len(tok) == 4 and tok.isdigit() and BE_YEAR_RANGE[0] <= int(tok) <= BE_YEAR_RANGE[1]:
            out.add(str(int(tok) - BE_OFFSET))
            continue
        out.update(canonical_number(tok).split("|"))
    return frozenset(out)


@dataclass(frozen=True)
class ParagraphFeatures:
    """Everything the cost function needs about one paragraph."""

    text: str
    length: int  # non-whitespace characters (robust to spacing noise)
    profile: Mapping[str, float]
    numbers: frozenset[str]
    acronyms: frozenset[str]  # e.g. "ODA", "UNCLOS"
    words: frozenset[str]  # Latin words other than acronyms, folded to lowercase ASCII
    names: frozenset[str]  # capitalised non-sentence-initial Latin words, folded
    marks: frozenset[str]  # "quote" / "paren": quoted or bracketed material survives translation
    key: str  # normalised text, for duplicate detection
    lexemes: frozenset[str] = frozenset()  # word forms for the translation lexicon (:mod:`evalkit.align.lexicon`)


def paragraph_features(text: str, buddhist_era: bool, profile: Mapping[str, float] | None = None) -> ParagraphFeatures:
    text = " ".join(text.split())
    folded = strip_diacritics(text)
    acronyms: set[str] = set()
    words: set[str] = set()
    names: set[str] = set()
    for m in _WORD_RE.finditer(folded):
        tok = m.group()
        if not tok.isascii():
            continue  # a word in a non-Latin script (or glued to one)
        upper = sum(c.isupper() for c in tok)
        if upper >= 2 and upper == len(tok):
            acronyms.add(tok)  # kept out of ``words``: compared case-sensitively
            continue
        low = tok.lower()
        words.add(low)
        if tok[0].isupper() and len(tok) >= 2:
            k = m.start() - 1
            while k >= 0 and folded[k].isspace():
                k -= 1
            if k >= 0 and folded[k] not in _SENTENCE_OPENERS:
                names.add(low)
    key = re.sub(r"\W+", " ", text.lower()).strip()
    return ParagraphFeatures(
        text=text,
        length=len(text) - text.count(" "),  # whitespace was collapsed to single spaces
        profile=script_profile(text) if profile is None else profile,
        numbers=extract_numbers(text, buddhist_era),
        acronyms=frozenset(acronyms),
        words=frozenset(words),
        names=frozenset(names),
        marks=frozenset(k for k, chars in _MARKS.items() if any(c in text for c in chars)),
        key=key,
    )


@dataclass(frozen=True)
class DocumentFeatures:
    paragraphs: tuple[ParagraphFeatures, ...]
    profile: Mapping[str, float]  # length-weighted, so short junk barely counts
    script: str  # dominant script of the document ("LATIN", "THAI", ...)
    duplicated: tuple[bool, ...]  # paragraph text occurs more than once
    content_median: float  # median length of the longer half of paragraphs
    lang: str = ""  # ISO 639-1 code the document was read as ("" when unknown)

    @property
    def latin(self) -> bool:
        return self.script == "LATIN"


def document_features(paragraphs: Sequence[str], lang: str, lexical: bool = False) -> DocumentFeatures:
    """``lexical``: also the word forms a translation lexicon needs (segmenting Thai costs time, so only
    when the pair has a lexicon)."""
    raw_profiles = [script_profile(p) for p in paragraphs]
    lengths = [len(p) for p in paragraphs]
    total: Counter[str] = Counter()
    for prof, n in zip(raw_profiles, lengths):
        for k, v in prof.items():
            total[k] += v * n
    norm = sum(total.values())
    doc_profile = {k: v / norm for k, v in total.items()} if norm else {}
    script = dominant_script(doc_profile)
    be = (lang or "").lower().split("-")[0] in BUDDHIST_ERA_LANGS or script in BUDDHIST_ERA_SCRIPTS
    feats = tuple(paragraph_features(p, be, prof) for p, prof in zip(paragraphs, raw_profiles))
    if lexical:
        feats = tuple(replace(f, lexemes=lexemes(p, lang)) for f, p in zip(feats, paragraphs))
    keys = Counter(f.key for f in feats)
    dup = tuple(bool(f.key) and keys[f.key] > 1 for f in feats)
    lens = sorted(f.length for f in feats)
    # median of the upper half: a page with many short menu items should not
    # make real paragraphs look "long"
    upper = lens[len(lens) // 2 :]
    content_median = float(upper[len(upper) // 2]) if upper else 0.0
    return DocumentFeatures(feats, doc_profile, script, dup, content_median, (lang or "").lower().split("-")[0])


def merge_paragraphs(paras: Sequence[ParagraphFeatures]) -> ParagraphFeatures:
    """Features of consecutive paragraphs taken as one unit (the coarse levels
    of the banded aligner): lengths add, anchors unite, profiles average by length."""
    total = sum(p.length for p in paras)
    prof: Counter[str] = Counter()
    for p in paras:
        for k, v in p.profile.items():
            prof[k] += v * p.length
    profile = {k: v / total for k, v in prof.items()} if total else {}
    return ParagraphFeatures(
        text="",
        length=total,
        profile=profile,
        numbers=frozenset().union(*(p.numbers for p in paras)),
        acronyms=frozenset().union(*(p.acronyms for p in paras)),
        words=frozenset().union(*(p.words for p in paras)),
        names=frozenset().union(*(p.names for p in paras)),
        marks=frozenset().union(*(p.marks for p in paras)),
        key="\n".join(p.key for p in paras),
        lexemes=frozenset().union(*(p.lexemes for p in paras)),
    )


def coarsen(doc: DocumentFeatures, factor: int) -> DocumentFeatures:
    """Every ``factor`` consecutive paragraphs as one (vecalign's downsampling)."""
    paras = tuple(merge_paragraphs(doc.paragraphs[k : k + factor]) for k in range(0, len(doc.paragraphs), factor))
    lens = sorted(p.length for p in paras)
    upper = lens[len(lens) // 2 :]
    return DocumentFeatures(paras, doc.profile, doc.script, tuple(False for _ in paras),
                            float(upper[len(upper) // 2]) if upper else 0.0, doc.lang)
