"""What makes two translations interchangeable: a backend's identity, as canonical JSON. Pure: no SQLite, no loading.

The translation cache files an output under this identity; anything that
could change a translation must change it, and nothing that cannot (batch
size, a download switch) may, or the cache would miss for nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from evalkit.hf_models import cuda_available, hub_commit, is_local, package_version

# Files in a model folder that never affect outputs. Everything else counts,
# so a file kind we have not heard of errs on the side of a cache miss.
_IGNORED_SUFFIXES = (".md", ".rst", ".sqlite", ".sqlite3", ".db", "-wal", "-shm", "-journal", ".lock")
_IGNORED_PREFIXES = (".", "README", "LICENSE")


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


def platform_facts(options: Mapping[str, Any]) -> dict[str, object] | None:
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
    cuda = cuda_available()  # imports torch only where a GPU driver is present
    kind = ("cuda" if cuda else "cpu") if device in (None, "auto") else str(device).split(":")[0]
    if cuda:
        import torch

        return {"device_kind": kind, "cuda_bf16": bool(torch.cuda.is_bf16_supported())}
    return {"device_kind": kind, "cuda_bf16": False}


def backend_identity(
    backend: str,
    model: str | Path | None,
    options: Mapping[str, Any],
    *,
    neutral_options: Iterable[str] = (),
    commit: str | None = None,
    runtime_packages: Iterable[str] = (),
) -> str:
    """Everything that could change a backend's output, as a canonical JSON string.

    - backend: the implementing class (module.QualName), not the system's label:
      renaming a system in a config keeps its cache.
    - model: a local folder by resolved path + `model_fingerprint` (the path
      alone is not enough: weights can be retrained in place); a hub id by id,
      requested revision and the commit it resolves to (`commit`, else looked up
      in the local HF cache; a commit hash is content-addressed).
    - options: all decoding options except `neutral_options`; 'auto' device or
      dtype adds the machine facts it resolves from (`platform_facts`).
    - runtime: versions of the packages that compute the output, read from
      package metadata without importing them.
    """
    values = dict(options)
    neutral = set(neutral_options)
    described: dict[str, object] = {"backend": backend}
    if model is None:
        described["model"] = None
    elif is_local(model):
        folder = Path(model).expanduser().resolve()
        described["model"] = {"path": str(folder), "fingerprint": model_fingerprint(folder)}
    else:
        revision = values.get("revision")
        described["model"] = {
            "hub_id": str(model),
            "revision": revision,
            "commit": commit or hub_commit(str(model), revision),
        }
    described["options"] = {k: v for k, v in sorted(values.items()) if k not in neutral}
    platform = platform_facts(values)
    if platform:
        described["platform"] = platform
    runtime = {name: package_version(name) for name in runtime_packages}
    if runtime:
        described["runtime"] = runtime
    return json.dumps(described, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def request_key(identity: str, source_lang: str, target_lang: str, text: str) -> str:
    """sha256 over the JSON array [identity, source, target, text]: unambiguous, unlike concatenation."""
    payload = json.dumps([identity, source_lang, target_lang, text], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def identity_hash(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()
