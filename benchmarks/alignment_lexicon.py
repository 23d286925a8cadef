"""Build the aligner's translation lexicons (evalkit/align/lexicons/) from the development split.

    .venv/bin/python benchmarks/alignment_lexicon.py [--langs th,ms,id,en]

Sentence pairs: the NTREX-128 articles of ``shared/corpus/ntrex128-docs`` whose id hashes to ``dev`` in
benchmarks/alignment_devset.py (line i of vi.txt and <lang>.txt is the same sentence).  The held-out
articles and the shipped corpus are never read here, so benchmarks/alignment_accuracy.py measures the
lexicons on articles (held-out) and on a corpus of another origin (the shipped vn-jp-2023) they were not
built from.  Deterministic: the same files give byte-identical lexicons.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from alignment_devset import load_ntrex, split_of  # noqa: E402

from evalkit.lexicon_files import build_lexicon, write_lexicon  # noqa: E402

OUT = ROOT / "evalkit" / "align" / "lexicons"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--langs", default="th,ms,id,en")
    parser.add_argument("--pivot", default="vi")
    args = parser.parse_args()
    docs = load_ntrex()
    if not docs:
        sys.exit("shared/corpus/ntrex128-docs not found")
    dev = sorted(d for d in docs if split_of(d) == "dev")
    OUT.mkdir(parents=True, exist_ok=True)
    for tl in args.langs.split(","):
        start = time.perf_counter()
        docs_tl = {d: [(" ".join(a.split()), " ".join(b.split())) for a, b in zip(docs[d][args.pivot], docs[d][tl])
                       if a.strip() and b.strip()]
                   for d in dev if docs[d].get(tl) and len(docs[d][tl]) == len(docs[d][args.pivot])}
        origin = (f"IBM Model 1 on {sum(map(len, docs_tl.values()))} sentence pairs of {len(docs_tl)} "
                  f"NTREX-128 dev articles")
        lex = build_lexicon(docs_tl, args.pivot, tl, origin)
        path = write_lexicon(lex, OUT)
        f, b = lex.forward, lex.backward
        print(f"{args.pivot}-{tl}: {origin}; {len(f.translations)} {args.pivot} words (median p_hit "
              f"{statistics.median(f.p_hit.values()):.2f}), {len(b.translations)} {tl} words (median p_hit "
              f"{statistics.median(b.p_hit.values()):.2f}); character ratio {lex.char_ratio:.3f}; "
              f"{path.stat().st_size / 1024:.0f} KiB; "
              f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
