"""Alignment accuracy: precision, recall and F1 of aligned pairs against the hand-checked gold.

    .venv/bin/python benchmarks/alignment_accuracy.py [--trials 25]

Three settings per language pair:
  cleaned   the pipeline's input: cleaned paragraphs of the real scrapes (what `evalkit run` scores)
  raw       every non-empty line of the scrapes, no cleaning: the aligner alone must leave chrome unmatched
  perturbed the gold's parallel core with seeded random edits: boilerplate inserted, a paragraph dropped on
            each side, a target paragraph split in two, two target paragraphs merged (order kept)
Goal (issue 3): F1 >= 0.95 with zero spurious pairs (pairs touching a line the gold leaves unmatched).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evalkit.align import align_paragraphs  # noqa: E402
from evalkit.align.gold import load_gold, score_alignment  # noqa: E402
from evalkit.corpus import load_document, read_document  # noqa: E402
from evalkit.corpus.clean import normalise  # noqa: E402

CORPUS = ROOT / "corpus" / "vn-jp-2023"
GOLD = ROOT / "tests" / "data" / "gold"
BOILERPLATE = ["Komen (0)", "Vnexpress.net", "No data", "Leave a Reply", "Bài liên quan", "ข่าว", "มรดก",
               "Tautan sumber", "Đọc thêm: Việt Nam và Nhật Bản", "Chia sẻ bài viết", "ระบบการเมือง"]


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


def split_sentence(text: str) -> tuple[str, str] | None:
    cuts = [m.end() for m in re.finditer(r"[.!?”\"]\s+", text) if 0.25 < m.end() / len(text) < 0.75]
    if not cuts:
        spaces = [m.start() for m in re.finditer(" ", text) if 0.4 < m.start() / len(text) < 0.6]
        if not spaces:
            return None
        cuts = [spaces[0] + 1]
    return text[: cuts[0]].strip(), text[cuts[0]:].strip()


def perturbed_trial(gold, rng: random.Random):
    """Return (source texts, target texts, gold index pairs) after random edits of the gold core."""
    src_text = {p.line: p.text for p in load_document(CORPUS / gold.pivot).paragraphs}
    tgt_text = {p.line: p.text for p in load_document(CORPUS / gold.target).paragraphs}
    # Units: each target unit is a list of (gold pair id, text); each source unit one gold pair.
    pairs = [(src_text[s[0]], tgt_text[t[0]]) for s, t in gold.pairs]
    source = [[k] for k in range(len(pairs))]  # source paragraphs by pair id
    target = [[k] for k in range(len(pairs))]
    ttext = {k: pairs[k][1] for k in range(len(pairs))}
    # drop one source paragraph and one (other) target paragraph
    drop_s, drop_t = rng.sample(range(len(pairs)), 2)
    source = [u for u in source if u != [drop_s]]
    target = [u for u in target if u != [drop_t]]
    # merge two adjacent target paragraphs (2-1 bead in gold)
    i = rng.randrange(len(target) - 1)
    target[i:i + 2] = [target[i] + target[i + 1]]
    # split one single target paragraph (1-2 bead)
    singles = [k for k, u in enumerate(target) if len(u) == 1 and split_sentence(ttext[u[0]])]
    split_at = rng.choice(singles)
    a, b = split_sentence(ttext[target[split_at][0]])
    pid = target[split_at][0]
    target[split_at:split_at + 1] = [[("split", pid, a)], [("split", pid, b)]]
    # insert boilerplate
    for line in rng.sample(BOILERPLATE, 3):
        target.insert(rng.randrange(len(target) + 1), [("boiler", line)])

    def text_of(unit):
        parts = []
        for x in unit:
            parts.append(x[2] if isinstance(x, tuple) and x[0] == "split" else x[1] if isinstance(x, tuple) else ttext[x])
        return " ".join(parts)

    src_texts = [pairs[u[0]][0] for u in source]
    tgt_texts = [text_of(u) for u in target]
    # gold in index space
    src_index = {u[0]: i for i, u in enumerate(source)}
    gold_pairs: dict[tuple, list] = {}
    for j, unit in enumerate(target):
        for x in unit:
            pid = x if isinstance(x, int) else (x[1] if x[0] == "split" else None)
            if pid is None or pid not in src_index:
                continue
            gold_pairs.setdefault(pid, []).append(j)
    beads: dict[tuple, set] = {}
    for pid, js in gold_pairs.items():
        beads.setdefault(tuple(sorted(set(js))), set()).add(src_index[pid])
    gold_index = [(tuple(sorted(s)), t) for t, s in beads.items()]
    return src_texts, tgt_texts, gold_index


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=25)
    args = parser.parse_args()
    print(f"{'pair':6} {'setting':10} {'P':>6} {'R':>6} {'F1':>6} {'spurious':>8}  notes")
    for gold_file in sorted(GOLD.glob("*.json")):
        gold = load_gold(gold_file)
        name = gold_file.stem
        for cleaned in (True, False):
            start = time.perf_counter()
            acc = evaluate_real(gold, cleaned)
            print(f"{name:6} {'cleaned' if cleaned else 'raw':10} {acc.precision:6.3f} {acc.recall:6.3f} {acc.f1:6.3f} "
                  f"{acc.spurious:8d}  {acc.correct}/{acc.gold} gold pairs, {acc.predicted} predicted, "
                  f"{(time.perf_counter() - start) * 1000:.0f} ms")
        rng = random.Random(20261123)
        f1s, spurious = [], 0
        for _ in range(args.trials):
            src, tgt, gold_index = perturbed_trial(gold, rng)
            alignment = align_paragraphs(src, tgt, gold.source_lang, gold.target_lang)
            predicted = [(b.source, b.target) for b in alignment.pairs]
            acc = score_alignment(predicted, gold_index)
            f1s.append(acc.f1)
            spurious += acc.spurious
        print(f"{name:6} {'perturbed':10} {'':6} {'':6} {statistics.mean(f1s):6.3f} {spurious:8d}  "
              f"mean over {args.trials} seeded trials; min F1 {min(f1s):.3f}")


if __name__ == "__main__":
    main()
