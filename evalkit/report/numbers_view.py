"""What every report shows of the `numbers` metric: highlighted items, compact item lists, the per-system headline.

The metric (`evalkit/scorers/numbers.py`, see its module docstring) stores per
paragraph `details["numbers"]`: items with a status (preserved, converted,
changed, missing, added, ...) and character spans into the pivot, candidate and
reference texts, plus `reference_disagrees` / `reference_issues` where the human
reference itself changed or dropped a pivot item; and per system
`corpus_scores["numbers"].summary` (precision, recall, paragraphs with errors).
This module turns those into view data: (text, class, title) segments for the
HTML page, a one-cell summary for paragraphs.csv, a lost-item count for the
terminal and a headline sentence for every report.

It reads run.json's data only (no import of the scorer: a report renders
wherever run.json can be read), and it trusts none of it: a run.json may come
from an older evalkit, another tool or a hand edit, so a malformed item or a
span that does not point at its recorded text is skipped, never an error.
Runs without the metric give no details and no headline, and every caller then
renders what it rendered before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from evalkit.results import ParagraphResult, Score

METRIC = "numbers"
PRESERVED, CONVERTED, CHANGED, MISSING, ADDED = "preserved", "converted", "changed", "missing", "added"
ADDED_IN_REFERENCE = "added, as in the reference"
NOT_EXPECTED = "not expected"
LOST = (MISSING, CHANGED)  # what a reader cares about: the pivot's item is not (correctly) in the translation
# CSS class per status (report.css styles them); anything else is shown with the neutral "n-other".
CLASSES = {PRESERVED: "n-preserved", CONVERTED: "n-converted", CHANGED: "n-changed", MISSING: "n-missing",
           ADDED: "n-added", ADDED_IN_REFERENCE: "n-added-ref", NOT_EXPECTED: "n-not-expected"}
# Worst first: where systems differ on a pivot item, the source text shows the worst one.
SEVERITY = (MISSING, CHANGED, ADDED, CONVERTED, PRESERVED, ADDED_IN_REFERENCE, NOT_EXPECTED)
REFERENCE_DISAGREES = "the human reference changed a number here: the system is not blamed"
REFERENCE_DISAGREES_WHY = ("numbers compares each candidate with the pivot, not with the reference; chrF and the other "
                           "reference-based scores may still count a correct number as an error here")


@dataclass(frozen=True)
class Segment:
    """A run of a paragraph's text: plain (`cls` empty) or one highlighted item with a tooltip."""

    text: str
    cls: str = ""
    title: str = ""
    status: str = ""


# ---------------------------------------------------------------- reading details defensively


def details_of(p: ParagraphResult | None) -> dict[str, Any] | None:
    """The paragraph's `numbers` details, or None (no metric, an older run, something malformed)."""
    if p is None or not isinstance(p.details, dict):
        return None
    found = p.details.get(METRIC)
    if not isinstance(found, dict) or not isinstance(found.get("items", []), list):
        return None
    return found


def _items(details: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [i for i in (details or {}).get("items") or [] if isinstance(i, dict)]


def _issues(details: dict[str, Any] | None) -> list[dict[str, Any]]:
    found = (details or {}).get("reference_issues") or []
    return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


def _side(item: dict[str, Any], name: str) -> dict[str, Any] | None:
    side = item.get(name)
    return side if isinstance(side, dict) else None


def _text(side: dict[str, Any] | None) -> str:
    value = (side or {}).get("text")
    return value if isinstance(value, str) else ""


def _status(item: dict[str, Any]) -> str:
    value = item.get("status")
    return value if isinstance(value, str) else ""


def _conversion(item: dict[str, Any]) -> str:
    value = item.get("conversion")
    return value if isinstance(value, str) else ""


def _span(side: dict[str, Any] | None, text: str) -> tuple[int, int] | None:
    """The side's [start, end) in text, when it is a real span of that text and covers the recorded item text."""
    span = (side or {}).get("span")
    if not isinstance(span, (list, tuple)) or len(span) != 2:
        return None
    start, end = span
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        return None
    if not 0 <= start < end <= len(text):
        return None
    recorded = (side or {}).get("text")
    if isinstance(recorded, str) and text[start:end] != recorded:
        return None  # a stale span (the text was edited): highlighting the wrong characters would mislead
    return start, end


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value)


def lost(details: dict[str, Any] | None) -> int:
    """Pivot items missing or changed in the candidate (0 without details)."""
    if details is None:
        return 0
    counts = details.get("counts")
    if isinstance(counts, dict):
        values = [_count(counts.get(s)) for s in LOST]
        if all(v is not None for v in values):
            return sum(values)  # type: ignore[arg-type]
    return sum(1 for i in _items(details) if _status(i) in LOST)


def reference_disagrees(details: dict[str, Any] | None) -> bool:
    return bool(details) and details.get("reference_disagrees") is True


# ---------------------------------------------------------------- words


