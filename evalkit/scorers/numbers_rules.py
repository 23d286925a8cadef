"""Per-language rules for the `numbers` metric, as data.

Everything language-specific the extractor knows is in this table: how each
language writes thousands and decimals, its words for scale, its month names,
its words and symbols for percent, currencies, units and times of day. Adding a
language is adding an entry here (unknown languages fall back to "en" digits and
separators with no words). `RULES_VERSION` goes into the metric's signature with
a hash of the table, so a score can be tied to the rules that produced it.

Sources: the languages' own style (Vietnamese and Indonesian write 1.000,5;
Thai, Malay and English write 1,000.5), checked on the shipped corpus and the
NTREX-128 excerpt, whose real references also show the exceptions the matcher
tolerates (Indonesian "2.94 juta", Vietnamese "25,000 người").
"""

from __future__ import annotations

import hashlib
import json

RULES_VERSION = "1"

# Thai digits ๐–๙ map one-to-one onto 0–9 (str.translate keeps offsets intact).
THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")

# A Thai year of the Buddhist Era is the Common Era year + 543 (2516 BE = 1973 CE).
BE_OFFSET = 543
BE_YEARS = (2400, 2699)  # a bare 4-digit number in this range in Thai text is read as a BE year
CE_YEARS = (1100, 2199)  # a bare 4-digit number in this range is read as a year

_MONTHS_EN = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan.": 1, "feb.": 2, "mar.": 3, "apr.": 4, "jun.": 6, "jul.": 7, "aug.": 8,
    "sept.": 9, "sep.": 9, "oct.": 10, "nov.": 11, "dec.": 12,
}
_MONTHS_MS = {
    "januari": 1, "februari": 2, "mac": 3, "april": 4, "mei": 5, "jun": 6, "julai": 7,
    "ogos": 8, "september": 9, "oktober": 10, "november": 11, "disember": 12,
}
_MONTHS_MS_SHORT = {"jan": 1, "feb": 2, "apr": 4, "jul": 7, "ogo": 8, "sep": 9, "sept": 9, "okt": 10, "nov": 11, "dis": 12}
_MONTHS_ID_SHORT = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "agu": 8, "agt": 8, "sep": 9, "sept": 9,
                    "okt": 10, "nov": 11, "des": 12}
_MONTHS_ID = {
    "januari": 1, "februari": 2, "maret": 3, "april": 4, "mei": 5, "juni": 6, "juli": 7,
    "agustus": 8, "september": 9, "oktober": 10, "november": 11, "desember": 12,
    "nopember": 11, "pebruari": 2,
}
_MONTHS_TH = {
    "มกราคม": 1, "กุมภาพันธ์": 2, "มีนาคม": 3, "เมษายน": 4, "พฤษภาคม": 5, "มิถุนายน": 6,
    "กรกฎาคม": 7, "สิงหาคม": 8, "กันยายน": 9, "ตุลาคม": 10, "พฤศจิกายน": 11, "ธันวาคม": 12,
    "ม.ค.": 1, "ก.พ.": 2, "มี.ค.": 3, "เม.ย.": 4, "พ.ค.": 5, "มิ.ย.": 6,
    "ก.ค.": 7, "ส.ค.": 8, "ก.ย.": 9, "ต.ค.": 10, "พ.ย.": 11, "ธ.ค.": 12,
}

# Month names that are also ordinary words or names ("Theresa May", "Mac", "Jun"):
# read as a month only next to a day or year number.
AMBIGUOUS_MONTHS = {"may", "mar.", "mac", "jun", "mei", "jun.", "tháng năm"} | set(_MONTHS_MS_SHORT) | set(_MONTHS_ID_SHORT)

