"""The translation cache's storage: one SQLite file mapping a request key to a translation.

key = sha256(identity, source_lang, target_lang, source text) (see
`identity.request_key`). WAL mode and a busy timeout let two processes share
the file; every write is its own short `BEGIN IMMEDIATE … COMMIT` with
`INSERT OR IGNORE`, so a run killed between batches (Ctrl-C, crash, OOM kill)
keeps every batch already committed and the file is never left half-written
(SQLite's journal makes each transaction atomic).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from evalkit.backends.identity import identity_hash, request_key
from evalkit.errors import CacheError

SCHEMA_VERSION = 1


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- storage -------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS identities (
    identity_hash TEXT PRIMARY KEY,
    identity      TEXT NOT NULL,
    signature     TEXT,
    info          TEXT,
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS translations (
    key           TEXT PRIMARY KEY,
    identity_hash TEXT NOT NULL,
    source_lang   TEXT NOT NULL,
    target_lang   TEXT NOT NULL,
    translation   TEXT NOT NULL,
    created_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS translations_by_identity ON translations (identity_hash);
CREATE TABLE IF NOT EXISTS split_pieces (
    key           TEXT PRIMARY KEY,
    pieces        INTEGER NOT NULL
) WITHOUT ROWID;
"""
# split_pieces: a source over the model's input limit was translated in this many pieces and joined;
# kept so a run served from the cache still marks it (added in place: older files gain the table on open).

_LOOKUP_CHUNK = 500  # bound parameters per SELECT, well under SQLite's limit


