"""Sufficient statistics, bootstrap intervals and paired tests: exact, deterministic, and as sacrebleu's.

Text is the project's real Malay and Thai corpus; "systems" are made from it
deterministically (the reference with words dropped, a copy of the Vietnamese
source), so every number here is reproducible offline.
"""

import random

import numpy as np
import pytest
import sacrebleu.significance as sacrebleu_significance
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import PairedTest

from conftest import CORPUS, MALAY, PIVOT, THAI
from evalkit.corpus import load_document
from evalkit.errors import ScoringError
from evalkit.scorers import METRICS
from evalkit.scorers import stats as stats_module
from evalkit.scorers.base import Scorer
from evalkit.scorers.stats import (
    approximate_randomization, bootstrap_ci, bootstrap_cis_by_group, paired_bootstrap, paired_bootstraps_by_group,
)

METRIC_NAMES = ["chrf", "chrf++", "bleu", "ter"]
SACREBLEU_METRICS = {
    "chrf": lambda: CHRF(),
    "chrf++": lambda: CHRF(word_order=2),
    "bleu": lambda: BLEU(),
    "ter": lambda: TER(),
}
TESTS = {"bs": (paired_bootstrap, 1000), "ar": (approximate_randomization, 10000)}


def texts(name: str) -> list[str]:
    return load_document(CORPUS / name).texts


def drop_words(lines: list[str], rate: float, seed: int) -> list[str]:
    """A deterministic imperfect 'translation': the reference with a share of its words dropped."""
    rng = random.Random(seed)
    out = []
    for line in lines:
        words = line.split()
        out.append(" ".join(w for w in words if rng.random() >= rate) or words[0])
    return out


MALAY_REFS = texts(MALAY)[:16]
SOURCE_COPY = texts(PIVOT)[1:17]  # the Vietnamese source copied through: a clearly worse system
THAI_REFS = texts(THAI)[:16]


@pytest.fixture(autouse=True)
def _sacrebleu_default_seed(monkeypatch):
    # sacrebleu reads its seed from the environment; pin it to the default evalkit also uses.
    monkeypatch.setenv("SACREBLEU_SEED", "12345")


# --- statistics ----------------------------------------------------------------


