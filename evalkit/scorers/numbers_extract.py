"""Extract numbers, amounts, dates, times and acronyms from one paragraph, and match two such lists.

Pure functions over strings; every language-specific word comes from
`numbers_rules`. An item carries a canonical key (what must survive translation:
the value, a date, a time of day, an acronym), the exact text and its character
span in the paragraph (for highlighting), and the alternative keys a legitimate
conversion would produce (a Buddhist-Era year, a 24-hour time, the other reading
of an ambiguous separator). Quantities with a unit also carry their value in SI
units so that 45 miles ↔ 72 km is recognised as a conversion.

Matching (`match`) is a multiset alignment in passes of decreasing strictness:
same key → preserved; a key reachable by a recorded conversion → converted;
the same quantity in another unit → converted; what is left is paired by kind in
order of appearance as changed ("100 tỷ yen" → "100 million yen"), and the rest
is missing (pivot) or added (candidate).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from evalkit.scorers import numbers_rules as R

# ---------------------------------------------------------------------------
# items


@dataclass(frozen=True, slots=True)
class Item:
    kind: str  # number | percent | amount | quantity | year | date | month | time | name
    key: str  # canonical: "n:100000000000", "p:40", "d:11-27", "m:09", "t:22:00", "a:OSA"
    text: str
    start: int
    end: int
    alts: tuple[tuple[str, str], ...] = ()  # (key, conversion) reachable by a legitimate conversion
    currency: str | None = None
    quantity: tuple[str, float] | None = None  # (dimension, value in SI units)


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".10g")


def number_key(value: float) -> str:
    return "n:" + _fmt(value)


# ---------------------------------------------------------------------------
# compiled per-language patterns (cached; the table is data, these are derived)

_LATIN_LETTER = r"A-Za-zÀ-ɏḀ-ỿ"
_NUM = r"\d+(?:[.,]\d+)*"
_NUMBER_RE = re.compile(rf"(?<![{_LATIN_LETTER}\d.,])(?<![{_LATIN_LETTER}]-){_NUM}(?![.,]?\d)")
# A number glued to a preceding lowercase word is a typo ("hingga10 inci"), not a code like A80 or km2.
# Also a Malay/Indonesian ordinal ("ke-50") and a currency written onto the number ("RM5", "Rp5").
_GLUED_RE = re.compile(rf"(?:(?<=[a-zà-ỹ]{{4}})|(?<=\bke-)|(?<=\bKe-)|(?<=\bke)|(?<=\bRM)|(?<=\bRp)){_NUM}(?![.,]?\d)")


def _alternation(words) -> str:
    words = sorted(set(words), key=len, reverse=True)
    parts = []
    for w in words:
        p = re.escape(w).replace(r"\ ", r"\s+")
        # a Latin word must not run on into another Latin letter ("m" is not the start of "more")
        if re.search(f"[{_LATIN_LETTER}]$", w):
            p += f"(?![{_LATIN_LETTER}])"
        parts.append(p)
    return "|".join(parts)


@dataclass
class _Patterns:
    lang: str
    rules: dict
    scales: dict
    day_parts: dict
    month_probe: tuple  # (Latin month words, lowercased; Thai and Vietnamese names, lowercased substrings)
    suffix: re.Pattern
    prefix_currency: re.Pattern
    prefix_percent: re.Pattern | None
    month_words: dict
    dates: list
    times: list
    units: dict = field(default_factory=dict)


@lru_cache(maxsize=None)
def patterns(lang: str) -> _Patterns:
    rules = R.rules_for(lang)
    units = {}
    for dim, table in R.UNITS.items():
        for word, factor in table.items():
            units.setdefault(word.lower(), (dim, factor))
    # Scale and percent words of every language are recognised in any text (a copied or
    # untranslated candidate keeps the pivot's "100 tỷ"); none is an ordinary word elsewhere.
    scales = {}
    for other in R.LANGUAGES.values():
        scales.update(other["scale"])
    scales.update(rules["scale"])
    percents = [w for other in R.LANGUAGES.values() for w in other["percent"]]
    scale = _alternation(scales)
    percent = _alternation(percents)
    currency = _alternation(R.CURRENCY_WORDS)
    unit = _alternation(units)
    suffix = re.compile(
        rf"(?:\s*|-)(?:(?P<scale>{scale})\s*)?"
        rf"(?:(?P<percent>{percent})|(?P<currency>{currency})|(?P<unit>{unit}))?",
        re.IGNORECASE,
    )
    prefix_currency = re.compile(r"(?:(?<![A-Za-z])(?:US\$|RM|Rp|USD)|[$€£¥])\s*$")
    prefix_percent = re.compile(rf"(?:{_alternation(rules['percent_prefix'])})\s*$") if rules["percent_prefix"] else None

    # Month names and times of day of every language are read in any text: their words belong to one
    # language each, and a copied or untranslated candidate keeps the pivot's (identical texts must
    # give identical items whatever language they are read as).
    months = {}
    for other in (*R.LANGUAGES.values(), rules):
        months.update({k.lower(): v for k, v in other["months"].items()})
    named = {k: v for k, v in months.items() if not k.startswith("tháng ") or not k[6:].isdigit()}
    dates = []
    day = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
    year = r"(?P<year>\d{4})"
    era = r"(?:(?:พ\.ศ\.|ค\.ศ\.|ปี)\s*)?"
    # numeric day/month/year (29/09/2018, 17-12-2023)
    order = rules["date_order"]
    dates.append((re.compile(r"(?<![\d/.-])(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-]" + year + r"(?![\d/.-])"), "dmy:" + order, ("/", ".", "-")))
    # "ngày 27 tháng 11", "tháng 9/2021": unambiguous Vietnamese, read in any text (a copied candidate)
    dates += [
        # "từ ngày 12 đến 14-11": both days are in November
        (re.compile(r"ngày\s+" + day + r"\s+(?:đến|tới|-)\s+(?P<day2>\d{1,2})\s*[-/]\s*(?P<month>\d{1,2})(?:\s*[-/]\s*" + year + r")?(?![\d/-])", re.I), "vi", ("ngày", "tháng", "sáng", "chiều", "tối", "đêm", "trưa")),
        (re.compile(r"(?:ngày\s+)?" + day + r"\s+tháng\s+(?P<month>\d{1,2})(?:\s*(?:năm|,)\s*" + year + r")?(?!\d)", re.I), "vi", ("ngày", "tháng", "sáng", "chiều", "tối", "đêm", "trưa")),
        (re.compile(r"(?:ngày|sáng|chiều|tối|đêm|trưa)\s+" + day + r"\s*[-/]\s*(?P<month>\d{1,2})(?:\s*[-/]\s*" + year + r")?(?![\d/-])", re.I), "vi", ("ngày", "tháng", "sáng", "chiều", "tối", "đêm", "trưa")),
        (re.compile(r"tháng\s+(?P<month>\d{1,2})\s*[-/]\s*" + year + r"(?!\d)", re.I), "vi", ("ngày", "tháng", "sáng", "chiều", "tối", "đêm", "trưa")),
        (re.compile(r"tháng\s+(?P<month>\d{1,2})(?:\s*(?:năm|,)\s*" + year + r")?(?![\d/-])", re.I), "vi", ("ngày", "tháng", "sáng", "chiều", "tối", "đêm", "trưa")),
    ]
    if named:
        # Thai names, and Vietnamese "tháng sáu" (written "tháng Sáu" too), in any case
        thai = [name for name in named if not re.search(f"[{_LATIN_LETTER}]", name) or name.startswith("tháng ")]
        # a Latin month name is capitalised ("march" is a protest, "may" a verb)
        forms = {form for name in named if name not in thai for form in (name[:1].upper() + name[1:], name.upper())}
        m = f"(?P<mname>{_alternation(thai)}|(?<![{_LATIN_LETTER}])(?-i:{_alternation(forms)}))"
        dates += [
            (re.compile(r"(?<!\d)" + day + r"(?:\s*[-–]\s*(?P<day2>\d{1,2}))?\s*(?:เดือน)?" + m + r"(?:\s*,?\s*" + era + year + r")?(?!\d)", re.I), "named", ()),
            (re.compile(m + r"\s+" + day + r"(?!\d|[:.,]\d)(?:\s*,\s*" + year + r")?", re.I), "named", ()),
            (re.compile(m + r"\s*,?\s*" + era + year + r"(?!\d)", re.I), "named", ()),
            (re.compile(r"(?:bulan|month of|เดือน)\s*" + m, re.I), "named-alone-prefixed", ()),  # "bulan Jun": unambiguous
            (re.compile(m, re.I), "named-alone", ()),
        ]
    ampm = r"(?P<ampm>a\.m\.?|p\.m\.?|am|pm)(?![A-Za-z])"
    parts = {}
    for other in R.LANGUAGES.values():
        parts.update(other.get("day_parts", {}))
    part = f"(?:\\s*(?P<part>{_alternation(parts)}))?" if parts else ""
    times = [
        (re.compile(r"(?<![\d.,:])(?P<h>\d{1,2})[:.](?P<m>\d{2})\s*" + ampm, re.I), "ampm", ("am", "pm", "a.m", "p.m")),
        (re.compile(r"(?<![\d.,:])(?P<h>\d{1,2})\s*" + ampm, re.I), "ampm", ("am", "pm", "a.m", "p.m")),
        (re.compile(r"(?<![\d.,:])(?P<h>\d{1,2}):(?P<m>\d{2})(?![\d:])(?:\s*giờ)?" + part, re.I), "clock", (":",)),
    ]
    # Thai: 17.30 น., ตี 5 (05:00), บ่าย 2 (14:00)
    times += [
        (re.compile(r"(?<![\d.,:])(?P<h>\d{1,2})[.:](?P<m>\d{2})\s*น\."), "clock", ("น.",)),
        (re.compile(r"ตี\s*(?P<h>\d{1,2})(?![\d.,])"), "clock", ("ตี",)),
        (re.compile(r"บ่าย\s*(?P<h>\d{1,2})(?:[.:](?P<m>\d{2}))?(?![\d.,])"), "pm", ("บ่าย",)),
    ]
    # Vietnamese: 5.30 chiều, 7 giờ tối, lúc 6 giờ
    times += [
        (re.compile(r"(?<![\d.,:])(?P<h>\d{1,2})[.h](?P<m>\d{2})\s*(?:giờ\s*)?(?P<part>sáng|trưa|chiều|tối|đêm)(?![" + _LATIN_LETTER + "])", re.I), "clock", ("giờ", "sáng", "trưa", "chiều", "tối", "đêm")),
        (re.compile(r"(?<![\d.,:])(?P<h>\d{1,2})\s*giờ(?:\s*(?P<m>\d{1,2})(?:\s*phút)?)?\s+(?P<part>sáng|trưa|chiều|tối|đêm)(?![" + _LATIN_LETTER + "])", re.I), "clock", ("giờ", "sáng", "trưa", "chiều", "tối", "đêm")),
        (re.compile(r"(?:lúc|vào|khoảng)\s+(?P<h>\d{1,2})\s*giờ(?:\s*(?P<m>\d{1,2})(?:\s*phút)?)?", re.I), "clock", ("giờ",)),
    ]
    # Malay/Indonesian: pukul 17.30, 7 malam
    times += [
        (re.compile(r"(?:pukul|jam)\s+(?P<h>\d{1,2})(?:[.:](?P<m>\d{2}))?(?![\d.,])" + part, re.I), "clock", ("pukul", "jam")),
        (re.compile(r"(?<![\d.,:])(?P<h>\d{1,2})(?:[.:](?P<m>\d{2}))?\s+(?P<part>pagi|petang|malam|sore|siang|tengah\s+hari)(?![A-Za-z])", re.I), "clock", ("pukul", "jam", "pagi", "petang", "malam", "sore", "siang", "tengah")),
    ]
    # A cheap test before the month patterns: a set lookup per word, a few substring tests.
    month_probe = (frozenset(n for n in named if n not in thai), tuple(n for n in thai if not n.startswith("tháng ")) + ("tháng",))
    return _Patterns(lang, rules, scales, parts, month_probe, suffix, prefix_currency, prefix_percent, named, dates, times, units)


_DIGIT_RE = re.compile(r"[0-9๐-๙]")
_LOWER_RE = re.compile(r"[a-zà-ỹ]")

_ACRONYM_RE = re.compile(
    rf"(?<![{_LATIN_LETTER}\d])(?:[A-Z](?:\.[A-Z])+\.?|[A-Z][A-Z0-9]*(?:[-&][A-Z0-9]+)*)(?![{_LATIN_LETTER}\d])"
)


# ---------------------------------------------------------------------------
# extraction


def parse_number(raw: str, lang: str) -> tuple[float, float | None] | None:
    """The value of a digit string as `lang` writes it, and the other reading where the separator is ambiguous.

    "1.000" is a thousand in vi/id and 1.0 in en/th/ms; a single separator
    followed by exactly three digits can be either, so the other reading is kept
    as an alternative (real references mix conventions: id "2.94 juta", vi "25,000").
    """
    rules = R.rules_for(lang)
    seps = [c for c in raw if c in ".,"]
    if not seps:
        return float(int(raw)), None
    groups = re.split(r"[.,]", raw)
    if len(set(seps)) == 2:  # 1,234.56 / 1.234,56: the last separator is the decimal one
        if seps.count(seps[-1]) != 1 or not all(len(g) == 3 for g in groups[1:-1]):
            return None
        return float("".join(groups[:-1]) + "." + groups[-1]), None
    if len(seps) > 1:  # 1.234.567: grouping
        if all(len(g) == 3 for g in groups[1:]):
            return float("".join(groups)), None
        return None  # 1.2.3 (a version, a section number): not a quantity
    head, tail = groups
    decimal = float(head + "." + tail)
    if len(tail) == 3 and len(head) <= 3 and head != "0":
        grouped = float(head + tail)
        if seps[0] == rules["group"]:
            return grouped, decimal
        return decimal, grouped
    return decimal, None


def _clean(v: float) -> float:
    return float(format(v, ".12g"))


def _year_item(raw: str, start: int, lang: str, before: str, original: str) -> Item:
    """`raw` has Thai digits mapped to 0–9; `original` is the paragraph as written."""
    value = int(raw)
    alts: tuple = ()
    be = before.rstrip().endswith("พ.ศ.") or (lang == "th" and R.BE_YEARS[0] <= value <= R.BE_YEARS[1]
                                               and not before.rstrip().endswith("ค.ศ."))
    if be:
        alts = ((number_key(value - R.BE_OFFSET), "BE year"),)
    return Item("year", number_key(value), original[start:start + len(raw)], start, start + len(raw), alts)


def _time_item(h: int, m: int, ampm: str | None, text: str, start: int, end: int) -> Item | None:
    if ampm:
        if not 1 <= h <= 12:
            return None
        if ampm == "pm" and h != 12:
            h += 12
        elif ampm == "am" and h == 12:
            h = 0
        elif ampm == "night" and h < 6:
            pass
        elif ampm == "night":
            h = (h + 12) % 24
        elif ampm == "noon" and h < 6:
            h += 12
    if not (0 <= h <= 24 and 0 <= m < 60):
        return None
    alts = []
    if not ampm and 1 <= h <= 11:
        alts.append((f"t:{h + 12:02d}:{m:02d}", "12/24-hour time"))
    if not ampm and h == 12:
        alts.append((f"t:00:{m:02d}", "12/24-hour time"))
    return Item("time", f"t:{h % 24:02d}:{m:02d}", text, start, end, tuple(alts))


def extract(text: str, lang: str) -> list[Item]:
    """All items of one paragraph, in order of appearance; spans index `text` itself."""
    norm = text.translate(R.THAI_DIGITS)
    p = patterns(lang)
    taken = bytearray(len(norm))
    items: list[Item] = []

    def free(s: int, e: int) -> bool:
        return not any(taken[s:e])

    def take(s: int, e: int) -> None:
        taken[s:e] = b"\x01" * (e - s)

    has_digit = _DIGIT_RE.search(norm) is not None
    has_month = _has_month(norm, p.month_probe)
    if has_digit or has_month:
        _dates(norm, text, lang, p, items, free, take, has_digit, has_month)
    if has_digit:
        _times(norm, text, lang, p, items, free, take)
        _numbers(norm, text, lang, p, items, free, take)
    for m in _ACRONYM_RE.finditer(norm):
        word = m.group()
        letters = sum(c.isupper() for c in word)
        if letters >= R.NAME_MIN_CAPITALS and len(word) <= R.NAME_MAX_LENGTH and free(m.start(), m.end()):
            items.append(Item("name", "a:" + word.replace(".", "").upper(), text[m.start():m.end()], m.start(), m.end()))
    items.sort(key=lambda it: (it.start, it.end))
    return items


_WORD_RE = re.compile(rf"[{_LATIN_LETTER}]+\.?")


def _has_month(norm: str, probe: tuple) -> bool:
    latin, substrings = probe
    low = norm.lower()
    if any(sub in low for sub in substrings):
        return True
    return any(w in latin or w.rstrip(".") in latin for w in _WORD_RE.findall(low))


def _dates(norm, text, lang, p, items, free, take, has_digit=True, has_month=True):
    low = norm.lower()
    for regex, how, needs in p.dates:
        # cheap guards: most patterns need a digit, the named ones a month name, some a word
        if (how.startswith("named") and not has_month) or (not how.startswith("named-alone") and not has_digit):
            continue
        if needs and not any(n in low for n in needs):
            continue
        for m in regex.finditer(norm):
            s, e = m.span()
            if not free(s, e):
                continue
            found: list[Item] = []
            groups = m.groupdict()
            if how.startswith("dmy"):
                a, b = int(m.group("a")), int(m.group("b"))
                day, month = (b, a) if how.endswith("mdy") else (a, b)
                if month > 12 and day <= 12:
                    day, month = month, day
                if not (1 <= month <= 12 and 1 <= day <= 31):
                    continue
                found.append(Item("date", f"d:{month:02d}-{day:02d}", text[s:m.start("year")].rstrip("/.- "), s, m.start("year")))
            else:
                if groups.get("mname"):
                    name = m.group("mname").lower()
                    name = re.sub(r"\s+", " ", name)
                    if how == "named-alone" and name in R.AMBIGUOUS_MONTHS:
                        continue
                    month = p.month_words.get(name)
                    if month is None:
                        continue
                    ms, me = m.span("mname")
                else:
                    month = int(m.group("month"))
                    ms, me = (m.start() if how == "vi" and norm[m.start():m.start() + 5].lower() == "tháng" else m.start("month")), m.end("month")
                if not 1 <= month <= 12:
                    continue
                if groups.get("day"):
                    days = [(int(m.group("day")), m.span("day"))]
                    if groups.get("day2"):
                        if int(m.group("day2")) <= days[0][0]:  # "4-1 Februari" is a score, not a range
                            days = [(int(m.group("day2")), m.span("day2"))]
                        else:
                            days.append((int(m.group("day2")), m.span("day2")))
                    if not all(1 <= d <= 31 for d, _ in days):
                        continue
                    for d, (ds, de) in days:
                        lo, hi = min(ds, ms), max(de, me)
                        found.append(Item("date", f"d:{month:02d}-{d:02d}", text[lo:hi], lo, hi))
                else:
                    found.append(Item("month", f"m:{month:02d}", text[ms:me], ms, me))
            if groups.get("year"):
                ys = m.start("year")
                found.append(_year_item(m.group("year"), ys, lang, norm[max(0, ys - 8):ys], text))
            items.extend(found)
            take(s, e)


def _times(norm, text, lang, p, items, free, take):
    parts = p.day_parts
    low = norm.lower()
    for regex, how, needs in p.times:
        if needs and not any(n in low for n in needs):
            continue
        for m in regex.finditer(norm):
            s, e = m.span()
            if not free(s, e):
                continue
            g = m.groupdict()
            h = int(g["h"])
            mm = int(g["m"]) if g.get("m") else 0
            ampm = None
            if g.get("ampm"):
                ampm = R.AM_PM.get(g["ampm"].lower().rstrip(".") + ("." if g["ampm"].endswith(".") else ""))
                ampm = ampm or ("pm" if g["ampm"].lower().startswith("p") else "am")
            elif g.get("part"):
                ampm = parts.get(re.sub(r"\s+", " ", g["part"].lower()))
                if ampm == "pm" and h > 12:
                    ampm = None
            elif how == "pm":
                ampm = "pm"
            if ampm in ("am", "pm") and h > 12:
                ampm = None
            item = _time_item(h, mm, ampm, text[s:e], s, e)
            if item is not None:
                items.append(item)
                take(s, e)


_FRACTION_RE = re.compile(r"(?<![\d/.,])(?:(?P<whole>\d+)\s+)?(?P<num>[1-9])/(?P<den>[2-9]|10)(?![\d/])")


def _numbers(norm, text, lang, p, items, free, take):
    if "/" in norm:  # 2/3, 220 2/3 (innings): one number; 27/11 is not a fraction (numerator ≥ denominator)
        for m in _FRACTION_RE.finditer(norm):
            num, den = int(m.group("num")), int(m.group("den"))
            if num >= den or not free(*m.span()):
                continue
            value = _clean(int(m.group("whole") or 0) + num / den)
            items.append(Item("number", number_key(value), text[m.start():m.end()], m.start(), m.end()))
            take(*m.span())
    found = list(_NUMBER_RE.finditer(norm))
    if _LOWER_RE.search(norm) or "Ke-" in norm or "RM" in norm:
        found = sorted(found + list(_GLUED_RE.finditer(norm)), key=lambda m: m.start())
    for m in found:
        s, e = m.span()
        if not free(s, e):
            continue
        raw = m.group()
        # 6-foot-6, 6 ฟุต 6 นิ้ว: one height
        compound = re.match(r"(?:\s*-\s*|\s*)(?:foot|feet|ft|ฟุต|kaki)(?:\s*-\s*|\s+)(\d{1,2})(?:\s*(?:inches|inch|inci|นิ้ว|in)(?![A-Za-z]))?",
                            norm[e:e + 30], re.I)
        if compound and raw.isdigit():
            inches = int(compound.group(1))
            ce = e + compound.end()
            items.append(Item("quantity", f"n:{raw}ft{inches}in", text[s:ce], s, ce,
                              quantity=("length", _clean(int(raw) * 0.3048 + inches * 0.0254))))
            take(s, ce)
            continue
        parsed = parse_number(raw, lang)
        if parsed is None:
            take(s, e)
            continue
        value, alt = parsed
        before = norm[max(0, s - 8):s]
        after = p.suffix.match(norm, e)
        end = e
        scale, kind, currency, quantity = 1.0, "number", None, None
        if after and after.end() > e and (after.group("scale") or after.group("percent") or after.group("currency") or after.group("unit")):
            if after.group("scale"):
                scale = p.scales.get(re.sub(r"\s+", " ", after.group("scale").lower()), 1.0)
            if after.group("percent"):
                kind = "percent"
            elif after.group("currency"):
                kind, currency = "amount", R.CURRENCY_WORDS.get(re.sub(r"\s+", " ", after.group("currency").lower()))
            elif after.group("unit"):
                dim, factor = p.units[re.sub(r"\s+", " ", after.group("unit").lower())]
                kind, quantity = "quantity", (dim, _clean(value * scale * factor))
            end = after.end()
        pre = p.prefix_currency.search(before)
        if pre and currency is None:
            sym = pre.group().strip()
            currency = R.CURRENCY_PREFIXES.get(sym.lower(), R.CURRENCY_PREFIXES.get(sym))
            if quantity is not None and after.group("unit").lower() == "m" and scale == 1.0:
                scale, quantity = 1e6, None  # "$5m": five million dollars, not five metres
            kind = "amount"
            s2 = s - len(before) + pre.start()
        else:
            s2 = s
        if p.prefix_percent and p.prefix_percent.search(before):
            kind = "percent"
            s2 = s - len(before) + p.prefix_percent.search(before).start()
        v = _clean(value * scale)
        alts = []
        if alt is not None:
            alts.append((("p:" if kind == "percent" else "n:") + _fmt(_clean(alt * scale)), "separator"))
        if kind == "number" and scale == 1.0 and raw.isdigit() and len(raw) == 4 and (
                R.CE_YEARS[0] <= v <= R.CE_YEARS[1] or (lang == "th" and R.BE_YEARS[0] <= v <= R.BE_YEARS[1])):
            # 1973, 2516 (BE), 1980s / 1980-an: a year
            year = _year_item(raw, s, lang, before, text)
            items.append(year)
            take(s, e)
            continue
        tm = re.fullmatch(r"(\d{1,2})[.:](\d{2})", raw)
        if tm and kind == "number" and int(tm.group(1)) <= 24 and int(tm.group(2)) < 60:
            h, mi = int(tm.group(1)), int(tm.group(2))
            alts.append((f"t:{h:02d}:{mi:02d}", "time format"))
            if 1 <= h <= 11:
                alts.append((f"t:{h + 12:02d}:{mi:02d}", "time format"))
        key = ("p:" if kind == "percent" else "n:") + _fmt(v)
        items.append(Item(kind, key, text[s2:end].rstrip(), s2, s2 + len(text[s2:end].rstrip()), tuple(alts), currency, quantity))
        take(s2, end)


# ---------------------------------------------------------------------------
# matching

PRESERVED, CONVERTED, CHANGED, MISSING, ADDED = "preserved", "converted", "changed", "missing", "added"


@dataclass
class Pair:
    pivot: Item | None
    other: Item | None
    status: str
    conversion: str | None = None


def _compatible(a: Item, b: Item) -> bool:
    if a.currency and b.currency and a.currency != b.currency:
        return False
    if a.quantity and b.quantity and (a.quantity[0] != b.quantity[0] or abs(a.quantity[1] - b.quantity[1]) > R.UNIT_TOLERANCE * max(abs(a.quantity[1]), abs(b.quantity[1]))):
        return False
    return True


_FAMILY = {"number": "n", "percent": "n", "amount": "n", "quantity": "n", "year": "n",
           "date": "d", "month": "d", "time": "t", "name": "a"}


@lru_cache(maxsize=None)
def _word_pattern(lang: str) -> re.Pattern:
    words = R.NUMBER_WORDS.get(lang, R.NUMBER_WORDS["en"])
    alternation = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    if lang == "th":  # no spaces between Thai words: a substring is the best available evidence
        return re.compile(f"(?:{alternation})")
    return re.compile(rf"(?<![{_LATIN_LETTER}])(?:{alternation})(?![{_LATIN_LETTER}])", re.IGNORECASE)


def number_words(text: str, lang: str) -> list[Item]:
    """Spelled-out numbers 1–12 ("eight", "tám", "แปด"): evidence for a digit on the other side, never items themselves."""
    words = {w: i for i, w in enumerate(R.NUMBER_WORDS.get(lang, R.NUMBER_WORDS["en"]), start=1)}
    out = []
    for m in _word_pattern(lang).finditer(text):
        value = words.get(re.sub(r"\s+", " ", m.group().lower()))
        if value:
            out.append(Item("word", number_key(value), m.group(), m.start(), m.end()))
    return out


def match(pivot: list[Item], other: list[Item], pivot_words: list[Item] = (), other_words: list[Item] = ()) -> list[Pair]:
    """Align pivot items with another text's items; every item of both lists appears in exactly one Pair.

    `pivot_words`/`other_words` (from `number_words`) may absorb a digit left
    unmatched on the other side: "eight" ↔ "8" is a conversion. Unused words appear nowhere.
    """
    used = [False] * len(other)
    pairs: list[Pair | None] = [None] * len(pivot)
    word_pairs: list[Pair] = []
    if pivot_words or other_words:
        word_pairs = _absorb_words(pivot, other, pivot_words, other_words)
        for pair in word_pairs:
            if pair.pivot.kind != "word":
                pairs[next(i for i, it in enumerate(pivot) if it is pair.pivot)] = pair
            if pair.other.kind != "word":
                used[next(j for j, it in enumerate(other) if it is pair.other)] = True

    def first(i: int, test) -> int | None:
        for j, o in enumerate(other):
            if not used[j] and test(pivot[i], o):
                return j
        return None

    passes = [
        (PRESERVED, lambda a, b: a.key == b.key and _compatible(a, b), lambda a, b: None),
        (CONVERTED, lambda a, b: _conversion(a, b) is not None and _compatible(a, b), _conversion),
        (CONVERTED, lambda a, b: bool(a.quantity and b.quantity) and a.key != b.key and _compatible(a, b), lambda a, b: "unit"),
        (CHANGED, lambda a, b: a.kind == b.kind or (_FAMILY[a.kind] == _FAMILY[b.kind] == "n" and "year" not in (a.kind, b.kind)), lambda a, b: None),
    ]
    for status, test, conversion in passes:
        for i in range(len(pivot)):
            if pairs[i] is not None or pivot[i].kind == "name" and status != PRESERVED:
                continue
            j = first(i, test)
            if j is not None:
                used[j] = True
                pairs[i] = Pair(pivot[i], other[j], status, conversion(pivot[i], other[j]))
    out = [pair if pair is not None else Pair(item, None, MISSING) for item, pair in zip(pivot, pairs)]
    out += [pair for pair in word_pairs if pair.pivot.kind == "word"]
    out += [Pair(None, o, ADDED) for j, o in enumerate(other) if not used[j]]
    return out


def _conversion(a: Item, b: Item) -> str | None:
    for key, how in b.alts:
        if key == a.key:
            return how
    for key, how in a.alts:
        if key == b.key:
            return how
    for key, how in a.alts:
        for key2, how2 in b.alts:
            if key == key2:
                return how if how == how2 else f"{how}, {how2}"
    return None


def _absorb_words(pivot, other, pivot_words, other_words) -> list[Pair]:
    """Digits that have no digit counterpart but a spelled-out one on the other side."""
    pivot_keys = Counter(i.key for i in pivot)
    other_keys = Counter(i.key for i in other)
    found = []
    free_words = list(other_words)
    for item in pivot:  # a pivot digit the other side spells out
        if item.kind in ("number", "quantity") and other_keys[item.key] < pivot_keys[item.key]:
            w = next((w for w in free_words if w.key == item.key), None)
            if w is not None:
                free_words.remove(w)
                other_keys[item.key] += 1
                found.append(Pair(item, w, CONVERTED, "number word"))
    free_words = list(pivot_words)
    for item in other:  # an added digit the pivot spells out
        if item.kind in ("number", "quantity") and pivot_keys[item.key] < other_keys[item.key]:
            w = next((w for w in free_words if w.key == item.key), None)
            if w is not None:
                free_words.remove(w)
                pivot_keys[item.key] += 1
                found.append(Pair(w, item, CONVERTED, "number word"))
    return found
