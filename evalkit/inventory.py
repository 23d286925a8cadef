"""What each configured system needs and what this machine has: weights and cached translations.

Answers "will this config run here, and how much of it is already done?"
without loading a model, so it is instant even for multi-GB systems.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from evalkit.backends import BACKENDS
from evalkit.backends.cached import bypass_reason
from evalkit.backends.store import TranslationCache
from evalkit.config import RunConfig


@dataclass(frozen=True)
class SystemInventory:
    name: str
    backend: str
    model: str | None
    available: bool | None  # None: the backend cannot tell without loading
    detail: str
    cached: int | None  # translations cached for exactly this system's identity; None when not cached
    cache_note: str
    cached_by_lang: dict[str, int] | None = None  # target language → cached translations from the pivot language


def inventory(config: RunConfig) -> tuple[list[SystemInventory], dict[str, object] | None]:
    cache = TranslationCache(config.cache_path) if config.cache_path else None
    rows = []
    try:
        counts: dict[str, int] = {}
        by_lang: dict[tuple[str, str], int] = {}
        if cache is not None and config.cache_path.exists():
            for row in cache.entries_by_language():
                if row["source_lang"] == config.pivot.lang:
                    key = _key(row["identity"])
                    counts[key] = counts.get(key, 0) + row["entries"]
                    by_lang[(key, row["target_lang"])] = row["entries"]
        for system in config.systems:
            translator = BACKENDS.get(system.backend)(system.name, system.model, system.parsed_options)
            available, detail = translator.availability()
            skip = bypass_reason(translator)
            per_lang = None
            if cache is None:
                cached, note = None, "cache disabled"
            elif skip:
                cached, note = None, f"not cached: {skip}"
            else:
                key = _key(translator.identity())
                cached = counts.get(key, 0)
                per_lang = {lang: by_lang.get((key, lang), 0) for lang in config.target_langs}
                shown = ", ".join(f"{lang} {n}" for lang, n in per_lang.items())
                note = f"{cached} translations cached for these exact settings ({config.pivot.lang}→ {shown})"
            rows.append(SystemInventory(system.name, system.backend, None if system.model is None else str(system.model),
                                        available, detail, cached, note, per_lang))
        stats = cache.stats() if cache is not None else None
    finally:
        if cache is not None:
            cache.close()
    return rows, stats


def _key(identity: object) -> str:
    """Identities are JSON; compare them parsed, whatever the spacing they were stored with."""
    if isinstance(identity, str):
        try:
            identity = json.loads(identity)
        except ValueError:
            return identity
    return json.dumps(identity, sort_keys=True)
