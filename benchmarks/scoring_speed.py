"""How long scoring 10,000 paragraph pairs takes, and what sufficient statistics buy for bootstrapping.

For chrF, chrF++, BLEU and TER this times evalkit's corpus score, its paragraph
scores, the extraction of per-paragraph sufficient statistics, and a
1,000-resample bootstrap confidence interval computed from those statistics. It
compares the bootstrap with the naive way: re-scoring the resampled strings
with `corpus_score` for every resample. The naive way is far too slow to run
1,000 times, so it is timed on a few resamples and extrapolated linearly (each
resample is one full corpus scoring of 10,000 pairs, so its cost does not
depend on which paragraphs are drawn, up to their lengths).

The pairs are Malay and Indonesian paragraphs from the project's corpus, cut
into random spans and perturbed (dropped, swapped and replaced words) to play
the candidate, with a fixed seed. Target language "ms": no word segmentation.

Usage: .venv/bin/python benchmarks/scoring_speed.py [--pairs 10000] [--naive-resamples 1]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from evalkit.corpus import load_document
from evalkit.scorers import METRICS
from evalkit.scorers.stats import bootstrap_ci

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "vn-jp-2023"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--naive-resamples", type=int, default=1, help="resamples re-scored from strings, then extrapolated")
    args = parser.parse_args()

    candidates, references = build_pairs(args.pairs)
    words = sum(len(r.split()) for r in references) / len(references)
    print(f"{args.pairs} pairs, {words:.1f} reference words per paragraph on average; target 'ms'; 1 process")
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
    print("boot s: 1,000 resamples from those statistics; naive est. s: one measured string re-scoring x resamples.")


if __name__ == "__main__":
    main()
