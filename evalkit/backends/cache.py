"""A persistent translation cache, as a wrapper around any backend.

Modelled on lm-evaluation-harness's `CachingLM`: caching is not a feature of
each backend but a `Translator` that wraps another one, keyed by a hash of the
request, and it never caches sampled output. Two pieces:

- `TranslationCache`: one SQLite file mapping
  key = sha256(identity, source_lang, target_lang, source text) → translation.
  WAL mode and a busy timeout let two processes share the file; every batch is
  written in its own short `BEGIN IMMEDIATE … COMMIT` with `INSERT OR IGNORE`,
  so a run killed between batches (Ctrl-C, crash, OOM kill) keeps every batch
  already committed and the file is never left half-written (SQLite's journal
  makes each transaction atomic).
- `CachedTranslator`: looks every text up first and hands only the misses to
  the wrapped backend, chunk by chunk, committing each chunk as soon as it is
  translated, so an interrupted run resumes where it stopped. Loading is lazy:
  when every text is cached the model is never loaded.

The *identity* says what produced an output: anything that could change a
translation must change the identity (see `cache_identity`). A backend can
provide its own with a `cache_identity()` method; a backend that is pointless
to cache sets `cacheable = False`; one that samples sets `deterministic = False`
(or has sampling options, see `bypass_reason`) and is passed straight through.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evalkit.backends.base import BackendOptions, ProgressCallback, Translator
from evalkit.errors import CacheError, TranslationError

SCHEMA_VERSION = 1

# Options that change how fast a backend runs but not what it outputs, when a
# backend does not say otherwise (a `cache_neutral_options` class attribute).
# batch_size: greedy outputs do not depend on batch composition (see seq2seq's
# docstring; the cache's own chunking relies on the same property).
DEFAULT_NEUTRAL_OPTIONS = frozenset({"batch_size", "download"})

# Files in a model folder that never affect outputs. Everything else counts,
# so a file kind we have not heard of errs on the side of a cache miss.
_IGNORED_SUFFIXES = (".md", ".rst", ".sqlite", ".sqlite3", ".db", "-wal", "-shm", "-journal", ".lock")
_IGNORED_PREFIXES = (".", "README", "LICENSE")






# -- identity -----------------------------------------------------------------------


def model_fingerprint(folder: Path) -> str:
    """A cheap fingerprint of a local model folder: sha256 over (name, size, mtime_ns) of its files.

    Why metadata, not content: hashing the weights of an NLLB-3.3B folder reads
    13 GB on every run, which would turn the all-cached run (the point of a
    cache) from milliseconds into minutes. Retraining or re-saving a model in
    place rewrites its files, which always sets a new mtime (nanosecond
    resolution on the filesystems we use), and any edit of config.json,
    generation_config.json or a tokenizer file does too. A symlinked file (a
    Hugging Face snapshot folder links to content-addressed blobs) also
    contributes its link target, which *is* a content hash.

    What it misses: a copy that preserves mtimes (`cp -p`, `rsync -a`) of
    *different* weights of exactly the same size onto the same path. What costs
    a needless miss: `touch`, or a copy without preserved mtimes. Only the
    folder's top level is read, as `from_pretrained` does; README/LICENSE,
    hidden files and SQLite files are ignored (a cache kept inside the model
    folder would otherwise change the fingerprint on every write).
    """
    digest = hashlib.sha256()
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return "missing"
    except NotADirectoryError:
        return "not-a-folder"
    for entry in entries:
        name = entry.name
        if name.startswith(_IGNORED_PREFIXES) or name.endswith(_IGNORED_SUFFIXES):
            continue
        try:
            if not entry.is_file():  # follows symlinks
                continue
            st = entry.stat()  # follows symlinks: the blob's size and mtime
            target = os.readlink(entry.path) if entry.is_symlink() else ""
        except OSError:
            continue
        digest.update(json.dumps([name, st.st_size, st.st_mtime_ns, target]).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def _hub_commit(model_id: str, revision: str | None) -> str | None:
    """The commit a hub id resolves to in the local Hugging Face cache, without any network access."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model_id, "config.json", revision=revision)
    except (ImportError, ValueError, OSError):  # ValueError: not a valid repo id
        return None
    return Path(found).parent.name if isinstance(found, str) else None


