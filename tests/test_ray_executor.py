"""`executor: ray` on a real local Ray cluster: the same results as in-process, only cache misses sent, faults contained.

One local cluster for the module (`ray.init(address="local", num_cpus=2, ...)`,
about 3-6 s here), shut down at the end; the executor finds it initialised and
leaves it running between runs. Never `ray stop`: it kills Ray processes machine-wide.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, make_config, run_cli
from evalkit.config import load_config
from evalkit.pipeline import run

ray = pytest.importorskip("ray", reason='the ray extra is not installed: pip install -e ".[ray]"')

pytestmark = pytest.mark.ray

METRICS = ["chrf", "bleu", "numbers"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if ray.is_initialized():
        ray.shutdown()
    ray.init(address="local", num_cpus=2, object_store_memory=100 * 2**20, include_dashboard=False,
             log_to_driver=False, _temp_dir=str(tmp_path_factory.mktemp("ray")))
    yield
    ray.shutdown()


def _systems(model: Path) -> list[dict]:
    return [
        {"name": "copy", "backend": "copy"},
        {"name": "tiny", "backend": "seq2seq", "model": str(model), "options": {"batch_size": 4, "max_new_tokens": 12}},
        {"name": "missing", "backend": "seq2seq", "model": "facebook/nllb-200-distilled-600M"},
    ]


def _ray_settings(**extra) -> dict:
    return {"actors": 2, "num_cpus_per_actor": 1, "shard_size": 3, **extra}


def _only_run(results: Path) -> dict:
    runs = [p for p in results.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return json.loads((runs[0] / "run.json").read_text(encoding="utf-8"))


def _comparable(data: dict) -> dict:
    """run.json without what may differ between executors: timings, the executor, the run's own id and paths."""
    data = json.loads(json.dumps(data))
    for key in ("run_id", "created", "seconds"):
        data.pop(key, None)
    for key in ("executor", "ray", "output_dir", "cache"):
        data["config"].pop(key, None)
    for system in data["systems"]:
        system.pop("seconds", None)
        info = system.get("model_info") or {}
        info.pop("executor", None)
        info.get("cache", {}).pop("path", None)
    return data


