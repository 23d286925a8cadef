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


# --------------------------------------------------------------------------- the rules, as data
# Site chrome per language.  `related_headings`: lines that are only a heading over a list of links
# to other articles; `related_prefixes`: a link to another article on one line ("Xem thêm: <headline>");
# `weekdays`/`months`/`date_words`/`timezones`: what a news site's date/time line is made of
# ("Thứ Hai, 27/11/2023, 14:30 (GMT+7)", "28 พ.ย. 2566 เวลา 14:30 น.", "Diperbarui 10:20 WIB").
# Every language's rules are applied to every document: cleaning runs before language ID, and these
# words are distinctive enough not to collide.
LANGUAGE_RULES: dict[str, dict[str, tuple[str, ...]]] = {
    "vi": {
        "related_headings": ("bài liên quan", "tin liên quan", "tin mới", "tin cùng chuyên mục", "xem thêm",
                             "đọc thêm", "tin khác", "bài viết liên quan", "có thể bạn quan tâm"),
        "related_prefixes": ("xem thêm", "đọc thêm", "xem tiếp", "tin liên quan", "bài liên quan", "xem chi tiết"),
        "weekdays": ("thứ hai", "thứ ba", "thứ tư", "thứ năm", "thứ sáu", "thứ bảy", "chủ nhật", "thứ 2", "thứ 3",
                     "thứ 4", "thứ 5", "thứ 6", "thứ 7", "cn"),
        "months": ("tháng",),
        "date_words": ("cập nhật", "cập nhật lúc", "đăng lúc", "ngày", "lúc", "giờ", "sáng", "chiều", "tối"),
        "timezones": ("gmt", "gmt+7", "ict"),
    },
    "th": {
        "related_headings": ("ข่าวที่เกี่ยวข้อง", "อ่านเพิ่มเติม", "ข่าวแนะนำ", "บทความที่เกี่ยวข้อง", "ข่าวล่าสุด"),
        "related_prefixes": ("อ่านเพิ่มเติม", "อ่านต่อ", "ข่าวที่เกี่ยวข้อง", "อ่านข่าว", "คลิกอ่าน"),
        "weekdays": ("วันจันทร์", "วันอังคาร", "วันพุธ", "วันพฤหัสบดี", "วันศุกร์", "วันเสาร์", "วันอาทิตย์", "จันทร์",
                     "อังคาร", "พุธ", "พฤหัสบดี", "พฤหัสฯ", "ศุกร์", "เสาร์", "อาทิตย์", "วันที่"),
        "months": ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม",
                   "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม", "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.",
                   "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.", "พ.ศ.", "ค.ศ."),
        "date_words": ("เวลา", "น.", "ที่", "อัปเดต", "อัพเดท", "อัปเดตล่าสุด", "อัพเดทล่าสุด", "เผยแพร่", "ล่าสุด"),
        "timezones": (),
    },
    "ms": {
        "related_headings": ("berita berkaitan", "artikel berkaitan", "baca juga", "berita lain", "berita terkini"),
        "related_prefixes": ("baca juga", "baca lagi", "berita berkaitan", "artikel berkaitan", "lihat juga"),
        "weekdays": ("isnin", "selasa", "rabu", "khamis", "jumaat", "sabtu", "ahad"),
        "months": ("januari", "februari", "mac", "april", "mei", "jun", "julai", "ogos", "september", "oktober",
                   "november", "disember", "jan", "feb", "apr", "jul", "ogo", "sep", "okt", "nov", "dis"),
        "date_words": ("dikemas kini", "dikemaskini", "diterbitkan", "pada", "jam", "pagi", "petang", "malam"),
        "timezones": ("myt",),
    },
    "id": {
        "related_headings": ("berita terkait", "baca juga", "artikel terkait", "tautan sumber", "berita lainnya",
                             "terpopuler"),
        "related_prefixes": ("baca juga", "simak juga", "baca selengkapnya", "lihat juga", "berita terkait",
                             "artikel terkait", "simak"),
        "weekdays": ("senin", "selasa", "rabu", "kamis", "jumat", "jum'at", "sabtu", "minggu"),
        "months": ("januari", "februari", "maret", "april", "mei", "juni", "juli", "agustus", "september",
                   "oktober", "november", "desember", "jan", "feb", "mar", "apr", "jun", "jul", "agu", "agt",
                   "sep", "okt", "nov", "des"),
        "date_words": ("diperbarui", "diterbitkan", "dipublikasikan", "pukul", "pada"),
        "timezones": ("wib", "wita", "wit"),
    },
    "en": {
        "related_headings": ("related news", "related articles", "read more", "more stories", "related", "see also",
                             "recommended", "more on this story"),
        "related_prefixes": ("read more", "see also", "related", "also read", "read also"),
        "weekdays": ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mon", "tue",
                     "wed", "thu", "fri", "sat", "sun"),
        "months": ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                   "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
                   "sept", "oct", "nov", "dec"),
        "date_words": ("updated", "published", "posted", "last updated", "at", "on", "am", "pm", "a.m.", "p.m."),
        "timezones": ("gmt", "utc", "bst", "est", "edt", "pst", "pdt", "cet"),
    },
}
# Widgets whose whole text is known, and the reason recorded for them.
WIDGET_TEXT = {
    "leave a reply": "reply form",
    "no data": "empty widget",
    "no videos available": "empty widget",
    "click để copy": "share widget",
    "• click để copy": "share widget",
    "chia sẻ": "share widget", "chia sẻ bài viết": "share widget", "share": "share widget",
    "share this article": "share widget", "kongsi artikel ini": "share widget", "bagikan artikel ini": "share widget",
    "แชร์": "share widget", "แชร์ข่าวนี้": "share widget",
}