# Number words 1–12: never items on their own (English style spells out one to nine,
# translators often write digits), only evidence that an unmatched digit on the
# other side is the same number written differently ("eight" ↔ "8").
NUMBER_WORDS = {
    "en": ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"],
    "vi": ["một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai"],
    "th": ["หนึ่ง", "สอง", "สาม", "สี่", "ห้า", "หก", "เจ็ด", "แปด", "เก้า", "สิบ", "สิบเอ็ด", "สิบสอง"],
    "ms": ["satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "lapan", "sembilan", "sepuluh", "sebelas", "dua belas"],
    "id": ["satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas", "dua belas"],
}

_SCALE_EN = {"trillion": 1e12, "billion": 1e9, "bn": 1e9, "million": 1e6, "thousand": 1e3}

_PERCENT_EN = ["percent", "per cent", "percentage points", "percentage point"]

# Currencies: words/symbols → ISO-ish code. Prefix symbols come before the number.
CURRENCY_WORDS = {
    "usd": "USD", "us$": "USD", "$": "USD", "dollars": "USD", "dollar": "USD", "đô la": "USD", "đô-la": "USD", "đôla": "USD",
    "ดอลลาร์สหรัฐ": "USD", "ดอลลาร์": "USD", "dolar": "USD", "dolar as": "USD",
    "yen": "JPY", "yên": "JPY", "เยน": "JPY", "jpy": "JPY", "¥": "JPY",
    "euro": "EUR", "euros": "EUR", "€": "EUR", "eur": "EUR", "ยูโร": "EUR",
    "pound": "GBP", "pounds": "GBP", "£": "GBP", "gbp": "GBP", "bảng anh": "GBP", "ปอนด์": "GBP", "paun": "GBP",
    "đồng": "VND", "vnd": "VND", "vnđ": "VND",
    "baht": "THB", "บาท": "THB", "thb": "THB",
    "ringgit": "MYR", "rm": "MYR", "myr": "MYR",
    "rupiah": "IDR", "rp": "IDR", "idr": "IDR",
    "nhân dân tệ": "CNY", "yuan": "CNY", "หยวน": "CNY", "cny": "CNY",
}
CURRENCY_PREFIXES = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "rm": "MYR", "rp": "IDR", "usd": "USD"}

# Units: word → (dimension, factor to the SI unit). Used only to recognise a
# converted quantity (45 miles ↔ 72 km); unknown units leave a plain number.
UNITS = {
    "length": {
        "km": 1000.0, "kilometers": 1000.0, "kilometres": 1000.0, "kilometer": 1000.0, "kilometre": 1000.0,
        "kilômét": 1000.0, "cây số": 1000.0, "กิโลเมตร": 1000.0, "กม.": 1000.0,
        "m": 1.0, "meters": 1.0, "metres": 1.0, "meter": 1.0, "metre": 1.0, "mét": 1.0, "เมตร": 1.0,
        "cm": 0.01, "centimeters": 0.01, "centimetres": 0.01, "xentimét": 0.01, "เซนติเมตร": 0.01, "sentimeter": 0.01,
        "sentimeter": 0.01, "ซม.": 0.01,
        "miles": 1609.344, "mile": 1609.344, "dặm": 1609.344, "ไมล์": 1609.344, "batu": 1609.344, "mil": 1609.344,
        "feet": 0.3048, "foot": 0.3048, "ft": 0.3048, "ฟุต": 0.3048, "kaki": 0.3048, "bộ": 0.3048,
        "inches": 0.0254, "inch": 0.0254, "inci": 0.0254, "นิ้ว": 0.0254,
    },
    "mass": {
        "kg": 1.0, "kilograms": 1.0, "kilogram": 1.0, "ki-lô-gam": 1.0, "กิโลกรัม": 1.0, "kilôgam": 1.0,
        "tonnes": 1000.0, "tonne": 1000.0, "tons": 1000.0, "ton": 1000.0, "tấn": 1000.0, "ตัน": 1000.0, "tan": 1000.0,
        "pounds": 0.45359237, "lbs": 0.45359237, "lb": 0.45359237, "pao": 0.45359237, "ปอนด์": 0.45359237,
    },
    "speed": {
        "mph": 0.44704, "miles per hour": 0.44704, "dặm trên giờ": 0.44704, "dặm/giờ": 0.44704,
        "ไมล์ต่อชั่วโมง": 0.44704, "batu sejam": 0.44704, "mil per jam": 0.44704,
        "km/h": 1 / 3.6, "km/giờ": 1 / 3.6, "km/j": 1 / 3.6, "กิโลเมตรต่อชั่วโมง": 1 / 3.6,
    },
    "area": {
        "km2": 1e6, "km²": 1e6, "square kilometers": 1e6, "square kilometres": 1e6, "ตารางกิโลเมตร": 1e6,
        "hectares": 1e4, "hectare": 1e4, "ha": 1e4, "héc-ta": 1e4, "hecta": 1e4, "hektar": 1e4, "เฮกตาร์": 1e4,
        "acres": 4046.8564224, "acre": 4046.8564224, "ekar": 4046.8564224, "mẫu anh": 4046.8564224,
    },
}
# "Pound" is both a currency and a mass; the currency reading wins (news text).
UNIT_TOLERANCE = 0.03  # relative: 45 miles = 72.4 km is written 72 km

