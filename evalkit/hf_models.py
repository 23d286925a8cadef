"""The one place evalkit talks to Hugging Face machinery: finding weights, loading them quietly, naming failures.

Backends (seq2seq, causal, ctranslate2) and the neural metrics all need the
same things: is this a local folder or a hub id, is the hub id in the local
cache (without touching the network: offline, a hub lookup retries for ~46 s),
which device and dtype 'auto' means here, which package versions produced an
output, and a one-line message where transformers raises a multi-line one.
Keeping them here means one policy, not five near-copies that drift.

Nothing here imports torch, transformers or huggingface_hub at module level,
so `evalkit --help` stays instant.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

from evalkit.errors import ModelUnavailableError

# -- messages -----------------------------------------------------------------------


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when it has none): errors stay one line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def how_to_provide(model: str) -> str:
    return (
        f"put it in the Hugging Face cache (`hf download {model}` where the hub is reachable, "
        f"then copy ~/.cache/huggingface), or set `model:` to a local folder saved with save_pretrained"
    )


def package_version(distribution: str) -> str | None:
    """An installed distribution's version from its metadata (no import), or None."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


# -- where the weights are ------------------------------------------------------------


def is_local(model: str | Path) -> bool:
    """A local folder rather than a hub id (transformers treats an existing folder as local even as a string)."""
    return isinstance(model, Path) or os.path.isdir(model)


def looks_local(model: str) -> bool:
    """A path (the config resolves relative ones to absolute) rather than a hub id, even when it does not exist."""
    return model.startswith(("/", ".", "~")) or Path(model).expanduser().exists()


def hub_cache_dir(cache_dir: str | Path | None = None) -> str:
    if cache_dir is not None:
        return str(cache_dir)
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def cached_file(repo_id: str, filename: str, cache_dir: str | Path | None = None, revision: str | None = None) -> Path | None:
    """A hub repository's file in the local Hugging Face cache, never downloading; None when absent."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir, revision=revision)
    except (ImportError, ValueError, OSError):  # ValueError: not a valid repo id (e.g. a missing path)
        return None
    return Path(found) if isinstance(found, str) else None


def hub_commit(model_id: str, revision: str | None) -> str | None:
    """The commit a hub id resolves to in the local cache (the snapshot folder's name), without network access."""
    found = cached_file(model_id, "config.json", revision=revision)
    return found.parent.name if found is not None else None


def hub_availability(model: str | Path | None, revision: str | None = None) -> tuple[bool | None, str]:
    """Whether a local folder or a hub id's weights are on this machine, without loading them."""
    if model is None:
        return False, "no model configured"
    if isinstance(model, Path):
        if (model / "config.json").is_file():
            return True, f"local folder {model}"
        return False, f"local folder {model} {'has no config.json' if model.exists() else 'does not exist'}"
    found = cached_file(str(model), "config.json", revision=revision)
    if found is not None:
        return True, f"in the Hugging Face cache ({found.parent})"
    return False, f"not in the Hugging Face cache; {how_to_provide(str(model))}"


def require_cached(model: str | Path, revision: str | None, download: bool) -> None:
    """Fail in milliseconds, before torch and transformers are imported, for a hub id that cannot load here.

    With downloads off, `from_pretrained` reads only the local cache: when the
    cache has no config.json for the id, loading would fail after seconds of
    imports with the same one line this raises.
    """
    if download or is_local(model):
        return
    if cached_file(str(model), "config.json", revision=revision) is None:
        raise ModelUnavailableError(
            f"model {model} is not available (offline, not in the local Hugging Face cache); {how_to_provide(str(model))}")


def check_local_folder(model: str | Path, hint: str = "point `model:` at a folder saved with save_pretrained") -> None:
    """A local model folder must exist and hold config.json; say so in one line before transformers does in twenty."""
    folder = Path(model)
    if not (folder / "config.json").is_file():
        what = "does not exist" if not folder.exists() else "has no config.json"
        raise ModelUnavailableError(f"model folder {folder} {what}; {hint}")


def load_failure(model: str | Path, exc: BaseException, download: bool) -> ModelUnavailableError:
    """The one-line error for a failed `from_pretrained`: offline and not cached, or what transformers said."""
    if isinstance(exc, OSError):
        if is_local(model):
            return ModelUnavailableError(f"cannot load model folder {model}: {first_line(exc)}")
        where = "offline, not in the local Hugging Face cache" if not download else first_line(exc)
        return ModelUnavailableError(f"model {model} is not available ({where}); {how_to_provide(str(model))}")
    return ModelUnavailableError(f"cannot load {model}: {first_line(exc)}")


# -- loading ---------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence load-time progress bars and advisory warnings, restoring the caller's settings."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


# Where a GPU driver shows itself; without any of them torch cannot see a CUDA (or ROCm) device.
_GPU_DRIVER_PATHS = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg")


def cuda_possible() -> bool:
    """False when no GPU driver is present, known without importing torch (about a second).

    A fully cached re-run needs to know what 'auto' resolves to (it is part of
    the cache identity) but should not pay for importing torch on a CPU machine.
    """
    return any(os.path.exists(path) for path in _GPU_DRIVER_PATHS)


def cuda_available() -> bool:
    if not cuda_possible():
        return False
    import torch

    return torch.cuda.is_available()


def pick_device(option: str) -> str:
    """'auto' means CUDA when torch sees a GPU, else the CPU; anything else is taken as given."""
    if option != "auto":
        return option
    return "cuda" if cuda_available() else "cpu"


def pick_dtype(option: str, device: str):
    """'auto': half precision only where it is fast and safe (CUDA with bf16 support), else float32."""
    import torch

    if option != "auto":
        return getattr(torch, option)
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def loaded_model_info(model, tokenizer, device: str) -> dict[str, object]:
    """What run.json records about a loaded transformers model: classes, resolved commit, device, size."""
    return {
        "model_class": type(model).__name__,
        "tokenizer_class": type(tokenizer).__name__,
        "revision": getattr(model.config, "_commit_hash", None),
        "device": str(device),
        "dtype": str(model.dtype).removeprefix("torch."),
        "parameters": sum(p.numel() for p in model.parameters()),
    }
