"""Shared plumbing for backends built on Hugging Face transformers: quiet loading, one-line errors, local availability.

Loading prints progress bars and advisory warnings that would bury evalkit's
own output; errors from the hub client are multi-line. These helpers keep both
to one line, and tell whether weights are on this machine without loading them.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
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


def _how_to_provide(model: str) -> str:
    return (
        f"put it in the Hugging Face cache (`hf download {model}` where the hub is reachable, "
        f"then copy ~/.cache/huggingface), or set `model:` to a local folder saved with save_pretrained"
    )


def pick_device(option: str) -> str:
    """'auto' means CUDA when torch sees a GPU, else the CPU; anything else is taken as given."""
    import torch

    if option != "auto":
        return option
    return "cuda" if torch.cuda.is_available() else "cpu"


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


def hub_availability(model: str | Path | None, revision: str | None = None) -> tuple[bool | None, str]:
    """Whether a local folder or a hub id's weights are on this machine, without loading them."""
    if model is None:
        return False, "no model configured"
    if isinstance(model, Path):
        if (model / "config.json").is_file():
            return True, f"local folder {model}"
        return False, f"local folder {model} {'has no config.json' if model.exists() else 'does not exist'}"
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(str(model), "config.json", revision=revision)
    if isinstance(found, str):
        return True, f"in the Hugging Face cache ({Path(found).parent})"
    return False, f"not in the Hugging Face cache; {_how_to_provide(str(model))}"

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