@pytest.mark.parametrize("name", METRIC_NAMES)
@pytest.mark.parametrize(
    "lang, refs, cands",
    [
        ("ms", MALAY_REFS, drop_words(MALAY_REFS, 0.2, seed=1)),
        ("ms", MALAY_REFS, SOURCE_COPY),
        ("th", THAI_REFS, [r[: len(r) * 3 // 4] for r in THAI_REFS]),
        ("th", THAI_REFS, texts(THAI)[1:17]),
    ],
)
def test_statistics_reproduce_corpus_score_exactly(name, lang, refs, cands):
    scorer = METRICS.get(name)(lang)
    stats = scorer.statistics(cands, refs)
    assert stats.shape[0] == len(refs) and stats.dtype == np.float64
    assert scorer.score_from_statistics(stats) == scorer.corpus_score(cands, refs).score
    assert scorer.score_from_statistics(stats.sum(axis=0)) == scorer.corpus_score(cands, refs).score
    # Additive: any subset of rows is the corpus score of that subset.
    assert scorer.score_from_statistics(stats[3:9]) == scorer.corpus_score(cands[3:9], refs[3:9]).score


def test_thai_statistics_are_taken_on_segmented_words():
    # Without segmentation a Thai paragraph is one "word": an exact copy would have 1 unigram, BLEU 0.
    scorer = METRICS.get("bleu")("th")
    stats = scorer.statistics(THAI_REFS[:1], THAI_REFS[:1])
    sys_len = stats[0, 0]
    assert sys_len > 10
    assert scorer.score_from_statistics(stats) == pytest.approx(100.0)


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_statistics_refuse_what_the_other_methods_refuse(name):
    scorer = METRICS.get(name)("ms")
    with pytest.raises(ScoringError, match="2 candidates but 1 references"):
        scorer.statistics(["a", "b"], ["a"])
    with pytest.raises(ScoringError, match="empty reference"):
        scorer.statistics(["a"], [" "])
    with pytest.raises(ScoringError, match="nothing to score"):
        scorer.statistics([], [])
    with pytest.raises(ScoringError, match="must be 1-D"):
        scorer.score_from_statistics(np.zeros((2, 2, 2)))


# --- bootstrap confidence interval --------------------------------------------


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_interval_contains_the_score_and_narrows_with_more_paragraphs(name):
    scorer = METRICS.get(name)("ms")
    cands = drop_words(MALAY_REFS, 0.3, seed=2)
    stats = scorer.statistics(cands, MALAY_REFS)
    ci = bootstrap_ci(scorer, stats)
    assert ci.low < ci.score < ci.high
    assert ci.score == scorer.corpus_score(cands, MALAY_REFS).score
    assert (ci.n_resamples, ci.seed, ci.confidence) == (1000, 12345, 0.95)
    assert ci.signature.startswith(scorer.signature()) and ci.signature.endswith("|bs:1000|rs:12345")
    # Four times the paragraphs (the same ones, so the score is unchanged): about half the width.
    wider = bootstrap_ci(scorer, np.tile(stats, (4, 1)))
    assert wider.score == pytest.approx(ci.score)
    assert (wider.high - wider.low) < 0.7 * (ci.high - ci.low)
    assert wider.low < wider.score < wider.high


def test_interval_is_deterministic_for_a_seed():
    scorer = METRICS.get("chrf")("ms")
    stats = scorer.statistics(drop_words(MALAY_REFS, 0.3, seed=2), MALAY_REFS)
    first, again = bootstrap_ci(scorer, stats, seed=7), bootstrap_ci(scorer, stats, seed=7)
    assert first == again
    assert bootstrap_ci(scorer, stats, seed=8) != first
    narrower = bootstrap_ci(scorer, stats, seed=7, confidence=0.5)
    assert first.low < narrower.low < narrower.high < first.high


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_interval_matches_sacrebleu_bootstrap(name):
    """sacrebleu reports (mean, half-width) from the same resampling indices; it sums float32 statistics."""
    scorer = METRICS.get(name)("ms")
    cands = drop_words(MALAY_REFS, 0.3, seed=2)
    ci = bootstrap_ci(scorer, scorer.statistics(cands, MALAY_REFS))
    reference = SACREBLEU_METRICS[name]().corpus_score(cands, [MALAY_REFS], n_bootstrap=1000)
    assert (ci.high - ci.low) / 2 == pytest.approx(reference._ci, rel=1e-5)


# --- paired tests ------------------------------------------------------------------


@pytest.mark.parametrize("name", METRIC_NAMES)
@pytest.mark.parametrize("test", ["bs", "ar"])
def test_identical_systems_are_not_different(name, test):
    scorer = METRICS.get(name)("ms")
    stats = scorer.statistics(drop_words(MALAY_REFS, 0.3, seed=2), MALAY_REFS)
    fn, n = TESTS[test]
    result = fn(scorer, stats, stats.copy(), n)
    assert result.p_value == 1.0 and result.delta == 0.0
    assert not result.significant and result.better is None


@pytest.mark.parametrize("name", METRIC_NAMES)
@pytest.mark.parametrize("test", ["bs", "ar"])
def test_clearly_better_system_is_significant_in_the_metric_direction(name, test):
    scorer = METRICS.get(name)("ms")
    good = scorer.statistics(drop_words(MALAY_REFS, 0.1, seed=3), MALAY_REFS)
    source_copy = scorer.statistics(SOURCE_COPY, MALAY_REFS)
    fn, n = TESTS[test]
    result = fn(scorer, good, source_copy, n)
    assert result.p_value < 0.05 and result.significant and result.better == "system"
    assert result.p_value == 1 / (n + 1)  # no resample comes close
    assert (result.delta < 0) if name == "ter" else (result.delta > 0)
    assert result.higher_is_better == (name != "ter")
    reversed_ = fn(scorer, source_copy, good, n)
    assert reversed_.significant and reversed_.better == "baseline" and reversed_.delta == -result.delta
    # The same data, a stricter alpha than the smallest possible p: not significant.
    assert not fn(scorer, good, source_copy, n, alpha=1 / (n + 2)).significant


def close_systems():
    """Two systems of similar quality, so p-values land mid-range where parity is informative."""
    refs = texts(MALAY)[:28]
    return refs, drop_words(refs, 0.30, seed=1), drop_words(refs, 0.33, seed=2)


def sacrebleu_p(name, test, system, baseline, refs):
    _, results = PairedTest(
        [("baseline", baseline), ("system", system)], {name: SACREBLEU_METRICS[name]()}, [refs],
        test_type=test, n_samples=TESTS[test][1],
    )()
    (key,) = [k for k in results if k != "System"]
    return results[key][1].p_value


@pytest.mark.parametrize("name", METRIC_NAMES)
@pytest.mark.parametrize("test", ["bs", "ar"])
def test_p_values_match_sacrebleu_paired_test(name, test, monkeypatch):
    """Same seed and resample count, so the draws are identical; only the tie rule differs.

    sacrebleu counts resamples with a statistic `>` the observed one, evalkit `>=`
    (else a system is 'significantly' different from itself). Patching sacrebleu's
    comparison to `>=` must give exactly evalkit's p-value; unpatched, evalkit's can
    only be larger, by the ties (TER under AR has many: its null distribution is discrete).
    """
    refs, system, baseline = close_systems()
    scorer = METRICS.get(name)("ms")
    fn, n = TESTS[test]
    ours = fn(scorer, scorer.statistics(system, refs), scorer.statistics(baseline, refs), n)
    assert 0.02 < ours.p_value < 0.9  # mid-range: an informative comparison

    strict = sacrebleu_p(name, test, system, baseline, refs)
    assert strict <= ours.p_value
    if not (name == "ter" and test == "ar"):
        assert strict == ours.p_value  # no ties on these data

    def with_ties(stats, real_difference):
        return (np.sum(stats >= real_difference).item() + 1) / (len(stats) + 1)

    monkeypatch.setattr(sacrebleu_significance, "_compute_p_value", with_ties)
    assert sacrebleu_p(name, test, system, baseline, refs) == ours.p_value


# --- degenerate inputs ------------------------------------------------------------


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_a_single_paragraph_gives_a_point_interval_and_no_significance(name):
    scorer = METRICS.get(name)("ms")
    good = scorer.statistics(MALAY_REFS[:1], MALAY_REFS[:1])
    bad = scorer.statistics(SOURCE_COPY[:1], MALAY_REFS[:1])
    ci = bootstrap_ci(scorer, bad)
    assert ci.low == ci.score == ci.high and ci.note
    for test, (fn, n) in TESTS.items():
        result = fn(scorer, good, bad, n)
        assert result.delta != 0 and result.p_value == 1.0 and not result.significant, test
    assert paired_bootstrap(scorer, good, bad).note


def test_zero_spread_bootstrap_is_not_called_significant():
    # One paragraph repeated: every resample is the same corpus, so the bootstrap sees no variability.
    scorer = METRICS.get("chrf")("ms")
    good = np.tile(scorer.statistics(MALAY_REFS[:1], MALAY_REFS[:1]), (6, 1))
    bad = np.tile(scorer.statistics(SOURCE_COPY[:1], MALAY_REFS[:1]), (6, 1))
    ci = bootstrap_ci(scorer, bad)
    assert ci.low == ci.score == ci.high
    result = paired_bootstrap(scorer, good, bad)
    assert result.p_value == 1.0 and not result.significant and "zero spread" in result.note
    # AR still tests it: 6 of 6 paragraphs agree, p ≈ 2 / 2**6.
    ar = approximate_randomization(scorer, good, bad)
    assert ar.p_value == pytest.approx(2 / 64, abs=0.01)


def test_paired_tests_refuse_unpaired_statistics():
    scorer = METRICS.get("bleu")("ms")
    stats = scorer.statistics(MALAY_REFS, MALAY_REFS)
    with pytest.raises(ScoringError, match="same paragraphs"):
        paired_bootstrap(scorer, stats, stats[:-1])
    with pytest.raises(ScoringError, match="one row per paragraph"):
        approximate_randomization(scorer, stats[0], stats[0])
    with pytest.raises(ScoringError, match="n_resamples"):
        bootstrap_ci(scorer, stats, n_resamples=0)
    with pytest.raises(ScoringError, match="alpha"):
        paired_bootstrap(scorer, stats, stats, alpha=1.5)


# --- vectorised scoring and per-group intervals ---------------------------------------


def one_row_at_a_time(scorer):
    """The scorer as it was before the vectorised hook: every resample scored by sacrebleu, one row at a time."""
    scorer._scores_from_statistics = lambda sums: Scorer._scores_from_statistics(scorer, sums)
    return scorer


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_intervals_and_tests_are_those_of_the_row_by_row_scores(name):
    """bootstrap_ci, paired_bootstrap and AR give the very same results through the vectorised hook."""
    refs, system, baseline = close_systems()
    fast, slow = METRICS.get(name)("ms"), one_row_at_a_time(METRICS.get(name)("ms"))
    own, base = fast.statistics(system, refs), fast.statistics(baseline, refs)
    assert bootstrap_ci(fast, own) == bootstrap_ci(slow, own)
    assert paired_bootstrap(fast, own, base) == paired_bootstrap(slow, own, base)
    assert approximate_randomization(fast, own, base, 3000) == approximate_randomization(slow, own, base, 3000)


def documents_of(sizes):
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    return starts, [*starts[1:], int(np.sum(sizes))]


@pytest.mark.parametrize("name", [*METRIC_NAMES, "numbers"])
@pytest.mark.parametrize("chunk_cells", [None, 5_000])
def test_intervals_by_group_equal_one_call_per_group(name, chunk_cells, monkeypatch):
    """Every group's interval and paired test equal the one-group call: groups of one paragraph, of equal
    sizes (shared draws), and -- with small chunks -- groups too large for one chunk and several scoring blocks."""
    if chunk_cells:
        monkeypatch.setattr(stats_module, "_CHUNK_CELLS", chunk_cells)
        monkeypatch.setattr(stats_module, "_SCORE_BLOCK_CELLS", chunk_cells)
    refs = texts(MALAY) * 2
    system, baseline = drop_words(refs, 0.3, seed=4), drop_words(refs, 0.2, seed=5)
    sources = (texts(PIVOT) * 4)[: len(refs)]
    scorer = METRICS.get(name)("ms", None, "vi")
    own, base = scorer.statistics(system, refs, sources), scorer.statistics(baseline, refs, sources)
    sizes = [1, 3, 3, 7, 1, 3, len(refs) - 18]
    starts, ends = documents_of(sizes)
    cis = bootstrap_cis_by_group(scorer, own, starts, n_resamples=200, seed=3)
    assert cis == [bootstrap_ci(scorer, own[a:b], n_resamples=200, seed=3) for a, b in zip(starts, ends)]
    assert cis[0].note and cis[0].low == cis[0].score == cis[0].high
    tests = paired_bootstraps_by_group(scorer, own, base, starts, n_resamples=200, seed=3, alpha=0.1)
    assert tests == [paired_bootstrap(scorer, own[a:b], base[a:b], n_resamples=200, seed=3, alpha=0.1)
                     for a, b in zip(starts, ends)]


def test_one_group_is_the_whole_corpus():
    scorer = METRICS.get("chrf")("ms")
    stats = scorer.statistics(drop_words(MALAY_REFS, 0.3, seed=2), MALAY_REFS)
    assert bootstrap_cis_by_group(scorer, stats, [0]) == [bootstrap_ci(scorer, stats)]


@pytest.mark.parametrize("starts, why", [([], "begin at 0"), ([1, 4], "begin at 0"), ([0, 4, 4], "increase"),
                                         ([0, 16], "below the 16 rows"), ([0, 9, 5], "increase")])
def test_groups_that_lose_or_repeat_rows_are_refused(starts, why):
    scorer = METRICS.get("bleu")("ms")
    stats = scorer.statistics(MALAY_REFS, MALAY_REFS)
    with pytest.raises(ScoringError, match="group starts must begin at 0 and increase strictly"):
        bootstrap_cis_by_group(scorer, stats, starts)
    with pytest.raises(ScoringError, match="group starts"):
        paired_bootstraps_by_group(scorer, stats, stats, starts)
    with pytest.raises(ScoringError, match="same paragraphs"):
        paired_bootstraps_by_group(scorer, stats, stats[:-1], [0])