def describe(item: dict[str, Any], on: str, other: str = "candidate") -> str:
    """The tooltip of an item shown in the `on` text ("pivot", "candidate" or "reference").

    `other` names the side the pivot was compared with. "converted: BE year 2566 = 2023" in
    the candidate, "converted: BE year 2023 = 2566" in the pivot, "changed: 100 tỷ yen in the
    pivot, 100 ล้านเยน in the candidate" in both.
    """
    status, conversion = _status(item), _conversion(item)
    pivot, translated = _text(_side(item, "source")), _text(_side(item, other))
    this, that = (pivot, translated) if on == "pivot" else (translated, pivot)
    if status == PRESERVED:
        return f"preserved: {this}" + (f" = {that}" if that and that != this else "")
    if status == CONVERTED:
        return f"converted: {conversion + ' ' if conversion else ''}{this} = {that}"
    if status == CHANGED:
        return f"changed: {pivot} in the pivot, {translated} in the {other}"
    if status == MISSING:
        return f"missing: {pivot} is not in the {other}"
    if status == ADDED:
        return f"added: {translated} is not in the pivot"
    if status == ADDED_IN_REFERENCE:
        return f"added, as in the reference (not counted): {translated}"
    if status == NOT_EXPECTED:
        why = item.get("why")
        return "not expected (not counted): " + (why if isinstance(why, str) else "the reference does not keep it")
    return status or "item"


def _reference_item(item: dict[str, Any]) -> dict[str, Any] | None:
    """A pivot item as the reference has it, in the shape of a candidate item (status, conversion, reference side)."""
    ref = _side(item, "reference")
    if ref is None or _side(item, "source") is None:
        return None
    entry = {"status": ref.get("status"), "source": _side(item, "source"), "reference": ref}
    if isinstance(ref.get("conversion"), str):
        entry["conversion"] = ref["conversion"]
    return entry


def compact(details: dict[str, Any] | None) -> str:
    """One line for a spreadsheet cell: 'changed: 100 tỷ yen→100 ล้านเยน; converted: 2023→2566 (BE year)'."""
    parts = []
    for item in _items(details):
        status, conversion = _status(item), _conversion(item)
        pivot, cand = _text(_side(item, "source")), _text(_side(item, "candidate"))
        if status == CONVERTED:
            parts.append(f"converted: {pivot}→{cand}" + (f" ({conversion})" if conversion else ""))
        elif status == CHANGED:
            parts.append(f"changed: {pivot}→{cand}")
        elif status in (ADDED, ADDED_IN_REFERENCE):
            parts.append(f"{status}: {cand}")
        elif status:
            parts.append(f"{status}: {pivot or cand}")
    return "; ".join(parts)


def compact_reference(details: dict[str, Any] | None) -> str:
    """Where the human reference itself differs from the pivot: 'changed: 1973→1937; missing: 2021; added: 5'."""
    parts = []
    for issue in _issues(details):
        status = _status(issue)
        pivot, ref = _text(_side(issue, "source")), _text(_side(issue, "reference"))
        if status == CHANGED:
            parts.append(f"changed: {pivot}→{ref}")
        elif status == MISSING:
            parts.append(f"missing: {pivot}")
        elif status:
            parts.append(f"{status}: {ref or pivot}")
    return "; ".join(parts)


# ---------------------------------------------------------------- highlighting


Mark = tuple[int, int, str, str, str]  # start, end, css class, title, status


def segments(text: str, marks: list[Mark]) -> list[Segment]:
    """text cut into plain and highlighted runs; of overlapping marks the first (leftmost, then longest) wins."""
    out: list[Segment] = []
    pos = 0
    for start, end, cls, title, status in sorted(marks, key=lambda m: (m[0], -m[1])):
        if start < pos:
            continue
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], cls, title, status))
        pos = end
    if pos < len(text) or not out:
        out.append(Segment(text[pos:]))
    return out


def _class(status: str) -> str:
    return CLASSES.get(status, "n-other")


def candidate_segments(p: ParagraphResult) -> list[Segment]:
    """The candidate with its items: preserved, converted, changed, added (missing items have no place in it)."""
    marks = []
    for item in _items(details_of(p)):
        span = _span(_side(item, "candidate"), p.candidate)
        if span:
            status = _status(item)
            marks.append((*span, _class(status), describe(item, "candidate"), status))
    return segments(p.candidate, marks)


