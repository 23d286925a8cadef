"""ISO 639-1 codes and the codes each MT model family spells them with.

Configs speak ISO 639-1 ("vi", "th"); NLLB-200 wants "vie_Latn", opus-mt
multi-target models ">>tha<<", MADLAD-400 "<2th>", mBART-50 "th_TH". Keeping the
table in one place means a new language is one line here.
"""

from __future__ import annotations

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


LANGUAGES: dict[str, Language] = {
    lang.iso1: lang
    for lang in [
        Language("vi", "vie", "Vietnamese", "vie_Latn", "vi_VN"),
        Language("th", "tha", "Thai", "tha_Thai", "th_TH", spaces=False),
        Language("ms", "zsm", "Malay", "zsm_Latn"),
        Language("id", "ind", "Indonesian", "ind_Latn", "id_ID"),
        Language("en", "eng", "English", "eng_Latn", "en_XX"),
        Language("ja", "jpn", "Japanese", "jpn_Jpan", "ja_XX", spaces=False),
        Language("zh", "zho", "Chinese", "zho_Hans", "zh_CN", spaces=False),
        Language("ko", "kor", "Korean", "kor_Hang", "ko_KR"),
        Language("lo", "lao", "Lao", "lao_Laoo", spaces=False),
        Language("km", "khm", "Khmer", "khm_Khmr", "km_KH", spaces=False),
        Language("my", "mya", "Burmese", "mya_Mymr", "my_MM", spaces=False),
        Language("tl", "tgl", "Tagalog", "tgl_Latn", "tl_XX"),
        Language("fr", "fra", "French", "fra_Latn", "fr_XX"),
        Language("de", "deu", "German", "deu_Latn", "de_DE"),
        Language("es", "spa", "Spanish", "spa_Latn", "es_XX"),
    ]
}


def get_language(code: str) -> Language:
    try:
        return LANGUAGES[code]
    except KeyError:
        raise ConfigError(
            f"unknown language code {code!r}; expected an ISO 639-1 code, one of: {', '.join(sorted(LANGUAGES))}"
        ) from None
