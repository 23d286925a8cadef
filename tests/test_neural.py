"""COMET, CometKiwi and BERTScore: unavailable in one line when they cannot run, real numbers when they can.

unbabel-comet cannot be installed beside transformers 5: it runs in its own
environment through a worker process (tests/test_comet.py scores a tiny real
COMET model there). Its weights checks are tested here, and the scorer's side
of the worker protocol against a stand-in worker that records its requests.
BERTScore runs for real through `bert_score` on a tiny BERT built offline from
the corpus (random weights: the numbers are meaningless, the plumbing is not).
"""

import importlib.metadata
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from conftest import CORPUS, MALAY, PIVOT, make_config
from evalkit.corpus import load_document
from evalkit.errors import MetricUnavailableError, ScoringError
from evalkit.scorers import METRICS
from evalkit.scorers.neural import comet_checkpoint
from evalkit.scorers.stats import approximate_randomization, bootstrap_ci, paired_bootstrap
from tiny_models import corpus_text_file

COMMIT = "0123456789abcdef0123456789abcdef01234567"

MALAY_REFS = load_document(CORPUS / MALAY).texts[:6]
SOURCES = load_document(CORPUS / PIVOT).texts[1:7]


def one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# --- COMET / CometKiwi: the package -------------------------------------------------


