"""The pipeline's scoring stage on a large run: one system x N Thai (or Malay) paragraph pairs x chrF, chrF++, BLEU, TER
with 1,000-resample CIs, side by side in one run:

  (a) the previous way: paragraph scores by sacrebleu's sentence_score on every pair, statistics extracted again
      for the corpus score and CIs, Thai segmented anew by every word-based metric (emulated here with the same
      sacrebleu calls the old code made);
  (b) evalkit's scoring stage in one process: statistics extracted once per metric, paragraph scores derived from
      them, each Thai paragraph segmented once for all metrics;
  (c) the same stage with statistics extracted by worker processes on every core (what runs of 2,000+ paragraphs get).

Every number of (b) and (c) is checked equal to (a)'s. The pairs are built from the project's corpus (Thai or Malay
paragraphs cut into spans and perturbed, fixed seed); Thai is the expensive case (segmentation before BLEU/TER/chrF++).

Usage: .venv/bin/python benchmarks/scoring_stage.py [--pairs 10000] [--lang th]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

from evalkit.config import StatisticsConfig
from evalkit.corpus import load_document
from evalkit.results import ParagraphResult, SystemResult
from evalkit.scorers import METRICS
from evalkit.scorers.segment import segmenter
from evalkit.scorers.stats import bootstrap_ci
from evalkit.scoring import score_system

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "vn-jp-2023"
FILES = {"th": "000_04e105a6d28e593c.txt", "ms": "001_011d1486f715c8a5.txt"}
METRIC_NAMES = ["chrf", "chrf++", "bleu", "ter"]


def build_pairs(n: int, lang: str, seed: int = 0) -> tuple[list[str], list[str]]:
    """n distinct (candidate, reference) pairs: spans of corpus paragraphs, the candidate with characters dropped and
    spans swapped, so every metric has work to do."""
    rng = random.Random(seed)
    texts = [t for t in load_document(CORPUS / FILES[lang]).texts if len(t) > 80]
    candidates, references = [], []
    for i in range(n):
        text = rng.choice(texts)
        length = rng.randint(60, min(400, len(text)))
        start = rng.randint(0, len(text) - length)
        ref = f"{text[start:start + length]} {i}"
        chars = [c for c in ref if rng.random() > 0.06]
        cut = rng.randint(1, max(2, len(chars) - 1))
        cand = "".join(chars[cut:] + [" "] + chars[:cut]) if rng.random() < 0.3 else "".join(chars)
        references.append(ref)
        candidates.append(cand.strip() or ref[:5])
    return candidates, references


def previous_way(candidates, references, lang, resamples):
    """What the scoring stage did before: sentence_score per pair, a separate extraction, segmentation per metric."""
    segment = segmenter(lang)
    raw_segment = segment[0].__wrapped__ if segment else None  # the uncached segmenter, as before
    out = {}
    for name in METRIC_NAMES:
        scorer = METRICS.get(name)(lang)
        prepare = (lambda ts: [raw_segment(t) for t in ts]) if raw_segment and scorer.word_based else (lambda ts: ts)
        hyps, refs = prepare(candidates), prepare(references)
        stats = scorer._metric._extract_corpus_statistics(hyps, [refs])
        hyps, refs = prepare(candidates), prepare(references)  # the old paragraph_scores segmented again
        paragraphs = [scorer._sentence_metric.sentence_score(h, [r]).score for h, r in zip(hyps, refs)]
        import numpy as np

        rows = np.asarray(stats, dtype=np.float64)
        interval = bootstrap_ci(scorer, rows, n_resamples=resamples, seed=12345)
        out[name] = (scorer.score_from_statistics(rows), interval.low, interval.high, paragraphs)
    return out


def stage(candidates, references, lang, resamples, workers):
    segment = segmenter(lang)
    if segment:
        segment[0].cache_clear()  # each timing starts without segmentations cached by another
    result = SystemResult(name="s", backend="precomputed", model=None, status="ok", paragraphs=[
        ParagraphResult([i + 1], [i + 1], "", ref, cand, 1.0) for i, (cand, ref) in enumerate(zip(candidates, references))])
    scorers = [METRICS.get(name)(lang) for name in METRIC_NAMES]
    settings = StatisticsConfig(bootstrap_resamples=resamples, workers=workers)
    score_system(settings, scorers, result, {}, {}, [])
    return {name: (s.score, s.ci_low, s.ci_high, [p.scores[name] for p in result.paragraphs])
            for name, s in result.corpus_scores.items()}


def timed(fn, *args):
    clock = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--lang", choices=sorted(FILES), default="th")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    candidates, references = build_pairs(args.pairs, args.lang)
    cores = os.cpu_count() or 1
    print(f"{args.pairs} pairs, target {args.lang!r}, metrics {', '.join(METRIC_NAMES)}, {args.resamples} bootstrap "
          f"resamples; {cores} cores\n")
    old, t_old = timed(previous_way, candidates, references, args.lang, args.resamples)
    one, t_one = timed(stage, candidates, references, args.lang, args.resamples, 1)
    many, t_many = timed(stage, candidates, references, args.lang, args.resamples, cores)
    assert one == old and many == old, "the scoring stage changed a number"
    print(f"{'path':58} {'wall s':>8} {'x previous':>10}")
    for label, seconds in [("(a) previous: sentence_score per pair, segment per metric", t_old),
                           ("(b) stage, 1 process: one extraction, segment once", t_one),
                           (f"(c) stage, {cores} worker processes", t_many)]:
        print(f"{label:58} {seconds:8.1f} {t_old / seconds:10.2f}")
    print("\nall corpus scores, CIs and paragraph scores identical across (a), (b), (c)")


if __name__ == "__main__":
    main()
