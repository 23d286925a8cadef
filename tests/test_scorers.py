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