def _is_local(model: str | Path) -> bool:
    # transformers treats an existing folder as local even when given as a string
    return isinstance(model, Path) or os.path.isdir(model)


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _platform(options: Mapping[str, Any]) -> dict[str, object] | None:
    """What 'auto' device/dtype resolve to on this machine, which changes the numerics.

    A cache file shared between a CPU machine and a bfloat16-capable GPU machine
    must not mix their outputs. Recorded as facts about the machine, not as the
    dtype a particular backend would pick, so it stays right for any backend's
    'auto' policy. torch is imported only when an option is 'auto'.
    """
    auto = [k for k in ("device", "dtype", "compute_type") if options.get(k) == "auto"]
    device = options.get("device")
    if not auto:
        return {"device_kind": str(device).split(":")[0]} if device is not None else None
    import torch

    cuda = torch.cuda.is_available()
    kind = ("cuda" if cuda else "cpu") if device in (None, "auto") else str(device).split(":")[0]
    return {"device_kind": kind, "cuda_bf16": bool(cuda and torch.cuda.is_bf16_supported())}


def cache_identity(
    backend: str,
    model: str | Path | None,
    options: BackendOptions | Mapping[str, Any],
    *,
    neutral_options: Iterable[str] = DEFAULT_NEUTRAL_OPTIONS,
    commit: str | None = None,
    runtime_packages: Iterable[str] = ("torch", "transformers"),
) -> str:
    """Everything that could change a backend's output, as a canonical JSON string.

    - backend: the implementing class (module.QualName), not the system's label:
      renaming a system in a config keeps its cache.
    - model: a local folder by resolved path + `model_fingerprint` (the path
      alone is not enough: weights can be retrained in place); a hub id by id,
      requested revision and the commit it resolves to (`commit`, else looked up
      in the local HF cache; a commit hash is content-addressed).
    - options: all decoding options except `neutral_options`; 'auto' device or
      dtype adds the machine facts it resolves from (`_platform`).
    - runtime: versions of torch/transformers (generation code and kernels change
      outputs across releases), read from package metadata without importing.
    """
    values = dict(options) if isinstance(options, Mapping) else options.model_dump(mode="json")
    neutral = set(neutral_options)
    described: dict[str, object] = {"backend": backend}
    if model is None:
        described["model"] = None
    elif _is_local(model):
        folder = Path(model).expanduser().resolve()
        described["model"] = {"path": str(folder), "fingerprint": model_fingerprint(folder)}
    else:
        revision = values.get("revision")
        described["model"] = {
            "hub_id": str(model),
            "revision": revision,
            "commit": commit or _hub_commit(str(model), revision),
        }
    described["options"] = {k: v for k, v in sorted(values.items()) if k not in neutral}
    platform = _platform(values)
    if platform:
        described["platform"] = platform
    runtime = {name: _package_version(name) for name in runtime_packages}
    if runtime:
        described["runtime"] = runtime
    return json.dumps(described, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def translator_identity(translator: Translator) -> str:
    """A backend's cache identity: its own `cache_identity()` when it has one, else `default_identity`."""
    hook = getattr(translator, "cache_identity", None)
    if callable(hook):
        value = hook()
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return default_identity(translator)


def default_identity(translator: Translator) -> str:
    """`cache_identity(...)` of a backend's class, model and options, read off the instance without loading it.

    For hub models the commit recorded by a loaded model (`info["revision"]`)
    wins over the local-cache lookup, so outputs are filed under the weights
    that actually produced them even when `download: true` fetched newer ones.
    A backend declares output-neutral options with `cache_neutral_options`.
    """
    cls = type(translator)
    commit = None
    if translator.model is not None and not _is_local(translator.model):
        revision = translator.info.get("revision")  # {} until loaded; never loads
        commit = revision if isinstance(revision, str) else None
    return cache_identity(
        f"{cls.__module__}.{cls.__qualname__}",
        translator.model,
        translator.options,
        neutral_options=getattr(translator, "cache_neutral_options", DEFAULT_NEUTRAL_OPTIONS),
        commit=commit,
        runtime_packages=("torch", "transformers") if getattr(translator, "needs_model", False) else (),
    )


def bypass_reason(translator: Translator) -> str | None:
    """Why this backend's outputs must not be cached, or None when they may be.

    `cacheable = False`: caching is pointless (the copy baseline). Not
    deterministic: sampled output is a draw, not a function of the request
    (lm-evaluation-harness never caches it either). Backends say so with a
    `deterministic` attribute or property; until every backend does, sampling
    options are recognised too.
    """
    if not getattr(translator, "cacheable", True):
        return f"backend {type(translator).__name__} is not cacheable"
    if not getattr(translator, "deterministic", True):
        return "sampled decoding (the backend is not deterministic)"
    options = translator.options
    if getattr(options, "do_sample", False):
        return "sampled decoding (do_sample: true)"
    temperature = getattr(options, "temperature", None)
    if getattr(options, "do_sample", None) is None and isinstance(temperature, (int, float)) and temperature > 0:
        return f"sampled decoding (temperature: {temperature})"
    return None


def request_key(identity: str, source_lang: str, target_lang: str, text: str) -> str:
    """sha256 over the JSON array [identity, source, target, text]: unambiguous, unlike concatenation."""
    payload = json.dumps([identity, source_lang, target_lang, text], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _identity_hash(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


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
        now, ident = _now(), _identity_hash(identity)
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
                "SELECT signature, info FROM identities WHERE identity_hash = ?", (_identity_hash(identity),)
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


def _parse(identity: str) -> object:
    try:
        return json.loads(identity)
    except ValueError:  # a backend's own cache_identity() may return any string
        return identity


# -- the wrapper ---------------------------------------------------------------------------


class CachedTranslator(Translator):
    """Any Translator, answered from a `TranslationCache` where possible.

    Counters (cumulative over calls, reported in `info["cache"]`):
    `hits`/`misses` count requested paragraphs (hits + misses = paragraphs
    asked for); `translated` counts the distinct texts sent to the wrapped
    backend (duplicates in one call are translated once); `model_loaded` says
    whether the wrapped backend was loaded at all.
    """

    def __init__(self, inner: Translator, cache: TranslationCache | str | Path, *, chunk_size: int = 64) -> None:
        super().__init__(inner.name, inner.model, inner.options)
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.inner = inner
        self.seconds = inner.seconds  # load/generate time is the wrapped backend's
        self.cache = cache if isinstance(cache, TranslationCache) else TranslationCache(cache)
        self.chunk_size = chunk_size
        self.bypass_reason = bypass_reason(inner)
        self.hits = self.misses = self.translated = 0
        self.model_loaded = False
        self._cached_split: dict[str, int] = {}  # paragraphs served from the cache that were translated in pieces
        self._identity: str | None = None

    @property
    def enabled(self) -> bool:
        return self.bypass_reason is None

    def prepare(self, pivot) -> None:
        self.inner.prepare(pivot)

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

    def translate(
        self,
        texts: Sequence[str],
        source_lang: str,
        target_lang: str,
        progress: ProgressCallback | None = None,
    ) -> list[str]:
        if not self.enabled:
            self._load_inner()
            return self.inner.translate(texts, source_lang, target_lang, progress)
        if not texts:
            return []
        unique = list(dict.fromkeys(texts))
        identity = translator_identity(self.inner)
        found = self.cache.get_many(identity, source_lang, target_lang, unique)
        if len(found) < len(unique) and not self.model_loaded:
            self._load_inner()
            # a hub model's commit is only certain once loaded: file outputs under it
            loaded_identity = translator_identity(self.inner)
            if loaded_identity != identity:
                identity = loaded_identity
                found = self.cache.get_many(identity, source_lang, target_lang, unique)
        self._identity = identity

        counts: dict[str, int] = {}  # how often each distinct text occurs in this call
        for text in texts:
            counts[text] = counts.get(text, 0) + 1
        hit_positions = sum(counts[t] for t in found)
        self.hits += hit_positions
        self.misses += len(texts) - hit_positions
        if found:
            self._cached_split.update(self.cache.split_counts(identity, source_lang, target_lang, found))
        if progress and hit_positions:
            progress(hit_positions)

        missing = [t for t in unique if t not in found]
        for start in range(0, len(missing), self.chunk_size):
            chunk = missing[start : start + self.chunk_size]
            self._load_inner()
            outputs = self.inner.translate(chunk, source_lang, target_lang, progress)
            if len(outputs) != len(chunk):
                raise TranslationError(
                    f"system {self.name!r}: returned {len(outputs)} translations for {len(chunk)} paragraphs"
                )
            split = getattr(self.inner, "split_texts", {})
            self.cache.put_many(
                identity, source_lang, target_lang, zip(chunk, outputs),
                signature=self.inner.signature(), info=self.inner.info,
                pieces={t: split[t] for t in chunk if t in split},
            )
            found.update(zip(chunk, outputs))
            self.translated += len(chunk)
            extra = sum(counts[t] for t in chunk) - len(chunk)  # duplicates the backend did not see
            if progress and extra:
                progress(extra)
        return [found[t] for t in texts]

    @property
    def split_texts(self) -> dict[str, int]:
        """Paragraphs translated in pieces (over the model's input limit), in this run or when cached."""
        return {**self._cached_split, **getattr(self.inner, "split_texts", {})}

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
            cache.update(hits=self.hits, misses=self.misses, translated=self.translated)
        else:
            cache["reason"] = self.bypass_reason
        return {**inner, "cache": cache}