LANGUAGES = {
    "vi": {
        "group": ".", "decimal": ",", "date_order": "dmy",
        "scale": {"nghìn tỷ": 1e12, "ngàn tỷ": 1e12, "tỷ": 1e9, "tỉ": 1e9, "triệu": 1e6, "nghìn": 1e3, "ngàn": 1e3},
        "months": {f"tháng {n}": n for n in range(1, 13)}
        | {name: n for n, name in enumerate(
            ["tháng một", "tháng hai", "tháng ba", "tháng tư", "tháng năm", "tháng sáu", "tháng bảy",
             "tháng tám", "tháng chín", "tháng mười", "tháng mười một", "tháng mười hai"], start=1)},
        "percent": ["phần trăm", "%"],
        "percent_prefix": [],
        "time_words": ["lúc", "vào lúc", "giờ"],
        # "7 giờ tối" = 19:00; "6 giờ sáng" = 06:00
        "hour_words": {"giờ": None},
        "day_parts": {"sáng": "am", "trưa": "noon", "chiều": "pm", "tối": "pm", "đêm": "night"},
        "year_words": ["năm"],
    },
    "th": {
        "group": ",", "decimal": ".", "date_order": "dmy",
        "scale": {"ล้านล้าน": 1e12, "แสนล้าน": 1e11, "หมื่นล้าน": 1e10, "พันล้าน": 1e9, "ร้อยล้าน": 1e8, "ล้าน": 1e6,
                  "แสน": 1e5, "หมื่น": 1e4, "พัน": 1e3},
        "months": _MONTHS_TH,
        "percent": ["เปอร์เซ็นต์", "เปอร์เซนต์", "%"],
        "percent_prefix": ["ร้อยละ"],
        "time_words": ["เวลา"],
        "time_suffix": ["น."],  # 17.30 น. = 17:30
        "day_parts": {},
        "year_words": ["ปี", "พ.ศ.", "ค.ศ."],
    },
    "ms": {
        "group": ",", "decimal": ".", "date_order": "dmy",
        "scale": {"trilion": 1e12, "bilion": 1e9, "juta": 1e6, "ribu": 1e3},
        "months": _MONTHS_MS | _MONTHS_MS_SHORT | {k: v for k, v in _MONTHS_EN.items() if k not in ("may",)},
        "percent": ["peratus", "%"],
        "percent_prefix": [],
        "time_words": ["pukul", "jam"],
        "day_parts": {"pagi": "am", "tengah hari": "noon", "petang": "pm", "malam": "pm"},
        "year_words": ["tahun"],
    },
    "id": {
        "group": ".", "decimal": ",", "date_order": "dmy",
        "scale": {"triliun": 1e12, "miliar": 1e9, "milyar": 1e9, "juta": 1e6, "ribu": 1e3},
        "months": _MONTHS_ID | _MONTHS_ID_SHORT,
        "percent": ["persen", "%"],
        "percent_prefix": [],
        "time_words": ["pukul", "jam"],
        "day_parts": {"pagi": "am", "siang": "noon", "sore": "pm", "malam": "pm"},
        "year_words": ["tahun"],
    },
    "en": {
        "group": ",", "decimal": ".", "date_order": "mdy",
        "scale": _SCALE_EN,
        "months": _MONTHS_EN,
        "percent": _PERCENT_EN + ["%"],
        "percent_prefix": [],
        "time_words": ["at"],
        "day_parts": {"a.m.": "am", "p.m.": "pm", "am": "am", "pm": "pm"},
        "year_words": ["in"],
    },
}

