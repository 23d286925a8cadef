"""Caching as a wrapper around any backend, relying on the `Translator` contract alone.

Modelled on lm-evaluation-harness's `CachingLM`: caching is not a feature of
each backend but a `Translator` that wraps another one, keyed by a hash of the
request (`identity.request_key`), and it never caches sampled output. It looks
every text up first and hands only the misses to the wrapped backend; each batch
the backend reports finished is written to the store in its own transaction
there and then, so an interrupted run keeps everything finished before the
interrupt and a re-run resumes where it stopped. Loading is lazy: when every
text is cached the model is never loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from evalkit.backends.base import Finished, ProgressCallback, Translations, Translator
from evalkit.backends.store import TranslationCache
from evalkit.corpus import CleanDocument
from evalkit.errors import CacheError


def bypass_reason(translator: Translator) -> str | None:
    """Why this backend's outputs must not be cached, or None when they may be.

    `cacheable = False`: caching is pointless (the copy baseline). Not
    deterministic: sampled output is a draw, not a function of the request
    (lm-evaluation-harness never caches it either).
    """
    if not translator.cacheable:
        return f"backend {type(translator).__name__} is not cacheable"
    if not translator.deterministic:
        return "sampled decoding (the backend is not deterministic)"
    return None


@dataclass
class CacheCounters:
    """hits + misses = paragraphs asked for; `translated` counts distinct texts sent to the wrapped backend."""

    hits: int = 0
    misses: int = 0
    translated: int = 0
    kept: int = 0  # paragraphs written to the store (so far, when interrupted)


class CachedTranslator(Translator):
    """Any Translator, answered from a `TranslationCache` where possible."""

    def __init__(self, inner: Translator, cache: TranslationCache | str | Path) -> None:
        super().__init__(inner.name, inner.model, inner.options)
        self.inner = inner
        self.timings = inner.timings  # load/generate time is the wrapped backend's
        self.cache = cache if isinstance(cache, TranslationCache) else TranslationCache(cache)
        self.bypass_reason = bypass_reason(inner)
        self.counters = CacheCounters()
        self.model_loaded = False
        self._identity: str | None = None

    @property
    def enabled(self) -> bool:
        return self.bypass_reason is None

    @property
    def deterministic(self) -> bool:
        return self.inner.deterministic

    def identity(self) -> str:
        return self.inner.identity()

    def prepare(self, pivots: Sequence[CleanDocument]) -> None:
        self.inner.prepare(pivots)

    def locate(self, positions: Sequence[tuple[str, int]] | None) -> None:
        self.inner.locate(positions)

    def availability(self) -> tuple[bool | None, str]:
        return self.inner.availability()

    def load(self) -> None:
        """Lazy: the wrapped backend is loaded on the first miss. Passed through when bypassing."""
        if not self.enabled:
            self._load_inner()

    def _load_inner(self) -> None:
        if not self.model_loaded:
            self.inner.load()
            self.model_loaded = True

    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        if not self.enabled:
            self._load_inner()
            return self.inner.translate(texts, source_lang, target_lang, progress)
        unique = list(dict.fromkeys(texts))
        identity = self.inner.identity()
        found = self.cache.get_many(identity, source_lang, target_lang, unique)
        if len(found) < len(unique) and not self.model_loaded:
            self._load_inner()
            # a hub model's commit is only certain once loaded: file outputs under it
            loaded_identity = self.inner.identity()
            if loaded_identity != identity:
                identity = loaded_identity
                found = self.cache.get_many(identity, source_lang, target_lang, unique)
        self._identity = identity

        positions: dict[str, list[int]] = {}  # where each distinct text occurs in this call
        for index, text in enumerate(texts):
            positions.setdefault(text, []).append(index)
        pieces = self.cache.split_counts(identity, source_lang, target_lang, found) if found else {}
        outputs = {text: (found[text], pieces.get(text, 1)) for text in found}
        hits = sum(len(positions[text]) for text in found)
        self.counters.hits += hits
        self.counters.misses += len(texts) - hits
        if progress and found:
            progress([Finished(i, out, n) for text, (out, n) in outputs.items() for i in positions[text]])

        missing = [text for text in unique if text not in found]
        if missing:
            self._load_inner()
            self._translate_misses(missing, identity, source_lang, target_lang, positions, outputs, progress)
        return Translations([outputs[t][0] for t in texts], [outputs[t][1] for t in texts], cached=hits)

    def _translate_misses(
        self,
        missing: list[str],
        identity: str,
        source_lang: str,
        target_lang: str,
        positions: dict[str, list[int]],
        outputs: dict[str, tuple[str, int]],
        progress: ProgressCallback | None,
    ) -> None:
        """Translate the misses, storing each batch as the backend reports it finished."""
        provenance: list[tuple[str, dict[str, object]]] = []  # the backend's signature and info, read once

        def keep(done: Sequence[Finished]) -> None:
            rows = [(missing[d.index], d.text, d.pieces) for d in done if missing[d.index] not in outputs]
            if not rows:
                return
            if not provenance:
                provenance.append((self.inner.signature(), self.inner.info))
            signature, info = provenance[0]
            self.cache.put_many(
                identity, source_lang, target_lang, [(src, out) for src, out, _ in rows],
                signature=signature, info=info, pieces={src: n for src, _, n in rows if n > 1},
            )
            self.counters.kept += len(rows)
            for src, out, n in rows:
                outputs[src] = (out, n)
            if progress:
                progress([Finished(i, out, n) for src, out, n in rows for i in positions[src]])

        result = self.inner.translate(missing, source_lang, target_lang, keep)
        # a backend that reports nothing (or not everything) as it goes is stored here, at the end
        keep([Finished(i, out, n) for i, (out, n) in enumerate(zip(result.texts, result.pieces))])
        self.counters.translated += len(missing)

    def signature(self) -> str:
        """The wrapped backend's; when it was never loaded, the one recorded with the cached outputs.

        A seq2seq backend only knows its commit and resolved dtype once loaded,
        so a fully cached run reports the signature of the run that produced them.
        """
        recorded, _ = self._recorded()
        return recorded or self.inner.signature()

    def _recorded(self) -> tuple[str | None, dict[str, object]]:
        """What the cache recorded about the backend, when it was not loaded in this run.

        Best effort: the pipeline reads signature and info after a run, outside
        its error handling, so a cache that became unreadable must not fail them.
        """
        if self.model_loaded or not self.enabled or self._identity is None:
            return None, {}
        try:
            return self.cache.recorded(self._identity)
        except CacheError:
            return None, {}

    @property
    def info(self) -> dict[str, object]:
        inner = self.inner.info or self._recorded()[1]
        cache: dict[str, object] = {
            "enabled": self.enabled,
            "path": str(self.cache.path),
            "model_loaded": self.model_loaded,
        }
        if self.enabled:
            cache.update({k: v for k, v in asdict(self.counters).items() if k != "kept"})
        else:
            cache["reason"] = self.bypass_reason
        return {**inner, "cache": cache}
