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
_PLACEHOLDER = re.compile(r"^\[[\w\s-]{1,40}\]$")  # unexpanded CMS template slots: [iklan_2], [ads]
_DATE_LINE = re.compile(r"^\D{0,40}\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(\s+\d{1,2}:\d{2})?$")  # "VnExpress28/11/2023"
# Headings that open a list of links to other articles, in the languages evalkit ships.
_RELATED_HEADINGS = {
    "bài liên quan", "tin liên quan", "tin mới", "tin cùng chuyên mục", "xem thêm", "tautan sumber",
    "berita terkait", "baca juga", "artikel terkait", "ข่าวที่เกี่ยวข้อง", "อ่านเพิ่มเติม",
    "related news", "related articles", "read more", "more stories",
}

_LINE_RULES: list[tuple[str, Callable[[str], bool]]] = [
    ("comment counter", lambda t: bool(_COMMENT_COUNTER.match(t))),
    ("site name", lambda t: bool(_SITE_NAME.match(t))),
    ("reply form", lambda t: bool(_REPLY_FORM.match(t))),
    ("template placeholder", lambda t: bool(_PLACEHOLDER.match(t))),
    ("date line", lambda t: bool(_DATE_LINE.match(t))),
    ("related-news heading", lambda t: t.casefold().rstrip(":") in _RELATED_HEADINGS),
]
# A line of these kinds, once most of the article is behind it, opens the page footer.
_FOOTER_OPENERS = {"comment counter", "reply form", "related-news heading"}
_FOOTER_MIN_SHARE = 0.5  # share of the document's characters that must come before a footer opener


def boilerplate_reason(text: str) -> str | None:
    """The name of the first rule that recognises `text` as site chrome, else None."""
    widget = _WIDGET_TEXT.get(text.casefold())
    if widget:
        return widget
    for reason, rule in _LINE_RULES:
        if rule(text):
            return reason
    return None


def _prepare(line: str) -> str:
    return normalise(strip_markup(line) if (_TAG.search(line) or "&" in line) else line)


def clean_document(raw: RawDocument) -> CleanDocument:
    """Keep article paragraphs; drop chrome, markup-only lines, repeats, the page footer and foreign-script lines.

    The footer rule is positional, as in jusText-style boilerplate removal: on
    news pages the comment section or a "related news" heading ends the article,
    and what follows (headline lists, section names) is navigation. It applies
    only once most of the document's text is behind it, so a comment counter
    shown under a headline cannot swallow the article.
    """
    from evalkit.corpus.script import dominant_script

    lines = [(number, original, _prepare(original)) for number, original in enumerate(raw.lines, start=1)]
    lines = [line for line in lines if line[1].strip()]  # blank lines separate paragraphs; not content
    total = sum(len(text) for _, _, text in lines) or 1
    script = dominant_script(text for _, _, text in lines)

    kept: list[Paragraph] = []
    dropped: list[Dropped] = []
    first_seen: dict[str, int] = {}
    footer: str | None = None
    seen_chars = 0
    for number, original, text in lines:
        reason = footer
        if reason is None:
            if not text:
                reason = "HTML markup only"
            elif (reason := boilerplate_reason(text)) is not None:
                if reason in _FOOTER_OPENERS and seen_chars >= _FOOTER_MIN_SHARE * total:
                    footer = f"page footer (after the {reason} on line {number})"
            elif text in first_seen:
                reason = f"repeat of line {first_seen[text]}"
            elif script and (own := dominant_script([text])) and own != script:
                reason = f"{own.lower()} script in a {script.lower()}-script document"
        seen_chars += len(text)
        if reason:
            dropped.append(Dropped(line=number, text=original, reason=reason))
            continue
        first_seen[text] = number
        kept.append(Paragraph(line=number, text=text))
    return CleanDocument(path=raw.path, paragraphs=tuple(kept), dropped=tuple(dropped))
