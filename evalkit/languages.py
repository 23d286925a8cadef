"""The one language table: ISO 639-1 ↔ ISO 639-3 ↔ FLORES/NLLB codes, and what each MT family calls a language.

Configs speak ISO 639-1 ("vi", "th"); NLLB-200 wants "vie_Latn", opus-mt
multi-target models ">>tha<<", MADLAD-400 "<2th>", mBART-50 "th_TH". Data sets
spell languages their own way too: NTREX-128 names files by ISO 639-3 and uses
the macrolanguage `msa` for Malay where NLLB/FLORES say `zsm_Latn`; FLORES+
renamed Chinese to `cmn_Hans`; sacrebleu pairs use ISO 639-1. Keeping every
spelling in one table means a new language (or a new data set's spelling) is one
line here, and no reader keeps an ad-hoc code map of its own.

`from_code` answers any of those spellings (case-insensitive, `-`/`_` alike, a
region subtag such as `vi-VN` or NTREX's `eng-US` ignored); a script subtag must
match the table, so `zho_Hant` is not taken for Simplified Chinese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evalkit.errors import ConfigError


@dataclass(frozen=True)
class Language:
    iso1: str
    iso3: str  # ISO 639-3, as used by opus-mt target tokens
    name: str
    flores: str  # NLLB-200 / FLORES-200 code
    mbart: str | None = None  # mBART-50 code, where mBART-50 covers the language
    spaces: bool = True  # False: words are not separated by spaces (BLEU/TER need a segmenter)
    # Other spellings data sets use: ISO 639-3 macrolanguage or individual codes, ISO 639-2/B codes,
    # FLORES+ renamings, and file tags such as NTREX-128's `zho-CN`. Tried in this order after `iso3`/`flores`.
    aliases: tuple[str, ...] = ()

    @property
    def iso3_codes(self) -> tuple[str, ...]:
        """`iso3` first, then the three-letter aliases (Malay: zsm, msa, may): what ISO 639-3 file names may use."""
        return (self.iso3, *(a for a in self.aliases if len(a) == 3))

    @property
    def flores_codes(self) -> tuple[str, ...]:
        """`flores` first, then the `xxx_Scrp` aliases (Chinese: zho_Hans, cmn_Hans): FLORES-200 and FLORES+ names."""
        return (self.flores, *(a for a in self.aliases if _FLORES_SHAPE.fullmatch(a)))

    @property
    def file_codes(self) -> tuple[str, ...]:
        """Every code a data set's file name may carry, in the order a reader should try them."""
        return tuple(dict.fromkeys((self.iso3, *self.aliases, self.flores, self.iso1)))


_FLORES_SHAPE = re.compile(r"[a-z]{3}_[A-Z][a-z]{3}")

LANGUAGES: dict[str, Language] = {
    lang.iso1: lang
    for lang in [
        Language("vi", "vie", "Vietnamese", "vie_Latn", "vi_VN"),
        Language("th", "tha", "Thai", "tha_Thai", "th_TH", spaces=False),
        # NLLB/FLORES use the individual language zsm (Standard Malay); NTREX-128 the macrolanguage msa; 639-2/B may.
        Language("ms", "zsm", "Malay", "zsm_Latn", aliases=("msa", "may")),
        Language("id", "ind", "Indonesian", "ind_Latn", "id_ID"),
        Language("en", "eng", "English", "eng_Latn", "en_XX"),
        Language("ja", "jpn", "Japanese", "jpn_Jpan", "ja_XX", spaces=False),
        # FLORES+ renamed zho_Hans to cmn_Hans; NTREX-128 has zho-CN (Simplified) and zho-TW (Traditional).
        Language("zh", "zho", "Chinese", "zho_Hans", "zh_CN", spaces=False, aliases=("cmn", "chi", "cmn_Hans", "zho-CN")),
        Language("ko", "kor", "Korean", "kor_Hang", "ko_KR"),
        Language("lo", "lao", "Lao", "lao_Laoo", spaces=False),
        Language("km", "khm", "Khmer", "khm_Khmr", "km_KH", spaces=False),
        Language("my", "mya", "Burmese", "mya_Mymr", "my_MM", spaces=False, aliases=("bur",)),
        # NTREX-128 names its Tagalog file by Filipino (fil), the standardised form.
        Language("tl", "tgl", "Tagalog", "tgl_Latn", "tl_XX", aliases=("fil",)),
        Language("fr", "fra", "French", "fra_Latn", "fr_XX", aliases=("fre",)),
        Language("de", "deu", "German", "deu_Latn", "de_DE", aliases=("ger",)),
        Language("es", "spa", "Spanish", "spa_Latn", "es_XX"),
    ]
}


def _key(code: str) -> str:
    return code.strip().replace("_", "-").lower()


def _index() -> dict[str, Language]:
    index: dict[str, Language] = {}
    for lang in LANGUAGES.values():
        for code in (lang.iso1, lang.iso3, lang.flores, *(lang.aliases), *((lang.mbart,) if lang.mbart else ())):
            key = _key(code)
            other = index.setdefault(key, lang)
            if other is not lang:  # a programming error in the table above, caught by the tests
                raise AssertionError(f"language code {code!r} is claimed by both {other.iso1} and {lang.iso1}")
    return index


_BY_CODE: dict[str, Language] = _index()
_REGION = re.compile(r"[a-z]{2}|[0-9]{3}")
# Regions whose Chinese is written in Traditional characters: not the table's Simplified `zh`.
_TRADITIONAL = {f"{zh}-{region}" for zh in ("zh", "zho", "cmn", "chi") for region in ("tw", "hk", "mo")}


def find_language(code: str) -> Language | None:
    """The language any known spelling names (vi, vie, vie_Latn, vi_VN, msa, zho-CN, eng-US), or None."""
    key = _key(code)
    if key in _BY_CODE:
        return _BY_CODE[key]
    base, sep, subtag = key.rpartition("-")
    if sep and _REGION.fullmatch(subtag) and key not in _TRADITIONAL:
        return find_language(base)
    return None


def from_code(code: str) -> Language:
    """Like `find_language`, but an unknown code is a ConfigError listing the table."""
    lang = find_language(code)
    if lang is None:
        raise ConfigError(
            f"unknown language code {code!r}; expected an ISO 639-1, ISO 639-3 or FLORES-200 code of one of: "
            + ", ".join(f"{lang.iso1} ({lang.name})" for lang in LANGUAGES.values())
        )
    return lang


def get_language(code: str) -> Language:
    try:
        return LANGUAGES[code]
    except KeyError:
        raise ConfigError(
            f"unknown language code {code!r}; expected an ISO 639-1 code, one of: {', '.join(sorted(LANGUAGES))}"
        ) from None


def language_label(code: str | None) -> str:
    """"Thai (th)" for messages; the bare code for a language the table lacks, "undetermined" for none."""
    language = LANGUAGES.get(code or "")
    return f"{language.name} ({code})" if language else (code or "undetermined")
