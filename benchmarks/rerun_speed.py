"""A fully cached re-run, measured side by side with the first run (issue 17 §2).

Runs `evalkit run` as a user does (a fresh process each time) on the shipped
config (copy + NLLB-600M, which is unavailable on a machine without its weights)
and on the same config with a tiny real NLLB-style model built locally, so the
first run really loads a model and translates:

    .venv/bin/python benchmarks/rerun_speed.py [--repeats 3]

Prints the wall time of the first run (empty cache) and of cached re-runs, their
ratio, and whether a re-run loaded any model (run.json: `seconds.load`,
`translated`, `from_cache`). Target: a cached re-run in < 2 s wall.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def evalkit_run(config: Path, out: Path) -> tuple[float, dict]:
    clock = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "evalkit", "run", str(config), "-o", str(out), "-q"],
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - clock
    if proc.returncode != 0:
        raise SystemExit(f"evalkit run failed ({proc.returncode}): {proc.stderr.strip()}")
    folder = Path(proc.stdout.strip().splitlines()[-1])
    return wall, json.loads((folder / "run.json").read_text(encoding="utf-8"))


def model_work(data: dict) -> str:
    parts = []
    for s in data["systems"]:
        if s["status"] == "ok" and s["backend"] != "copy":
            parts.append(f"{s['name']}[{s['lang']}]: load {s['seconds'].get('load', 0):.2f} s, "
                         f"translated {s['translated']}, cached {s['from_cache']}")
    return "; ".join(parts) or "no model system ran (unavailable here)"


def measure(title: str, config: Path, out: Path, repeats: int) -> None:
    first, data = evalkit_run(config, out)
    again = []
    for _ in range(repeats):
        wall, data_again = evalkit_run(config, out)
        again.append(wall)
    median = statistics.median(again)
    print(f"\n== {title}")
    print(f"first run (empty cache)   {first:6.2f} s   {model_work(data)}")
    print(f"cached re-run (median/{repeats}) {median:6.2f} s   {model_work(data_again)}")
    print(f"re-run / first            {median / first:6.2f}x   target < 2 s: {'met' if median < 2 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        measure("configs/vi-th.yaml (shipped)", ROOT / "configs/vi-th.yaml", tmp / "shipped", args.repeats)

        from tiny_models import build_nllb

        model = build_nllb(tmp / "tiny-nllb", tmp / "work")
        config = yaml.safe_load((ROOT / "configs/vi-th.yaml").read_text(encoding="utf-8"))
        config["corpus"] = str(ROOT / "corpus/vn-jp-2023")
        config["systems"][1]["model"] = str(model)
        config["systems"][1]["options"]["max_new_tokens"] = 32
        path = tmp / "tiny.yaml"
        path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        measure("configs/vi-th.yaml with a tiny local NLLB-style model", path, tmp / "tiny", args.repeats)


if __name__ == "__main__":
    main()
