"""spBLEU must equal sacrebleu's own `flores200` tokenizer on the same model file, and never download.

The real FLORES-200 model cannot be fetched here, so a tiny SentencePiece model
trained on the corpus stands in for it. sacrebleu is pointed at a copy of it
through a temporary `$SACREBLEU` in a fresh process (sacrebleu freezes the
variable when first imported), so nothing is ever written to the user's real
~/.sacrebleu.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request

import pytest

from conftest import CORPUS, MALAY, THAI, make_config
from evalkit.corpus import load_document
from evalkit.errors import MetricUnavailableError
from evalkit.scorers import METRICS
from evalkit.scorers.spbleu import sacrebleu_flores200_path
from tiny_models import corpus_text_file, train_spm

MALAY_HYPS = ["Kedua-dua pemimpin bersetuju untuk kerjasama", "Vietnam dan Jepun mengukuhkan hubungan ekonomi pada 2023"]
MALAY_REFS = ["Kedua-dua pemimpin bersetuju mengenai kerjasama", "Vietnam dan Jepun terus mengukuhkan hubungan ekonomi"]
THAI_REFS = load_document(CORPUS / THAI).texts[:4]
THAI_HYPS = [THAI_REFS[0], THAI_REFS[1][: len(THAI_REFS[1]) // 2], THAI_REFS[3], THAI_REFS[2] + " " + THAI_REFS[0][:20]]


@pytest.fixture(scope="module")
def tiny_spm(tmp_path_factory):
    work = tmp_path_factory.mktemp("tiny-spm")
    return train_spm(corpus_text_file(work), work / "flores-standin")


def sacrebleu_flores200(sacrebleu_home, hyps, refs):
    """Corpus and sentence BLEU by sacrebleu's own flores200 tokenizer, in a process that reads $SACREBLEU afresh."""
    script = (
        "import json, sys\n"
        "from sacrebleu.metrics import BLEU\n"
        "hyps, refs = json.load(sys.stdin)\n"
        "corpus = BLEU(tokenize='flores200')\n"
        "sentence = BLEU(tokenize='flores200', effective_order=True)\n"
        "print(json.dumps({'score': corpus.corpus_score(hyps, [refs]).score,\n"
        "                  'signature': str(corpus.get_signature()),\n"
        "                  'sentences': [sentence.sentence_score(h, [r]).score for h, r in zip(hyps, refs)]}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], input=json.dumps([hyps, refs]), capture_output=True,
                          text=True, timeout=120, env={**os.environ, "SACREBLEU": str(sacrebleu_home)})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to open a connection or download fails the test."""
    import sacrebleu.tokenizers.tokenizer_spm
    import sacrebleu.utils

    def refuse(*args, **kwargs):
        raise AssertionError("spbleu tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(sacrebleu.utils, "download_file", refuse)
    monkeypatch.setattr(sacrebleu.tokenizers.tokenizer_spm, "download_file", refuse)


@pytest.mark.parametrize("lang, hyps, refs", [("ms", MALAY_HYPS, MALAY_REFS), ("th", THAI_HYPS, THAI_REFS)])
def test_parity_with_sacrebleus_flores200_tokenizer(tiny_spm, tmp_path, monkeypatch, no_network, lang, hyps, refs):
    home = tmp_path / "sacrebleu"
    (home / "models").mkdir(parents=True)
    shutil.copy(tiny_spm, home / "models" / "flores200sacrebleuspm")  # exactly where sacrebleu looks
    expected = sacrebleu_flores200(home, hyps, refs)

    Scorer = METRICS.get("spbleu")
    explicit = Scorer(lang, Scorer.Options(spm_model=str(tiny_spm)))
    result = explicit.corpus_score(hyps, refs)
    assert result.score == expected["score"] and 0 < result.score < 100
    assert explicit.paragraph_scores(hyps, refs) == expected["sentences"]
    assert result.signature.startswith(expected["signature"] + "|spm:sha256.")
    assert "tok:flores200" in result.signature and result.signature.endswith("|evalkit:0.1.0")
    stats = explicit.statistics(hyps, refs)
    assert explicit.score_from_statistics(stats) == result.score  # exact: summed integer counts

    # Without spm_model, sacrebleu's cached copy under $SACREBLEU is found and used.
    monkeypatch.setenv("SACREBLEU", str(home))
    assert sacrebleu_flores200_path() == home / "models" / "flores200sacrebleuspm"
    cached = Scorer(lang)
    assert cached.corpus_score(hyps, refs) == result


def test_thai_needs_no_word_segmenter(tiny_spm):
    scorer = METRICS.get("spbleu")("th", METRICS.get("spbleu").Options(spm_model=str(tiny_spm)))
    assert scorer.corpus_score(THAI_REFS, THAI_REFS).score == pytest.approx(100.0)
    assert "pretok" not in scorer.signature()  # pieces, not pythainlp words


def test_a_different_model_file_changes_the_signature(tiny_spm, tmp_path):
    other = train_spm(corpus_text_file(tmp_path), tmp_path / "other", vocab_size=600)
    Scorer = METRICS.get("spbleu")
    first = Scorer("ms", Scorer.Options(spm_model=str(tiny_spm))).signature()
    second = Scorer("ms", Scorer.Options(spm_model=str(other))).signature()
    assert first != second and first.split("|spm:")[0] == second.split("|spm:")[0]


def test_missing_model_is_unavailable_at_once_without_network_or_litter(tmp_path, monkeypatch, no_network):
    home = tmp_path / "sacrebleu"
    home.mkdir()
    monkeypatch.setenv("SACREBLEU", str(home))
    scorer = METRICS.get("spbleu")("th")
    with pytest.raises(MetricUnavailableError) as caught:
        scorer.load()
    message = str(caught.value)
    assert "\n" not in message and message.startswith("spbleu: ")
    assert "https://tinyurl.com/flores200sacrebleuspm" in message and "spm_model" in message
    assert str(home / "models" / "flores200sacrebleuspm") in message
    assert list(home.rglob("*")) == []  # no models/ folder, no .lock


def test_empty_cached_file_left_by_a_failed_download_is_not_used(tmp_path, monkeypatch, no_network):
    models = tmp_path / "sacrebleu" / "models"
    models.mkdir(parents=True)
    (models / "flores200sacrebleuspm").write_bytes(b"")
    (models / "flores200sacrebleuspm.lock").write_bytes(b"")
    monkeypatch.setenv("SACREBLEU", str(tmp_path / "sacrebleu"))
    with pytest.raises(MetricUnavailableError, match="evalkit does not download"):
        METRICS.get("spbleu")("ms").load()
    assert sorted(p.name for p in models.iterdir()) == ["flores200sacrebleuspm", "flores200sacrebleuspm.lock"]


@pytest.mark.parametrize("content, match", [(None, "missing or empty"), (b"not a model", "not a SentencePiece model")])
def test_bad_spm_model_option_is_unavailable_in_one_line(tmp_path, content, match):
    path = tmp_path / "flores200.model"
    if content is not None:
        path.write_bytes(content)
    Scorer = METRICS.get("spbleu")
    with pytest.raises(MetricUnavailableError, match=match) as caught:
        Scorer("ms", Scorer.Options(spm_model=str(path))).load()
    assert "\n" not in str(caught.value)


def test_importing_and_constructing_load_nothing():
    code = ("import sys; from evalkit.scorers import METRICS; METRICS.get('spbleu')('th'); "
            "import evalkit.scorers.neural; "
            "print([m for m in ('sentencepiece', 'torch', 'comet', 'bert_score') if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_pipeline_resolves_spm_model_beside_the_config_and_goes_on_without_comet(tiny_spm, tmp_path):
    from evalkit.config import load_config
    from evalkit.pipeline import run

    shutil.copy(tiny_spm, tmp_path / "flores200.model")
    config = make_config(tmp_path, target_lang="ms", target_file=MALAY,
                         metrics=["chrf", {"name": "spbleu", "spm_model": "./flores200.model"}, "comet"],
                         statistics={"bootstrap_resamples": 100, "randomization_trials": 0})
    loaded = load_config(config)
    spbleu = next(m for m in loaded.metrics if m.name == "spbleu")
    assert spbleu.parsed_options.spm_model == str(tmp_path / "flores200.model")
    result = run(loaded)
    assert "unbabel-comet" in result.unavailable_metrics["comet"]
    copy = next(s for s in result.systems if s.name == "copy")
    score = copy.corpus_scores["spbleu"]
    assert score.ci_low <= score.score <= score.ci_high and "tok:flores200" in score.signature
    Scorer = METRICS.get("spbleu")
    direct = Scorer("ms", Scorer.Options(spm_model=str(tiny_spm)))
    candidates = [p.candidate for p in copy.paragraphs]
    references = [p.reference for p in copy.paragraphs]
    assert score.score == direct.corpus_score(candidates, references).score