def source_segments(source: str, systems: list[tuple[str, ParagraphResult | None]]) -> list[Segment]:
    """The pivot with its items, one tooltip line per system (and the reference); the class is the worst status.

    `systems` are (name, that system's paragraph) for the systems shown side by side: the same
    pivot item can be preserved by one and missing in another.
    """
    found: dict[tuple[int, int], list[tuple[str, str, str]]] = {}  # span → [(status, who, description)]
    reference: dict[tuple[int, int], str] = {}
    for name, p in systems:
        for item in _items(details_of(p)):
            span = _span(_side(item, "source"), source)
            if span is None:
                continue
            found.setdefault(span, []).append((_status(item), name, describe(item, "pivot")))
            ref = _reference_item(item)
            if ref is not None and span not in reference:
                reference[span] = describe(ref, "pivot", "reference")
    marks = []
    named = len({name for name, p in systems if details_of(p) is not None}) > 1
    for span, entries in found.items():
        status = min((s for s, _, _ in entries), key=lambda s: SEVERITY.index(s) if s in SEVERITY else len(SEVERITY))
        lines = [f"{who}: {text}" if named else text for _, who, text in entries]
        if span in reference:
            lines.append(f"reference: {reference[span]}")
        marks.append((*span, _class(status), "\n".join(lines), status))
    return segments(source, marks)


def reference_segments(reference: str, paragraphs: list[ParagraphResult | None]) -> list[Segment]:
    """The reference with the pivot's items as the reference has them (the same for every system), and its additions."""
    marks: dict[tuple[int, int], Mark] = {}
    for p in paragraphs:
        details = details_of(p)
        for item in _items(details):
            ref = _reference_item(item)
            span = _span(_side(item, "reference"), reference) if ref is not None else None
            if span and span not in marks:
                status = _status(ref)  # type: ignore[arg-type]
                title = describe(ref, "reference", "reference")  # type: ignore[arg-type]
                if status in LOST:
                    title += " (the human reference differs from the pivot here)"
                marks[span] = (*span, _class(status), title, status)
        for issue in _issues(details):
            span = _span(_side(issue, "reference"), reference)
            if span and span not in marks and _status(issue) == ADDED:
                marks[span] = (*span, _class(ADDED), f"added in the reference: {_text(_side(issue, 'reference'))} "
                               f"is not in the pivot", ADDED)
    return segments(reference, list(marks.values()))


def reference_flag(paragraphs: list[ParagraphResult | None]) -> dict[str, Any] | None:
    """For a paragraph whose human reference changed or dropped a pivot item: the message and what it changed."""
    for p in paragraphs:
        details = details_of(p)
        if reference_disagrees(details):
            issues = [i for i in _issues(details) if _status(i) in LOST]
            return {"message": REFERENCE_DISAGREES, "why": REFERENCE_DISAGREES_WHY,
                    "issues": compact_reference({"reference_issues": issues}) or compact_reference(details)}
    return None


# ---------------------------------------------------------------- per system


@dataclass(frozen=True)
class Headline:
    f1: float
    precision: float
    recall: float
    with_errors: int
    paragraphs: int
    reference_disagrees: int
    lost: int  # missing + changed items
    counts: dict[str, int]

    def sentence(self) -> str:
        """'precision 88.89, recall 80.00; 2 of 16 paragraphs with a missing or changed item[; in 1 paragraph the …]'."""
        text = (f"precision {self.precision:.2f}, recall {self.recall:.2f}; {self.with_errors} of {self.paragraphs} "
                f"paragraphs with a missing or changed item")
        if self.reference_disagrees:
            text += (f"; in {self.reference_disagrees} paragraph{'s' if self.reference_disagrees != 1 else ''} "
                     f"the human reference itself changed or dropped a number")
        return text

    def items(self) -> str:
        """'8 of 10 pivot items kept (4 preserved, 4 converted), 1 changed, 1 missing, 0 added'."""
        c = self.counts
        kept = c.get(PRESERVED, 0) + c.get(CONVERTED, 0)
        return (f"{kept} of {c.get('pivot_items', 0)} pivot items kept ({c.get(PRESERVED, 0)} preserved, "
                f"{c.get(CONVERTED, 0)} converted), {c.get(CHANGED, 0)} changed, {c.get(MISSING, 0)} missing, "
                f"{c.get(ADDED, 0)} added")


def headline(score: Score | None, paragraphs: int | None = None) -> Headline | None:
    """The per-system figures of `numbers` from its corpus score's summary; None where the run has none."""
    summary = getattr(score, "summary", None)
    if not isinstance(summary, dict):
        return None

    def number(key: str) -> float | None:
        value = summary.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        return float(value)

    precision, recall = number("precision"), number("recall")
    if precision is None or recall is None:
        return None
    f1 = number("f1")
    if f1 is None:
        f1 = float(score.score) if isinstance(score.score, (int, float)) else 0.0  # type: ignore[union-attr]
    counts = {k: int(number(k) or 0) for k in ("pivot_items", "candidate_items", PRESERVED, CONVERTED, CHANGED,
                                                MISSING, ADDED)}
    total = number("paragraphs")
    return Headline(
        f1=f1, precision=precision, recall=recall, with_errors=int(number("paragraphs_with_errors") or 0),
        paragraphs=int(total) if total is not None else int(paragraphs or 0),
        reference_disagrees=int(number("reference_disagrees") or 0),
        lost=counts[CHANGED] + counts[MISSING], counts=counts,
    )
