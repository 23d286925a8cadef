"""Shared fixtures: tiny real models built once per session, and config writing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tiny_models import build_marian, build_nllb

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "vn-jp-2023"
PIVOT, THAI, MALAY, INDONESIAN, OTHER_VI = (
    "002_6d8f2e7b812a4376.txt",
    "000_04e105a6d28e593c.txt",
    "001_011d1486f715c8a5.txt",
    "003_80fd675a9a6137d2.txt",
    "004_424d4b2d4314c3a5.txt",
)

# Tests never reach a model hub, even if a machine has network access.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_marian(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tiny-marian")
    return build_marian(base / "model", base / "work")


@pytest.fixture(scope="session")
def tiny_marian_multi(tmp_path_factory) -> Path:
    """An opus-mt style multi-target model: the target is chosen by a >>xxx<< token."""
    base = tmp_path_factory.mktemp("tiny-marian-multi")
    return build_marian(base / "model", base / "work", seed=1, target_tokens=[">>tha<<", ">>zsm<<", ">>vie<<"])


@pytest.fixture(scope="session")
def tiny_nllb(tmp_path_factory) -> Path:
    """NLLB-200 style: languages as vie_Latn/tha_Thai, the target forced as the first generated token."""
    base = tmp_path_factory.mktemp("tiny-nllb")
    return build_nllb(base / "model", base / "work")


def make_config(tmp_path: Path, *, target_lang: str = "th", target_file: str | None = THAI,
                systems: list[dict] | None = None, **extra) -> Path:
    """Write a run config into tmp_path pointing at the project's corpus; return its path."""
    config = {
        "name": f"test-vi-{target_lang}",
        "corpus": str(CORPUS),
        "pivot": {"lang": "vi", "file": PIVOT},
        "target": {"lang": target_lang, **({"file": target_file} if target_file else {})},
        "systems": systems or [{"name": "copy", "backend": "copy"}],
        "output_dir": str(tmp_path / "results"),
        **extra,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_cli(*args: str | Path, cwd: Path | None = None, subprocess_run: bool = False) -> subprocess.CompletedProcess:
    """Run the `evalkit` command line: in this process (typer's runner) by default, or as a real subprocess.

    In-process runs the same click group, error boundary included, without
    paying ~2 s of interpreter start and imports per call; a few tests keep
    `subprocess_run=True` to cover the console entry point as a user starts it.
    """
    argv = list(map(str, args))
    if subprocess_run:
        return subprocess.run(
            [sys.executable, "-m", "evalkit", *argv],
            capture_output=True, text=True, cwd=cwd or ROOT, timeout=600,
            env={**os.environ, "COLUMNS": "200"},
        )
    from typer.testing import CliRunner

    from evalkit.cli import app

    previous = Path.cwd()
    os.chdir(cwd or ROOT)
    try:
        result = CliRunner(env={"COLUMNS": "200"}).invoke(app, argv, catch_exceptions=False)
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(["evalkit", *argv], result.exit_code, result.stdout, result.stderr)
