"""Issue 10 at size: the banded DP gives the full DP's answer where the band holds, long documents
run in a band (memory grows with n x width, not n x m), the order test's cost is bounded, and
running out of memory is one line naming both documents and their sizes.  No wall-clock asserts:
benchmarks/alignment_accuracy.py --sections scale measures speed."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from alignment_devset import NTREX_TESTS, load_ntrex  # noqa: E402
from conftest import CORPUS, MALAY, PIVOT, THAI, make_config  # noqa: E402

from evalkit.align import aligner  # noqa: E402
from evalkit.align.dp import Band, BandedPosteriors, Posteriors, viterbi, viterbi_banded  # noqa: E402
from evalkit.align.gold import score_alignment  # noqa: E402
from evalkit.config import load_config  # noqa: E402
from evalkit.corpus import load_document  # noqa: E402
from evalkit.errors import CorpusError  # noqa: E402
from evalkit.pairing import pair_documents  # noqa: E402

MOVES = ((1, 1), (1, 2), (2, 1), (1, 0), (0, 1))


def random_costs(n: int, m: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    costs = {}
    for di, dj in MOVES:
        c = np.full((n + 1, m + 1), np.inf)
        block = rng.uniform(0.5, 4.0, (n + 1 - di, m + 1 - dj))
        if di and dj:  # a cheap diagonal the band will follow
            for i in range(n + 1 - di):
                j = round(i * m / n)
                if j < m + 1 - dj:
                    block[i, j] = 0.0
        c[: n + 1 - di, : m + 1 - dj] = block
        costs[(di, dj)] = c
    return costs


def to_band(costs: dict, band: Band) -> dict:
    cols = np.minimum(band.columns(), band.m)
    rows = np.arange(band.n + 1)[:, None]
    return {mv: np.where(band.valid(), c[rows, cols], np.inf) for mv, c in costs.items()}


@pytest.mark.parametrize("seed", range(3))
def test_banded_dp_equals_the_full_dp_where_the_band_holds(seed):
    n, m, gap = 40, 47, 0.7
    costs = random_costs(n, m, seed)
    total, steps = viterbi(costs, n, m, gap)
    diag = np.round(np.arange(n + 1) * m / n).astype(np.int64)
    band = Band(n, m, np.clip(diag - 10, 0, m), np.clip(diag + 10, 0, m))
    band.lo[0], band.hi[n] = 0, m
    banded = to_band(costs, band)
    b_total, b_steps = viterbi_banded(banded, band, gap)
    assert math.isclose(total, b_total, rel_tol=1e-12) and steps == b_steps
    full_post, band_post = Posteriors(costs, n, m, gap), BandedPosteriors(banded, band, gap)
    for step in steps:  # the band drops only paths far from the best one
        assert abs(full_post.bead(step) - band_post.bead(step)) < 1e-3
    assert band.cells < 0.5 * (n + 1) * (m + 1)


def _pairs(analysis):
    return [(b.source, b.target) for b in analysis.alignment.pairs]


def test_band_gives_the_same_pairs_as_the_full_dp_on_real_documents(monkeypatch):
    docs = load_ntrex(NTREX_TESTS)
    ids = sorted(docs)
    cases = [
        (load_document(CORPUS / PIVOT).texts, load_document(CORPUS / THAI).texts, "th"),
        (load_document(CORPUS / PIVOT).texts, load_document(CORPUS / MALAY).texts, "ms"),
        ([x for d in ids for x in docs[d]["vi"]], [x for d in ids for x in docs[d]["id"]], "id"),
        ([x for d in ids for x in docs[d]["vi"]], ["Baca juga: berita lain"] + [x for d in ids for x in docs[d]["id"]][3:], "id"),
    ]
    full = []
    for src, tgt, tl in cases:
        aligner._analyse_cached.cache_clear()
        a = aligner.analyse(src, tgt, "vi", tl)
        assert a.full_band
        full.append(a)
    monkeypatch.setattr(aligner, "FULL_CELLS", 50)
    monkeypatch.setattr(aligner, "COARSE_FACTOR", 2)
    monkeypatch.setattr(aligner, "BAND_MARGIN", 4)
    for (src, tgt, tl), want in zip(cases, full):
        aligner._analyse_cached.cache_clear()
        got = aligner.analyse(src, tgt, "vi", tl)
        assert not got.full_band and got.band_width < len(tgt)
        assert _pairs(got) == _pairs(want)
        assert got.evidence.p_parallel == pytest.approx(want.evidence.p_parallel, abs=1e-6)
    aligner._analyse_cached.cache_clear()


def synthetic(n: int) -> tuple[list[str], list[str], list]:
    """n unique Vietnamese paragraphs and their Indonesian translations from the test articles, with a
    site line inserted every 150 paragraphs."""
    docs = load_ntrex(NTREX_TESTS)
    vi = [x for d in sorted(docs) for x in docs[d]["vi"]]
    other = [x for d in sorted(docs) for x in docs[d]["id"]]
    src, tgt = [], []
    rep = 0
    while len(src) < n:
        for i in range(len(vi)):
            j = (i + 7 * rep + 3) % len(vi)
            src.append(vi[i] if rep == 0 else vi[i] + " " + vi[j])
            tgt.append(other[i] if rep == 0 else other[i] + " " + other[j])
        rep += 1
    src, tgt = src[:n], tgt[:n]
    units = [(t, k) for k, t in enumerate(tgt)]
    for k in range(len(units) - 1, 0, -150):
        units.insert(k, ("Bagikan artikel ini", None))
    gold = [((k,), (j,)) for j, (_, k) in enumerate(units) if k is not None]
    return src, [t for t, _ in units], gold


def test_long_documents_align_in_a_band_and_stay_right():
    src, tgt, gold = synthetic(1000)
    aligner._analyse_cached.cache_clear()
    a = aligner.analyse(src, tgt, "vi", "id")
    assert not a.full_band and a.band_width < 200  # (n+1) x 200 cells instead of (n+1) x (m+1)
    acc = score_alignment(_pairs(a), gold)
    assert acc.precision >= 0.99 and acc.recall >= 0.95
    assert a.evidence.p_parallel > 0.99
    aligner._analyse_cached.cache_clear()


def test_the_order_test_looks_at_a_bounded_number_of_paragraphs():
    n, m = 5000, 5100
    steps = [(i, i, 1, 1) for i in range(n)] + [(n, n + k, 0, 1) for k in range(m - n)]
    windows = aligner._windows(steps, n, m)
    assert len(windows) == aligner.ORDER_WINDOWS
    assert all(len(s) <= aligner.ORDER_WINDOW and len(t) <= 2 * aligner.ORDER_WINDOW for s, t in windows)


def test_running_out_of_memory_is_one_line_naming_the_documents_and_sizes(tmp_path, monkeypatch):
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 745. GiB for an array with shape (10001, 10001)")

    monkeypatch.setattr(aligner, "_solve", no_memory)
    aligner._analyse_cached.cache_clear()
    with pytest.raises(CorpusError) as err:
        pair_documents(load_config(make_config(tmp_path)))
    message = str(err.value)
    assert "\n" not in message and PIVOT in message and THAI in message
    assert "17 paragraphs" in message and "not enough memory" in message
    aligner._analyse_cached.cache_clear()