@pytest.mark.parametrize("name", ["comet", "cometkiwi"])
def test_comet_without_its_environment_is_unavailable_in_one_line(name, tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_COMET_ENV", str(tmp_path / "no-env"))
    scorer = METRICS.get(name)("ms")
    with pytest.raises(MetricUnavailableError) as caught:
        scorer.load()
    message = one_line(caught)
    assert message.startswith(f"{name}: ") and "run `evalkit setup comet` once" in message
    assert "transformers<5" in message and "own environment" in message
    assert "comet" not in sys.modules


@pytest.mark.parametrize("name", ["comet", "cometkiwi"])
def test_comet_options_are_closed_and_checked(name):
    Options = METRICS.get(name).Options
    assert Options().model == {"comet": "Unbabel/wmt22-comet-da", "cometkiwi": "Unbabel/wmt22-cometkiwi-da"}[name]
    assert Options().device == "auto" and Options().gpus == 1 and Options().batch_size == 16
    assert Options().timeout == 600 and Options().long_segments == "split" and Options().env is None
    for bad in ({"gpus": 2}, {"device": "gpu"}, {"batch_size": 0}, {"modle": "x"}, {"timeout": 0},
                {"long_segments": "truncate"}):
        with pytest.raises(ValidationError):
            Options(**bad)
    assert METRICS.get(name).needs_sources
    with pytest.raises(ScoringError, match="needs the source paragraphs"):
        METRICS.get(name)("ms").corpus_score(["a"], ["b"])


# --- COMET / CometKiwi: the weights ----------------------------------------------------


def fake_hub_snapshot(cache: Path, repo_id: str, files: dict[str, str]) -> Path:
    """The layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<commit>/...}."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    snapshot = repo / "snapshots" / COMMIT
    for name, text in files.items():
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).write_text(text)
    return snapshot


def test_comet_weights_missing_from_the_cache_name_the_model_and_the_fix(tmp_path):
    with pytest.raises(MetricUnavailableError) as caught:
        comet_checkpoint("Unbabel/wmt22-comet-da", "comet", cache_dir=tmp_path)
    message = one_line(caught)
    assert "weights of Unbabel/wmt22-comet-da are not in the Hugging Face cache" in message
    assert "hf download Unbabel/wmt22-comet-da" in message and "local folder" in message
    assert "KeyError" not in message and "not supported" not in message
    with pytest.raises(MetricUnavailableError, match="gated") as caught:
        comet_checkpoint("Unbabel/wmt22-cometkiwi-da", "cometkiwi", cache_dir=tmp_path)
    assert one_line(caught).startswith("cometkiwi: ")


def test_comet_local_folder_without_a_checkpoint_is_unavailable(tmp_path):
    (tmp_path / "wmt22-comet-da").mkdir()
    with pytest.raises(MetricUnavailableError, match="is not a COMET model folder") as caught:
        comet_checkpoint(str(tmp_path / "wmt22-comet-da"))
    assert "checkpoints/model.ckpt" in one_line(caught)


def test_comet_encoder_files_are_checked_too(tmp_path):
    folder = tmp_path / "wmt22-comet-da"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "model.ckpt").write_bytes(b"weights")
    (folder / "hparams.yaml").write_text("class_identifier: regression_metric\npretrained_model: xlm-roberta-large\n")
    with pytest.raises(MetricUnavailableError) as caught:
        comet_checkpoint(str(folder), cache_dir=tmp_path / "empty-cache")
    message = one_line(caught)
    assert "xlm-roberta-large" in message and "hf download xlm-roberta-large" in message
    # With the encoder's config in the cache, the local checkpoint is accepted and hashed.
    fake_hub_snapshot(tmp_path / "cache", "xlm-roberta-large", {"config.json": "{}"})
    checkpoint, revision = comet_checkpoint(str(folder), cache_dir=tmp_path / "cache")
    assert checkpoint == folder / "checkpoints" / "model.ckpt" and revision.startswith("sha256.")
    (folder / "checkpoints" / "model.ckpt").write_bytes(b"other weights")
    assert comet_checkpoint(str(folder), cache_dir=tmp_path / "cache")[1] != revision


def test_comet_hub_id_in_the_cache_resolves_to_its_snapshot_and_commit(tmp_path):
    cache = tmp_path / "cache"
    snapshot = fake_hub_snapshot(cache, "Unbabel/wmt22-cometkiwi-da", {
        "checkpoints/model.ckpt": "weights",
        "hparams.yaml": "class_identifier: unified_metric\npretrained_model: microsoft/infoxlm-large\n",
    })
    with pytest.raises(MetricUnavailableError, match="microsoft/infoxlm-large"):
        comet_checkpoint("Unbabel/wmt22-cometkiwi-da", "cometkiwi", cache_dir=cache)
    fake_hub_snapshot(cache, "microsoft/infoxlm-large", {"config.json": "{}"})
    checkpoint, revision = comet_checkpoint("Unbabel/wmt22-cometkiwi-da", "cometkiwi", cache_dir=cache)
    assert checkpoint == snapshot / "checkpoints" / "model.ckpt" and revision == COMMIT


# --- COMET / CometKiwi: the scorer's side of the worker protocol, against a stand-in worker ----------

RECORDING_WORKER = r'''
import json, os, sys
log = open(os.environ["RECORD_TO"], "a")
print(json.dumps({"event": "ready", "protocol": 1, "versions": {}}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    log.write(line)
    log.flush()
    if request["op"] == "shutdown":
        print(json.dumps({"id": request.get("id"), "ok": True}), flush=True)
        break
    answer = {"id": request["id"], "ok": True}
    if request["op"] == "score":
        samples = request["samples"]
        answer.update(scores=[len(s["mt"]) / 1000 for s in samples], pieces=[1] * len(samples), long=[False] * len(samples))
    print(json.dumps(answer), flush=True)
'''


@pytest.fixture()
def recording_worker(tmp_path, monkeypatch):
    """A COMET environment whose python is a stand-in worker writing every request it gets to a file."""
    import json
    import stat

    from evalkit.scorers import comet_env

    env = tmp_path / "env"
    (env / "bin").mkdir(parents=True)
    worker = tmp_path / "worker.py"
    worker.write_text(RECORDING_WORKER)
    python = env / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{worker}"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    (env / comet_env.STAMP).write_text(json.dumps({"requirements_hash": comet_env.requirements_hash(),
                                                   "versions": {"unbabel-comet": "9.9.9"}}))
    record = tmp_path / "requests.jsonl"
    monkeypatch.setenv("RECORD_TO", str(record))
    encoder = tmp_path / "encoder"
    encoder.mkdir()
    (encoder / "config.json").write_text("{}")
    folder = tmp_path / "comet-model"
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "checkpoints" / "model.ckpt").write_bytes(b"weights")
    (folder / "hparams.yaml").write_text(f"pretrained_model: {encoder}\n")

    def requests():
        return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []

    return env, folder, requests


@pytest.mark.parametrize("name", ["comet", "cometkiwi"])
def test_comet_wiring(recording_worker, name):
    env, folder, requests = recording_worker
    Scorer = METRICS.get(name)
    scorer = Scorer("ms", Scorer.Options(model=str(folder), env=env, device="cuda:1", batch_size=4), "vi")
    candidates = [r[: len(r) // 2] for r in MALAY_REFS]
    try:
        stats = scorer.statistics(candidates, MALAY_REFS, SOURCES)
        paragraphs = scorer.paragraph_scores(candidates, MALAY_REFS, SOURCES)
        corpus = scorer.corpus_score(candidates, MALAY_REFS, SOURCES)
        assert scorer.paragraph_details(candidates, MALAY_REFS, SOURCES) is None  # nothing over the length limit
    finally:
        scorer.close()
    load, score, shutdown = requests()  # statistics, paragraph scores and corpus score share one prediction
    assert load["op"] == "load" and load["checkpoint"] == str(folder / "checkpoints" / "model.ckpt")
    assert load["device"] == "cuda:1" and load["gpus"] == 1 and load["batch_size"] == 4 and load["split_long"]
    assert score["op"] == "score" and shutdown["op"] == "shutdown"
    assert [s["src"] for s in score["samples"]] == SOURCES and [s["mt"] for s in score["samples"]] == candidates
    assert all(("ref" in s) == (name == "comet") for s in score["samples"])
    assert paragraphs == pytest.approx([len(c) / 10 for c in candidates])  # x100, in input order
    assert stats.shape == (6, 2) and (stats[:, 1] == 1).all()
    assert corpus.score == scorer.score_from_statistics(stats) == pytest.approx(np.mean(paragraphs))
    assert f"model:{folder}@sha256." in corpus.signature and "comet:9.9.9" in corpus.signature
    assert ("qe:yes" in corpus.signature) == (name == "cometkiwi") and "agg:mean|scale:100" in corpus.signature
    assert "long:split-sentences,charmean" in corpus.signature


def test_comet_identical_segments_are_sent_once_and_cached(recording_worker, tmp_path):
    env, folder, requests = recording_worker
    Scorer = METRICS.get("comet")
    options = Scorer.Options(model=str(folder), env=env, device="cpu")
    cache = tmp_path / "cache.sqlite"
    scorer = Scorer("ms", options, "vi")
    scorer.use_cache(cache)
    try:
        first = scorer.paragraph_scores(["a", "b", "a"], ["r", "r", "r"], ["s", "s", "s"])
    finally:
        scorer.close()
    assert [s["mt"] for s in requests()[1]["samples"]] == ["a", "b"]
    again = Scorer("ms", options, "vi")
    again.use_cache(cache)
    try:
        assert again.paragraph_scores(["b", "a"], ["r", "r"], ["s", "s"]) == [first[1], first[0]]
        assert len(requests()) == 3  # the first scorer's load, score and shutdown: no worker started again
    finally:
        again.close()


# --- BERTScore ---------------------------------------------------------------------------


def build_tiny_bert(dest: Path, work: Path) -> Path:
    """A 2-layer BERT (hidden size 32) with a WordPiece vocabulary trained on the corpus, saved like a hub model."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, BertTokenizer

    work.mkdir(parents=True, exist_ok=True)
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=False)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train([str(corpus_text_file(work))], trainers.WordPieceTrainer(
        vocab_size=2000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False))
    tokenizer = BertTokenizer(vocab=wordpiece.get_vocab(), do_lower_case=False, model_max_length=512)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, pad_token_id=tokenizer.pad_token_id)
    BertModel(config).eval().save_pretrained(dest)
    tokenizer.save_pretrained(dest)
    return dest


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    pytest.importorskip("bert_score")
    base = tmp_path_factory.mktemp("tiny-bert")
    return build_tiny_bert(base / "model", base / "work")


