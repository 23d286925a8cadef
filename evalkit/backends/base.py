"""The contract every translation backend fulfils, and the only one the pipeline, cache and executors rely on.

Modelled on simonw/llm: each backend declares a pydantic `Options` model with
`extra="forbid"`, so a misspelt generation option in a config is an error naming
the field at load time, before any model is loaded. Constructing a backend does
no I/O; `load()` does, and raises `ModelUnavailableError` when weights are absent.

Everything a caller reads is declared here: `translate()` returns the texts
*with* how many pieces each was translated in (`Translations`); finished
paragraphs are reported as they complete (`Finished`), so a cache can keep them
and a progress bar can count them; `identity()` says what makes two outputs
interchangeable; `deterministic` says whether they may be reused at all;
`timings` splits wall time into loading and generation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from evalkit.backends.identity import backend_identity
from evalkit.corpus import CleanDocument
from evalkit.errors import TranslationError


class BackendOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoOptions(BackendOptions):
    pass


@dataclass(frozen=True)
class Finished:
    """One paragraph whose translation is complete: its position in the request, the text, its piece count."""

    index: int
    text: str
    pieces: int = 1


ProgressCallback = Callable[[Sequence[Finished]], None]
"""Called with the paragraphs just finished, as each batch completes (a cache commits them there and then)."""


@dataclass(frozen=True)
class Translations:
    """What `translate()` returns: one text per requested paragraph, in order, with its piece count.

    `pieces[i] > 1` means paragraph i was over the model's input limit and was
    translated in that many pieces, joined; reports mark it, never hide it.
    """

    texts: list[str]
    pieces: list[int]
    cached: int = 0  # how many of the paragraphs a cache answered (the rest were translated now)

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.pieces):
            raise ValueError(f"{len(self.texts)} texts but {len(self.pieces)} piece counts")

    @classmethod
    def whole(cls, texts: Sequence[str]) -> Translations:
        """Every paragraph translated in one piece."""
        return cls(list(texts), [1] * len(texts))

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class Timings:
    """Seconds spent loading weights and inside the model's own generation calls (cumulative).

    The rest of a system's wall time is evalkit's own work, which a run reports
    so overhead is visible.
    """

    load: float = 0.0
    generate: float = 0.0


class Translator(ABC):
    Options: ClassVar[type[BackendOptions]] = NoOptions
    needs_model: ClassVar[bool] = False
    cacheable: ClassVar[bool] = True
    text_keyed: ClassVar[bool] = True
    """One output per distinct source text (an MT system): a run translates each text once however often it
    occurs. False (precomputed candidates): outputs belong to positions, and a run asks for every position
    after telling the backend where each text comes from (`locate`)."""
    """False where caching is pointless (the copy baseline, a file of candidates): the cache passes calls through."""
    cache_neutral_options: ClassVar[frozenset[str]] = frozenset({"batch_size", "max_batch_tokens", "download"})
    """Options that change speed, never output: left out of the identity."""
    runtime_packages: ClassVar[tuple[str, ...]] = ()
    """Packages whose versions can change outputs (generation code, kernels): part of the identity."""

    def __init__(self, name: str, model: str | Path | None, options: BackendOptions) -> None:
        self.name = name
        self.model = model
        self.options = options
        self.timings = Timings()

    # -- what callers read ----------------------------------------------------------
    @property
    def deterministic(self) -> bool:
        """False when outputs are sampled (a draw, not a function of the request): never cached."""
        return True

    def identity(self) -> str:
        """Everything that could change this backend's output, as canonical JSON; must not load the model.

        Subclasses adjust what goes in through `identity_options()` and
        `loaded_commit()` rather than rebuilding it.
        """
        cls = type(self)
        return backend_identity(
            f"{cls.__module__}.{cls.__qualname__}",
            self.model,
            self.identity_options(),
            neutral_options=self.cache_neutral_options,
            commit=self.loaded_commit(),
            runtime_packages=self.runtime_packages,
        )

    def identity_options(self) -> dict[str, object]:
        """The options as they bear on the output ('auto' values may be resolved here)."""
        return self.options.model_dump(mode="json")

    def loaded_commit(self) -> str | None:
        """The hub commit of the weights actually loaded, once known; None before loading or for local models."""
        return None

    @property
    def info(self) -> dict[str, object]:
        """Facts about the loaded model recorded in run.json (revision, device, ...)."""
        return {}

    @abstractmethod
    def signature(self) -> str:
        """What makes these candidates reproducible: backend, model and decoding settings."""

    # -- lifecycle --------------------------------------------------------------------
    @classmethod
    def config_problems(cls, options: BackendOptions, target_langs: Sequence[str]) -> list[str]:
        """What makes these options wrong for a run into `target_langs`, found when the config loads (none here)."""
        return []

    def locate(self, positions: Sequence[tuple[str, int]] | None) -> None:
        """Where the texts of the next `translate` call come from: (pivot file name, line) each; None: unknown.

        Called for backends that are not `text_keyed`; the others ignore it.
        """

    def prepare(self, pivots: Sequence[CleanDocument]) -> None:
        """Called once per run, before `load`, with every pivot document the run translates.

        Most backends translate text and ignore them; precomputed candidates are
        keyed by the pivots' line numbers and need them to find theirs.
        """

    def load(self) -> None:
        """Load weights; raise ModelUnavailableError with a one-line how-to when they are absent."""

    def availability(self) -> tuple[bool | None, str]:
        """Whether the weights are available here, checked without loading them (for `evalkit models`).

        None means "not checked" for backends that cannot tell cheaply.
        """
        if self.needs_model:
            return None, "not checked"
        return True, "no weights needed"

    # -- the public call: checks here, work in `_translate` ----------------------------
    def translate(
        self,
        texts: Sequence[str],
        source_lang: str,
        target_lang: str,
        progress: ProgressCallback | None = None,
    ) -> Translations:
        """Translate each text; the result has the same length and order as `texts`."""
        if not texts:
            return Translations([], [])
        result = self._translate(list(texts), source_lang, target_lang, progress)
        if len(result) != len(texts):
            raise TranslationError(f"system {self.name!r}: returned {len(result)} translations for {len(texts)} paragraphs")
        return result

    @abstractmethod
    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        """Translate a non-empty list; report finished paragraphs through `progress` as batches complete."""


def report_all(progress: ProgressCallback | None, texts: Sequence[str]) -> None:
    """For backends that finish everything at once (copy, a file of candidates)."""
    if progress and texts:
        progress([Finished(i, t) for i, t in enumerate(texts)])


__all__ = [
    "BackendOptions",
    "Finished",
    "NoOptions",
    "ProgressCallback",
    "Timings",
    "Translations",
    "Translator",
    "report_all",
]
