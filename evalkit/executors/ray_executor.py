"""Translate on a Ray cluster (https://docs.ray.io): each system's paragraphs cut into shards, served by a pool of actors.

Work unit: (system × target language × shard of `ray.shard_size` paragraphs). Only
cache misses travel: the translation cache wraps a `RayTranslator` on the driver
exactly as it wraps a backend in-process (`executors/base.py`), so lookups happen
here, only misses are sent, and every shard is committed to the SQLite cache the
moment it comes back (a killed run resumes from there). Each actor builds the
backend from the system's config and loads the model once; torch threads follow
`num_cpus_per_actor`. Paragraph indices travel with each shard and order is
restored from them, so candidates are those of an in-process run.

Why plain actors and not Ray Data's `map_batches` with an `ActorPoolStrategy`:
a system needs more from its actors than a batch function gives: the backend's
cache identity computed where the model will run (an 'auto' device resolves to
CUDA on a GPU node, not on the driver), its signature and info after loading, a
typed error when weights are missing (unavailable) or generation fails (failed),
bounded restarts, and a progress report per shard that the cache commits at once.
Those are four small actor methods and one `ray.wait` loop here; through Ray Data
they would be side channels (errors and metadata smuggled through columns, actor
restarts configured through `ray_remote_args`), and a streaming pipeline adds its
own planning and executor start per system: measured here (local 2-CPU cluster,
shards through an echo function, no model) 1.5-1.6 s for a Ray Data
`map_batches` with a 2-actor pool against 0.6-0.7 s for two plain actors
(`benchmarks/ray_executor.py`, which also measures the actor path's fixed cost
against in-process).

Faults: an actor that dies is restarted by Ray (`max_restarts`) and the shard it
held is retried (`max_task_retries`), both bounded by `ray.max_restarts`; a
restarted actor loads the model again before translating. A system whose actors
keep dying, or whose code raises on the cluster, fails alone with the reason.
Backends with nothing to distribute (`cacheable = False`: the copy baseline, a
file of candidates) run on the driver.

Connecting: `ray.address` (or `--ray-address`), else `RAY_ADDRESS`, else a cluster
running on this machine (`ray start --head`), else a local cluster started for
this run and shut down after it. Ray's own lookup of "a cluster on this machine"
trusts `/tmp/ray/ray_current_cluster`, which outlives a cluster that was killed;
the address in it is probed first and a dead one is ignored.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evalkit.backends import BACKENDS
from evalkit.backends.base import Finished, ProgressCallback, Translations, Translator
from evalkit.config import RunConfig, SystemConfig
from evalkit.corpus import CleanDocument
from evalkit.errors import EvalkitError, TranslationError
from evalkit.executors.base import Executor, ExecutorError
from evalkit.executors.in_process import InProcessExecutor

INSTALL_HINT = 'pip install -e ".[ray]" (or pip install "evalkit[ray]")'

# Passed to every actor, so model weights are found (and never fetched) the same way as on the driver.
PASSED_ENV = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HOME", "HF_HUB_CACHE",
              "TRANSFORMERS_CACHE", "HF_ENDPOINT", "EVALKIT_CACHE")


def import_ray():
    """`ray`, or the one-line error naming the fix."""
    try:
        import ray
    except ImportError:
        raise ExecutorError(f"executor 'ray' needs the ray package, which is not installed: {INSTALL_HINT}") from None
    return ray


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, config: RunConfig) -> None:
        super().__init__(config)
        self.settings = config.ray
        self._ray = None
        self._started_here = False  # evalkit called ray.init, so it shuts Ray down after the run
        self._local = InProcessExecutor(config)
        self.cluster: str | None = None  # how the cluster was found, for info

    def open(self) -> None:
        self._ray = import_ray()  # a missing package is reported before anything runs

    def connect(self):
        """Connect on the first system that needs the cluster (a copy-only run never starts one)."""
        ray = self._ray or import_ray()
        self._ray = ray
        if ray.is_initialized():  # a notebook or test that already called ray.init: use it, leave it running
            self.cluster = self.cluster or "already connected"
            return ray
        address, how = self._address()
        kwargs: dict[str, Any] = {"runtime_env": {"env_vars": passed_env()}}
        if not address.startswith("ray://"):  # Ray Client would forward these to a ray.init on the server
            kwargs.update(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        if address == "local":
            kwargs["object_store_memory"] = 256 * 2**20  # shards are text: a small store is plenty
        quiet = logging.getLogger("ray._private.authentication.authentication_token_setup")
        level = quiet.level
        if address == "local":  # Ray 2.60 announces token auth on every new local cluster: it is expected here
            quiet.setLevel(logging.ERROR)
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, TimeoutError, ray.exceptions.RayError, RuntimeError, ValueError) as exc:
            raise ExecutorError(_connection_failure(address, how, exc)) from None
        finally:
            quiet.setLevel(level)
        self._started_here = True
        self.cluster = how
        return ray

    def _address(self) -> tuple[str, str]:
        """(address for ray.init, how it was chosen)."""
        if self.settings.address:
            where = self.settings.address
            _probe(where, "ray.address / --ray-address")
            return where, f"ray.address {where}"
        env = os.environ.get("RAY_ADDRESS")
        if env:
            _probe(env, "RAY_ADDRESS")
            return env, f"RAY_ADDRESS {env}"
        running = _running_local_cluster()
        if running:
            return running, f"the cluster running on this machine ({running})"
        return "local", "a local cluster started for this run"

    def close(self) -> None:
        if self._started_here and self._ray is not None and self._ray.is_initialized():
            self._ray.shutdown()
        self._started_here = False

    def _facts(self, translator: Translator) -> dict[str, object] | None:
        if isinstance(translator, RayTranslator) and translator.facts.get("shards"):
            return dict(translator.facts)
        return None  # nothing was sent to the cluster (all cached, or run on the driver)

    def _release(self, translator: Translator) -> None:
        if isinstance(translator, RayTranslator):
            translator.close()

    def _translator(self, system: SystemConfig) -> Translator:
        backend = BACKENDS.get(system.backend)
        if not backend.cacheable:  # nothing to distribute: the copy floor, a file of candidates
            return self._local._translator(system)
        return RayTranslator(system, self)


class _TranslatorActor:
    """Runs on the cluster (wrapped by `ray.remote` at use): one backend, its model loaded once.

    Every method returns an EvalkitError instead of raising it, so the driver
    gets the typed error and its one-line reason rather than a remote traceback.
    """

    def __init__(self, system: SystemConfig, threads: int) -> None:
        self.threads = threads
        options = system.parsed_options
        if "intra_threads" in type(options).model_fields and "intra_threads" not in options.model_fields_set:
            # CTranslate2's threads follow the actor's CPUs unless the config set them (they never change outputs)
            inter = int(getattr(options, "inter_threads", 1) or 1)
            options = options.model_copy(update={"intra_threads": max(1, threads // inter)})
        self.translator: Translator = BACKENDS.get(system.backend)(system.name, system.model, options)
        self.prepared = self.loaded = False

    def _ready(self, pivot: Sequence[CleanDocument] | None, load: bool) -> None:
        """Prepare and load once per actor life (a restarted actor does both again, from the retried call's arguments)."""
        if not self.prepared and pivot is not None:
            self.translator.prepare(pivot)
            self.prepared = True
        if load and not self.loaded:
            _set_threads(self.threads)
            self.translator.load()
            _set_threads(self.threads)  # a framework imported by load() starts with its own default
            self.loaded = True

    def identity(self, pivot: Sequence[CleanDocument] | None):
        try:
            self._ready(pivot, load=False)
            return self.translator.identity()
        except EvalkitError as exc:
            return exc

    def load(self, pivot: Sequence[CleanDocument] | None):
        try:
            self._ready(pivot, load=True)
            return os.getpid()
        except EvalkitError as exc:
            return exc

    def translate(self, pivot: Sequence[CleanDocument] | None, texts: list[str], source_lang: str, target_lang: str):
        try:
            self._ready(pivot, load=True)  # a restarted actor loads the model again first
            before = self.translator.timings.generate
            out = self.translator.translate(texts, source_lang, target_lang)
            return os.getpid(), out.texts, out.pieces, self.translator.timings.generate - before
        except EvalkitError as exc:
            return exc

    def describe(self):
        return self.translator.signature(), self.translator.info, self.translator.timings.load


class RayTranslator(Translator):
    """A system's backend, forwarded to a pool of Ray actors through the `Translator` contract."""

    def __init__(self, system: SystemConfig, executor: RayExecutor) -> None:
        super().__init__(system.name, system.model, system.parsed_options)
        self.system = system
        self.executor = executor
        self.local = BACKENDS.get(system.backend)(system.name, system.model, system.parsed_options)  # no I/O
        self.actors, self.num_cpus, self.num_gpus = executor.settings.resources(system.name)
        self.shard_size = executor.settings.shard_size
        self.max_restarts = executor.settings.max_restarts
        self._pool: list = []
        self._pivot: Sequence[CleanDocument] | None = None
        self._pivot_ref = None
        self._identity: str | None = None
        self._described: tuple[str, dict[str, object]] | None = None
        self._pids: dict[int, int] = {}
        self.facts: dict[str, object] = {}  # what the cluster did for this system: actors, shards, restarts

    @property
    def deterministic(self) -> bool:
        return self.local.deterministic

    # -- the pool -----------------------------------------------------------------------
    def _ensure_pool(self) -> list:
        if self._pool:
            return self._pool
        ray = self.executor.connect()
        actors = self._fitting_actors(ray)
        threads = max(1, int(self.num_cpus))
        remote = ray.remote(_TranslatorActor)
        options = dict(
            num_cpus=self.num_cpus, num_gpus=self.num_gpus,
            max_restarts=self.max_restarts, max_task_retries=self.max_restarts,
            runtime_env={"env_vars": {**passed_env(), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}},
        )
        # passed by reference with every call (stored once); constructor arguments held in the object store
        # would make a restart depend on them (ray-project/ray#53727)
        self._pivot_ref = ray.put(self._pivot) if self._pivot is not None else None
        self._pool = [
            remote.options(name=f"evalkit-{os.getpid()}-{self.name}-{i}", **options).remote(self.system, threads)
            for i in range(actors)
        ]
        self.facts = {"name": "ray", "cluster": self.executor.cluster, "actors": actors,
                       "num_cpus_per_actor": self.num_cpus, "num_gpus_per_actor": self.num_gpus,
                       "shard_size": self.shard_size, "max_restarts": self.max_restarts, "restarts": 0}
        return self._pool

    def _fitting_actors(self, ray) -> int:
        """As many of the configured actors as the cluster can hold at once (at least one, or a clear failure)."""
        total = ray.cluster_resources()
        cpus, gpus = total.get("CPU", 0.0), total.get("GPU", 0.0)
        if self.num_cpus > cpus or self.num_gpus > gpus:
            raise TranslationError(
                f"system {self.name!r}: an actor asks for {self.num_cpus:g} CPU(s) and {self.num_gpus:g} GPU(s), "
                f"the Ray cluster has {cpus:g} CPU(s) and {gpus:g} GPU(s) in all (ray.num_cpus_per_actor / num_gpus_per_actor)"
            )
        fit = int(cpus // self.num_cpus)
        if self.num_gpus:
            fit = min(fit, int(gpus // self.num_gpus))
        return max(1, min(self.actors, fit))

    def _get(self, ref, what: str):
        """ray.get with cluster failures turned into this system's TranslationError and typed errors re-raised."""
        ray = self.executor._ray
        try:
            value = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            raise TranslationError(
                f"system {self.name!r}: a Ray actor died during {what} and was restarted "
                f"{self.max_restarts} time(s) (ray.max_restarts): {_first_line(exc)}"
            ) from None
        except ray.exceptions.RayError as exc:
            raise TranslationError(f"system {self.name!r}: {what} failed on the Ray cluster: {_first_line(exc)}") from None
        if isinstance(value, EvalkitError):
            raise value
        return value

    def close(self) -> None:
        """Kill this system's actors, so the next system's pool gets their CPUs and GPUs."""
        ray = self.executor._ray
        for actor in self._pool:
            try:
                ray.kill(actor)
            except ray.exceptions.RayError:
                pass
        self._pool, self._pivot_ref = [], None

    # -- the contract -----------------------------------------------------------------------
    def prepare(self, pivot: Sequence[CleanDocument]) -> None:
        self._pivot = pivot

    def identity(self) -> str:
        """Computed by an actor, where the model will run: an 'auto' device resolves there, not on the driver."""
        if self._identity is None:
            self._identity = self._get(self._ensure_pool()[0].identity.remote(self._pivot_ref), "the cache identity")
        return self._identity

    def load(self) -> None:
        pool = self._ensure_pool()
        clock = time.perf_counter()
        refs = [actor.load.remote(self._pivot_ref) for actor in pool]
        self._pids = dict(enumerate(self._get(ref, "loading") for ref in refs))
        self.timings.load += time.perf_counter() - clock
        self._described = self._describe()  # read now: asked for mid-run, it would wait behind queued shards
        self._identity = None  # a hub model's commit is known once loaded

    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        ray = self.executor._ray
        pool = self._ensure_pool()
        if not self._pids:
            self.load()
        clock = time.perf_counter()
        shards = [list(range(start, min(start + self.shard_size, len(texts)))) for start in range(0, len(texts), self.shard_size)]
        waiting = list(range(len(shards)))[::-1]  # a stack: the first shard goes first
        running: dict = {}  # ref → (actor number, shard number)
        outputs: list[tuple[str, int] | None] = [None] * len(texts)
        in_actors = 0.0

        def submit(actor: int) -> None:
            shard = waiting.pop()
            ref = pool[actor].translate.remote(self._pivot_ref, [texts[i] for i in shards[shard]], source_lang, target_lang)
            running[ref] = (actor, shard)

        try:
            for _ in range(2):  # two shards per actor: one translating, one queued, so no actor waits on the driver
                for actor in range(len(pool)):
                    if waiting:
                        submit(actor)
            while running:
                ready, _ = ray.wait(list(running), num_returns=1)
                actor, shard = running.pop(ready[0])
                pid, done, pieces, seconds = self._get(ready[0], "translation")
                if self._pids.get(actor) not in (None, pid):
                    self.facts["restarts"] = int(self.facts["restarts"]) + 1
                self._pids[actor] = pid
                in_actors += seconds
                finished = [Finished(i, text, n) for i, text, n in zip(shards[shard], done, pieces)]
                for f in finished:
                    outputs[f.index] = (f.text, f.pieces)
                if progress:
                    progress(finished)  # the cache commits this shard now
                if waiting:
                    submit(actor)
        finally:
            for ref in running:  # an error or Ctrl-C: do not leave shards translating for nobody
                try:
                    ray.cancel(ref)
                except (ray.exceptions.RayError, ValueError, TypeError):
                    pass
        self.timings.generate += time.perf_counter() - clock
        self.facts["shards"] = int(self.facts.get("shards", 0)) + len(shards)
        self.facts["generate_seconds_in_actors"] = round(float(self.facts.get("generate_seconds_in_actors", 0.0)) + in_actors, 4)
        self._described = self._describe()
        return Translations([o[0] for o in outputs], [o[1] for o in outputs])

    def _describe(self) -> tuple[str, dict[str, object]]:
        """Signature from the first actor; info merged over actors (counters such as split paragraphs summed)."""
        ray = self.executor._ray
        try:
            described = ray.get([actor.describe.remote() for actor in self._pool])
        except ray.exceptions.RayError as exc:
            raise TranslationError(f"system {self.name!r}: reading the model's details from the cluster failed: {_first_line(exc)}") from None
        return described[0][0], merge_infos([info for _, info, _ in described])

    def signature(self) -> str:
        if self._described is not None:
            return self._described[0]
        if self._pool:
            self._described = self._describe()
            return self._described[0]
        return self.local.signature()

    @property
    def info(self) -> dict[str, object]:
        if self._described is None and self._pool:
            try:
                self._described = self._describe()
            except TranslationError:
                return {}
        return dict(self._described[1]) if self._described else {}


def merge_infos(infos: Sequence[dict[str, object]]) -> dict[str, object]:
    """One info from each actor's: equal values kept, integer counters summed, nested dicts merged alike.

    A counter such as `split_paragraphs` counts what each actor saw, so the sum is
    what one in-process backend would have counted; any other disagreement keeps
    the first actor's value.
    """
    if not infos:
        return {}
    merged: dict[str, object] = {}
    for key in infos[0]:
        values = [info.get(key) for info in infos]
        first = values[0]
        if all(v == first for v in values):
            merged[key] = first
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            merged[key] = sum(values)
        elif all(isinstance(v, dict) for v in values):
            merged[key] = merge_infos(values)
        else:
            merged[key] = first
    return merged


def passed_env() -> dict[str, str]:
    return {name: os.environ[name] for name in PASSED_ENV if name in os.environ}


def _set_threads(threads: int) -> None:
    """torch's intra-op threads to the actor's CPUs (only when the backend imported torch)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(exc).__name__


def _host_port(address: str) -> tuple[str, int] | None:
    """host and port of 'host:port' or 'ray://host:port'; None for 'auto', 'local' and the like."""
    rest = address.split("://", 1)[1] if "://" in address else address
    host, sep, port = rest.rstrip("/").rpartition(":")
    if not sep or not port.isdigit() or not host:
        return None
    return host.strip("[]"), int(port)


def _reachable(host: str, port: int, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _probe(address: str, source: str) -> None:
    """Fail in seconds, in one line, when a given address does not answer (ray.init would retry for a long time)."""
    target = _host_port(address)
    if target and not _reachable(*target):
        raise ExecutorError(
            f"no Ray cluster answers at {address} (from {source}): start one there (`ray start --head`), "
            f"fix the address, or leave it unset to run on a local cluster"
        )


def _running_local_cluster() -> str | None:
    """The address in Ray's ray_current_cluster file when a cluster still answers there; a stale file is ignored."""
    from ray._common.utils import get_ray_address_file  # private, but it is the file Ray's own lookup reads

    try:
        address = Path(get_ray_address_file(None)).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    target = _host_port(address)
    return address if target and _reachable(*target, timeout=1.0) else None


def _connection_failure(address: str, how: str, exc: BaseException) -> str:
    message = _first_line(exc)
    if "authentication" in message.lower() or "token" in message.lower():
        return (f"the Ray cluster at {address} refused this driver: {message}; Ray 2.60 clusters use token "
                f"authentication: copy the head node's token (`ray get-auth-token` there) into RAY_AUTH_TOKEN "
                f"or ~/.ray/auth_token here")
    return f"cannot connect to Ray ({how}): {message}"


__all__ = ["RayExecutor", "RayTranslator", "merge_infos"]
