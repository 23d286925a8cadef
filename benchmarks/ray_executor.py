"""In-process vs Ray (1 and 2 actors) on the tests' tiny MarianMT, side by side: paragraphs/s and Ray's fixed cost.

Each path translates the same N distinct Vietnamese paragraphs (corpus
paragraphs, numbered so none repeats) through the executor API the pipeline
uses (`Executor.translate_system`), with the translation cache off so every
paragraph is translated. The local cluster is started once (`ray.init(address=
"local")`, timed apart: a run that starts its own cluster pays it once) and
shared by the Ray paths. Each Ray path's wall time includes starting its actors
(a worker process each, importing evalkit and torch), loading the model in each
and shipping shards: that is Ray's cost per system.

  in-process          torch with its default threads (every core), one process
  ray, 1 actor        1 actor x num_cpus_per_actor=2 (torch threads follow)
  ray, 2 actors       2 actors x 1 CPU, shards of --shard-size paragraphs

"pays from" = the paragraph count at which the 2-actor path's fixed cost is
repaid by its higher throughput (none when it is not faster per paragraph,
which on 2 shared cores is expected: the cores are the same).

Usage: .venv/bin/python benchmarks/ray_executor.py [--paragraphs 200] [--shard-size 16] [--new-tokens 32]
       [--large [--large-paragraphs 32] [--large-new-tokens 16]]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def paragraphs(n: int) -> list[str]:
    corpus = ROOT / "corpus" / "vn-jp-2023" / "002_6d8f2e7b812a4376.txt"
    lines = [line.strip() for line in corpus.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 40]
    return [f"{lines[i % len(lines)]} ({i})" for i in range(n)]


def config(model: Path, executor: str, actors: int, cpus: float, shard_size: int, new_tokens: int, tmp: Path):
    from evalkit.config import RunConfig

    corpus = ROOT / "corpus" / "vn-jp-2023"
    return RunConfig.model_validate({
        "name": "bench", "corpus": str(corpus), "output_dir": str(tmp / "results"), "cache": False,
        "pivot": {"lang": "vi", "file": "002_6d8f2e7b812a4376.txt"},
        "target": {"lang": "th", "file": "000_04e105a6d28e593c.txt"},
        "systems": [{"name": "tiny", "backend": "seq2seq", "model": str(model),
                     "options": {"batch_size": 16, "max_new_tokens": new_tokens}}],
        "metrics": ["chrf"], "executor": executor,
        "ray": {"actors": actors, "num_cpus_per_actor": cpus, "shard_size": shard_size},
    })


def timed(cfg, texts: list[str]) -> tuple[float, object]:
    from evalkit.executors import EXECUTORS
    from evalkit.executors.base import TranslationJob

    executor = EXECUTORS.get(cfg.executor)(cfg)
    clock = time.perf_counter()
    with executor:
        (done,) = executor.translate_system(cfg.systems[0], [], [TranslationJob("th", tuple(texts))], "vi", None,
                                            lambda n: None)
    wall = time.perf_counter() - clock
    assert done.status == "ok", done.reason
    return wall, done


def compare(title: str, model: Path, texts: list[str], shard_size: int, new_tokens: int, tmp: Path, ray) -> None:
    """The three paths on one model; the local cluster is started (and timed) here, shut down after."""
    print(f"\n== {title}: {len(texts)} paragraphs, max_new_tokens {new_tokens}, shards of {shard_size}, "
          f"{os.cpu_count()} cores")
    rows = []
    wall, base = timed(config(model, "in-process", 1, 1, shard_size, new_tokens, tmp), texts)
    rows.append(("in-process", wall, base))

    clock = time.perf_counter()
    ray.init(address="local", num_cpus=os.cpu_count(), object_store_memory=100 * 2**20, include_dashboard=False,
             log_to_driver=False)
    start = time.perf_counter() - clock
    try:
        for label, actors, cpus in (("ray, 1 actor", 1, float(os.cpu_count())), ("ray, 2 actors", 2, 1.0)):
            wall, done = timed(config(model, "ray", actors, cpus, shard_size, new_tokens, tmp), texts)
            same = sum(a == b for a, b in zip(done.outputs.texts, base.outputs.texts))
            rows.append((f"{label}", wall, done))
            print(f"{label}: {same}/{len(texts)} candidates identical to in-process")
        data_seconds, plain_seconds = pipeline_overhead(ray, len(texts), shard_size)
    finally:
        ray.shutdown()

    print(f"local cluster start (once per run that starts its own): {start:.2f} s")
    print(f"{'path':<16}{'wall s':>8}{'load s':>8}{'translate s':>13}{'para/s':>9}{'vs in-process':>15}")
    base_wall = rows[0][1]
    for label, wall, done in rows:
        translate = done.seconds["generate"]
        print(f"{label:<16}{wall:>8.2f}{done.seconds['load']:>8.2f}{translate:>13.2f}"
              f"{len(texts) / translate:>9.2f}{base_wall / wall:>14.2f}x")
    in_rate = len(texts) / rows[0][2].seconds["generate"]
    label, wall, done = rows[-1]
    fixed = (wall - done.seconds["generate"]) - (base_wall - rows[0][2].seconds["generate"])
    ray_rate = len(texts) / done.seconds["generate"]
    print(f"Ray's fixed cost per system (2 actors, beyond in-process loading): {fixed:.2f} s + {start:.2f} s cluster start")
    if ray_rate > in_rate:
        print(f"Ray (2 actors) pays from about {max(0.0, fixed + start) / (1 / in_rate - 1 / ray_rate):.0f} paragraphs")
    else:
        print("Ray (2 actors) is not faster per paragraph here (same cores): it pays only with more cores or nodes")
    print(f"shards {done.info['executor']['shards']}, actor restarts {done.info['executor']['restarts']}")
    print(f"the same shards through an echo function (no model): Ray Data map_batches with a 2-actor pool "
          f"{data_seconds:.2f} s, plain actors {plain_seconds:.2f} s (second of two repetitions)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=200)
    parser.add_argument("--shard-size", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--large", action="store_true",
                        help="also NLLB-200-distilled-600M's architecture (random weights, forced output length)")
    parser.add_argument("--large-paragraphs", type=int, default=32)
    parser.add_argument("--large-new-tokens", type=int, default=16)
    args = parser.parse_args()

    import ray

    from tiny_models import build_marian

    tmp = Path(tempfile.mkdtemp(prefix="evalkit-ray-bench-"))
    model = build_marian(tmp / "model", tmp / "work")
    compare("tiny MarianMT", model, paragraphs(args.paragraphs), args.shard_size, args.new_tokens, tmp, ray)
    if args.large:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from translation_speed import build_nllb_600m_architecture, force_length

        folder, parameters = build_nllb_600m_architecture(tmp)
        force_length(folder, args.large_new_tokens)
        texts = paragraphs(args.large_paragraphs)
        shard = max(1, args.large_paragraphs // 4)
        compare(f"NLLB-600M architecture ({parameters / 1e6:.0f} M parameters)", folder, texts, shard,
                args.large_new_tokens, tmp, ray)


def pipeline_overhead(ray, n: int, shard_size: int) -> tuple[float, float]:
    """Ray Data's map_batches (callable class, actor pool) vs plain actors, on work that costs nothing."""
    import ray.data

    ray.data.DataContext.get_current().enable_progress_bars = False
    rows = [{"i": i, "text": f"paragraph {i}"} for i in range(n)]

    class Echo:
        def __call__(self, batch):
            return batch

    @ray.remote(num_cpus=1)
    class EchoActor:
        def run(self, part):
            return part

    for _ in range(2):  # the first repetition also pays worker start-up
        clock = time.perf_counter()
        out = list(ray.data.from_items(rows).map_batches(Echo, concurrency=2, batch_size=shard_size, num_cpus=1).iter_rows())
        data = time.perf_counter() - clock
        clock = time.perf_counter()
        actors = [EchoActor.remote() for _ in range(2)]
        refs = [actors[k % 2].run.remote(rows[s:s + shard_size]) for k, s in enumerate(range(0, n, shard_size))]
        got = [row for ref in refs for row in ray.get(ref)]
        for actor in actors:
            ray.kill(actor)
        plain = time.perf_counter() - clock
        assert len(out) == len(got) == n
    return data, plain


if __name__ == "__main__":
    main()
