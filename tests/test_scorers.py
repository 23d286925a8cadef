"""Scores must equal sacrebleu called directly, and be meaningful for Thai."""

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF, TER
import pytest
from pythainlp.tokenize import word_tokenize

from conftest import CORPUS, MALAY, PIVOT
from evalkit.corpus import load_document
from evalkit.errors import ScoringError
from evalkit.scorers import METRICS

HYPS = ["Kedua-dua pemimpin bersetuju untuk kerjasama", "Vietnam dan Jepun mengukuhkan hubungan ekonomi pada 2023"]
REFS = ["Kedua-dua pemimpin bersetuju mengenai kerjasama", "Vietnam dan Jepun terus mengukuhkan hubungan ekonomi"]


@pytest.mark.parametrize(
    "name, reference_metric, sentence_metric",
    [
        ("chrf", CHRF(), CHRF()),
        ("chrf++", CHRF(word_order=2), CHRF(word_order=2)),
        ("bleu", BLEU(), BLEU(effective_order=True)),
        ("ter", TER(), TER()),
    ],
)
def test_parity_with_sacrebleu(name, reference_metric, sentence_metric):
    scorer = METRICS.get(name)("ms")
    corpus = scorer.corpus_score(HYPS, REFS)
    assert corpus.score == reference_metric.corpus_score(HYPS, [REFS]).score
    assert corpus.signature.startswith(str(reference_metric.get_signature()))
    assert f"version:{sacrebleu.__version__}" in corpus.signature and "evalkit:" in corpus.signature
    expected = [sentence_metric.sentence_score(h, [r]).score for h, r in zip(HYPS, REFS)]
    assert scorer.paragraph_scores(HYPS, REFS) == expected


def test_corpus_bleu_is_not_the_mean_of_paragraph_scores():
    pivot = load_document(CORPUS / PIVOT).texts[1:8]
    malay = load_document(CORPUS / MALAY).texts[0:7]
    scorer = METRICS.get("bleu")("ms")
    corpus = scorer.corpus_score(pivot, malay).score
    paragraphs = scorer.paragraph_scores(pivot, malay)
    assert abs(corpus - sum(paragraphs) / len(paragraphs)) > 0.1


def test_thai_is_word_segmented_for_bleu_and_says_so():
    text = "ประธานาธิบดีหวอวันเทืองประกาศยกระดับความสัมพันธ์เวียดนามญี่ปุ่น"
    other = "ประธานาธิบดีหวอวันเทืองกล่าวว่าเวียดนามถือว่าญี่ปุ่น"
    raw = BLEU().corpus_score([text], [[text]]).score
    assert raw == 0.0  # sacrebleu alone sees one "word" per Thai paragraph
    scorer = METRICS.get("bleu")("th")
    assert scorer.corpus_score([text], [text]).score == pytest.approx(100.0)
    assert "pretok:pythainlp.newmm" in scorer.signature()
    segment = lambda s: " ".join(word_tokenize(s, engine="newmm", keep_whitespace=False))  # noqa: E731
    assert scorer.corpus_score([other], [text]).score == BLEU().corpus_score([segment(other)], [[segment(text)]]).score
    assert "pretok" not in METRICS.get("chrf")("th").signature()  # chrF ignores spaces: segmentation is irrelevant


@pytest.mark.parametrize("name", ["chrf", "chrf++", "bleu", "ter"])
def test_scorers_refuse_unaligned_or_empty_input(name):
    scorer = METRICS.get(name)("ms")
    with pytest.raises(ScoringError, match="2 candidates but 1 references"):
        scorer.corpus_score(["a", "b"], ["a"])
    with pytest.raises(ScoringError, match="empty reference"):
        scorer.paragraph_scores(["a"], [" "])
    with pytest.raises(ScoringError, match="nothing to score"):
        scorer.corpus_score([], [])


def test_bleu_for_japanese_without_mecab_is_unavailable_not_a_crash():
    import importlib.util

    if importlib.util.find_spec("MeCab") is not None:
        pytest.skip("MeCab is installed here: sacrebleu's ja-mecab tokenizer works")
    from evalkit.errors import MetricUnavailableError

    scorer = METRICS.get("bleu")("ja")  # constructing (as config loading does) must not raise
    with pytest.raises(MetricUnavailableError, match=r"bleu for 'ja' needs sacrebleu\[ja\] \(pip install 'sacrebleu\[ja\]'\)"):
        scorer.load()