def bertscore(model, **options):
    Scorer = METRICS.get("bertscore")
    return Scorer("ms", Scorer.Options(model=str(model), **options))


def test_bertscore_on_a_tiny_bert(tiny_bert):
    scorer = bertscore(tiny_bert, num_layers=2, device="cpu")
    candidates = [MALAY_REFS[0], MALAY_REFS[1][:40], "", MALAY_REFS[2], "Vietnam", MALAY_REFS[5]]
    paragraphs = scorer.paragraph_scores(candidates, MALAY_REFS, SOURCES)
    assert paragraphs[0] == pytest.approx(100.0, abs=1e-3) and paragraphs[5] == pytest.approx(100.0, abs=1e-3)
    assert paragraphs[2] == 0.0  # empty candidate: bert-score's own convention
    assert all(0 < p < 100 - 1e-3 for p in (paragraphs[1], paragraphs[3], paragraphs[4]))
    stats = scorer.statistics(candidates, MALAY_REFS, SOURCES)
    corpus = scorer.corpus_score(candidates, MALAY_REFS, SOURCES)
    assert corpus.score == scorer.score_from_statistics(stats)  # exact round trip
    assert corpus.score == pytest.approx(sum(paragraphs) / len(paragraphs))
    assert scorer.score_from_statistics(stats[[0, 5]]) == pytest.approx(100.0, abs=1e-3)
    signature = corpus.signature
    assert f"model:{tiny_bert}@sha256." in signature and "|layer:2|maxlen:512|" in signature and "F1" in signature
    assert f"bert_score:{importlib.metadata.version('bert-score')}" in signature and "scale:100" in signature


