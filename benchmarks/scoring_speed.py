"""Scoring throughput, three parts side by side in one run (`--part metrics|resampling|run|all`).

metrics -- for chrF, chrF++, BLEU and TER on 10,000 Malay pairs: the corpus
score, paragraph scores, the extraction of per-paragraph sufficient statistics,
a 1,000-resample bootstrap interval from those statistics, and the naive way
(re-scoring the resampled strings with `corpus_score` for every resample),
which is far too slow to run 1,000 times, so it is timed on a few resamples
and extrapolated linearly (each resample is one full corpus scoring).

resampling -- what scoring the resamples costs, before and after the
vectorised `Scorer.scores_from_statistics` (before: every resampled sum scored
by its own sacrebleu call, as `stats._scores` did until issue 17): one
bootstrap interval over 10,000 paragraphs, a paired bootstrap, approximate
randomisation with 10,000 trials, and per-document intervals and paired tests
for 400 documents (before: one `bootstrap_ci` / `paired_bootstrap` per
document; after: `bootstrap_cis_by_group` / `paired_bootstraps_by_group`).
Every result is checked identical between the two; ratios are measured in
the same run.

run -- the issue-17 workload end to end: `evalkit run` (the installed command,
a fresh process, wall clock) on a JSONL test set of 10,000 distinct Thai pairs
in 400 documents, chrF/chrF++/BLEU/TER with 1,000-resample CIs, one system
(`backend: copy`) and two systems (copy + a `precomputed` candidates file, with
the paired tests). The pairs are real NTREX-128 Thai sentences (the excerpt
shipped in corpus/), each made distinct by its index and perturbed with a fixed
seed (characters dropped, halves swapped); the copy system's "source" column
holds its Thai candidate, which `copy` passes through. `--row-by-row` also
runs the same commands with the vectorised hook switched off, for the ratio.

The pairs of the first two parts are Malay and Indonesian paragraphs from the
project's corpus, cut into random spans and perturbed (dropped, swapped and
replaced words), with a fixed seed. Target language "ms": no word segmentation.

Usage: .venv/bin/python benchmarks/scoring_speed.py [--part all] [--pairs 10000] [--naive-resamples 1] [--row-by-row]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from evalkit.corpus import load_document
from evalkit.scorers import METRICS
from evalkit.scorers.base import Scorer
from evalkit.scorers.stats import (
    approximate_randomization, bootstrap_ci, bootstrap_cis_by_group, paired_bootstrap, paired_bootstraps_by_group,
)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "vn-jp-2023"
NTREX_THAI = ROOT / "corpus" / "ntrex128-excerpt" / "NTREX-128" / "newstest2019-ref.tha.txt"
MALAY, INDONESIAN = "001_011d1486f715c8a5.txt", "003_80fd675a9a6137d2.txt"
METRIC_NAMES = ["chrf", "chrf++", "bleu", "ter"]


def build_pairs(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """(candidates, references): n realistic, distinct paragraph pairs made from the corpus."""
    rng = random.Random(seed)
    lines = [t.split() for name in (MALAY, INDONESIAN) for t in load_document(CORPUS / name).texts]
    lines = [words for words in lines if len(words) >= 8]
    vocabulary = sorted({w for words in lines for w in words})
    candidates, references = [], []
    for _ in range(n):
        words = rng.choice(lines)
        length = rng.randint(8, min(60, len(words)))
        start = rng.randint(0, len(words) - length)
        ref = words[start : start + length]
        cand = []
        for w in ref:
            r = rng.random()
            if r < 0.12:
                continue  # dropped
            cand.append(rng.choice(vocabulary) if r < 0.18 else w)  # replaced, or kept
        for i in range(len(cand) - 1):
            if rng.random() < 0.08:
                cand[i], cand[i + 1] = cand[i + 1], cand[i]  # local reordering
        references.append(" ".join(ref))
        candidates.append(" ".join(cand) or ref[0])
    return candidates, references


def timed(fn, *args, **kwargs):
    clock = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - clock


def best_of(repeats: int, fn, *args, **kwargs):
    """The result and the fastest of `repeats` timings: the machine is shared, the minimum is the cost."""
    best, value = float("inf"), None
    for _ in range(repeats):
        value, seconds = timed(fn, *args, **kwargs)
        best = min(best, seconds)
    return value, best


# --- part 1: metric calls --------------------------------------------------------------------------


def part_metrics(args) -> None:
    candidates, references = build_pairs(args.pairs)
    words = sum(len(r.split()) for r in references) / len(references)
    print(f"== metrics: {args.pairs} pairs, {words:.1f} reference words per paragraph on average; target 'ms'; 1 process")
    print(f"bootstrap: {args.resamples} resamples from statistics; naive: {args.naive_resamples} resample(s) "
          f"re-scored from strings with corpus_score, extrapolated x{args.resamples / args.naive_resamples:g}\n")
    header = (f"{'metric':8} {'score':>7} {'corpus s':>9} {'paragr. s':>9} {'stats s':>8} {'boot s':>7} "
              f"{'95% CI':>16} {'naive 1 rs s':>12} {'naive est. s':>12} {'naive/boot':>10} {'naive/(st+bt)':>13}")
    print(header)
    print("-" * len(header))
    total = time.perf_counter()
    rng = np.random.default_rng(0)
    for name in METRIC_NAMES:
        scorer = METRICS.get(name)("ms")
        corpus, t_corpus = timed(scorer.corpus_score, candidates, references)
        _, t_paragraphs = timed(scorer.paragraph_scores, candidates, references)
        stats, t_stats = timed(scorer.statistics, candidates, references)
        assert scorer.score_from_statistics(stats) == corpus.score
        ci, t_boot = timed(bootstrap_ci, scorer, stats, n_resamples=args.resamples)

        clock = time.perf_counter()
        for _ in range(args.naive_resamples):
            idx = rng.integers(0, len(references), size=len(references))
            scorer.corpus_score([candidates[i] for i in idx], [references[i] for i in idx])
        t_naive_one = (time.perf_counter() - clock) / args.naive_resamples
        t_naive = t_naive_one * args.resamples

        print(f"{name:8} {corpus.score:7.2f} {t_corpus:9.2f} {t_paragraphs:9.2f} {t_stats:8.2f} {t_boot:7.2f} "
              f"{f'[{ci.low:.2f}, {ci.high:.2f}]':>16} {t_naive_one:12.2f} {t_naive:12.0f} "
              f"{t_naive / t_boot:10.0f} {t_naive / (t_stats + t_boot):13.0f}")
    print(f"\ntotal wall time {time.perf_counter() - total:.1f} s")
    print("stats s: extracting per-paragraph sufficient statistics (once per system, the same work as a corpus score);")
    print("boot s: 1,000 resamples from those statistics; naive est. s: one measured string re-scoring x resamples.\n")


# --- part 2: scoring the resamples, row by row vs vectorised ---------------------------------------


@contextlib.contextmanager
def row_by_row():
    """The scorer contract before issue 17: every resampled sum scored by its own `score_from_statistics` call."""
    vectorised = Scorer.scores_from_statistics

    def one_at_a_time(self, sums):
        sums = np.asarray(sums, dtype=np.float64)
        return np.fromiter((self.score_from_statistics(row) for row in sums), dtype=np.float64, count=len(sums))

    Scorer.scores_from_statistics = one_at_a_time
    try:
        yield
    finally:
        Scorer.scores_from_statistics = vectorised


def document_starts(n: int, documents: int, seed: int = 0) -> list[int]:
    """Start rows of `documents` consecutive groups of uneven sizes (5-45 paragraphs, scaled to n)."""
    sizes = np.random.default_rng(seed).integers(5, 45, documents).astype(np.float64)
    edges = np.round(np.cumsum(sizes) / sizes.sum() * n).astype(int)
    return [0, *edges[:-1].tolist()]


def per_document(fn, scorer, matrices, starts, **kwargs):
    ends = [*starts[1:], len(matrices[0])]
    return [fn(scorer, *(m[a:b] for m in matrices), **kwargs) for a, b in zip(starts, ends)]


def part_resampling(args) -> None:
    candidates, references = build_pairs(args.pairs)
    rng = random.Random(2)  # a second system on the same references: 15 % of each reference's words dropped
    second = [" ".join(w for w in ref.split() if rng.random() > 0.15) or ref for ref in references]
    starts = document_starts(args.pairs, args.documents)
    print(f"== resampling: {args.pairs} Malay pairs, {args.resamples} bootstrap resamples, {args.trials} AR trials, "
          f"{len(starts)} documents of {args.pairs // len(starts)} paragraphs on average; best of {args.repeats}\n")
    tasks = [
        ("bootstrap CI, all paragraphs", lambda s, a, b: bootstrap_ci(s, a, n_resamples=args.resamples), None),
        ("paired bootstrap", lambda s, a, b: paired_bootstrap(s, a, b, n_resamples=args.resamples), None),
        (f"approximate randomisation, {args.trials} trials",
         lambda s, a, b: approximate_randomization(s, a, b, n_trials=args.trials), None),
        (f"{len(starts)} per-document CIs",
         lambda s, a, b: per_document(bootstrap_ci, s, [a], starts, n_resamples=args.resamples),
         lambda s, a, b: bootstrap_cis_by_group(s, a, starts, n_resamples=args.resamples)),
        (f"{len(starts)} per-document paired bootstraps",
         lambda s, a, b: per_document(paired_bootstrap, s, [a, b], starts, n_resamples=args.resamples),
         lambda s, a, b: paired_bootstraps_by_group(s, a, b, starts, n_resamples=args.resamples)),
    ]
    header = f"{'task':42} {'metric':7} {'row by row s':>12} {'per call s':>10} {'vectorised s':>12} {'x':>7}"
    print(header)
    print("-" * len(header))
    totals: dict[str, list[float]] = {}

    def cell(seconds):
        return f"{seconds:10.3f}" if seconds is not None else f"{'':10}"

    for name in METRIC_NAMES:
        scorer = METRICS.get(name)("ms")
        own, base = scorer.statistics(candidates, references), scorer.statistics(second, references)
        for label, before_fn, after_fn in tasks:
            with row_by_row():
                before, t_before = best_of(args.repeats, before_fn, scorer, own, base)
            t_middle = None
            if after_fn is not None:  # one call per document, each vectorised: the by-group functions' share
                middle, t_middle = best_of(args.repeats, before_fn, scorer, own, base)
                assert middle == before, f"{name} {label}: vectorised scoring changed a result"
            after, t_after = best_of(args.repeats, after_fn or before_fn, scorer, own, base)
            assert before == after, f"{name} {label}: vectorised scoring changed a result"
            totals.setdefault(label, [0.0, 0.0, 0.0])
            totals[label][0] += t_before
            totals[label][1] += t_middle or 0.0
            totals[label][2] += t_after
            print(f"{label:42} {name:7} {t_before:12.3f} {cell(t_middle)} {t_after:12.3f} {t_before / t_after:7.1f}")
    print("-" * len(header))
    for label, (t_before, t_middle, t_after) in totals.items():
        print(f"{label:42} {'4 sum':7} {t_before:12.3f} {cell(t_middle or None)} {t_after:12.3f} "
              f"{t_before / t_after:7.1f}")
    print("\nrow by row: each resampled sum scored by its own sacrebleu call (per document: one call per document);")
    print("per call: one call per document, each scoring its resamples vectorised;")
    print("vectorised: Scorer.scores_from_statistics (per document: bootstrap_cis_by_group / paired_bootstraps_by_group);")
    print("x: row by row / vectorised. Every interval, p-value and score is identical in all columns (asserted).\n")


def part_shipped(args) -> None:
    """What a cached re-run of the shipped vi-th config spends on statistics: 5 metrics x (CI per system, paired
    bootstrap, AR 10,000 trials) on the 17 aligned paragraphs, the copy baseline against a system."""
    from evalkit.corpus import load_document as load

    pivot = load(CORPUS / "002_6d8f2e7b812a4376.txt").texts[1:17]
    thai = load(CORPUS / "000_04e105a6d28e593c.txt").texts[:16]
    rng = random.Random(3)
    system = ["".join(c for c in t if rng.random() > 0.1) for t in thai]  # a stand-in for a model's output
    print(f"== shipped document: {len(thai)} vi-th paragraphs, copy vs a system, chrF/chrF++/BLEU/TER/numbers: "
          f"2 CIs + paired bootstrap ({args.resamples}) + AR ({args.trials} trials); best of {args.repeats}\n")

    extracted = []
    for name in [*METRIC_NAMES, "numbers"]:
        scorer = METRICS.get(name)("th", None, "vi")
        extracted.append((scorer, scorer.statistics(system, thai, pivot), scorer.statistics(pivot, thai, pivot)))

    def statistics_stage():
        out = []
        for scorer, own, base in extracted:
            out += [bootstrap_ci(scorer, own, args.resamples), bootstrap_ci(scorer, base, args.resamples),
                    paired_bootstrap(scorer, own, base, args.resamples),
                    approximate_randomization(scorer, own, base, args.trials)]
        return out

    with row_by_row():
        before, t_before = best_of(args.repeats, statistics_stage)
    after, t_after = best_of(args.repeats, statistics_stage)
    assert before == after, "vectorised scoring changed a result"
    print(f"row by row {t_before:.3f} s, vectorised {t_after:.3f} s: {t_before / t_after:.1f}x (identical results)\n")


# --- part 3: the whole `evalkit run` on a JSONL test set ------------------------------------------------


def thai_testset(folder: Path, n: int, documents: int, reorder: str, seed: int = 0) -> None:
    """set.jsonl (source = the copy system's Thai candidate, reference, doc) and other.txt (a second system).

    Candidates drop 6 % (8 % for the second system) of the reference's characters and reorder it: `local` swaps
    neighbouring space-separated phrases with probability 0.1 (the reordering MT output has); `halves` rotates 30 %
    of the paragraphs at a random cut (session 2's stage benchmark, `scoring_stage.build_pairs`), which is TER's
    worst case: its shift search then costs ~5x more per pair.
    """
    rng = random.Random(seed)
    lines = [line.strip() for line in NTREX_THAI.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 40]

    def perturbed(text: str, drop: float) -> str:
        if reorder == "local":
            phrases = text.split(" ")
            for i in range(len(phrases) - 1):
                if rng.random() < 0.1:
                    phrases[i], phrases[i + 1] = phrases[i + 1], phrases[i]
            text = " ".join(phrases)
        chars = [c for c in text if rng.random() > drop]
        if reorder == "halves" and rng.random() < 0.3:
            cut = rng.randint(1, max(2, len(chars) - 1))
            chars = chars[cut:] + [" "] + chars[:cut]
        return "".join(chars).strip() or text[:5]

    starts = document_starts(n, documents)
    doc_of = np.searchsorted(starts, np.arange(n), side="right") - 1
    with open(folder / "set.jsonl", "w", encoding="utf-8") as testset, \
            open(folder / "other.txt", "w", encoding="utf-8") as second:
        for i in range(n):
            reference = f"{rng.choice(lines)} {i}"  # the index makes every pair distinct (no segmentation cache hits)
            row = {"source": perturbed(reference, 0.06), "reference": reference, "doc": f"doc{doc_of[i]:03d}"}
            testset.write(json.dumps(row, ensure_ascii=False) + "\n")
            second.write(perturbed(reference, 0.08) + "\n")


def run_config(folder: Path, systems: int) -> Path:
    listed = ["  - {name: copy, backend: copy}"]
    if systems > 1:
        listed.append("  - {name: other, backend: precomputed, options: {path: other.txt}}")
    path = folder / f"run{systems}.yaml"
    path.write_text("\n".join([
        f"name: thai-{systems}",
        "testset: {format: jsonl, path: set.jsonl}",
        "pivot: {lang: vi}",
        "targets: [th]",
        "systems:",
        *listed,
        "metrics: [chrf, chrf++, bleu, ter]",
        "output_dir: results",
        "",
    ]), encoding="utf-8")
    return path


ROW_BY_ROW_RUN = """
import sys, numpy as np
from evalkit.scorers.base import Scorer
def one_at_a_time(self, sums):
    sums = np.asarray(sums, dtype=np.float64)
    return np.fromiter((self.score_from_statistics(r) for r in sums), dtype=np.float64, count=len(sums))
Scorer.scores_from_statistics = one_at_a_time
from evalkit.cli import main
sys.argv = ["evalkit", *sys.argv[1:]]
main()
"""


def evalkit_run(config: Path, row_by_row_scoring: bool) -> tuple[float, float, dict]:
    """Wall seconds of one `evalkit run` process, its CPU seconds (with its worker processes), and its run.json.

    CPU seconds do not grow when other work shares the cores, wall seconds do: on a busy machine the CPU figure
    over the number of cores a run can use is the better estimate of its quiet-machine wall time.
    """
    out = config.parent / "results" / f"{config.stem}-{'rows' if row_by_row_scoring else 'vec'}-{time.time_ns()}"
    command = ([sys.executable, "-c", ROW_BY_ROW_RUN] if row_by_row_scoring
               else [str(Path(sys.executable).parent / "evalkit")]) + ["run", str(config), "-q", "-o", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    clock = time.perf_counter()
    done = subprocess.run(command, cwd=config.parent, capture_output=True, text=True)
    seconds = time.perf_counter() - clock
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"evalkit run failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    (found,) = out.glob("*/run.json")
    return seconds, cpu, json.loads(found.read_text(encoding="utf-8"))


def part_run(args) -> None:
    print(f"== run: `evalkit run` on a JSONL test set, {args.pairs} Thai pairs in {args.documents} documents "
          f"({args.reorder} reordering), chrF/chrF++/BLEU/TER, 1,000-resample CIs, paired tests vs copy; "
          f"{os.cpu_count()} cores\n")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="evalkit-scoring-speed-") as tmp:
        folder = Path(tmp)
        thai_testset(folder, args.pairs, args.documents, args.reorder)
        header = f"{'run':44} {'wall s':>8} {'CPU s':>7} {'scoring s':>10} {'target s':>9}"
        print(header)
        print("-" * len(header))
        kept = {}
        for systems, target in ((1, 60), (2, 90)):
            if systems not in args.systems:
                continue
            config = run_config(folder, systems)
            modes = [False, True] if args.row_by_row else [False]
            for rows in modes:
                wall, cpu, found = evalkit_run(config, rows)
                scoring = sum(s["seconds"].get("score", 0.0) for s in found["systems"])
                label = f"{systems} system{'s' if systems > 1 else ''}" + (" (row-by-row scoring)" if rows else "")
                print(f"{label:44} {wall:8.1f} {cpu:7.1f} {scoring:10.1f} {'< ' + str(target):>9}", flush=True)
                kept[(systems, rows)] = {(s["name"], m): v for s in found["systems"]
                                         for m, v in s["corpus_scores"].items()}
                paragraphs = sum(len(s["paragraphs"]) for s in found["systems"])
                assert paragraphs == systems * args.pairs, f"{paragraphs} paragraphs scored"
        if args.row_by_row:
            assert all(kept[(k, False)] == kept[(k, True)] for k in args.systems), "row-by-row scoring changed a score"
        print(f"\nload average (1 min) at the start {load:.1f}, at the end {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores: "
              "other work slows wall s, hardly CPU s")
        print("wall s: the whole command as a user runs it (process start, reading, scoring, reports);")
        print("CPU s: user + system seconds of that process and its statistics workers;")
        print("scoring s: the systems' scoring stage from run.json (statistics, paragraph scores, CIs).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["metrics", "resampling", "run", "all"], default="all")
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=10_000, help="approximate randomisation trials")
    parser.add_argument("--documents", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3, help="timings per resampling task (the fastest is shown)")
    parser.add_argument("--naive-resamples", type=int, default=1, help="resamples re-scored from strings, then extrapolated")
    parser.add_argument("--row-by-row", action="store_true", help="part run: also time runs with the vectorised hook off")
    parser.add_argument("--systems", type=lambda text: [int(n) for n in text.split(",")], default=[1, 2],
                        help="part run: which runs, e.g. 1,2 (one system; two systems with the paired tests)")
    parser.add_argument("--reorder", choices=["local", "halves"], default="local",
                        help="part run: how candidates are reordered (see thai_testset)")
    args = parser.parse_args()
    if args.part in ("metrics", "all"):
        part_metrics(args)
    if args.part in ("resampling", "all"):
        part_shipped(args)
        part_resampling(args)
    if args.part in ("run", "all"):
        part_run(args)


if __name__ == "__main__":
    main()
