"""Cleaning rules for scraped text: normalise, strip markup, drop boilerplate.

Every rule is a pure function of one line (or of the lines seen so far, for
repeats). Nothing is removed silently: a removed line becomes a `Dropped` record
with its line number and the rule that removed it, and that record is written to
run.json. Rules are deliberately conservative: a boilerplate line the rules miss
is left to the aligner, which leaves it unmatched (and so unscored), whereas a
real paragraph dropped here could never be scored.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from evalkit.corpus.read import RawDocument


@dataclass(frozen=True)
class Paragraph:
    line: int  # 1-based line number in the original file
    text: str  # normalised text


@dataclass(frozen=True)
class Dropped:
    line: int
    text: str  # the original line, so the report can show exactly what was removed
    reason: str


@dataclass(frozen=True)
class CleanDocument:
    path: Path
    paragraphs: tuple[Paragraph, ...]
    dropped: tuple[Dropped, ...]

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.paragraphs]


# Zero-width characters that carry no meaning in running text. ZWNJ/ZWJ (U+200C/D)
# are kept: they change rendering and meaning in Indic, Arabic-script and emoji text.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"\s+")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def normalise(text: str) -> str:
    """NFC, every Unicode space (no-break included) as one ASCII space, no zero-width marks.

    Scraped text mixes composed and decomposed Vietnamese diacritics and no-break
    spaces; without this, identical strings score below 100 on chrF.
    """
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return _SPACES.sub(" ", text).strip()


def strip_markup(text: str) -> str:
    return html.unescape(_TAG.sub(" ", text))


_COMMENT_COUNTER = re.compile(r"^\D{1,40}\(\d+\)$")
_SITE_NAME = re.compile(r"^[\w-]+(\.[\w-]+)*\.(com|net|org|vn|th|my|id|info)(\s*[-–|].*)?$", re.IGNORECASE)
_WIDGET_TEXT = {
    "leave a reply": "reply form",
    "no data": "empty widget",
    "no videos available": "empty widget",
    "click để copy": "share widget",
    "• click để copy": "share widget",
}
_REPLY_FORM = re.compile(r"^your email address will not be published", re.IGNORECASE)

_LINE_RULES: list[tuple[str, Callable[[str], bool]]] = [
    ("comment counter", lambda t: bool(_COMMENT_COUNTER.match(t))),
    ("site name", lambda t: bool(_SITE_NAME.match(t))),
    ("reply form", lambda t: bool(_REPLY_FORM.match(t))),
]


def boilerplate_reason(text: str) -> str | None:
    """The name of the first rule that recognises `text` as site chrome, else None."""
    widget = _WIDGET_TEXT.get(text.casefold())
    if widget:
        return widget
    for reason, rule in _LINE_RULES:
        if rule(text):
            return reason
    return None


def clean_document(raw: RawDocument) -> CleanDocument:
    kept: list[Paragraph] = []
    dropped: list[Dropped] = []
    first_seen: dict[str, int] = {}
    for number, original in enumerate(raw.lines, start=1):
        if not original.strip():
            continue  # paragraph separators; not content
        had_markup = bool(_TAG.search(original)) or "&" in original
        text = normalise(strip_markup(original) if had_markup else original)
        reason = None
        if not text:
            reason = "HTML markup only"
        elif (reason := boilerplate_reason(text)) is None and text in first_seen:
            reason = f"repeat of line {first_seen[text]}"
        if reason:
            dropped.append(Dropped(line=number, text=original, reason=reason))
            continue
        first_seen[text] = number
        kept.append(Paragraph(line=number, text=text))
    return CleanDocument(path=raw.path, paragraphs=tuple(kept), dropped=tuple(dropped))