def test_ray_run_gives_the_in_process_results(cluster, tiny_marian, tmp_path):
    """Same candidates, same scores, same run.json apart from timings and executor; the unavailable model alone."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    base = make_config(tmp_path / "a", systems=_systems(tiny_marian), metrics=METRICS,
                       statistics={"bootstrap_resamples": 100, "randomization_trials": 200})
    local = run_cli("run", base, "-q")
    assert local.returncode == 0, local.stderr
    on_ray = make_config(tmp_path / "b", systems=_systems(tiny_marian), metrics=METRICS,
                         statistics={"bootstrap_resamples": 100, "randomization_trials": 200}, ray=_ray_settings())
    proc = run_cli("run", on_ray, "-q", "--executor", "ray")
    assert proc.returncode == 0, proc.stderr
    a, b = _only_run(tmp_path / "a" / "results"), _only_run(tmp_path / "b" / "results")
    assert b["config"]["executor"] == "ray" and a["config"]["executor"] == "in-process"
    tiny_a = next(s for s in a["systems"] if s["name"] == "tiny")
    tiny_b = next(s for s in b["systems"] if s["name"] == "tiny")
    assert [p["candidate"] for p in tiny_b["paragraphs"]] == [p["candidate"] for p in tiny_a["paragraphs"]]
    assert tiny_b["corpus_scores"] == tiny_a["corpus_scores"]
    executor = tiny_b["model_info"]["executor"]
    assert executor["name"] == "ray" and executor["actors"] == 2 and executor["shards"] == 6  # 17 paragraphs / 3
    assert _comparable(b) == _comparable(a)
    missing = next(s for s in b["systems"] if s["name"] == "missing")
    assert missing["status"] == "unavailable" and "not available" in missing["reason"]


def test_only_cache_misses_are_sent_and_each_shard_is_cached_at_once(cluster, tiny_marian, tmp_path):
    systems = [_systems(tiny_marian)[1]]
    config = make_config(tmp_path, systems=systems, metrics=["chrf"], executor="ray", ray=_ray_settings())
    cfg = load_config(config)
    first = run(cfg).system("tiny")
    needed = first.translated
    assert (first.from_cache, needed) == (0, 17) and first.model_info["executor"]["shards"] == 6

    # an in-process run of the same config finds every paragraph the cluster translated
    cfg.executor = "in-process"
    local = run(cfg).system("tiny")
    assert (local.translated, local.from_cache) == (0, 17)
    assert [p.candidate for p in local.paragraphs] == [p.candidate for p in first.paragraphs]

    # drop some entries: only those go to the cluster
    import sqlite3

    cache = tmp_path / "results" / "translation-cache.sqlite"
    with sqlite3.connect(cache) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM translations ORDER BY key LIMIT 4")]
        db.executemany("DELETE FROM translations WHERE key = ?", [(k,) for k in keys])
    cfg.executor = "ray"
    again = run(cfg).system("tiny")
    assert (again.translated, again.from_cache) == (4, 13)
    assert again.model_info["executor"]["shards"] == 2  # 4 misses, 3 per shard
    assert [p.candidate for p in again.paragraphs] == [p.candidate for p in first.paragraphs]

    # everything cached: nothing is sent, no model is loaded
    cached = run(cfg).system("tiny")
    assert (cached.translated, cached.from_cache) == (0, 17)
    assert cached.model_info["cache"]["model_loaded"] is False and "executor" not in cached.model_info


def test_an_actor_killed_mid_run_is_restarted_and_its_shard_retried(cluster, tiny_marian, tmp_path):
    """Fault injection: the first finished shard kills the other actor while it holds queued shards."""
    from evalkit.executors.ray_executor import RayTranslator

    systems = [_systems(tiny_marian)[1]]
    config = make_config(tmp_path, systems=systems, metrics=["chrf"], cache=False, executor="ray",
                         ray=_ray_settings(shard_size=2, max_restarts=2))
    cfg = load_config(config)
    killed: list[str] = []

    class KillOnce:
        def system_started(self, system, paragraphs):
            pass

        def advanced(self, paragraphs):
            if not killed:
                victim = next(a for a in ray.util.list_named_actors() if a.endswith("-tiny-1"))
                ray.kill(ray.get_actor(victim), no_restart=False)
                killed.append(victim)

        def system_finished(self, result):
            pass

    result = run(cfg, KillOnce()).system("tiny")
    assert killed and result.status == "ok", result.reason
    assert result.model_info["executor"]["restarts"] >= 1
    reference = run(load_config(config).model_copy(update={"executor": "in-process"})).system("tiny")
    assert [p.candidate for p in result.paragraphs] == [p.candidate for p in reference.paragraphs]
    assert RayTranslator  # imported from the module the actors run


def test_a_system_failing_on_the_cluster_fails_alone(cluster, tiny_marian, tmp_path):
    """An actor that asks for more than the cluster has: that system fails with the reason; the others are scored."""
    config = make_config(tmp_path, systems=_systems(tiny_marian)[:2], metrics=["chrf"], cache=False, executor="ray",
                         ray=_ray_settings(systems={"tiny": {"num_gpus_per_actor": 1}}))
    result = run(load_config(config))
    tiny = result.system("tiny")
    assert tiny.status == "failed" and "GPU" in tiny.reason and "num_gpus_per_actor" in tiny.reason
    assert result.system("copy").status == "ok" and result.system("copy").corpus_scores


def test_unreachable_cluster_is_one_line(tiny_marian, tmp_path):
    config = make_config(tmp_path, systems=_systems(tiny_marian)[1:2], metrics=["chrf"])
    proc = run_cli("run", config, "--ray-address", "127.0.0.1:9", subprocess_run=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Ray cluster answers at 127.0.0.1:9" in lines[0], proc.stderr


def test_missing_ray_package_is_one_line_naming_the_fix(tiny_marian, tmp_path):
    """Ray hidden from a fresh interpreter (a None entry in sys.modules makes `import ray` fail)."""
    config = make_config(tmp_path, systems=_systems(tiny_marian)[1:2], metrics=["chrf"])
    code = ("import sys; sys.modules['ray'] = None; from evalkit.cli import main; "
            f"sys.argv = ['evalkit', 'run', {str(config)!r}, '--executor', 'ray']; main()")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and 'pip install -e ".[ray]"' in lines[0], proc.stderr


def test_unknown_executor_and_ray_settings_are_config_errors(tmp_path):
    bad = run_cli("run", make_config(tmp_path, executor="rey"))
    assert bad.returncode == 2 and "unknown executor 'rey'; did you mean 'ray'?" in bad.stderr
    typo = run_cli("run", make_config(tmp_path, ray={"actor": 2}))
    assert typo.returncode == 2 and "ray.actor: unknown field" in typo.stderr
    stray = run_cli("run", make_config(tmp_path, ray={"systems": {"nope": {"actors": 1}}}))
    assert stray.returncode == 2 and "ray.systems names nope" in stray.stderr


def test_an_interrupted_ray_run_keeps_finished_shards_and_a_rerun_resumes(cluster, tiny_marian, tmp_path):
    """Ctrl-C after the second shard: both are in the cache (committed as they came back), the re-run sends the rest."""
    from evalkit.errors import RunInterrupted

    config = make_config(tmp_path, systems=[_systems(tiny_marian)[1]], metrics=["chrf"], executor="ray",
                         ray=_ray_settings(actors=1))
    seen: list[int] = []

    class Interrupt:
        def system_started(self, system, paragraphs):
            pass

        def advanced(self, paragraphs):
            seen.append(paragraphs)
            if len(seen) == 2:
                raise KeyboardInterrupt

        def system_finished(self, result):
            pass

    with pytest.raises(RunInterrupted) as stopped:
        run(load_config(config), Interrupt())
    assert "6 newly translated paragraph(s) are kept" in str(stopped.value), stopped.value
    resumed = run(load_config(config)).system("tiny")
    assert (resumed.from_cache, resumed.translated) == (6, 11)
    assert resumed.model_info["executor"]["shards"] == 4  # 11 misses, 3 per shard
    assert not [a for a in ray.util.list_named_actors() if "-tiny-" in a]  # no actor left behind


def test_a_stale_cluster_file_is_ignored_and_a_live_one_is_used(monkeypatch, tmp_path):
    """Ray's own lookup trusts ray_current_cluster even when that cluster is dead; evalkit probes it first."""
    import socket

    import ray._common.utils as ray_utils

    from evalkit.executors.ray_executor import _running_local_cluster

    address_file = tmp_path / "ray_current_cluster"
    monkeypatch.setattr(ray_utils, "get_ray_address_file", lambda temp_dir: str(address_file))
    assert _running_local_cluster() is None  # no file
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        live = f"127.0.0.1:{listener.getsockname()[1]}"
        address_file.write_text(live)
        assert _running_local_cluster() == live
    address_file.write_text(live)  # the listener is closed: a dead cluster's file
    assert _running_local_cluster() is None


