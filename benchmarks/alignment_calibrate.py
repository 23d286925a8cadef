"""Fit the document verdict's logistic calibration on the development split.

    .venv/bin/python benchmarks/alignment_calibrate.py [--margin 2.0]

Computes the order-test and anchor evidence (evalkit.align.aligner.analyse) for
every dev case of benchmarks/alignment_devset.py (the shipped corpus and the
NTREX-128 articles whose id hashes to ``dev``, with seeded edits, plus unrelated
pairs), fits P(parallel) = sigmoid(w . features + b) by weighted logistic
regression (Newton steps), then lowers the bias so that the most
translation-like unrelated dev pair sits ``margin`` logits below the
threshold.  Prints the constants to paste into evalkit/align/calibration.py and the
dev acceptance rates.  The held-out split is never read here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from alignment_devset import ntrex_cases, shipped_cases  # noqa: E402

from evalkit.align.aligner import analyse  # noqa: E402
from evalkit.align.calibration import ANCHOR_CAP, EXCESS_CAP, features  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--margin", type=float, default=2.0)
    parser.add_argument("--negative-weight", type=float, default=3.0)
    parser.add_argument("--without-lexicon", action="store_true",
                        help="fit the constants for pairs without a translation lexicon (NO_LEXICON)")
    args = parser.parse_args()
    if args.without_lexicon:
        from evalkit.align import aligner

        aligner.load_lexicon = lambda s, t: None  # the evidence of a pair evalkit has no lexicon for
    cases = ntrex_cases("dev") + shipped_cases(3)
    xs, ys = [], []
    for c in cases:
        ev = analyse(c.source, c.target, c.source_lang, c.target_lang).evidence
        if not ev.order_testable or ev.n_pairs == 0:
            continue
        xs.append(features(ev))
        ys.append(1.0 if c.related else 0.0)
    x, y = np.array(xs), np.array(ys)
    mu, sd = x.mean(0), x.std(0) + 1e-9
    xs_ = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    sw = np.where(y == 1, 1.0, args.negative_weight)
    w = np.zeros(xs_.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-xs_ @ w))
        grad = xs_.T @ ((p - y) * sw)
        hess = (xs_.T * (p * (1 - p) * sw)) @ xs_ + 1e-3 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    raw = w[:-1] / sd
    bias = w[-1] - float((w[:-1] * mu / sd).sum())
    logits = x @ raw + bias
    shift = float(logits[y == 0].max()) + args.margin
    bias -= shift
    logits -= shift
    print(f"cases: {int(y.sum())} translations, {int((1 - y).sum())} unrelated (dev only); caps excess {EXCESS_CAP}, anchor {ANCHOR_CAP}")
    print(f"W_EXCESS = {raw[0]:.3f}\nW_ANCHOR = {raw[1]:.3f}\nW_COVERAGE = {raw[2]:.3f}\nBIAS = {bias:.3f}")
    print(f"dev: translations accepted {np.mean(logits[y == 1] > 0):.4f}, unrelated rejected {np.mean(logits[y == 0] < 0):.4f}, "
          f"highest unrelated P = {1 / (1 + np.exp(-logits[y == 0].max())):.3f}")


if __name__ == "__main__":
    main()