def _is_thai(token: str) -> bool:
    return any("\u0e00" <= c <= "\u0e7f" for c in token)


def _all(key: str) -> set[str]:
    return {x for rules in LANGUAGE_RULES.values() for x in rules[key]}


_RELATED_HEADINGS = _all("related_headings")
_RELATED_PREFIX = re.compile(
    r"^(?:" + "|".join(sorted(map(re.escape, _all("related_prefixes")), key=len, reverse=True)) + r")(?:\s*[:：»>]|\s+[–—-]\s)\s*\S",
    re.IGNORECASE,
)
_DATE_TOKENS = sorted(_all("weekdays") | _all("months") | _all("date_words") | _all("timezones"), key=len, reverse=True)
# Thai is written without spaces, so its words match anywhere; others only as whole words.
_DATE_WORDS = re.compile(
    "|".join(re.escape(t) if _is_thai(t) else r"(?<!\w)" + re.escape(t) + r"(?!\w)" for t in _DATE_TOKENS),
    re.IGNORECASE,
)
_DATE_NUMBERS = re.compile(r"\d{1,2}[/.:-]\d{1,2}(?:[/.:-]\d{2,4})?|\d{1,4}|[()\[\],.:;|/+–—-]|\bgmt[+-]?\d*\b",
                           re.IGNORECASE)
_COMMENT_COUNTER = re.compile(r"^\D{1,40}\(\d+\)$")
_SITE_NAME = re.compile(r"^[\w-]+(\.[\w-]+)*\.(com|net|org|vn|th|my|id|info)(\s*[-–|].*)?$", re.IGNORECASE)
_REPLY_FORM = re.compile(r"^your email address will not be published", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^\[[\w\s-]{1,40}\]$")  # unexpanded CMS template slots: [iklan_2], [ads]
_DATE_LINE = re.compile(r"^\D{0,40}\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(\s+\d{1,2}:\d{2})?$")  # "VnExpress28/11/2023"
_MAX_DATE_LINE = 80  # characters: a date line is short


def is_date_line(text: str) -> bool:
    """A site's date/time line: a date or time, and nothing else but weekday and
    month names, "updated"-words and time zones of the languages in `LANGUAGE_RULES`."""
    if _DATE_LINE.match(text):
        return True
    if len(text) > _MAX_DATE_LINE or not re.search(r"\d", text):
        return False
    if not re.search(r"\d{1,2}[:.]\d{2}\b|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\b(?:1[89]|2[05])\d\d\b", text):
        return False  # needs a time, a full date or a year
    rest = _DATE_NUMBERS.sub(" ", _DATE_WORDS.sub(" ", text))
    return len(rest.split()) == 0


_LINE_RULES: list[tuple[str, Callable[[str], bool]]] = [
    ("comment counter", lambda t: bool(_COMMENT_COUNTER.match(t))),
    ("site name", lambda t: bool(_SITE_NAME.match(t))),
    ("reply form", lambda t: bool(_REPLY_FORM.match(t))),
    ("template placeholder", lambda t: bool(_PLACEHOLDER.match(t))),
    ("date line", is_date_line),
    ("related-news heading", lambda t: t.casefold().rstrip(":： ") in _RELATED_HEADINGS),
    ("related-links line", lambda t: len(t) <= 250 and bool(_RELATED_PREFIX.match(t))),
]
# A line of these kinds, once most of the article is behind it, opens the page footer.
_FOOTER_OPENERS = {"comment counter", "reply form", "related-news heading"}
_FOOTER_MIN_SHARE = 0.5  # share of the document's characters that must come before a footer opener
# A line is dropped for its script only when under this share of its letters are in the document's
# script *and* language ID says it is in another language than the document: Thai news text has whole
# sentences dense with Latin-script names.
_FOREIGN_SCRIPT_MAX_OWN_SHARE = 0.15


def boilerplate_reason(text: str) -> str | None:
    """The name of the first rule that recognises `text` as site chrome, else None."""
    widget = WIDGET_TEXT.get(text.casefold())
    if widget:
        return widget
    for reason, rule in _LINE_RULES:
        if rule(text):
            return reason
    return None


def _script_share(text: str, script: str) -> tuple[str | None, float]:
    """(dominant script of the line, share of its letters in `script`)."""
    from evalkit.corpus.script import script_counts

    counts = script_counts(text)
    total = sum(counts.values())
    if not total:
        return None, 1.0
    return counts.most_common(1)[0][0], counts.get(script, 0) / total


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

    doc_lang = _DocumentLanguage([text for _, _, text in lines])

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
            elif script and _foreign_line(text, script, doc_lang):
                own = dominant_script([text]) or "other"
                reason = f"{own.lower()} script in a {script.lower()}-script document"
        seen_chars += len(text)
        if reason:
            dropped.append(Dropped(line=number, text=original, reason=reason))
            continue
        first_seen[text] = number
        kept.append(Paragraph(line=number, text=text))
    return CleanDocument(path=raw.path, paragraphs=tuple(kept), dropped=tuple(dropped))


class _DocumentLanguage:
    """The document's language by lingua, computed only if a line needs it."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self._lang: str | None | bool = False

    def get(self) -> str | None:
        if self._lang is False:
            from evalkit.corpus.langid import detect_document

            self._lang = detect_document(self.texts).lang
        return self._lang  # type: ignore[return-value]


def _foreign_line(text: str, script: str, doc_lang: _DocumentLanguage) -> bool:
    """Mostly another script than the document's, and language ID agrees it is another language."""
    own, share = _script_share(text, script)
    if own is None or own == script or share >= _FOREIGN_SCRIPT_MAX_OWN_SHARE:
        return False
    from evalkit.corpus.langid import detect

    line_lang = detect(text).lang
    return line_lang is not None and line_lang != doc_lang.get()