class TranslationCache:
    """A persistent key → translation store in one SQLite file, safe for concurrent processes.

    Constructing does no I/O: the file (and its folder) is created on first use.
    A connection belongs to one process; after a fork the child opens its own.
    WAL mode needs a local filesystem (not NFS/SMB). `synchronous=NORMAL` in WAL
    mode survives any process crash; a power loss can drop the last few commits,
    never corrupt the file.
    """

    def __init__(self, path: str | Path, *, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

    # -- connection ------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        conn = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # timeout= is SQLite's busy timeout: wait for another process's write lock
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            self._retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            conn.execute("PRAGMA synchronous = NORMAL")
            with self._transaction(conn):
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version not in (0, SCHEMA_VERSION):
                    raise CacheError(
                        f"{self.path}: translation cache schema version {version}, this evalkit reads {SCHEMA_VERSION}; "
                        f"use another cache file"
                    )
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (sqlite3.Error, OSError, CacheError) as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, CacheError):
                raise
            raise CacheError(f"{self.path}: cannot open the translation cache ({exc})") from None
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _retry_busy(self, action):
        """Switching to WAL can report 'locked' without waiting when another process is creating the file."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @staticmethod
    @contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front (waiting up to busy_timeout), so
        # a transaction never fails half-way on a lock upgrade.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:  # KeyboardInterrupt included: leave nothing half-written
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = self._pid = None

    def __enter__(self) -> TranslationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads and writes --------------------------------------------------------------
    def get_many(self, identity: str, source_lang: str, target_lang: str, texts: Iterable[str]) -> dict[str, str]:
        """The cached translation of each text that has one (texts without one are absent)."""
        return self._lookup("SELECT key, translation FROM translations", identity, source_lang, target_lang, texts)

    def split_counts(self, identity: str, source_lang: str, target_lang: str, texts: Iterable[str]) -> dict[str, int]:
        """For each text that was translated in pieces, how many."""
        return self._lookup("SELECT key, pieces FROM split_pieces", identity, source_lang, target_lang, texts)

    def _lookup(self, select: str, identity: str, source_lang: str, target_lang: str, texts: Iterable[str]) -> dict:
        """`select` (key, value) rows for these texts, in chunks of bound parameters; text → value."""
        conn = self._connection()
        wanted = {request_key(identity, source_lang, target_lang, t): t for t in texts}
        keys = list(wanted)
        found: dict = {}
        try:
            for start in range(0, len(keys), _LOOKUP_CHUNK):
                part = keys[start : start + _LOOKUP_CHUNK]
                rows = conn.execute(f"{select} WHERE key IN ({','.join('?' * len(part))})", part)
                found.update((wanted[key], value) for key, value in rows)
        except sqlite3.Error as exc:
            raise CacheError(f"{self.path}: cannot read the translation cache ({exc})") from None
        return found

    def put_many(
        self,
        identity: str,
        source_lang: str,
        target_lang: str,
        pairs: Iterable[tuple[str, str]],
        *,
        signature: str | None = None,
        info: Mapping[str, object] | None = None,
        pieces: Mapping[str, int] | None = None,
    ) -> int:
        """Store (source text, translation) pairs in one transaction; existing keys are kept. Returns rows added.

        `signature`/`info` describe the backend that produced them; they are
        recorded once per identity (the first writer's), for inspection and so a
        fully cached run can still report them.
        """
        conn = self._connection()
        now, ident = _now(), identity_hash(identity)
        rows = [
            (request_key(identity, source_lang, target_lang, text), ident, source_lang, target_lang, out, now)
            for text, out in pairs
        ]
        info_json = json.dumps(dict(info), sort_keys=True, default=str) if info else None
        try:
            with self._transaction(conn):
                conn.execute(
                    "INSERT OR IGNORE INTO identities (identity_hash, identity, signature, info, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (ident, identity, signature, info_json, now),
                )
                if signature is not None:  # a row first written without a signature gets one
                    conn.execute(
                        "UPDATE identities SET signature = ?, info = ? WHERE identity_hash = ? AND signature IS NULL",
                        (signature, info_json, ident),
                    )
                before = conn.total_changes
                conn.executemany("INSERT OR IGNORE INTO translations VALUES (?, ?, ?, ?, ?, ?)", rows)
                added = conn.total_changes - before
                conn.executemany(
                    "INSERT OR IGNORE INTO split_pieces VALUES (?, ?)",
                    [(request_key(identity, source_lang, target_lang, t), n) for t, n in (pieces or {}).items()],
                )
        except sqlite3.Error as exc:
            raise CacheError(f"{self.path}: cannot write the translation cache ({exc})") from None
        return added

    def recorded(self, identity: str) -> tuple[str | None, dict[str, object]]:
        """The signature and info recorded for an identity by the run that first wrote its outputs."""
        try:
            row = self._connection().execute(
                "SELECT signature, info FROM identities WHERE identity_hash = ?", (identity_hash(identity),)
            ).fetchone()
        except sqlite3.Error as exc:
            raise CacheError(f"{self.path}: cannot read the translation cache ({exc})") from None
        if row is None:
            return None, {}
        return row[0], json.loads(row[1]) if row[1] else {}

    # -- inspection ------------------------------------------------------------------------
    def stats(self) -> dict[str, object]:
        """Entries, identities and bytes on disk (the database plus its WAL), for `evalkit models`."""
        if not self.path.exists():
            return {"path": str(self.path), "entries": 0, "identities": 0, "file_bytes": 0}
        conn = self._connection()
        entries = conn.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
        identities = conn.execute("SELECT COUNT(*) FROM identities").fetchone()[0]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())
        return {"path": str(self.path), "entries": entries, "identities": identities, "file_bytes": size}

    def identities(self) -> list[dict[str, object]]:
        """One row per identity: what produced the outputs, how many, since when."""
        conn = self._connection()
        rows = conn.execute(
            "SELECT i.identity, i.signature, i.created_at, COUNT(t.key) FROM identities i "
            "LEFT JOIN translations t ON t.identity_hash = i.identity_hash GROUP BY i.identity_hash ORDER BY i.created_at"
        )
        return [
            {"identity": _parse(identity), "signature": signature, "created_at": created, "entries": n}
            for identity, signature, created, n in rows
        ]

    def entries_by_language(self) -> list[dict[str, object]]:
        """One row per identity and language pair: how many translations are cached."""
        conn = self._connection()
        rows = conn.execute(
            "SELECT i.identity, t.source_lang, t.target_lang, COUNT(t.key) FROM identities i "
            "JOIN translations t ON t.identity_hash = i.identity_hash GROUP BY i.identity_hash, t.source_lang, t.target_lang"
        )
        return [{"identity": _parse(identity), "source_lang": src, "target_lang": tgt, "entries": n}
                for identity, src, tgt, n in rows]


def _parse(identity: str) -> object:
    try:
        return json.loads(identity)
    except ValueError:  # a backend's own cache_identity() may return any string
        return identity
