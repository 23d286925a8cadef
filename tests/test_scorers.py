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
