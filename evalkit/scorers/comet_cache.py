"""Segment scores of learned metrics, kept in the run's SQLite cache file, in a table of their own.

COMET costs about a second per paragraph on a CPU, so a re-run after changing
one system should score only that system. The key is a hash of the model's
identity (model, checkpoint hash, comet version, long-segment policy) and of
the (source, candidate, reference) texts; the value is the raw segment score
(x100), how many pieces the segment was scored in, and whether it exceeded the
encoder's input limit. Device is not in the key: CPU and GPU scores of the
same model differ only in float rounding (unlike greedy decoding, where a
rounding difference can change a token).

The translation cache opens the same file in WAL mode, so both can be written
while a second run reads it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from evalkit.errors import ScoringError

_CHUNK = 500  # keys per SELECT: far below SQLite's host-parameter limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS metric_segment_scores (
    identity TEXT NOT NULL,
    segment  TEXT NOT NULL,
    score    REAL NOT NULL,
    pieces   INTEGER NOT NULL,
    long     INTEGER NOT NULL,
    PRIMARY KEY (identity, segment)
) WITHOUT ROWID
"""


def identity_key(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def segment_key(source: str | None, candidate: str, reference: str | None) -> str:
    return hashlib.sha256(json.dumps([source, candidate, reference], ensure_ascii=False).encode("utf-8")).hexdigest()


class SegmentScoreCache:
    """get_many / put_many of (score, pieces, long) by segment key, for one metric identity."""

    def __init__(self, path: Path, identity: str, metric: str) -> None:
        self.path = Path(path)
        self.identity = identity_key(identity)
        self.metric = metric
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=60)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute(_SCHEMA)
                connection.commit()
            except (sqlite3.Error, OSError) as exc:
                raise ScoringError(f"{self.metric}: cannot use the score cache {self.path}: {exc}") from None
            self._connection = connection
        return self._connection

    def get_many(self, keys: Sequence[str]) -> dict[str, tuple[float, int, bool]]:
        connection = self._connect()
        found: dict[str, tuple[float, int, bool]] = {}
        unique = list(dict.fromkeys(keys))
        try:
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start:start + _CHUNK]
                rows = connection.execute(
                    f"SELECT segment, score, pieces, long FROM metric_segment_scores "
                    f"WHERE identity = ? AND segment IN ({','.join('?' * len(chunk))})",
                    [self.identity, *chunk],
                )
                for segment, score, pieces, long in rows:
                    found[segment] = (float(score), int(pieces), bool(long))
        except sqlite3.Error as exc:
            raise ScoringError(f"{self.metric}: cannot read the score cache {self.path}: {exc}") from None
        return found

    def put_many(self, items: Iterable[tuple[str, float, int, bool]]) -> None:
        connection = self._connect()
        try:
            with connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO metric_segment_scores (identity, segment, score, pieces, long) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [(self.identity, key, float(score), int(pieces), int(long)) for key, score, pieces, long in items],
                )
        except sqlite3.Error as exc:
            raise ScoringError(f"{self.metric}: cannot write the score cache {self.path}: {exc}") from None

    def count(self) -> int:
        return self._connect().execute(
            "SELECT COUNT(*) FROM metric_segment_scores WHERE identity = ?", [self.identity]).fetchone()[0]

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
