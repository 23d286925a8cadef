"""The copy baseline: the candidate is the source paragraph itself.

Every config includes it as the floor. Names, numbers and acronyms survive
translation, so copying scores above zero on chrF; a system that does not beat
this floor is broken, whatever its absolute number.
"""

from __future__ import annotations

from evalkit import __version__
from evalkit.backends.base import ProgressCallback, Translations, Translator, report_all


class CopyTranslator(Translator):
    cacheable = False  # the output is the input

    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        report_all(progress, texts)
        return Translations.whole(texts)

    def signature(self) -> str:
        return f"backend:copy|evalkit:{__version__}"
