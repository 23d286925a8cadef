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
from collections.abc import Callable, Sequence
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


@dataclass(frozen=True)
class TranslationJob:
    """One target language's share of a system's work: the pivot paragraphs to translate into it."""

    target_lang: str
    texts: tuple[str, ...]
    # (pivot file name, line) of each text, for backends whose outputs belong to positions (precomputed)
    positions: tuple[tuple[str, int], ...] | None = None


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
        pivots: Sequence[CleanDocument],
        jobs: Sequence[TranslationJob],
        source_lang: str,
        cache: TranslationCache | None,
        advanced: Callable[[int], None],
    ) -> list[SystemTranslation]:
        """One system into every target language: the model is loaded once; never raises for a system-level failure.

        A failure to load makes every language `unavailable`; a failure while
        translating (a language the model lacks, a broken generation) fails that
        language only, and the others still run.
        """
        translator = self._translator(system)
        if cache is not None:
            translator = CachedTranslator(translator, cache)
        self.translators.append(translator)
        found: list[SystemTranslation] = []
        try:
            clock = time.perf_counter()
            load_since = translator.timings.load
            load_failure = None
            try:
                translator.prepare(pivots)
                translator.load()
            except ModelUnavailableError as exc:
                load_failure = ("unavailable", str(exc))
            except (TranslationError, CacheError) as exc:
                load_failure = ("failed", str(exc))
            load_wall = time.perf_counter() - clock
            for job in jobs:
                found.append(self._translate_job(translator, job, source_lang, advanced, load_failure,
                                                 load_wall, load_since))
                load_wall, load_since = 0.0, translator.timings.load  # loading is counted once, on the first language
            return found
        finally:
            self._release(translator.inner if isinstance(translator, CachedTranslator) else translator)

    def _translate_job(
        self,
        translator: Translator,
        job: TranslationJob,
        source_lang: str,
        advanced: Callable[[int], None],
        load_failure: tuple[str, str] | None,
        load_wall: float,
        load_since: float,
    ) -> SystemTranslation:
        status, reason, outputs = "ok", None, None
        before_generate = translator.timings.generate
        clock = time.perf_counter()
        if load_failure is not None:
            status, reason = load_failure
        else:
            try:
                translator.locate(job.positions)
                outputs = translator.translate(list(job.texts), source_lang, job.target_lang,
                                               lambda finished: advanced(len(finished)))
            except ModelUnavailableError as exc:
                status, reason = "unavailable", str(exc)
            except (TranslationError, CacheError) as exc:  # a cache that fails fails this system, not the run
                status, reason = "failed", str(exc)
        wall = time.perf_counter() - clock + load_wall
        load = translator.timings.load - load_since
        generate = translator.timings.generate - before_generate
        if status == "unavailable":
            load = wall - generate  # the failed attempt to load (importing the framework included) took this long
        seconds = {"load": load, "generate": generate, "evalkit": max(0.0, wall - load - generate)}
        info = translator.info
        facts = self._facts(translator.inner if isinstance(translator, CachedTranslator) else translator)
        if facts:  # beside the backend's info, never inside it: the cache records that one with the outputs
            info = {**info, "executor": facts}
        return SystemTranslation(status, reason, outputs, seconds, translator.signature(), info)

    def _facts(self, translator: Translator) -> dict[str, object] | None:
        """What this executor did for the system (recorded in run.json as model_info["executor"]), if anything."""
        return None

    def _release(self, translator: Translator) -> None:
        """Free what a system held once its candidates, signature and info are read (a cluster's actors)."""

    @abstractmethod
    def _translator(self, system: SystemConfig) -> Translator:
        """The Translator that does this system's work (before the cache wraps it)."""


__all__ = ["Executor", "ExecutorError", "SystemTranslation", "TranslationJob"]
