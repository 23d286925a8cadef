"""The contract every translation backend fulfils.

Modelled on simonw/llm: each backend declares a pydantic `Options` model with
`extra="forbid"`, so a misspelt generation option in a config is an error naming
the field at load time, before any model is loaded. Constructing a backend does
no I/O; `load()` does, and raises `ModelUnavailableError` when weights are absent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from evalkit.corpus import CleanDocument


class BackendOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoOptions(BackendOptions):
    pass


ProgressCallback = Callable[[int], None]  # called with the number of paragraphs just finished


class Translator(ABC):
    Options: ClassVar[type[BackendOptions]] = NoOptions
    needs_model: ClassVar[bool] = False
    cacheable: ClassVar[bool] = True
    """False where caching is pointless (the copy baseline); CachedTranslator then passes calls through."""
    deterministic: ClassVar[bool] = True
    """False when outputs are sampled: never cached."""
    cache_neutral_options: ClassVar[frozenset[str]] = frozenset({"batch_size", "max_batch_tokens", "download"})
    """Options that change speed, never output: left out of the cache identity."""

    def __init__(self, name: str, model: str | Path | None, options: BackendOptions) -> None:
        self.name = name
        self.model = model
        self.options = options
        # Wall-clock seconds spent in model loading ("load") and inside the model's own
        # generation calls ("generate"), so a run can report evalkit's own overhead.
        self.seconds: dict[str, float] = {}

    def cache_identity(self) -> str:
        """Everything that could change this backend's output; must not load the model."""
        from evalkit.backends.cache import default_identity

        return default_identity(self)

    def prepare(self, pivot: CleanDocument) -> None:
        """Called once per run, before `translate`, with the whole pivot document.

        Most backends translate text and ignore it; precomputed candidates are
        keyed by the pivot's line numbers and need it to find theirs.
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

    @abstractmethod
    def translate(
        self,
        texts: Sequence[str],
        source_lang: str,
        target_lang: str,
        progress: ProgressCallback | None = None,
    ) -> list[str]:
        """Translate each text; the result has the same length and order as `texts`."""

    @abstractmethod
    def signature(self) -> str:
        """What makes these candidates reproducible: backend, model and decoding settings."""

    @property
    def info(self) -> dict[str, object]:
        """Facts about the loaded model recorded in run.json (revision, device, ...)."""
        return {}
