"""COMET's own virtual environment: where it lives, how `evalkit setup comet` builds it, whether it is ready.

unbabel-comet 2.2.7 pins transformers<5, numpy<2, huggingface-hub<1 and
protobuf<5; evalkit runs on transformers 5. So COMET gets a virtual environment
of its own, under evalkit's cache folder, and the scorer talks to a worker
process there (`evalkit.scorers.comet_worker`). The environment is built only
on request (`evalkit setup comet`), never silently during a run.

A stamp file written last (`evalkit-env.json`: the requirements, their hash and
the installed versions) marks a complete build: a folder without it -- an
interrupted build -- counts as missing and is rebuilt. Builds of the same folder
from two processes at once are serialised by a lock file beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from evalkit.errors import EvalkitError, MetricUnavailableError

ENV_VARIABLE = "EVALKIT_COMET_ENV"
STAMP = "evalkit-env.json"
# torch first and pinned, as in the Makefile: left to resolve on its own, unbabel-comet's torch requirement may pull
# another (multi-GB) build than the one this machine provides.
TORCH_REQUIREMENT = "torch==2.13.0"
COMET_REQUIREMENTS = ("unbabel-comet==2.2.7", "setuptools<81")  # comet 2.2 imports pkg_resources
SETUP_HINT = "run `evalkit setup comet` once"


class EnvironmentSetupError(EvalkitError):
    """`evalkit setup comet` could not build the environment (pip failed, no network, no disk)."""

    exit_code = 1  # not bad input: the same command may succeed where PyPI is reachable


def requirements() -> list[str]:
    return [TORCH_REQUIREMENT, *COMET_REQUIREMENTS]


def requirements_hash() -> str:
    return hashlib.sha256("\n".join(requirements()).encode()).hexdigest()[:12]


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "evalkit"


def default_env_dir() -> Path:
    """$EVALKIT_COMET_ENV, else <cache>/evalkit/envs/comet ($XDG_CACHE_HOME or ~/.cache)."""
    configured = os.environ.get(ENV_VARIABLE)
    if configured:
        return Path(configured).expanduser().resolve()
    return cache_root() / "envs" / "comet"


def env_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@dataclass(frozen=True)
class CometEnv:
    path: Path
    python: Path
    versions: dict[str, str]
    requirements_hash: str

    @property
    def comet_version(self) -> str:
        return self.versions.get("unbabel-comet", "unknown")


def read_stamp(env: Path) -> dict | None:
    try:
        stamp = json.loads((env / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def find_env(env: Path | None = None, metric: str = "comet") -> CometEnv:
    """The ready environment, or MetricUnavailableError with one line naming `evalkit setup comet`."""
    env = Path(env).expanduser() if env is not None else default_env_dir()
    where = f" --env {env}" if env != default_env_dir() else ""
    stamp = read_stamp(env)
    if stamp is None:
        state = "is not set up" if not env.exists() else "is incomplete (an interrupted setup?)"
        raise MetricUnavailableError(
            f"{metric}: unbabel-comet runs in its own environment (it pins transformers<5, numpy<2), which {state} "
            f"at {env}; run `evalkit setup comet{where}` once (1–2 minutes and 1.4 GB; needs PyPI)"
        )
    python = env_python(env)
    if not python.exists():
        raise MetricUnavailableError(
            f"{metric}: the COMET environment at {env} has no Python ({python}); run `evalkit setup comet{where} --force`"
        )
    if stamp.get("requirements_hash") != requirements_hash():
        raise MetricUnavailableError(
            f"{metric}: the COMET environment at {env} was built for other requirements "
            f"({', '.join(stamp.get('requirements', [])) or 'unknown'}); run `evalkit setup comet{where} --force`"
        )
    return CometEnv(path=env, python=python, versions=dict(stamp.get("versions", {})),
                    requirements_hash=stamp["requirements_hash"])


@contextlib.contextmanager
def _locked(env: Path) -> Iterator[None]:
    env.parent.mkdir(parents=True, exist_ok=True)
    with open(env.parent / f".{env.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _installed_versions(python: Path) -> dict[str, str]:
    code = (
        "import json, sys, importlib.metadata as m\n"
        "names = ['unbabel-comet', 'torch', 'transformers', 'numpy', 'pytorch-lightning', 'huggingface-hub']\n"
        "found = {}\n"
        "for n in names:\n"
        "    try: found[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "found['python'] = sys.version.split()[0]\n"
        "print(json.dumps(found))\n"
    )
    out = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def setup_env(
    env: Path | None = None,
    *,
    force: bool = False,
    python: str | None = None,
    pip_args: tuple[str, ...] = (),
    log: Callable[[str], None] = lambda line: None,
) -> tuple[CometEnv, bool, float]:
    """Build (or find) COMET's environment; returns (env, built now?, seconds).

    `python` is the interpreter the venv is made from (default: the one running
    evalkit). Offline, pip fails and this raises EnvironmentSetupError with
    pip's last line.
    """
    env = (Path(env).expanduser() if env is not None else default_env_dir()).absolute()
    started = time.perf_counter()
    with _locked(env):
        if not force and read_stamp(env) is not None:
            try:
                return find_env(env), False, time.perf_counter() - started
            except MetricUnavailableError:
                log(f"{env}: built for other requirements; rebuilding")
        if env.exists():
            shutil.rmtree(env)
        env.parent.mkdir(parents=True, exist_ok=True)
        steps = [
            (f"creating a virtual environment at {env} (1–2 minutes, 1.4 GB in all)", [python or sys.executable, "-m", "venv", str(env)]),
            (f"installing {TORCH_REQUIREMENT} first",
             [str(env_python(env)), "-m", "pip", "install", "--quiet", *pip_args, TORCH_REQUIREMENT]),
            (f"installing {' '.join(COMET_REQUIREMENTS)}",
             [str(env_python(env)), "-m", "pip", "install", "--quiet", *pip_args, *COMET_REQUIREMENTS]),
        ]
        for what, command in steps:
            log(what)
            try:
                done = subprocess.run(command, capture_output=True, text=True)
            except OSError as exc:  # e.g. --python names no interpreter
                raise EnvironmentSetupError(f"evalkit setup comet: {what} failed: {exc.strerror or exc}: {command[0]}") from None
            if done.returncode != 0:
                lines = [ln for ln in (done.stderr + done.stdout).splitlines()
                         if ln.strip() and not ln.startswith("WARNING: Location")]
                last = lines[-1].strip() if lines else f"exit status {done.returncode}"
                raise EnvironmentSetupError(f"evalkit setup comet: {what} failed: {last}")
        try:
            versions = _installed_versions(env_python(env))
        except (subprocess.CalledProcessError, ValueError, IndexError) as exc:
            raise EnvironmentSetupError(f"evalkit setup comet: the new environment at {env} does not run Python: {exc}") from None
        stamp = {"requirements": requirements(), "requirements_hash": requirements_hash(), "versions": versions,
                 "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "seconds": round(time.perf_counter() - started, 1)}
        (env / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        return find_env(env), True, time.perf_counter() - started