@pytest.mark.parametrize("lang", ["ms", "th"])
@pytest.mark.parametrize("name", ["chrf", "chrf++", "bleu", "ter"])
def test_paragraph_scores_from_statistics_equal_sentence_score_exactly(name, lang):
    """Paragraph scores are derived from the extracted statistics; they must equal sentence_score to the bit."""
    from evalkit.scorers.segment import segmenter

    refs = load_document(CORPUS / (MALAY if lang == "ms" else "000_04e105a6d28e593c.txt")).texts[:10]
    hyps = [refs[0], "", refs[2][: len(refs[2]) // 3], refs[4] + " " + refs[3], "x", refs[5].upper(),
            " ".join(reversed(refs[6].split())), refs[7], refs[8][:5], "Vietnam"]
    scorer = METRICS.get(name)(lang)
    segment = segmenter(lang)[0] if lang == "th" and name != "chrf" else (lambda t: t)
    sentence = {"chrf": CHRF(), "chrf++": CHRF(word_order=2), "ter": TER(),
                "bleu": BLEU(effective_order=True, tokenize="13a")}[name]
    expected = [sentence.sentence_score(segment(h), [segment(r)]).score for h, r in zip(hyps, refs)]
    stats = scorer.statistics(hyps, refs)
    assert scorer.paragraph_scores(hyps, refs) == expected
    assert (scorer.statistics(hyps, refs) == stats).all()  # the memo serves the same rows
    assert scorer.paragraph_scores(hyps[:3], refs[:3]) == expected[:3]  # and is refreshed for other inputs


def test_statistics_extracted_by_worker_processes_give_the_same_run(tmp_path):
    """The parallel path of large runs, forced on a small one: every number identical to one process's."""
    import dataclasses

    from conftest import make_config
    from evalkit.config import load_config
    from evalkit.pipeline import run

    def scores(workers: int):
        config = make_config(tmp_path, target_lang="th", target_file="000_04e105a6d28e593c.txt",
                             metrics=["chrf", "chrf++", "bleu", "ter"],
                             statistics={"workers": workers, "bootstrap_resamples": 200, "randomization_trials": 200})
        result = run(load_config(config))
        return [(dataclasses.asdict(s.corpus_scores[m]), [p.scores for p in s.paragraphs])
                for s in result.systems for m in s.corpus_scores]

    assert scores(2) == scores(1)


def test_worker_processes_really_extract_the_rows():
    from evalkit.config import StatisticsConfig
    from evalkit.results import ParagraphResult, SystemResult
    from evalkit.scoring import _extract_in_parallel

    thai = load_document(CORPUS / "000_04e105a6d28e593c.txt").texts[:9]
    result = SystemResult(name="s", backend="copy", model=None, status="ok", paragraphs=[
        ParagraphResult([i], [i], f"source {i}", ref, thai[(i + 1) % len(thai)][:60], 1.0) for i, ref in enumerate(thai)])
    scorers = [METRICS.get(name)("th") for name in ("chrf", "bleu", "ter")]
    rows = _extract_in_parallel(StatisticsConfig(workers=2), scorers, result)
    assert set(rows) == {"chrf", "bleu", "ter"}
    for scorer in scorers:
        alone = scorer.statistics([p.candidate for p in result.paragraphs], [p.reference for p in result.paragraphs])
        assert (rows[scorer.name] == alone).all()
        assert scorer.paragraph_scores_from_statistics(rows[scorer.name]) == scorer.paragraph_scores(
            [p.candidate for p in result.paragraphs], [p.reference for p in result.paragraphs])


# --- vectorised corpus scores (Scorer.scores_from_statistics) -------------------------------------


def _edge_statistics(metric) -> list[list]:
    """sacrebleu's own statistics of degenerate pairs: empty candidate, empty reference, both empty, one word."""
    hyps = ["", "Vietnam dan Jepun", "", "x", "satu dua tiga empat lima", "a a a a a a"]
    refs = ["Vietnam dan Jepun", "", "", "Vietnam", "lima empat tiga dua satu", "a"]
    return metric._extract_corpus_statistics(hyps, [refs])


@pytest.mark.parametrize("lang", ["ms", "th"])
@pytest.mark.parametrize("name", ["chrf", "chrf++", "bleu", "ter"])
def test_vectorised_scores_equal_sacrebleu_row_by_row(name, lang):
    """Every row's score equals sacrebleu's `_compute_score_from_stats` to the bit (the brief asked for 1e-9).

    Rows: real paragraph statistics (with an empty candidate, a one-letter one, one without 4-gram matches),
    weighted resample-like sums of them, sacrebleu's statistics of degenerate pairs (empty reference, both
    empty), and the all-zero row.
    """
    import numpy as np

    refs = load_document(CORPUS / (MALAY if lang == "ms" else "000_04e105a6d28e593c.txt")).texts[:12]
    hyps = [refs[0], "", refs[2][: len(refs[2]) // 3], "x", refs[4] + " " + refs[3], refs[5].upper(),
            " ".join(reversed(refs[6].split())), refs[7][:12], refs[8], "Vietnam", refs[10][::-1], refs[11]]
    scorer = METRICS.get(name)(lang)
    rows = scorer.statistics(hyps, refs)
    weights = np.random.default_rng(0).integers(0, 3, size=(300, len(rows))).astype(np.float64)
    edge = np.asarray(_edge_statistics(scorer._metric), dtype=np.float64)
    sums = np.vstack([rows, weights @ rows, edge, np.zeros((1, rows.shape[1]))])
    expected = [scorer._metric._compute_score_from_stats(row.tolist()).score for row in sums]
    assert scorer.scores_from_statistics(sums).tolist() == expected
    assert scorer.scores_from_statistics(sums[:0]).shape == (0,)
    if name == "bleu":
        assert any(row[5] == 0 and row[9] > 0 for row in sums)  # a row with 4-grams but no 4-gram match
        assert 0.0 in expected and any(row[0] == 0 for row in sums)


@pytest.mark.parametrize("options", [
    {}, {"smooth_method": "none"}, {"smooth_method": "floor"}, {"smooth_method": "floor", "smooth_value": 0.3},
    {"smooth_method": "add-k"}, {"smooth_method": "add-k", "smooth_value": 2}, {"effective_order": True},
    {"effective_order": True, "smooth_method": "none"}, {"max_ngram_order": 2},
])
def test_vectorised_bleu_follows_every_smoothing_and_order_setting(options):
    """Brevity penalty, each smoothing method and effective order exactly as sacrebleu's compute_bleu."""
    import numpy as np

    from evalkit.scorers.sacrebleu_batch import metric_scores

    metric = BLEU(**options)
    refs = load_document(CORPUS / MALAY).texts[:10]
    hyps = ["", "x", refs[2][:30], refs[3], " ".join(reversed(refs[4].split())), refs[5][:8], refs[6] + " " + refs[7],
            "Vietnam dan", refs[8].lower(), refs[9]]
    rows = np.asarray(metric._extract_corpus_statistics(hyps, [refs]), dtype=np.float64)
    edge = np.asarray(_edge_statistics(metric), dtype=np.float64)
    weights = np.random.default_rng(1).integers(0, 2, size=(200, len(rows))).astype(np.float64)
    sums = np.vstack([rows, edge, weights @ rows])
    expected = [metric._compute_score_from_stats(row.tolist()).score for row in sums]
    assert metric_scores(metric, sums).tolist() == expected


def test_vectorised_chrf_with_eps_smoothing_and_other_orders():
    import numpy as np

    from evalkit.scorers.sacrebleu_batch import metric_scores

    refs = load_document(CORPUS / MALAY).texts[:8]
    hyps = ["", "x", refs[2][:30], refs[3], refs[4].upper(), "Vietnam", refs[6][::-1], refs[7]]
    for metric in (CHRF(eps_smoothing=True), CHRF(word_order=2, eps_smoothing=True), CHRF(char_order=4, beta=3),
                   CHRF(whitespace=True, word_order=1)):
        rows = np.asarray(metric._extract_corpus_statistics(hyps, [refs]), dtype=np.float64)
        sums = np.vstack([rows, np.asarray(_edge_statistics(metric), dtype=np.float64), rows.sum(axis=0)])
        assert metric_scores(metric, sums).tolist() == [metric._compute_score_from_stats(r.tolist()).score for r in sums]


def test_vectorised_spbleu_and_numbers_equal_their_one_row_scores():
    import numpy as np

    from evalkit.scorers.numbers import f1_score

    refs = load_document(CORPUS / MALAY).texts[:10]
    pivot = load_document(CORPUS / PIVOT).texts[1:11]
    hyps = [refs[0], "", refs[2][:40], "2023", refs[4], refs[5].replace("2023", "2024"), refs[6], "x", refs[8], refs[9]]
    numbers = METRICS.get("numbers")("ms", None, "vi")
    rows = numbers.statistics(hyps, refs, pivot)
    sums = np.vstack([rows, np.random.default_rng(2).integers(0, 3, (100, len(rows))) @ rows, np.zeros((1, rows.shape[1]))])
    assert numbers.scores_from_statistics(sums).tolist() == [f1_score(row) for row in sums]

    spbleu = METRICS.get("spbleu")("ms")  # its arithmetic needs no SentencePiece model; the pieces do
    pieces = [" ".join(h) for h in hyps], [" ".join(r) for r in refs]  # stand-in "pieces": characters
    rows = np.asarray(spbleu._metric._extract_corpus_statistics(pieces[0], [pieces[1]]), dtype=np.float64)
    sums = np.vstack([rows, np.random.default_rng(3).integers(0, 3, (100, len(rows))) @ rows])
    assert spbleu.scores_from_statistics(sums).tolist() == [spbleu._score_from_statistics(row) for row in sums]


def test_scores_from_statistics_refuses_a_single_row():
    import numpy as np

    with pytest.raises(ScoringError, match="must be 2-D"):
        METRICS.get("chrf")("ms").scores_from_statistics(np.zeros(18))
