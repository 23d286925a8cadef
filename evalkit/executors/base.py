"""The executor contract: how one system's candidates are produced, wherever the model runs.

The base class owns the public method, `translate_system`, and with it
everything a run must do the same way whatever executes the work: the
translation cache wraps the backend on the driver (lookups there, only misses
sent on, every reported batch committed at once, so an interrupted run keeps it),
a missing model makes the system `unavailable` and a failed generation makes it
`failed` while the run goes on, and wall time is split into load, generation and
evalkit's own. A subclass only says which `Translator` does the work
(`_translator`): the backend itself (in-process) or a stand-in that forwards the
same contract to a cluster (Ray). `open`/`close` bracket a run, for executors that
connect to something.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from evalkit.backends.base import Translations, Translator
from evalkit.backends.cached import CachedTranslator
from evalkit.backends.store import TranslationCache
from evalkit.config import RunConfig, SystemConfig
from evalkit.corpus import CleanDocument
from evalkit.errors import CacheError, EvalkitError, ModelUnavailableError, TranslationError


class ExecutorError(EvalkitError):
    """The executor cannot run at all (its package is missing, its cluster unreachable): the whole run stops."""


@dataclass
class SystemTranslation:
    """What translating one system produced: the candidates, or the status and reason it has none."""

    status: str  # "ok", "unavailable" or "failed"
    reason: str | None
    outputs: Translations | None
    seconds: dict[str, float]
    signature: str
    info: dict[str, object] = field(default_factory=dict)


class Executor(ABC):
    name: ClassVar[str] = ""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.translators: list[Translator] = []  # every system's, so an interrupt can say what the cache kept

    # -- lifecycle ----------------------------------------------------------------------
    def open(self) -> None:
        """Called once before the first system; raise ExecutorError when this executor cannot run here."""

    def close(self) -> None:
        """Called once after the last system (also after an error or Ctrl-C)."""

    def __enter__(self) -> Executor:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def kept(self) -> int:
        """Paragraphs newly written to the translation cache so far in this run (what an interrupt keeps)."""
        return sum(t.counters.kept for t in self.translators if isinstance(t, CachedTranslator) and t.enabled)

    # -- the public call ------------------------------------------------------------------
    def translate_system(
        self,
        system: SystemConfig,
        pivot: CleanDocument,
        texts: list[str],
        source_lang: str,
        target_lang: str,
        cache: TranslationCache | None,
        advanced: Callable[[int], None],
    ) -> SystemTranslation:
        """Translate `texts` (pivot paragraphs) with one system; never raises for a system-level failure."""
        translator = self._translator(system)
        if cache is not None:
            translator = CachedTranslator(translator, cache)
        self.translators.append(translator)
        status, reason, outputs = "ok", None, None
        clock = time.perf_counter()
        try:
            try:
                translator.prepare(pivot)
                translator.load()
                outputs = translator.translate(texts, source_lang, target_lang, lambda finished: advanced(len(finished)))
            except ModelUnavailableError as exc:
                status, reason = "unavailable", str(exc)
            except (TranslationError, CacheError) as exc:  # a cache that fails fails this system, not the run
                status, reason = "failed", str(exc)
            wall = time.perf_counter() - clock
            load, generate = translator.timings.load, translator.timings.generate
            if status == "unavailable":
                load = wall - generate  # the failed attempt to load (importing the framework included) took this long
            seconds = {"load": load, "generate": generate, "evalkit": max(0.0, wall - load - generate)}
            info = translator.info
            facts = self._facts(translator.inner if isinstance(translator, CachedTranslator) else translator)
            if facts:  # beside the backend's info, never inside it: the cache records that one with the outputs
                info = {**info, "executor": facts}
            return SystemTranslation(status, reason, outputs, seconds, translator.signature(), info)
        finally:
            self._release(translator.inner if isinstance(translator, CachedTranslator) else translator)

    def _facts(self, translator: Translator) -> dict[str, object] | None:
        """What this executor did for the system (recorded in run.json as model_info["executor"]), if anything."""
        return None

    def _release(self, translator: Translator) -> None:
        """Free what a system held once its candidates, signature and info are read (a cluster's actors)."""

    @abstractmethod
    def _translator(self, system: SystemConfig) -> Translator:
        """The Translator that does this system's work (before the cache wraps it)."""


__all__ = ["Executor", "ExecutorError", "SystemTranslation"]
