"""How each seq2seq model family is told the source and target language.

Families differ: NLLB-200 and M2M100 set a source-language token on the
tokenizer and force the target-language token as the first generated token;
opus-mt multi-target models and MADLAD-400 expect a target tag prefixed to the
source text; single-pair Marian models need nothing. The family is read from the
tokenizer and vocabulary, not the model id, so local copies and fine-tunes work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evalkit.errors import TranslationError
from evalkit.languages import get_language

_MARIAN_TAG = re.compile(r"^>>[\w-]+<<$")
_MADLAD_TAG = re.compile(r"^<2[\w-]+>$")


@dataclass(frozen=True)
class LanguageCodes:
    family: str
    source_prefix: str = ""  # prepended to every source text
    tokenizer_src_lang: str | None = None  # set as tokenizer.src_lang before encoding
    forced_bos_token: str | None = None  # forced as the first generated token
    description: str = ""  # for the signature: what was used


def _first_in_vocab(candidates: list[str], vocab: dict[str, int]) -> str | None:
    return next((c for c in candidates if c in vocab), None)


def resolve_codes(tokenizer, model_id: str, source_lang: str, target_lang: str) -> LanguageCodes:
    src, tgt = get_language(source_lang), get_language(target_lang)
    kind = type(tokenizer).__name__
    vocab = tokenizer.get_vocab()

    def unknown(code_list: list[str], side: str, lang) -> TranslationError:
        return TranslationError(
            f"model {model_id} does not know the {side} language {lang.iso1} ({lang.name}); "
            f"looked for {', '.join(code_list)} in its vocabulary"
        )

    if kind.startswith("Nllb"):
        for lang, side in ((src, "source"), (tgt, "target")):
            if lang.flores not in vocab:
                raise unknown([lang.flores], side, lang)
        return LanguageCodes("nllb", tokenizer_src_lang=src.flores, forced_bos_token=tgt.flores,
                             description=f"{src.flores}->{tgt.flores}")
    if kind.startswith("M2M100"):
        # M2M100Tokenizer keeps its language tokens outside the vocabulary, in lang_token_to_id.
        known = {**vocab, **getattr(tokenizer, "lang_token_to_id", {})}
        tokens = {lang: f"__{lang.iso1}__" for lang in (src, tgt)}
        for lang, side in ((src, "source"), (tgt, "target")):
            if tokens[lang] not in known:
                raise unknown([tokens[lang]], side, lang)
        return LanguageCodes("m2m100", tokenizer_src_lang=src.iso1, forced_bos_token=tokens[tgt],
                             description=f"{tokens[src]}->{tokens[tgt]}")
    if kind.startswith("MBart50"):
        for lang, side in ((src, "source"), (tgt, "target")):
            if lang.mbart is None or lang.mbart not in vocab:
                raise unknown([lang.mbart or f"(no mBART-50 code for {lang.iso1})"], side, lang)
        return LanguageCodes("mbart50", tokenizer_src_lang=src.mbart, forced_bos_token=tgt.mbart,
                             description=f"{src.mbart}->{tgt.mbart}")
    if any(_MADLAD_TAG.match(t) for t in (f"<2{tgt.iso1}>", "<2en>") if t in vocab):
        tag = f"<2{tgt.iso1}>"
        if tag not in vocab:
            raise unknown([tag], "target", tgt)
        return LanguageCodes("madlad", source_prefix=f"{tag} ", description=tag)
    if any(_MARIAN_TAG.match(token) for token in vocab):
        # opus-mt multi-target models: the tag is usually ISO 639-3, sometimes with a script.
        candidates = [f">>{tgt.iso3}<<", f">>{tgt.iso1}<<", f">>{tgt.flores}<<", f">>{tgt.iso3}_{tgt.flores[4:]}<<"]
        tag = _first_in_vocab(candidates, vocab)
        if tag is None:
            raise unknown(candidates, "target", tgt)
        return LanguageCodes("marian-multi", source_prefix=f"{tag} ", description=tag)
    return LanguageCodes("single-pair", description="none (single language pair model)")


class LanguageCodeBook:
    """Each language pair's codes for one loaded tokenizer, resolved once; what seq2seq and ctranslate2 both need."""

    def __init__(self) -> None:
        self._codes: dict[tuple[str, str], LanguageCodes] = {}

    def get(self, tokenizer, model_id: str, source_lang: str, target_lang: str) -> LanguageCodes:
        key = (source_lang, target_lang)
        if key not in self._codes:
            self._codes[key] = resolve_codes(tokenizer, model_id, source_lang, target_lang)
        return self._codes[key]

    def describe(self) -> dict[str, str]:
        """For run.json: which codes each pair used."""
        return {f"{s}-{t}": c.description for (s, t), c in self._codes.items()}


# Tokenizers without a limit report a huge sentinel (int(1e30)); limits above this are ignored.
_NO_LIMIT = 1_000_000


def input_limit(*limits: object) -> int:
    """The model's input limit in tokens: the smallest real one among what the config and tokenizer report."""
    return min((x for x in limits if isinstance(x, int) and 0 < x < _NO_LIMIT), default=_NO_LIMIT)
