"""Tests for evalkit.align: gold alignments on the vn-jp-2023 corpus, verdicts,
synthetic perturbations (so the aligner is not tuned to this corpus), edge
cases, and the DP against brute force."""

from __future__ import annotations

import itertools
import math
import re
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow running without installing the package
    sys.path.insert(0, str(ROOT))

from evalkit.align import Alignment, Bead, PairingVerdict, align_paragraphs, assess_translation  # noqa: E402
from evalkit.align.dp import Posteriors, best_cost_batch, viterbi  # noqa: E402
from evalkit.align.text import canonical_number, extract_numbers, strip_diacritics  # noqa: E402

CORPUS = ROOT / "corpus" / "vn-jp-2023"


@lru_cache(maxsize=None)
def read_doc(prefix: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Non-empty stripped lines of ``<prefix>_*.txt`` and their 1-based line numbers."""
    (path,) = sorted(CORPUS.glob(f"{prefix}_*.txt"))
    paras, lines = [], []
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            paras.append(line.strip())
            lines.append(no)
    return tuple(paras), tuple(lines)


VI, TH, MS, ID, VI2 = "002", "000", "001", "003", "004"
GOLD_TH = {(1, 5), (3, 9)} | {(5 + 2 * k, 13 + 2 * k) for k in range(15)}
GOLD_MS = {(3, 1)} | {(5 + 2 * k, 3 + k) for k in range(15)}


def check_well_formed(al: Alignment, n: int, m: int) -> None:
    """Every index exactly once, monotonic, confidences in [0, 1], allowed bead shapes."""
    src = [i for b in al.beads for i in b.source]
    tgt = [j for b in al.beads for j in b.target]
    assert src == list(range(n))
    assert tgt == list(range(m))
    for b in al.beads:
        assert (len(b.source), len(b.target)) in {(1, 1), (1, 2), (2, 1), (1, 0), (0, 1)}
        assert 0.0 <= b.confidence <= 1.0
    assert al.unmatched_source == tuple(i for b in al.beads if not b.target for i in b.source)
    assert al.unmatched_target == tuple(j for b in al.beads if not b.source for j in b.target)
    assert al.pairs == tuple(b for b in al.beads if b.source and b.target)


def line_pairs(al: Alignment, src_lines, tgt_lines) -> set[tuple[tuple[int, ...], tuple[int, ...]]]:
    return {(tuple(src_lines[i] for i in b.source), tuple(tgt_lines[j] for j in b.target)) for b in al.pairs}


def index_pairs(al: Alignment) -> set[tuple[tuple[int, ...], tuple[int, ...]]]:
    return {(b.source, b.target) for b in al.pairs}


# --------------------------------------------------------------------------- corpus gold


@pytest.mark.parametrize("tgt_prefix, lang, gold", [(TH, "th", GOLD_TH), (MS, "ms", GOLD_MS)])
def test_gold_alignment_on_corpus(tgt_prefix, lang, gold):
    src, src_lines = read_doc(VI)
    tgt, tgt_lines = read_doc(tgt_prefix)
    al = align_paragraphs(src, tgt, "vi", lang)
    check_well_formed(al, len(src), len(tgt))
    expected = {((s,), (t,)) for s, t in gold}
    assert line_pairs(al, src_lines, tgt_lines) == expected
    # everything else (boilerplate, captions, duplicated caption, the tail the
    # truncated original lacks, "Leave a Reply") is unmatched
    assert {src_lines[i] for i in al.unmatched_source} == set(src_lines) - {s for s, _ in gold}
    assert {tgt_lines[j] for j in al.unmatched_target} == set(tgt_lines) - {t for _, t in gold}
    # the aligner is confident about the body of the article
    confident = [b for b in al.pairs if b.confidence >= 0.5]
    assert len(confident) >= len(gold) - 2


@pytest.mark.parametrize(
    "tgt_prefix, lang, expected",
    [(TH, "th", True), (MS, "ms", True), (ID, "id", False), (VI2, "vi", False)],
)
def test_verdicts_on_corpus(tgt_prefix, lang, expected):
    src, _ = read_doc(VI)
    tgt, _ = read_doc(tgt_prefix)
    al = align_paragraphs(src, tgt, "vi", lang)
    verdict = assess_translation(src, tgt, al, "vi", lang)
    assert isinstance(verdict, PairingVerdict)
    assert verdict.is_translation is expected
    assert 0.0 <= verdict.score <= 1.0
    # clear margin around the 0.5 threshold (measured: th 0.91, ms 0.92, id/vi 0.002)
    if expected:
        assert verdict.score >= 0.8
    else:
        assert verdict.score <= 0.1
    assert re.search(r"\d+ of \d+ source paragraphs", verdict.reason)
    assert "threshold" in verdict.reason


def test_other_article_sharing_names_is_rejected_in_both_directions():
    """003 is about the same visit (Vo Van Thuong, Kishida, 27 November, VNA)."""
    for a, la, b, lb in [(MS, "ms", ID, "id"), (ID, "id", VI, "vi"), (TH, "th", ID, "id")]:
        src, _ = read_doc(a)
        tgt, _ = read_doc(b)
        v = assess_translation(src, tgt, align_paragraphs(src, tgt, la, lb), la, lb)
        assert not v.is_translation, (a, b, v.reason)


def test_translation_direction_and_third_language():
    """Swapped direction (the truncated side is now the target) and th<->ms."""
    for a, la, b, lb in [(TH, "th", VI, "vi"), (MS, "ms", VI, "vi"), (TH, "th", MS, "ms")]:
        src, _ = read_doc(a)
        tgt, _ = read_doc(b)
        v = assess_translation(src, tgt, align_paragraphs(src, tgt, la, lb), la, lb)
        assert v.is_translation, (a, b, v.reason)


def test_thai_to_malay_alignment_follows_the_shared_structure():
    """Both are translations of the same complete article.  Thai 9, 13..41
    (odd) and 47..65 (odd) are Malay 1, 3..17 and 20..29; the two video
    captions (th 11 / ms 2) translate each other too.  The photo caption
    (th 43/45 duplicated, ms 19) and the footers ("VnExpress.net", comment
    counters) may pair with each other, but never with body text, and the
    Thai page chrome (lines 1, 3, 7 and the headline list) stays unmatched."""
    th, th_lines = read_doc(TH)
    ms, ms_lines = read_doc(MS)
    al = align_paragraphs(th, ms, "th", "ms")
    check_well_formed(al, len(th), len(ms))
    got = line_pairs(al, th_lines, ms_lines)
    body = {((9,), (1,)), ((11,), (2,))} | {((13 + 2 * k,), (3 + k,)) for k in range(15)}
    body |= {((47 + 2 * k,), (20 + k,)) for k in range(10)}
    assert body <= got
    allowed_extra = {((43,), (19,)), ((45,), (19,)), ((67,), (30,)), ((70,), (31,))}
    assert got - body <= allowed_extra
    assert assess_translation(th, ms, al, "th", "ms").is_translation


# --------------------------------------------------------------------------- synthetic perturbations


def gold_parallel(lang: str) -> tuple[list[str], list[str]]:
    """The clean parallel core of the corpus: gold source/target paragraphs in order."""
    src, src_lines = read_doc(VI)
    tgt_prefix, gold = (TH, GOLD_TH) if lang == "th" else (MS, GOLD_MS)
    tgt, tgt_lines = read_doc(tgt_prefix)
    s_idx = {no: k for k, no in enumerate(src_lines)}
    t_idx = {no: k for k, no in enumerate(tgt_lines)}
    pairs = sorted(gold)
    return [src[s_idx[s]] for s, _ in pairs], [tgt[t_idx[t]] for _, t in pairs]


def identity_pairs(n: int) -> set:
    return {((k,), (k,)) for k in range(n)}


BOILERPLATE_TGT = {
    "ms": ["Vnexpress.net", "Komen (0)", "No data", "Dunia", "Kongsi artikel ini di Facebook"],
    "th": ["วีเอ็นเอ็กซ์เพรส.เน็ต", "การแสดงความคิดเห็น (0)", "No data", "ข่าว", "ธุรกิจ"],
}
BOILERPLATE_SRC = ["Leave a Reply", "Chia sẻ", "Your email address will not be published."]


@pytest.mark.parametrize("lang", ["ms", "th"])
def test_clean_parallel_core_is_aligned_one_to_one(lang):
    src, tgt = gold_parallel(lang)
    al = align_paragraphs(src, tgt, "vi", lang)
    assert index_pairs(al) == identity_pairs(len(src))
    assert assess_translation(src, tgt, al, "vi", lang).is_translation


@pytest.mark.parametrize("lang", ["ms", "th"])
def test_inserted_boilerplate_stays_unmatched(lang):
    src, tgt = gold_parallel(lang)
    junk = BOILERPLATE_TGT[lang]
    caption = tgt[4][: len(tgt[4]) // 3]
    # interleave junk after target 0, 5, 9 and at both ends; a caption twice
    new_tgt = [junk[0], junk[1]] + tgt[:1] + [junk[2]] + tgt[1:6] + [caption, caption] + tgt[6:10]
    new_tgt += [junk[3]] + tgt[10:] + [junk[4], junk[0]]
    new_src = [BOILERPLATE_SRC[1]] + src[:8] + [BOILERPLATE_SRC[0]] + src[8:] + [BOILERPLATE_SRC[2]]
    al = align_paragraphs(new_src, new_tgt, "vi", lang)
    check_well_formed(al, len(new_src), len(new_tgt))
    s_real = [k for k, p in enumerate(new_src) if p not in BOILERPLATE_SRC]
    t_real = [k for k, p in enumerate(new_tgt) if p not in junk and p != caption]
    expected = {((s,), (t,)) for s, t in zip(s_real, t_real)}
    assert index_pairs(al) == expected
    assert assess_translation(new_src, new_tgt, al, "vi", lang).is_translation


@pytest.mark.parametrize("lang", ["ms", "th"])
@pytest.mark.parametrize("side", ["source", "target"])
def test_dropped_paragraph_every_position(lang, side):
    """Drop each paragraph in turn from one side.

    When the dropped paragraph's neighbour has a similar length and no anchor
    (frequent in Thai, where names are transliterated), a length-based
    aligner can legitimately pick the neighbour; what we require is that such
    a local mix-up stays local, is flagged by a lower confidence, and that
    most positions are recovered exactly (measured: ms 17+15/17, th 14+15/17).
    """
    base_src, base_tgt = gold_parallel(lang)
    exact = 0
    for drop in range(len(base_src)):
        src, tgt = list(base_src), list(base_tgt)
        if side == "target":
            del tgt[drop]
            expected = {((k,), (k if k < drop else k - 1,)) for k in range(len(src)) if k != drop}
        else:
            del src[drop]
            expected = {((k if k < drop else k - 1,), (k,)) for k in range(len(tgt)) if k != drop}
        al = align_paragraphs(src, tgt, "vi", lang)
        check_well_formed(al, len(src), len(tgt))
        got = index_pairs(al)
        exact += got == expected
        # far from the gap everything is exact
        far = {p for p in expected if abs(p[0][0] - drop) > 2 and abs(p[1][0] - drop) > 2}
        assert far <= got, (drop, far - got)
        assert len(got - expected) <= 2, (drop, got - expected)
        # confident pairs are right (with the translation lexicon one wrong pair reaches 0.90: without Thai
        # line 7, 'Hai lãnh đạo … sẽ …' shares 'sẽ'/'จะ' with Thai line 6, whose own pivot line's words
        # 'luôn', 'dài' were translated freely; without the lexicon 12 wrong pairs >= 0.85 on the held-out
        # Thai edits, with it 4)
        for bead in al.pairs:
            if bead.confidence >= 0.92:
                assert (bead.source, bead.target) in expected, (drop, bead)
    assert exact >= len(base_src) - 3


def split_at_sentence(text: str) -> tuple[str, str]:
    """Split at the sentence end closest to the middle (". " or, for Thai, a space)."""
    cuts = [m.end() for m in re.finditer(r"[.!?][”\"]?\s", text)] or [m.end() for m in re.finditer(r"\s", text)]
    cut = min(cuts, key=lambda c: abs(c - len(text) / 2))
    return text[:cut].strip(), text[cut:].strip()


@pytest.mark.parametrize("lang, k", [("ms", 0), ("ms", 7), ("ms", 13), ("th", 8)])
def test_split_target_paragraph_becomes_one_to_two(lang, k):
    src, tgt = gold_parallel(lang)
    a, b = split_at_sentence(tgt[k])
    assert a and b
    new_tgt = tgt[:k] + [a, b] + tgt[k + 1 :]
    al = align_paragraphs(src, new_tgt, "vi", lang)
    check_well_formed(al, len(src), len(new_tgt))
    expected = {((s,), (s if s < k else s + 1,)) for s in range(len(src)) if s != k} | {((k,), (k, k + 1))}
    assert index_pairs(al) == expected


@pytest.mark.parametrize("lang, k", [("ms", 5), ("ms", 11), ("th", 3)])
def test_merged_target_paragraphs_become_two_to_one(lang, k):
    src, tgt = gold_parallel(lang)
    new_tgt = tgt[:k] + [tgt[k] + " " + tgt[k + 1]] + tgt[k + 2 :]
    al = align_paragraphs(src, new_tgt, "vi", lang)
    check_well_formed(al, len(src), len(new_tgt))
    expected = {((s,), (s if s < k else s - 1,)) for s in range(len(src)) if s not in (k, k + 1)}
    expected |= {((k, k + 1), (k,))}
    assert index_pairs(al) == expected


def test_all_perturbations_at_once():
    src, tgt = gold_parallel("ms")
    a, b = split_at_sentence(tgt[2])
    new_tgt = ["Vnexpress.net"] + tgt[:2] + [a, b] + tgt[3:9] + [tgt[9] + " " + tgt[10]] + tgt[11:14] + tgt[15:]
    new_tgt += ["Komen (0)", "No data", "No data"]
    new_src = src + ["Leave a Reply"]
    al = align_paragraphs(new_src, new_tgt, "vi", "ms")
    check_well_formed(al, len(new_src), len(new_tgt))
    got = index_pairs(al)
    assert ((2,), (3, 4)) in got
    assert ((9, 10), (11,)) in got
    assert 14 in al.unmatched_source and 16 in al.unmatched_source
    for j in (0, len(new_tgt) - 3, len(new_tgt) - 2, len(new_tgt) - 1):
        assert j in al.unmatched_target
    assert {((0,), (1,)), ((1,), (2,)), ((8,), (10,)), ((13,), (14,)), ((15,), (15,))} <= got


def test_length_ratio_is_estimated_not_assumed():
    """A 'language' whose paragraphs are 2.3x longer (each Malay paragraph
    followed by a padded paraphrase) still aligns 1-1 with junk rejected."""
    src, tgt = gold_parallel("ms")
    padded = [t + " " + t[: int(len(t) * 0.3)] + " " + t for t in tgt]
    al = align_paragraphs(src, ["Komen (0)"] + padded + ["Vnexpress.net"], "vi", "xx")
    assert index_pairs(al) == {((k,), (k + 1,)) for k in range(len(src))}


# --------------------------------------------------------------------------- edge cases


def test_empty_inputs():
    src, _ = read_doc(VI)
    for s, t in [([], []), ([], list(src)), (list(src), [])]:
        al = align_paragraphs(s, t, "vi", "th")
        check_well_formed(al, len(s), len(t))
        assert not al.pairs
        v = assess_translation(s, t, al, "vi", "th")
        assert v.is_translation is False and v.score == 0.0
        assert "empty" in v.reason


def test_single_paragraph():
    src, _ = gold_parallel("ms")
    _, tgt = gold_parallel("ms")
    # a translation pair with anchors (2045)
    al = align_paragraphs([src[13]], [tgt[13]], "vi", "ms")
    assert index_pairs(al) == {((0,), (0,))}
    check_well_formed(al, 1, 1)
    v = assess_translation([src[13]], [tgt[13]], al, "vi", "ms")
    assert 0.0 <= v.score <= 1.0 and v.reason
    # one paragraph against a whole document and back
    for s, t in [([src[5]], tgt), (src, [tgt[5]])]:
        al = align_paragraphs(s, t, "vi", "ms")
        check_well_formed(al, len(s), len(t))
        assert len(al.pairs) <= 1


UNRELATED_EN = [
    "The home side dominated possession in the first half but failed to convert a series of corners.",
    "After the break the visitors changed their formation, pushing two midfielders higher up the pitch, and scored twice within ten minutes through quick counter-attacks.",
    "Supporters left the stadium disappointed; the coach said the squad would review the footage on Monday before travelling for the cup tie.",
    "Ticket prices for the next season have not yet been announced.",
    "The club's academy, opened a decade ago, has now produced four first-team regulars and several players sold abroad for substantial fees.",
]


def test_unrelated_target_is_rejected_with_reason():
    src, _ = read_doc(VI)
    al = align_paragraphs(src, UNRELATED_EN, "vi", "en")
    check_well_formed(al, len(src), len(UNRELATED_EN))
    v = assess_translation(src, UNRELATED_EN, al, "vi", "en")
    assert not v.is_translation
    assert v.score < 0.2
    assert "threshold" in v.reason


def test_unknown_language_codes_and_determinism():
    src, _ = read_doc(VI)
    tgt, _ = read_doc(MS)
    a1 = align_paragraphs(src, tgt, "", "zz")
    a2 = align_paragraphs(list(src), list(tgt), "", "zz")
    assert a1 == a2
    assert index_pairs(a1) == index_pairs(align_paragraphs(src, tgt, "vi", "ms"))


def test_assess_rejects_inconsistent_alignment():
    src, _ = gold_parallel("ms")
    with pytest.raises(ValueError):
        assess_translation(src, src, Alignment((Bead((0,), (0,), 1.0),)), "vi", "vi")


# --------------------------------------------------------------------------- text features


def test_number_normalisation():
    assert canonical_number("100") == "100"
    assert canonical_number("1.000") == canonical_number("1,000") == "1000"
    assert canonical_number("100,000") == "100000"
    assert canonical_number("268,5") == canonical_number("268.5") == "268.5"
    assert canonical_number("1.234,5") == canonical_number("1,234.5") == "1234.5"
    # Thai digits and Buddhist-Era years
    assert extract_numbers("พ.ศ. ๒๕๖๖", buddhist_era=True) == frozenset({"2023"})
    assert extract_numbers("ปี 2516 และ 2557", buddhist_era=True) == frozenset({"1973", "2014"})
    assert extract_numbers("năm 2566", buddhist_era=False) == frozenset({"2566"})
    assert extract_numbers("28/11/2023", buddhist_era=True) == frozenset({"28", "11", "2023"})
    assert extract_numbers("2,500 บาท", buddhist_era=True) == frozenset({"2500"})


def test_strip_diacritics_keeps_other_scripts():
    assert strip_diacritics("Võ Văn Thưởng, Đà Nẵng") == "Vo Van Thuong, Da Nang"
    thai = "ประธานาธิบดี"
    assert strip_diacritics(thai) == thai


# --------------------------------------------------------------------------- DP vs brute force

MOVES = ((1, 1), (1, 2), (2, 1), (1, 0), (0, 1))


def _all_paths(n, m):
    if n == 0 and m == 0:
        yield []
        return
    for di, dj in MOVES:
        if di <= n and dj <= m:
            for rest in _all_paths(n - di, m - dj):
                yield [(di, dj)] + rest


def _path_cost(costs, path, gap_open):
    i = j = 0
    total = 0.0
    in_gap = False
    steps = []
    for di, dj in path:
        total += costs[(di, dj)][i, j]
        skip = not (di and dj)
        if skip and not in_gap:
            total += gap_open
        in_gap = skip
        steps.append((i, j, di, dj))
        i, j = i + di, j + dj
    return total, steps


@pytest.mark.parametrize("seed", range(4))
def test_dp_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, m, gap = 3 + seed % 2, 4, 0.7
    costs = {}
    for mv in MOVES:
        c = np.full((n + 1, m + 1), np.inf)
        c[: n + 1 - mv[0], : m + 1 - mv[1]] = rng.uniform(0.0, 3.0, (n + 1 - mv[0], m + 1 - mv[1]))
        costs[mv] = c
    scored = [_path_cost(costs, p, gap) for p in _all_paths(n, m)]
    best_cost, best_steps = min(scored, key=lambda x: x[0])
    total, steps = viterbi(costs, n, m, gap)
    assert math.isclose(total, best_cost, rel_tol=1e-9)
    assert steps == best_steps
    # posteriors: exact marginals over all paths
    weights = np.array([math.exp(-c) for c, _ in scored])
    z = weights.sum()
    post = Posteriors(costs, n, m, gap)
    assert math.isclose(post.log_z, math.log(z), rel_tol=1e-9)
    for step in {s for _, st in scored for s in st}:
        exact = sum(w for w, (_, st) in zip(weights, scored) if step in st) / z
        assert math.isclose(post.bead(step), exact, rel_tol=1e-7, abs_tol=1e-12)
    for i in range(n):
        exact = sum(w for w, (_, st) in zip(weights, scored) if any(s[0] == i and s[2:] == (1, 0) for s in st)) / z
        assert math.isclose(post.source_unmatched(i), exact, rel_tol=1e-7, abs_tol=1e-12)
    for j in range(m):
        exact = sum(w for w, (_, st) in zip(weights, scored) if any(s[1] == j and s[2:] == (0, 1) for s in st)) / z
        assert math.isclose(post.target_unmatched(j), exact, rel_tol=1e-7, abs_tol=1e-12)
    # batched 1-1/1-0/0-1 DP
    only = {mv: costs[mv] for mv in [(1, 1), (1, 0), (0, 1)]}
    skip = 1.3
    only[(1, 0)] = np.where(np.isfinite(costs[(1, 0)]), skip, np.inf)
    only[(0, 1)] = np.where(np.isfinite(costs[(0, 1)]), skip, np.inf)
    batch = best_cost_batch(costs[(1, 1)][None, :n, :m], skip, gap)[0]
    assert math.isclose(batch, viterbi(only, n, m, gap)[0], rel_tol=1e-9)


def test_bead_paths_helper_is_complete():
    # sanity check of the brute-force enumerator itself: 1x1 has pair or two skips (2 orders)
    assert sorted(map(tuple, _all_paths(1, 1))) == [((0, 1), (1, 0)), ((1, 0), (0, 1)), ((1, 1),)]
    assert all(sum(d[0] for d in p) == 2 and sum(d[1] for d in p) == 3 for p in itertools.islice(_all_paths(2, 3), 50))
