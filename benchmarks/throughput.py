"""Issue 17's figures in one run: the scoring workload, the cached re-run, decoding against the GEMM bound, memory.

Runs the three benchmarks one after another, each in its own process so their
memory peaks do not mix, and prints their outputs in order:

    .venv/bin/python benchmarks/throughput.py            # full: ~20 minutes on 2 cores (600M-parameter decoding)
    .venv/bin/python benchmarks/throughput.py --quick    # tiny models and 2,000 pairs: a few minutes

1. `scoring_speed.py --part run`: `evalkit run` on a 10,000-pair Thai JSONL
   test set (chrF, chrF++, BLEU, TER with CIs; one and two systems).
2. `rerun_speed.py`: the shipped config's first run vs a fully cached re-run.
3. `decode_bound.py`: tokens/s of each decoding path (greedy and beam 4, naive,
   evalkit, CTranslate2) against the measured GEMM bound, and peak memory per path.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny models and fewer pairs (a smoke run, not the figures)")
    args = parser.parse_args()
    steps = [
        ("scoring workload", ["scoring_speed.py", "--part", "run", *(["--pairs", "2000"] if args.quick else [])]),
        ("cached re-run", ["rerun_speed.py", "--repeats", "1" if args.quick else "3"]),
        ("decoding vs the GEMM bound, memory", ["decode_bound.py", *(["--tiny"] if args.quick else [])]),
    ]
    for title, command in steps:
        print(f"\n######## {title}: {' '.join(command)}", flush=True)
        clock = time.perf_counter()
        proc = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]])
        print(f"######## {title}: {time.perf_counter() - clock:.0f} s, exit {proc.returncode}", flush=True)
        if proc.returncode != 0:
            raise SystemExit(proc.returncode)


if __name__ == "__main__":
    main()