def test_bertscore_is_deterministic_and_independent_of_batching(tiny_bert):
    candidates = [r[: len(r) // 3] for r in MALAY_REFS]
    first = bertscore(tiny_bert, num_layers=2, device="cpu").paragraph_scores(candidates, MALAY_REFS)
    again = bertscore(tiny_bert, num_layers=2, device="cpu").paragraph_scores(candidates, MALAY_REFS)
    one_by_one = bertscore(tiny_bert, num_layers=2, device="cpu", batch_size=1).paragraph_scores(candidates, MALAY_REFS)
    assert first == again
    assert one_by_one == pytest.approx(first, abs=1e-4)


def test_bertscore_rows_feed_intervals_and_significance_tests(tiny_bert):
    scorer = bertscore(tiny_bert, num_layers=2, device="cpu")
    good = scorer.statistics(MALAY_REFS, MALAY_REFS)
    poor = scorer.statistics([r[:25] for r in MALAY_REFS], MALAY_REFS)
    interval = bootstrap_ci(scorer, poor, n_resamples=200)
    assert interval.low <= scorer.score_from_statistics(poor) <= interval.high
    boot = paired_bootstrap(scorer, good, poor, n_resamples=200)
    assert boot.delta > 0 and boot.better == "system"
    ar = approximate_randomization(scorer, good, poor, n_trials=200)
    assert ar.delta == boot.delta and ar.p_value < 0.1  # 6 paragraphs: at best 1/32 under randomisation
    assert paired_bootstrap(scorer, good, good, n_resamples=100).p_value == 1.0


def test_bertscore_unavailable_cases_are_one_line(tiny_bert, tmp_path):
    with pytest.raises(MetricUnavailableError, match="no model at") as caught:
        bertscore(tmp_path / "nowhere", num_layers=2).load()
    one_line(caught)
    with pytest.raises(MetricUnavailableError, match="no tuned layer .* set num_layers \\(the model has 2 layers\\)"):
        bertscore(tiny_bert).load()
    with pytest.raises(MetricUnavailableError, match="num_layers is 5 but .* has 2 layers"):
        bertscore(tiny_bert, num_layers=5).load()
    import shutil

    shutil.copytree(tiny_bert, tmp_path / "mt5-named")  # bert-score would load it as T5
    with pytest.raises(MetricUnavailableError, match="containing 't5'"):
        bertscore(tmp_path / "mt5-named", num_layers=2).load()
    config_only = tmp_path / "config-only"
    config_only.mkdir()
    (config_only / "config.json").write_text((tiny_bert / "config.json").read_text())
    with pytest.raises(MetricUnavailableError, match="cannot load") as caught:
        bertscore(config_only, num_layers=2).load()
    one_line(caught)


def test_bertscore_hub_id_not_in_the_cache_fails_at_once(monkeypatch, tmp_path):
    pytest.importorskip("bert_score")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(MetricUnavailableError) as caught:
        bertscore("bert-base-multilingual-cased").load()
    message = one_line(caught)
    assert "bert-base-multilingual-cased is not in the Hugging Face cache" in message
    assert "hf download bert-base-multilingual-cased" in message


def test_bertscore_without_its_package_is_unavailable(monkeypatch):
    real_version = importlib.metadata.version

    def version(name):
        if name == "bert-score":
            raise importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    with pytest.raises(MetricUnavailableError, match="bertscore: needs the bert-score package: pip install bert-score"):
        bertscore("anything").load()


def test_bertscore_through_the_pipeline(tiny_bert, tmp_path):
    import shutil

    from evalkit.config import load_config
    from evalkit.pipeline import run

    shutil.copytree(tiny_bert, tmp_path / "tiny-bert")
    config = make_config(tmp_path, target_lang="ms", target_file=MALAY,
                         systems=[{"name": "copy", "backend": "copy"}, {"name": "copy-again", "backend": "copy"}],
                         metrics=[{"name": "bertscore", "model": "./tiny-bert", "num_layers": 2, "device": "cpu"}],
                         statistics={"bootstrap_resamples": 100, "randomization_trials": 100})
    result = run(load_config(config))
    assert result.unavailable_metrics == {}
    first, second = result.systems
    score = first.corpus_scores["bertscore"]
    paragraphs = [p.scores["bertscore"] for p in first.paragraphs]
    assert score.score == pytest.approx(np.mean(paragraphs)) and score.ci_low <= score.score <= score.ci_high
    assert f"model:{tmp_path / 'tiny-bert'}@" in score.signature
    assert second.significance["metrics"]["bertscore"]["p_bootstrap"] == 1.0  # identical systems
