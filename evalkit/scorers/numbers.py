"""`numbers`: are the pivot's numbers, amounts, dates, times and acronyms still in the translation?

An n-gram metric barely moves when "100 tỷ yen" becomes "100 million yen", yet
that is the error a reader of news cares about most. This metric extracts the
items of the pivot paragraph (the original the system translated) and of the
candidate (`numbers_extract`, rules per language in `numbers_rules`) and aligns
them: each pivot item is preserved, converted (a Buddhist-Era year, a 24-hour
time, another unit, another separator convention: not an error), changed (paired
with a different value of the same kind) or missing; a candidate item left over
is added. The score is the F1 of preserved + converted items, x100 (100 where
neither side has anything to preserve).

The same comparison pivot ↔ human reference flags paragraphs where the
*reference* changed or dropped a number, so that a system is not blamed (by
chrF and friends) for disagreeing with a flawed reference. The score itself
never reads the reference, except as evidence for names: a Latin-script acronym
counts as expected only where the reference keeps it (ASEAN is legitimately
written อาเซียน in Thai, UN is LHQ in Vietnamese).

Statistics are per-paragraph counts (see `COLUMNS`), so corpus scores, bootstrap
intervals and paired tests come from summed rows like every other metric;
`summary_from_statistics` gives precision, recall and the number of paragraphs
with a missing or changed item from the same sums; `new_errors` counts the
paragraphs that have an error in one run and not in a baseline run.

Names: an acronym the candidate writes in another case ("Asean") is preserved;
one it translates with a word from `numbers_rules.NAME_EQUIVALENTS` (UN → LHQ,
ASEAN → อาเซียน) is converted ("translated name").

Two uses of the reference as evidence, measured on 1,521 NTREX-128 sentences
(English pivot, each of the four human translations scored as a candidate):
- a pivot acronym is expected only where the reference keeps it, in any case or
  translated by the table (else its status is "not expected" and it is not
  counted): about 45 of 300 acronyms per language are transliterated or
  paraphrased by the human translators (HIV, TV, MP, D.C.); counting them as
  missing would take a perfect human translation from 99.1-99.9 to 96.1-97.3;
- an item the candidate adds is not counted where the reference adds the same
  item (status "added, as in the reference"): GMT+0100, a date made explicit.

Details, one JSON-able dict per paragraph (`paragraph_details`, stored by the
pipeline in run.json as `paragraphs[i].details["numbers"]`):

    {"counts": {"pivot": 4, "candidate": 4, "preserved": 2, "converted": 1, "changed": 1, "missing": 0, "added": 0},
     "items": [                       # in pivot order, then the candidate's additions
        {"kind": "year",              # number|percent|amount|quantity|year|date|month|time|name
         "status": "converted",       # preserved|converted|changed|missing|added|"added, as in the reference"|"not expected"
         "conversion": "BE year",     # only when converted: BE year|12/24-hour time|time format|unit|separator|number word
         "source":    {"text": "2023", "span": [94, 98], "value": "2023"},     # span: [start, end) in the pivot paragraph
         "candidate": {"text": "2566", "span": [73, 77], "value": "2566"},     # in the candidate; null if missing
         "reference": {"status": "converted", "conversion": "BE year",          # the same pivot item in the reference
                       "text": "2566", "span": [73, 77], "value": "2566"}},   # (status only when the reference lacks it)
        ...],
     "reference_disagrees": false,    # the human reference dropped or changed a pivot item
     "reference_issues": [{"status": "missing"|"changed"|"added", "source": {...}|null, "reference": {...}|null}]}

`value` is canonical: a number with scale words applied ("100 tỷ" → 100000000000),
"MM-DD" for a date, "MM" for a month, "HH:MM" for a time, the acronym in capitals.
Spans are Python string offsets (code points) into the paragraph texts stored
beside them in run.json (source, candidate, reference).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from evalkit import __version__
from evalkit.scorers import numbers_rules
from evalkit.scorers.base import Scorer, Sources
from evalkit.scorers.numbers_extract import (
    ADDED, CHANGED, CONVERTED, MISSING, PRESERVED, Item, Pair, extract, match, number_words,
)

ADDED_IN_REFERENCE = "added, as in the reference"  # not counted

COLUMNS = (
    "pivot_items",  # items of the pivot expected in the translation
    "candidate_items",  # items of the candidate that count (preserved + converted + changed + added)
    "preserved",
    "converted",
    "changed",
    "missing",
    "added",
    "paragraphs_with_errors",  # 1 where a pivot item is missing or changed
    "reference_disagrees",  # 1 where the human reference itself dropped or changed a pivot item
    "paragraphs",  # 1 per row
    "errors_where_reference_agrees",  # paragraphs_with_errors among paragraphs whose reference is clean
)
_I = {name: i for i, name in enumerate(COLUMNS)}


def f1_score(row: np.ndarray) -> float:
    """F1 of preserved + converted items, x100; 100 when neither side has an item."""
    pivot, cand = row[_I["pivot_items"]], row[_I["candidate_items"]]
    good = row[_I["preserved"]] + row[_I["converted"]]
    if pivot + cand == 0:
        return 100.0
    return float(200.0 * good / (pivot + cand))  # = 2PR/(P+R) with P = good/cand, R = good/pivot


def f1_scores(sums: np.ndarray) -> np.ndarray:
    """`f1_score` of every row of a 2-D array of summed statistics, with the same float operations."""
    pivot, cand = sums[:, _I["pivot_items"]], sums[:, _I["candidate_items"]]
    good = sums[:, _I["preserved"]] + sums[:, _I["converted"]]
    items = pivot + cand
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(items == 0, 100.0, 200.0 * good / items)


def summary_from_statistics(stats: np.ndarray) -> dict[str, float]:
    """Per-system figures from summed (1-D) or per-paragraph (2-D) rows of `NumbersScorer.statistics`.

    precision = (preserved + converted) / candidate items; recall = (preserved +
    converted) / pivot items (both x100; 100 where the denominator is 0);
    f1 = the corpus score; plus the raw counts, `paragraphs_with_errors` (a
    missing or changed item) and `reference_disagrees` (paragraphs whose human
    reference itself dropped or changed a pivot item).
    """
    stats = np.asarray(stats, dtype=np.float64)
    row = stats.sum(axis=0) if stats.ndim == 2 else stats
    good = row[_I["preserved"]] + row[_I["converted"]]
    pivot, cand = row[_I["pivot_items"]], row[_I["candidate_items"]]
    out = {name: float(row[i]) for i, name in enumerate(COLUMNS)}
    out["precision"] = float(100.0 * good / cand) if cand else 100.0
    out["recall"] = float(100.0 * good / pivot) if pivot else 100.0
    out["f1"] = f1_score(row)
    return out


def new_errors(baseline_stats: np.ndarray, candidate_stats: np.ndarray) -> int:
    """Paragraphs with a missing or changed item in the candidate run but not in the baseline run (same paragraphs, same order).

    For `evalkit check`'s `max_new_number_errors`: both arguments are the 2-D
    per-paragraph statistics of the two runs on their shared paragraphs.
    """
    before = np.asarray(baseline_stats)[:, _I["paragraphs_with_errors"]] > 0
    after = np.asarray(candidate_stats)[:, _I["paragraphs_with_errors"]] > 0
    return int(np.sum(after & ~before))


@dataclass(frozen=True)
class ParagraphCheck:
    row: tuple[float, ...]
    details: dict[str, Any]


class NumbersScorer(Scorer):
    name = "numbers"
    needs_sources = True
    in_default_set = True
    gate_margin = 2.0  # points of F1: with N items in a document one changed item costs about 100/N

    def __init__(self, target_lang: str, options=None, source_lang: str | None = None) -> None:
        super().__init__(target_lang, options, source_lang)
        self._source_lang = source_lang or "en"

    def _checks(self, candidates: list[str], references: list[str], sources: list[str] | None) -> list[ParagraphCheck]:
        assert sources is not None  # `needs_sources`: the base class has checked
        return [check_paragraph(s, c, r, self._source_lang, self.target_lang)
                for s, c, r in zip(sources, candidates, references)]

    def _statistics(self, candidates, references, sources) -> np.ndarray:
        return np.array([c.row for c in self._checks(candidates, references, sources)], dtype=np.float64)

    def _score_from_statistics(self, summed: np.ndarray) -> float:
        return f1_score(summed)

    def _scores_from_statistics(self, sums: np.ndarray) -> np.ndarray:
        return f1_scores(sums)

    def _corpus(self, candidates, references, sources) -> float:
        return f1_score(self._statistics(candidates, references, sources).sum(axis=0))

    def _paragraphs(self, candidates, references, sources) -> list[float]:
        return [f1_score(np.asarray(c.row)) for c in self._checks(candidates, references, sources)]

    def paragraph_details(self, candidates: Sequence[str], references: Sequence[str], sources: Sources = None):
        self._check(candidates, references, sources)
        # deep copies: check_paragraph is memoised and its details must not be shared with callers
        return [copy.deepcopy(c.details) for c in self._checks(list(candidates), list(references), list(sources or []))]

    def summary(self, stats: np.ndarray) -> dict[str, float]:
        return summary_from_statistics(stats)

    def signature(self) -> str:
        return (f"numbers|rules:{numbers_rules.RULES_VERSION}-{numbers_rules.rules_hash()}"
                f"|pivot:{self._source_lang}|target:{self.target_lang}|evalkit:{__version__}")


# ---------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _extract(text: str, lang: str) -> tuple[Item, ...]:
    return tuple(extract(text, lang))


@lru_cache(maxsize=65536)
def _words(text: str, lang: str) -> tuple[Item, ...]:
    return tuple(number_words(text, lang))


def _find_name(text: str, acronym: str, lang: str) -> tuple[Item, str | None] | None:
    """The acronym in `text` in any case ("Asean"), or failing that a translation of it from the rule table.

    Returns the occurrence as an Item and None (the acronym itself) or "translated name".
    """
    low = text.lower()
    start = low.find(acronym.lower())
    while start >= 0:
        end = start + len(acronym)
        before = low[start - 1] if start else " "
        after = low[end] if end < len(low) else " "
        if not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum()):
            return Item("name", "a:" + acronym, text[start:end], start, end), None
        start = low.find(acronym.lower(), start + 1)
    for word in numbers_rules.NAME_EQUIVALENTS.get(acronym, {}).get(lang, ()):
        found = _equivalent_pattern(word).search(text)
        if found:
            return Item("name", "a:" + acronym, found.group(), found.start(), found.end()), "translated name"
    return None


@lru_cache(maxsize=None)
def _equivalent_pattern(word: str) -> re.Pattern:
    if any("\u0e00" <= c <= "\u0e7f" for c in word):  # Thai: no word boundaries
        return re.compile(re.escape(word))
    return re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)")


def _names_found(pairs: list, text: str, lang: str) -> list:
    """Missing pivot acronyms that `text` writes in another case or translates: preserved/converted after all."""
    out = []
    for p in pairs:
        if p.pivot is not None and p.pivot.kind == "name" and p.status == MISSING:
            found = _find_name(text, p.pivot.key[2:], lang)
            if found:
                item, how = found
                p = Pair(p.pivot, item, PRESERVED if how is None else CONVERTED, how)
        out.append(p)
    return out


def _side(item: Item | None) -> dict | None:
    return None if item is None else {"text": item.text, "span": [item.start, item.end], "value": item.key.split(":", 1)[1]}


@lru_cache(maxsize=65536)
def check_paragraph(source: str, candidate: str, reference: str, source_lang: str, target_lang: str) -> ParagraphCheck:
    """One paragraph: its statistics row and its JSON-able details (see the module docstring of `numbers`)."""
    pivot_all = _extract(source, source_lang)
    cand_all = _extract(candidate, target_lang)
    ref_all = _extract(reference, target_lang)

    expected, not_expected = [], []
    for item in pivot_all:
        if item.kind == "name" and _find_name(reference, item.key[2:], target_lang) is None:
            not_expected.append(item)
        else:
            expected.append(item)
    pivot_names = {i.key for i in pivot_all if i.kind == "name"}
    # a candidate acronym counts only as the counterpart of a pivot one (added names are not errors)
    cand = [i for i in cand_all if i.kind != "name" or i.key in pivot_names]
    ref = [i for i in ref_all if i.kind != "name" or i.key in pivot_names]

    pivot_words = _words(source, source_lang)
    pairs = _names_found(match(expected, cand, pivot_words, _words(candidate, target_lang)), candidate, target_lang)
    ref_matched = _names_found(match(expected, ref, pivot_words, _words(reference, target_lang)), reference, target_lang)
    ref_pairs = {id(p.pivot): p for p in ref_matched if p.pivot is not None}
    ref_added = [p.other for p in ref_matched if p.pivot is None and p.other.kind != "name"]

    # An item the candidate adds is not blamed where the human reference adds it too (an explanatory
    # conversion, a year made explicit, a reference paragraph covering more than its pivot).
    added = [p.other for p in pairs if p.pivot is None and p.other.kind != "name"]
    shared = {id(q.pivot): q.other for q in match(added, ref_added) if q.pivot is not None and q.other is not None
              and q.status in (PRESERVED, CONVERTED)}
    counts = {s: 0 for s in (PRESERVED, CONVERTED, CHANGED, MISSING, ADDED)}
    items = []
    for p in pairs:
        if p.pivot is None:
            if p.other.kind == "name":
                continue  # only the pivot's names are checked; an added name is not an error
            in_ref = shared.get(id(p.other))
            if in_ref is None:
                counts[ADDED] += 1
            items.append({"kind": p.other.kind, "status": ADDED if in_ref is None else ADDED_IN_REFERENCE,
                          "source": None, "candidate": _side(p.other), "reference": _side(in_ref)})
            continue
        counts[p.status] += 1
        rp = ref_pairs.get(id(p.pivot))
        kind = p.other.kind if p.pivot.kind == "word" else p.pivot.kind
        entry = {"kind": kind, "status": p.status, "source": _side(p.pivot), "candidate": _side(p.other)}
        if p.conversion:
            entry["conversion"] = p.conversion
        entry["reference"] = None if rp is None else {"status": rp.status, **({"conversion": rp.conversion} if rp.conversion else {}),
                                                      **(_side(rp.other) or {})}
        items.append(entry)
    for item in not_expected:
        items.append({"kind": "name", "status": "not expected", "source": _side(item), "candidate": None,
                      "reference": None, "why": "the reference does not keep it (translated or transliterated)"})
    items.sort(key=lambda e: (e["source"] or e["candidate"])["span"][0] if e["source"] else 10**9 + e["candidate"]["span"][0])

    ref_disagrees = [p for p in ref_pairs.values() if p.status in (MISSING, CHANGED)]
    pivot_n = counts[PRESERVED] + counts[CONVERTED] + counts[CHANGED] + counts[MISSING]
    cand_n = counts[PRESERVED] + counts[CONVERTED] + counts[CHANGED] + counts[ADDED]
    has_error = 1.0 if counts[MISSING] + counts[CHANGED] else 0.0
    flagged = 1.0 if ref_disagrees else 0.0
    row = (float(pivot_n), float(cand_n), float(counts[PRESERVED]), float(counts[CONVERTED]), float(counts[CHANGED]),
           float(counts[MISSING]), float(counts[ADDED]), has_error, flagged, 1.0, has_error * (1.0 - flagged))
    details = {
        "counts": {"pivot": pivot_n, "candidate": cand_n, **counts},
        "items": items,
        "reference_disagrees": bool(ref_disagrees),
        "reference_issues": [
            {"status": p.status, "source": _side(p.pivot), "reference": _side(p.other)} for p in ref_disagrees
        ] + [{"status": ADDED, "source": None, "reference": _side(o)} for o in ref_added],
    }
    return ParagraphCheck(row, details)