# Times in every language: "10:00 pm", "5.30pm", "22.00", "19:30".
AM_PM = {"a.m.": "am", "p.m.": "pm", "am": "am", "pm": "pm", "a.m": "am", "p.m": "pm"}

# Names: acronyms in Latin capitals (OSA, ASEAN, JICA, UNCLOS, COVID-19). A pivot
# acronym counts as expected only where the human reference keeps it: translators
# legitimately transliterate (ASEAN → อาเซียน) or translate (UN → LHQ) many of them,
# and the reference is the evidence of which ones are kept.
NAME_MIN_CAPITALS = 2
NAME_MAX_LENGTH = 12

# What translators write instead of an acronym (checked case-sensitively, as words; Thai as
# substrings): the acronym counts as "converted (translated name)" where one of these appears.
NAME_EQUIVALENTS = {
    "ASEAN": {"th": ["อาเซียน"], "vi": ["Hiệp hội các quốc gia Đông Nam Á"]},
    "APEC": {"th": ["เอเปค"]},
    "NATO": {"th": ["นาโต"], "vi": ["Tổ chức Hiệp ước Bắc Đại Tây Dương"]},
    "UN": {"th": ["สหประชาชาติ", "ยูเอ็น"], "vi": ["Liên Hợp Quốc", "Liên hợp quốc", "LHQ"], "ms": ["PBB", "Bangsa-Bangsa Bersatu"],
           "id": ["PBB", "Perserikatan Bangsa-Bangsa"], "en": ["United Nations"]},
    "US": {"th": ["สหรัฐ"], "vi": ["Mỹ", "Hoa Kỳ"], "ms": ["AS", "Amerika Syarikat"], "id": ["AS", "Amerika Serikat"],
           "en": ["United States"]},
    "USA": {"th": ["สหรัฐ"], "vi": ["Mỹ", "Hoa Kỳ"], "ms": ["AS", "Amerika Syarikat"], "id": ["AS", "Amerika Serikat"]},
    "UK": {"th": ["สหราชอาณาจักร", "อังกฤษ"], "vi": ["Anh", "Vương quốc Anh"], "ms": ["Britain", "United Kingdom"],
           "id": ["Inggris", "Britania Raya"], "en": ["United Kingdom", "Britain"]},
    "EU": {"th": ["สหภาพยุโรป", "อียู"], "vi": ["Liên minh châu Âu", "Liên minh Châu Âu", "EU"], "ms": ["Kesatuan Eropah"],
           "id": ["Uni Eropa"], "en": ["European Union"]},
    "WHO": {"th": ["องค์การอนามัยโลก"], "vi": ["Tổ chức Y tế Thế giới"], "ms": ["Pertubuhan Kesihatan Sedunia"],
            "id": ["Organisasi Kesehatan Dunia"]},
    "ODA": {"th": ["ความช่วยเหลือเพื่อการพัฒนาอย่างเป็นทางการ"], "vi": ["hỗ trợ phát triển chính thức"]},
}


def rules_for(lang: str) -> dict:
    return LANGUAGES.get(lang, LANGUAGES["en"])


def rules_hash() -> str:
    """A short hash of the whole table: changes whenever any rule changes."""
    blob = json.dumps(
        {"languages": LANGUAGES, "currency": CURRENCY_WORDS, "prefix": CURRENCY_PREFIXES, "units": UNITS,
         "be": [BE_OFFSET, BE_YEARS, CE_YEARS], "ambiguous": sorted(AMBIGUOUS_MONTHS), "tol": UNIT_TOLERANCE,
         "words": NUMBER_WORDS, "names": NAME_EQUIVALENTS},
        sort_keys=True, ensure_ascii=False, default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:8]