def test_actor_infos_merge_counters_and_keep_agreed_facts():
    from evalkit.executors.ray_executor import merge_infos

    merged = merge_infos([
        {"device": "cpu", "split_paragraphs": 1, "flag": True, "nested": {"n": 2, "kind": "a"}},
        {"device": "cpu", "split_paragraphs": 2, "flag": True, "nested": {"n": 3, "kind": "a"}},
    ])
    assert merged == {"device": "cpu", "split_paragraphs": 3, "flag": True, "nested": {"n": 5, "kind": "a"}}


def test_ctranslate2_threads_follow_the_actor_cpus_unless_configured(tmp_path):
    """The actor class itself, without a cluster: an unset intra_threads becomes CPUs / inter_threads."""
    from evalkit.backends.ct2 import CTranslate2Options
    from evalkit.config import SystemConfig
    from evalkit.executors.ray_executor import _TranslatorActor

    def actor(**options):
        system = SystemConfig(name="ct2", backend="ctranslate2", model=tmp_path,
                              parsed_options=CTranslate2Options.model_validate(options))
        return _TranslatorActor(system, threads=4).translator.options

    assert actor().intra_threads == 4
    assert actor(inter_threads=2).intra_threads == 2
    assert actor(intra_threads=1).intra_threads == 1
