"""Alignment accuracy, document verdicts and alignment cost at size.

    .venv/bin/python benchmarks/alignment_accuracy.py                      # everything (~10 min on 2 busy cores)
    .venv/bin/python benchmarks/alignment_accuracy.py --sections gold      # the shipped corpus only (seconds)
    .venv/bin/python benchmarks/alignment_accuracy.py --sections scale --sizes 1000,10000,100000

Sections:
  gold     the shipped corpus against its hand-checked gold (tests/data/gold): cleaned scrapes (what
           `evalkit run` scores), raw lines (no cleaning), and seeded perturbations of the gold core
  verdict  document verdicts on the dev and held-out splits of benchmarks/alignment_devset.py: share of real
           translation pairs accepted (per edit kind) and of unrelated pairs rejected (random and "hard":
           the articles sharing most numbers/names, and the shipped corpus's same-visit interview)
  edits    strict pair precision/recall/F1 (vecalign's scorer) per edit kind, dev and held-out, with the
           remaining errors by kind
  scale    time and peak memory of aligning N x N paragraphs (each size in a fresh process, one core),
           with the share of pairs right
Targets (issue 10): >= 99 % of translations accepted, 100 % of unrelated pairs rejected; F1 >= 0.98 per
edit kind (1.00 on clean 1:1 documents); 10,000 paragraphs in < 60 s and < 1 GB, 100,000 about linearly.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from alignment_devset import EDITS, load_ntrex, ntrex_cases, shipped_cases  # noqa: E402

from evalkit.align import align_paragraphs, assess_translation  # noqa: E402
from evalkit.align.gold import load_gold, score_alignment  # noqa: E402
from evalkit.corpus import load_document, read_document  # noqa: E402
from evalkit.corpus.clean import normalise  # noqa: E402

CORPUS = ROOT / "corpus" / "vn-jp-2023"
GOLD = ROOT / "tests" / "data" / "gold"


def line_pairs(alignment, src_lines, tgt_lines):
    return [(tuple(src_lines[i] for i in b.source), tuple(tgt_lines[j] for j in b.target)) for b in alignment.pairs]


def evaluate_real(gold, cleaned: bool):
    if cleaned:
        src_doc, tgt_doc = load_document(CORPUS / gold.pivot), load_document(CORPUS / gold.target)
        src = [(p.line, p.text) for p in src_doc.paragraphs]
        tgt = [(p.line, p.text) for p in tgt_doc.paragraphs]
    else:
        src, tgt = ([(n, normalise(t)) for n, t in enumerate(read_document(CORPUS / name).lines, 1) if t.strip()]
                    for name in (gold.pivot, gold.target))
    alignment = align_paragraphs([t for _, t in src], [t for _, t in tgt], gold.source_lang, gold.target_lang)
    return score_alignment(line_pairs(alignment, [n for n, _ in src], [n for n, _ in tgt]), gold.pairs)


def section_gold(trials: int) -> None:
    print(f"{'pair':6} {'setting':10} {'P':>6} {'R':>6} {'F1':>6} {'spurious':>8}  notes")
    shipped = shipped_cases(trials)
    for gold_file in sorted(GOLD.glob("*.json")):
        gold = load_gold(gold_file)
        name = gold_file.stem
        for cleaned in (True, False):
            start = time.perf_counter()
            acc = evaluate_real(gold, cleaned)
            print(f"{name:6} {'cleaned' if cleaned else 'raw':10} {acc.precision:6.3f} {acc.recall:6.3f} {acc.f1:6.3f} "
                  f"{acc.spurious:8d}  {acc.correct}/{acc.gold} gold pairs, {acc.predicted} predicted, "
                  f"{(time.perf_counter() - start) * 1000:.0f} ms")
        accs = []
        for c in shipped:
            if c.name.startswith(f"vn-jp-2023/vi-{gold.target_lang}/") and c.related:
                al = align_paragraphs(c.source, c.target, c.source_lang, c.target_lang)
                accs.append(score_alignment([(b.source, b.target) for b in al.pairs], c.gold))
        print(f"{name:6} {'perturbed':10} {statistics.mean(a.precision for a in accs):6.3f} "
              f"{statistics.mean(a.recall for a in accs):6.3f} {statistics.mean(a.f1 for a in accs):6.3f} "
              f"{sum(a.spurious for a in accs):8d}  mean over {len(accs)} seeded edits of the gold core "
              f"({len(EDITS)} kinds x {trials}); min F1 {min(a.f1 for a in accs):.3f}")


def _run_cases(cases):
    out = []
    for c in cases:
        al = align_paragraphs(c.source, c.target, c.source_lang, c.target_lang)
        v = assess_translation(c.source, c.target, al, c.source_lang, c.target_lang)
        acc = score_alignment([(b.source, b.target) for b in al.pairs], c.gold) if c.related else None
        out.append((c, al, v, acc))
    return out


def _splits(args):
    if not load_ntrex():
        print("(shared/corpus/ntrex128-docs not found: dev = shipped corpus only, no held-out split)")
    dev = _run_cases(ntrex_cases("dev", seeds=args.seeds) + shipped_cases(args.trials))
    test = _run_cases(ntrex_cases("test", seeds=args.seeds))
    return {"dev": dev, "held-out": test}


def section_verdict(results) -> None:
    print("\nDocument verdicts (P(parallel) >= 0.5 accepts)")
    print(f"{'split':9} {'translations accepted':>22} {'unrelated rejected':>19} {'hard rejected':>14} "
          f"{'lowest translation P':>21} {'highest unrelated P':>20}")
    for split, rows in results.items():
        if not rows:
            continue
        rel = [v for c, _, v, _ in rows if c.related]
        un = [v for c, _, v, _ in rows if not c.related]
        hard = [v for c, _, v, _ in rows if not c.related and c.hard]
        print(f"{split:9} {sum(v.is_translation for v in rel) / len(rel):16.4f} ({len(rel):4d}) "
              f"{sum(not v.is_translation for v in un) / max(1, len(un)):13.4f} ({len(un):4d}) "
              f"{sum(not v.is_translation for v in hard) / max(1, len(hard)):8.4f} ({len(hard):3d}) "
              f"{min(v.score for v in rel):21.3f} {max((v.score for v in un), default=0):20.3f}")
    print("\nTranslations accepted per edit kind (dev / held-out)")
    for edit in EDITS:
        cells = []
        for split, rows in results.items():
            vs = [v for c, _, v, _ in rows if c.related and c.edit == edit]
            cells.append(f"{sum(v.is_translation for v in vs) / len(vs):.3f} ({len(vs)})" if vs else "-")
        print(f"  {edit:11} " + "  ".join(f"{x:>13}" for x in cells))
    rejected = [(split, c.name, v.score) for split, rows in results.items() for c, _, v, _ in rows
                if c.related and not v.is_translation]
    if rejected:
        print("Rejected translations: " + "; ".join(f"{n} ({s}, P={p:.2f})" for s, n, p in rejected[:30])
              + (" ..." if len(rejected) > 30 else ""))


def _error_kinds(c, al):
    gold = set(c.gold)
    gs = {i for s, _ in c.gold for i in s}
    gt = {j for _, t in c.gold for j in t}
    kinds = collections.Counter()
    for b in al.pairs:
        if (b.source, b.target) in gold:
            continue
        if not set(b.source) <= gs or not set(b.target) <= gt:
            kinds["pairs an unmatched line"] += 1
        elif any(set(b.source) == set(s) or set(b.target) == set(t) for s, t in gold) and \
                len(b.source) + len(b.target) != 2:
            kinds["wrong shape (merge/split)"] += 1
        else:
            kinds["paired with a neighbour"] += 1
    return kinds


def section_edits(results) -> None:
    print("\nStrict pair accuracy per edit kind (mean over documents; 'perfect' = share of documents with F1 1.0)")
    print(f"{'split':9} {'edit':11} {'P':>6} {'R':>6} {'F1':>6} {'perfect':>8} {'wrong pairs':>11}")
    for split, rows in results.items():
        kinds_all = collections.Counter()
        for edit in EDITS:
            sel = [(c, al, a) for c, al, _, a in rows if c.related and c.edit == edit]
            if not sel:
                continue
            kinds = collections.Counter()
            for c, al, _ in sel:
                kinds += _error_kinds(c, al)
            kinds_all += collections.Counter({f"{edit}: {k}": v for k, v in kinds.items()})
            print(f"{split:9} {edit:11} {statistics.mean(a.precision for _, _, a in sel):6.3f} "
                  f"{statistics.mean(a.recall for _, _, a in sel):6.3f} {statistics.mean(a.f1 for _, _, a in sel):6.3f} "
                  f"{sum(a.f1 == 1.0 for _, _, a in sel) / len(sel):8.3f} {sum(kinds.values()):11d}")
        if kinds_all:
            print(f"  {split} errors by kind: " + "; ".join(f"{k} {v}" for k, v in sorted(kinds_all.items())))
    print("  (reorder: evalkit.align.moved puts back a single moved block of up to 4 paragraphs in articles of up to 40, and "
          "pairs blocks the monotonic path left unmatched on both sides in a second pass)")


# --------------------------------------------------------------------------- scale


def synthetic_pair(n: int, seed: int = 1) -> tuple[list[str], list[str], list[tuple[tuple[int, ...], tuple[int, ...]]]]:
    """n Vietnamese paragraphs and their Thai translations from the NTREX articles (sentence i alone, then
    sentence i joined with a distant one, so no paragraph repeats), one inserted site line every 500
    paragraphs and one deleted paragraph every 700, with the gold pairs."""
    docs = load_ntrex()
    ids = sorted(docs)
    vi = [x for d in ids for x in docs[d]["vi"]]
    th = [x for d in ids for x in docs[d]["th"]]
    size = len(vi)
    src, tgt = [], []
    rep = 0
    while len(src) < n:
        for i in range(size):
            if rep == 0:
                src.append(vi[i])
                tgt.append(th[i])
            else:
                j = (i + 7 * rep + 3) % size
                src.append(vi[i] + " " + vi[j])
                tgt.append(th[i] + " " + th[j])
        rep += 1
    src, tgt = src[:n], tgt[:n]
    units = [(t, k) for k, t in enumerate(tgt)]
    rng = random.Random(seed)
    for k in range(n - 1, 0, -700):
        del units[k]
    for k in range(len(units) - 1, 0, -500):
        units.insert(k, (rng.choice(["อ่านเพิ่มเติม: ข่าวอื่น", "แชร์ข่าวนี้", "ความคิดเห็น (0)"]), None))
    gold = [((k,), (j,)) for j, (_, k) in enumerate(units) if k is not None]
    return src, [t for t, _ in units], gold


def scale_one(n: int) -> dict:
    from evalkit.align.aligner import analyse

    src, tgt, gold = synthetic_pair(n)
    start, cpu0 = time.perf_counter(), time.process_time()
    a = analyse(src, tgt, "vi", "th")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    acc = score_alignment([(b.source, b.target) for b in a.alignment.pairs], gold)
    return {"n": len(src), "m": len(tgt), "seconds": seconds, "cpu": cpu,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "band": a.band_width,
            "full": a.full_band, "f1": acc.f1, "precision": acc.precision, "p_parallel": a.evidence.p_parallel}


def section_scale(sizes: list[int]) -> None:
    if not load_ntrex():
        print("\n(scale: shared/corpus/ntrex128-docs not found)")
        return
    print("\nAlignment cost at size (vi x th, one core, each size in a fresh process; peak = the process's max RSS,"
          " Python and numpy included)")
    print("(wall seconds depend on what else runs; CPU seconds are this process's own)")
    print(f"{'paragraphs':>10} {'wall s':>8} {'CPU s':>8} {'CPU s/1k':>8} {'peak MB':>8} {'band':>5} {'P':>6} {'F1':>6} {'P(par)':>7}")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for n in sizes:
        proc = subprocess.run([sys.executable, __file__, "--scale-one", str(n)], capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"{n:>10} failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{r['n']:>10} {r['seconds']:8.1f} {r['cpu']:8.1f} {1000 * r['cpu'] / r['n']:8.2f} {r['peak_mb']:8.0f} "
              f"{'full' if r['full'] else r['band']:>5} {r['precision']:6.3f} {r['f1']:6.3f} {r['p_parallel']:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sections", default="gold,verdict,edits,scale")
    parser.add_argument("--trials", type=int, default=3, help="seeds of each edit of the shipped corpus")
    parser.add_argument("--seeds", type=int, default=1, help="seeds of each edit of each NTREX article")
    parser.add_argument("--sizes", default="1000,2500,5000,10000")
    parser.add_argument("--scale-one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scale_one:
        print(json.dumps(scale_one(args.scale_one)))
        return
    sections = set(args.sections.split(","))
    if "gold" in sections:
        section_gold(args.trials)
    if sections & {"verdict", "edits"}:
        results = _splits(args)
        if "verdict" in sections:
            section_verdict(results)
        if "edits" in sections:
            section_edits(results)
    if "scale" in sections:
        section_scale([int(x) for x in args.sizes.split(",")])


if __name__ == "__main__":
    main()
