"""Deterministic by-products of a run (language ID, word segmentation), remembered by content hash.

A re-run of the same config on the same text repeats work whose answer cannot
change: lingua's language of each paragraph, PyThaiNLP's words of each Thai
paragraph (0.6 s just to build its dictionary). Those answers are kept in the
run's cache file (a `memo` table beside the translations), keyed by
sha256(kind, version, text), where `version` names the package version that
produced them, so an upgrade recomputes. `cache: false` (or `--no-cache`)
turns it off with the translation cache.

One memo is active per run (`memo_in`); pure functions opt in with
`remembered`. Outside a run (a notebook calling a function directly, a worker
process) nothing is remembered and the function simply computes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = "CREATE TABLE IF NOT EXISTS memo (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
_CHUNK = 500


class Memo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pending: dict[str, str] = {}
        self.hits = self.misses = 0

    def _connection(self, create: bool = False) -> sqlite3.Connection | None:
        if self._conn is None:
            if not create and not self.path.is_file():
                return None  # nothing remembered yet; the file is made when there is something to keep
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(self.path, timeout=30)
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute(_SCHEMA)
            except (sqlite3.Error, OSError):
                return None  # a cache that cannot open costs only speed; the translation cache reports its own errors
        return self._conn

    def lookup(self, keys: Sequence[str]) -> dict[str, Any]:
        conn = self._connection()
        found: dict[str, Any] = {k: json.loads(self._pending[k]) for k in keys if k in self._pending}
        wanted = [k for k in dict.fromkeys(keys) if k not in found]
        if conn is None:
            return found
        try:
            for i in range(0, len(wanted), _CHUNK):
                part = wanted[i:i + _CHUNK]
                rows = conn.execute(f"SELECT key, value FROM memo WHERE key IN ({','.join('?' * len(part))})", part)
                found.update((key, json.loads(value)) for key, value in rows)
        except sqlite3.Error:
            pass
        return found

    def store(self, items: dict[str, Any]) -> None:
        self._pending.update((k, json.dumps(v, ensure_ascii=False)) for k, v in items.items())

    def close(self, keep: bool = True) -> None:
        """Write what was learnt (`keep`: the run succeeded; a failed run leaves no file behind)."""
        conn = self._connection(create=True) if keep and self._pending else self._conn
        if conn is not None and keep and self._pending:
            try:
                with conn:
                    conn.executemany("INSERT OR REPLACE INTO memo (key, value) VALUES (?, ?)", self._pending.items())
            except sqlite3.Error:
                pass
        if conn is not None:
            conn.close()
        self._conn, self._pending = None, {}


_active: Memo | None = None


@contextmanager
def memo_in(path: Path | None) -> Iterator[Memo | None]:
    """Remember by-products in `path` (the run's cache file) while the block runs; None: remember nothing."""
    global _active
    previous, _active = _active, (Memo(path) if path is not None else None)
    keep = False
    try:
        yield _active
        keep = True
    finally:
        if _active is not None:
            _active.close(keep)
        _active = previous


def _key(kind: str, version: str, text: str) -> str:
    return hashlib.sha256(f"{kind}\x00{version}\x00{text}".encode("utf-8")).hexdigest()


def remembered(kind: str, version: Callable[[], str], compute: Callable[[list[str]], list[Any]],
               texts: Sequence[str]) -> list[Any]:
    """compute(texts), one JSON-able answer per text, with the answers the active memo already holds reused."""
    memo = _active
    if memo is None or not texts:
        return compute(list(texts))
    tag = version()
    keys = [_key(kind, tag, t) for t in texts]
    found = memo.lookup(keys)
    missing = [i for i, k in enumerate(keys) if k not in found]
    memo.hits += len(texts) - len(missing)
    memo.misses += len(missing)
    if missing:
        computed = compute([texts[i] for i in missing])
        fresh = {keys[i]: value for i, value in zip(missing, computed)}
        memo.store(fresh)
        found.update(fresh)
    return [found[k] for k in keys]
