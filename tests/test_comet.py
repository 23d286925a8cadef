"""COMET and CometKiwi scored for real, in their own environment, in the same `evalkit run` as chrF.

The `comet` tests build (once, then reuse) the environment `evalkit setup comet`
makes -- torch, unbabel-comet 2.2.7, 1.4 GB -- under $EVALKIT_TEST_ENVS, else
pytest's cache folder (.pytest_cache/d/evalkit-envs), else (-p no:cacheprovider)
~/.cache/evalkit/test-envs, keyed by the requirements hash; the first build
takes one to two minutes and needs PyPI. In it they build a tiny *real* COMET
model (a 2-layer XLM-R encoder, hidden size 32, with a Unigram tokenizer trained
on the corpus; random weights: the numbers are meaningless, the plumbing is not) and check
evalkit's numbers against `comet.load_from_checkpoint(...).predict` called
directly in that environment. Deselect them with `-m "not comet"`.

The failure paths (no environment, a worker that crashes or hangs) use a
stand-in worker and need no environment.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPUS, MALAY, PIVOT, make_config, run_cli
from evalkit.corpus import load_document
from evalkit.errors import MetricUnavailableError, ScoringError
from evalkit.scorers import METRICS
from evalkit.scorers import comet_env, comet_process
from evalkit.scorers.comet_cache import SegmentScoreCache, segment_key
from evalkit.scorers.comet_worker import split_segment
from tiny_models import corpus_text_file

PIVOT_TEXTS = load_document(CORPUS / PIVOT).texts
MALAY_REFS = load_document(CORPUS / MALAY).texts[:6]
SOURCES = PIVOT_TEXTS[1:7]
STATISTICS = {"bootstrap_resamples": 200, "paired_resamples": 200, "randomization_trials": 200}

# Runs in COMET's environment (transformers 4, comet, lightning): a tiny RegressionMetric (COMET-DA style)
# and a tiny UnifiedMetric reading mt + src (CometKiwi style), saved as COMET saves its models.
BUILD_TINY_COMET = r'''
import sys
from pathlib import Path

import pytorch_lightning as pl
import torch
import yaml
from comet.models import RegressionMetric, UnifiedMetric
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaTokenizerFast

text_file, dest = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # XLM-R's ids 0-4
tok = Tokenizer(models.Unigram())
tok.normalizer = normalizers.NFKC()
tok.pre_tokenizer = pre_tokenizers.Metaspace()
tok.decoder = decoders.Metaspace()
tok.train([str(text_file)], trainers.UnigramTrainer(vocab_size=1500, special_tokens=specials, unk_token="<unk>",
                                                    show_progress=False))
tok.post_processor = processors.TemplateProcessing(
    single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
    special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
# A fast tokenizer built from the tokenizers object: the slow-to-fast conversion needs protobuf>=5, which comet pins away.
tokenizer = XLMRobertaTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                    cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                    model_max_length=512)
torch.manual_seed(0)
encoder = dest / "encoder"
config = XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                          intermediate_size=64, max_position_embeddings=514, pad_token_id=tokenizer.pad_token_id,
                          bos_token_id=0, eos_token_id=2)
XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(encoder)
tokenizer.save_pretrained(encoder)
trainer = pl.Trainer(max_epochs=0, accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False)
metrics = {
    "comet": RegressionMetric(pretrained_model=str(encoder), load_pretrained_weights=True, hidden_sizes=[64],
                              layer="mix", pool="avg"),
    "kiwi": UnifiedMetric(pretrained_model=str(encoder), load_pretrained_weights=True, hidden_sizes=[64],
                          sent_layer="mix", word_layer=2, layer_transformation="softmax", input_segments=["mt", "src"]),
}
for name, model in metrics.items():
    trainer.strategy.connect(model)
    (dest / name / "checkpoints").mkdir(parents=True)
    trainer.save_checkpoint(str(dest / name / "checkpoints" / "model.ckpt"))
    (dest / name / "hparams.yaml").write_text(yaml.safe_dump(dict(model.hparams)))
'''

# Runs in COMET's environment: unbabel-comet's own API on the given samples, the reference numbers.
PREDICT_DIRECTLY = r'''
import json, sys
from comet import load_from_checkpoint
request = json.load(open(sys.argv[1]))
model = load_from_checkpoint(request["checkpoint"], local_files_only=True)
output = model.predict(request["samples"], batch_size=request.get("batch_size", 16), gpus=0, progress_bar=False)
json.dump({"scores": [float(s) for s in output.scores], "system_score": float(output.system_score)}, open(sys.argv[2], "w"))
'''


@pytest.fixture(autouse=True)
def worker_logs_in_tmp_path(tmp_path, monkeypatch):
    """A failed worker keeps its log (the error message names it): keep those of these tests out of the system temp folder."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def one_line(text: str) -> str:
    assert "\n" not in text.strip() and "Traceback" not in text
    return text


# --- the real environment and models (built once, reused) --------------------------------------------


@pytest.fixture(scope="session")
def comet_env_dir(request) -> Path:
    root = os.environ.get("EVALKIT_TEST_ENVS")
    cache = getattr(request.config, "cache", None)  # None under -p no:cacheprovider: then evalkit's own cache folder
    base = Path(root) if root else cache.mkdir("evalkit-envs") if cache is not None else comet_env.cache_root() / "test-envs"
    env = base / f"comet-{comet_env.requirements_hash()}"
    try:
        comet_env.setup_env(env)  # instant when a complete build is there; serialised by a lock across sessions
    except comet_env.EnvironmentSetupError as exc:
        pytest.skip(f"cannot build COMET's environment here (needs PyPI): {exc}")
    return env


@pytest.fixture(scope="session")
def tiny_comet(comet_env_dir, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tiny-comet")
    script = base / "build_tiny_comet.py"
    script.write_text(BUILD_TINY_COMET, encoding="utf-8")
    done = subprocess.run(
        [str(comet_env.env_python(comet_env_dir)), "-I", str(script), str(corpus_text_file(base)), str(base / "models")],
        capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return base / "models"


def predict_directly(env: Path, checkpoint: Path, samples: list[dict], tmp_path: Path, **options) -> list[float]:
    request, answer = tmp_path / "direct-request.json", tmp_path / "direct-answer.json"
    request.write_text(json.dumps({"checkpoint": str(checkpoint), "samples": samples, **options}), encoding="utf-8")
    script = tmp_path / "predict_directly.py"
    script.write_text(PREDICT_DIRECTLY, encoding="utf-8")
    done = subprocess.run([str(comet_env.env_python(env)), "-I", str(script), str(request), str(answer)],
                          capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(answer.read_text(encoding="utf-8"))["scores"]


class WorkerSpy:
    """Counts worker starts and the segments each score request carried (the CLI runs in this process)."""

    def __init__(self, monkeypatch):
        self.starts = 0
        self.segments: list[int] = []
        start, request = comet_process.WorkerProcess.start, comet_process.WorkerProcess.request
        spy = self

        def counting_start(worker):
            spy.starts += 1
            return start(worker)

        def counting_request(worker, op, what, **payload):
            if op == "score":
                spy.segments.append(len(payload["samples"]))
            return request(worker, op, what, **payload)

        monkeypatch.setattr(comet_process.WorkerProcess, "start", counting_start)
        monkeypatch.setattr(comet_process.WorkerProcess, "request", counting_request)


def write_candidates(path: Path, texts: list[str]) -> str:
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return path.name


def comet_config(tmp_path: Path, env: Path, model: Path, systems: list[dict], kiwi: Path | None = None,
                 **metric) -> Path:
    extra = [{"name": "cometkiwi", "model": str(kiwi), "env": str(env), "device": "cpu"}] if kiwi else []
    return make_config(
        tmp_path, target_lang="ms", target_file=MALAY, systems=systems,
        metrics=["chrf", "bleu", {"name": "comet", "model": str(model), "env": str(env), "device": "cpu",
                                  "batch_size": 8, **metric}, *extra],
        statistics=STATISTICS, cache=str(tmp_path / "cache.sqlite"),
    )


def run_json(stdout: str) -> dict:
    folder = Path(stdout.strip().splitlines()[-1])
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))


@pytest.mark.comet
def test_setup_is_idempotent_and_says_where(comet_env_dir):
    done = run_cli("setup", "comet", "--env", comet_env_dir)
    assert done.returncode == 0, done.stderr
    assert f"COMET environment already set up at {comet_env_dir}" in done.stdout and "unbabel-comet 2.2.7" in done.stdout
    ready = comet_env.find_env(comet_env_dir)
    assert ready.comet_version == "2.2.7" and ready.versions["transformers"].startswith("4.")
    assert ready.versions["numpy"].startswith("1.")


@pytest.mark.comet
def test_run_scores_chrf_bleu_and_comet_side_by_side_with_parity(comet_env_dir, tiny_comet, tmp_path, monkeypatch):
    spy = WorkerSpy(monkeypatch)
    halves = write_candidates(tmp_path / "halves.txt", [t[: len(t) // 2] for t in PIVOT_TEXTS])
    systems = [{"name": "copy", "backend": "copy"},
               {"name": "halves", "backend": "precomputed", "options": {"path": halves}}]
    config = comet_config(tmp_path, comet_env_dir, tiny_comet / "comet", systems, kiwi=tiny_comet / "kiwi")
    done = run_cli("run", config, "--quiet", "--strict")
    assert done.returncode == 0, done.stderr
    first = run_json(done.stdout)
    assert first["unavailable_metrics"] == {}
    assert spy.starts == 1  # one worker served both systems and both metrics, each model loaded once
    assert all("cometkiwi" in s["corpus_scores"] for s in first["systems"])
    checkpoint = tiny_comet / "comet" / "checkpoints" / "model.ckpt"
    for system in first["systems"]:
        scores = system["corpus_scores"]
        assert {"chrf", "bleu", "comet"} <= set(scores)
        comet = scores["comet"]
        assert comet["ci_low"] <= comet["score"] <= comet["ci_high"] and comet["ci_low"] < comet["ci_high"]
        samples = [{"src": p["source"], "mt": p["candidate"], "ref": p["reference"]} for p in system["paragraphs"]]
        direct = predict_directly(comet_env_dir, checkpoint, samples, tmp_path, batch_size=8)
        ours = [p["scores"]["comet"] for p in system["paragraphs"]]
        assert ours == pytest.approx([100 * s for s in direct], abs=1e-4)
        assert comet["score"] == pytest.approx(100 * np.mean(direct), abs=1e-4)
        signature = comet["signature"]
        assert f"model:{tiny_comet / 'comet'}@sha256." in signature and "|comet:2.2.7|" in signature
        assert "long:split-sentences,charmean" in signature and "agg:mean|scale:100" in signature
    halves_result = next(s for s in first["systems"] if s["name"] == "halves")
    assert "comet" in halves_result["significance"]["metrics"]  # paired tests against the copy baseline
    assert sum(spy.segments) == 2 * sum(len(s["paragraphs"]) for s in first["systems"])  # comet and cometkiwi

    # The same run again: every segment score comes from the cache; no worker is started.
    spy.starts, spy.segments = 0, []
    again = run_json(run_cli("run", config, "--quiet", "--strict").stdout)
    assert spy.starts == 0 and spy.segments == []
    for before, after in zip(first["systems"], again["systems"]):
        assert after["corpus_scores"]["comet"]["score"] == before["corpus_scores"]["comet"]["score"]
        assert [p["scores"]["comet"] for p in after["paragraphs"]] == [p["scores"]["comet"] for p in before["paragraphs"]]

    # One system changed: only its segments are scored again.
    thirds = write_candidates(tmp_path / "thirds.txt", [t[: len(t) // 3] for t in PIVOT_TEXTS])
    systems[1] = {"name": "thirds", "backend": "precomputed", "options": {"path": thirds}}
    config = comet_config(tmp_path, comet_env_dir, tiny_comet / "comet", systems)
    changed = run_json(run_cli("run", config, "--quiet", "--strict").stdout)
    assert spy.starts == 1
    thirds_paragraphs = changed["systems"][1]["paragraphs"]
    changed_paragraphs = [t for t, h in zip(thirds_paragraphs, halves_result["paragraphs"]) if t["candidate"] != h["candidate"]]
    assert 0 < sum(spy.segments) == len(changed_paragraphs)


@pytest.mark.comet
def test_cometkiwi_scores_without_references(comet_env_dir, tiny_comet, tmp_path):
    Scorer = METRICS.get("cometkiwi")
    scorer = Scorer("ms", Scorer.Options(model=str(tiny_comet / "kiwi"), env=comet_env_dir, device="cpu"), "vi")
    candidates = [r[: len(r) // 2] for r in MALAY_REFS]
    try:
        paragraphs = scorer.paragraph_scores(candidates, MALAY_REFS, SOURCES)
        # The reference is not read: other references, same scores (served from the memo or the model alike).
        assert scorer.paragraph_scores(candidates, ["x"] * 6, SOURCES) == paragraphs
        signature = scorer.signature()
    finally:
        scorer.close()
    direct = predict_directly(comet_env_dir, tiny_comet / "kiwi" / "checkpoints" / "model.ckpt",
                              [{"src": s, "mt": c} for s, c in zip(SOURCES, candidates)], tmp_path)
    assert paragraphs == pytest.approx([100 * s for s in direct], abs=1e-4)
    assert "nrefs:0|qe:yes" in signature and "|comet:2.2.7|" in signature


@pytest.mark.comet
def test_a_hub_id_is_read_from_the_local_hugging_face_cache(comet_env_dir, tiny_comet, tmp_path, monkeypatch):
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    cache = tmp_path / "hub"
    repo = cache / "models--evalkit-tests--tiny-comet"
    shutil.copytree(tiny_comet / "comet", repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))  # this process
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))  # the worker
    Scorer = METRICS.get("comet")
    scorer = Scorer("ms", Scorer.Options(model="evalkit-tests/tiny-comet", env=comet_env_dir, device="cpu"), "vi")
    candidates = [r[: len(r) // 2] for r in MALAY_REFS]
    try:
        paragraphs = scorer.paragraph_scores(candidates, MALAY_REFS, SOURCES)
        signature = scorer.signature()
    finally:
        scorer.close()
    assert f"model:evalkit-tests/tiny-comet@{commit}|" in signature
    direct = predict_directly(comet_env_dir, tiny_comet / "comet" / "checkpoints" / "model.ckpt",
                              [{"src": s, "mt": c, "ref": r} for s, c, r in zip(SOURCES, candidates, MALAY_REFS)], tmp_path)
    assert paragraphs == pytest.approx([100 * d for d in direct], abs=1e-4)
    missing = Scorer("ms", Scorer.Options(model="evalkit-tests/not-there", env=comet_env_dir), "vi")
    with pytest.raises(MetricUnavailableError) as caught:
        missing.load()
    assert "hf download evalkit-tests/not-there" in one_line(str(caught.value))


@pytest.mark.comet
def test_long_paragraphs_are_scored_in_pieces_or_marked(comet_env_dir, tiny_comet, tmp_path):
    # Six paragraphs joined are far over 510 tokens of the tiny tokenizer (and of XLM-R's).
    long = {"src": " ".join(PIVOT_TEXTS[1:9]), "mt": " ".join(t[: len(t) * 2 // 3] for t in MALAY_REFS),
            "ref": " ".join(MALAY_REFS)}
    short = {"src": SOURCES[0], "mt": MALAY_REFS[0][:30], "ref": MALAY_REFS[0]}
    Scorer = METRICS.get("comet")
    checkpoint = tiny_comet / "comet" / "checkpoints" / "model.ckpt"
    split = Scorer("ms", Scorer.Options(model=str(tiny_comet / "comet"), env=comet_env_dir, device="cpu"), "vi")
    marked = Scorer("ms", Scorer.Options(model=str(checkpoint), env=comet_env_dir, device="cpu", long_segments="mark"), "vi")
    args = ([short["mt"], long["mt"]], [short["ref"], long["ref"]], [short["src"], long["src"]])
    try:
        split_scores = split.paragraph_scores(*args)
        split_details = split.paragraph_details(*args)
        marked_scores = marked.paragraph_scores(*args)
        marked_details = marked.paragraph_details(*args)
        assert "long:truncated,marked" in marked.signature()
    finally:
        split.close()
        marked.close()
    assert split_details[0] == {} and split_details[1]["long"] is True
    pieces = split_segment(long, split_details[1]["pieces"])
    assert len(pieces) >= 2 and all(p["mt"] and p["ref"] for p in pieces)
    direct = predict_directly(comet_env_dir, checkpoint, [short, long, *pieces], tmp_path)
    weights = [len(p["ref"]) for p in pieces]
    assert split_scores[1] == pytest.approx(100 * np.average(direct[2:], weights=weights), abs=1e-4)
    assert split_scores[0] == marked_scores[0] == pytest.approx(100 * direct[0], abs=1e-4)
    assert marked_scores[1] == pytest.approx(100 * direct[1], abs=1e-4)  # COMET's own truncation, marked
    assert marked_details == [{}, {"long": True, "truncated": True}]


@pytest.mark.comet
def test_a_model_comet_cannot_load_is_unavailable_in_one_line(comet_env_dir, tiny_comet, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_comet / "comet", broken)
    (broken / "checkpoints" / "model.ckpt").write_bytes(b"not a checkpoint")
    Scorer = METRICS.get("comet")
    scorer = Scorer("ms", Scorer.Options(model=str(broken), env=comet_env_dir, device="cpu"), "vi")
    try:
        with pytest.raises((ScoringError, MetricUnavailableError)) as caught:
            scorer.paragraph_scores(["a"], ["b"], ["c"])
    finally:
        scorer.close()
    message = one_line(str(caught.value))
    assert message.startswith("comet: ") and "worker log" in message


# --- failure paths, with a stand-in worker (no environment needed) ------------------------------------


FAKE_WORKER = r'''
import json, os, sys, time
mode = os.environ["FAKE_COMET_MODE"]
print(json.dumps({"event": "ready", "protocol": 1, "versions": {"unbabel-comet": "2.2.7"}}), flush=True)
for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "shutdown":
        break
    if request["op"] == "load":
        if mode == "unavailable":
            print(json.dumps({"id": request["id"], "ok": False, "kind": "unavailable",
                              "error": "cannot load model.ckpt: OSError: no tokenizer"}), flush=True)
            continue
        print(json.dumps({"id": request["id"], "ok": True, "class": "RegressionMetric", "max_tokens": 510}), flush=True)
        continue
    if mode == "crash":
        sys.stderr.write("RuntimeError: CUDA error: an illegal memory access was encountered\n")
        sys.stderr.flush()
        os._exit(3)
    if mode == "hang":
        time.sleep(3600)
    n = len(request["samples"])
    print(json.dumps({"id": request["id"], "ok": True, "scores": [0.5] * n, "pieces": [1] * n, "long": [False] * n}),
          flush=True)
'''


@pytest.fixture()
def fake_env(tmp_path, monkeypatch):
    """A complete-looking COMET environment whose `python` runs a stand-in worker, and a COMET model folder."""
    env = tmp_path / "fake-env"
    (env / "bin").mkdir(parents=True)
    worker = tmp_path / "fake_worker.py"
    worker.write_text(FAKE_WORKER, encoding="utf-8")
    python = env / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{worker}"\n')  # ignores -I and the real worker's path
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    (env / comet_env.STAMP).write_text(json.dumps({
        "requirements": comet_env.requirements(), "requirements_hash": comet_env.requirements_hash(),
        "versions": {"unbabel-comet": "2.2.7"}}))
    encoder = tmp_path / "encoder"
    encoder.mkdir()
    (encoder / "config.json").write_text("{}")
    model = tmp_path / "comet-model"
    (model / "checkpoints").mkdir(parents=True)
    (model / "checkpoints" / "model.ckpt").write_bytes(b"weights")
    (model / "hparams.yaml").write_text(f"pretrained_model: {encoder}\n")
    return env, model


def run_with_fake(tmp_path, monkeypatch, fake_env, mode: str, **metric) -> tuple[subprocess.CompletedProcess, dict]:
    env, model = fake_env
    monkeypatch.setenv("FAKE_COMET_MODE", mode)
    config = comet_config(tmp_path, env, model, [{"name": "copy", "backend": "copy"},
                                                 {"name": "copy-again", "backend": "copy"}], **metric)
    done = run_cli("run", config, "--quiet")
    assert done.returncode == 0, done.stderr
    return done, run_json(done.stdout)


def assert_comet_dropped_and_chrf_kept(result: dict) -> str:
    for system in result["systems"]:
        assert system["status"] == "ok" and {"chrf", "bleu"} <= set(system["corpus_scores"])
        assert "comet" not in system["corpus_scores"]
        assert all("comet" not in p["scores"] for p in system["paragraphs"])
    return one_line(result["unavailable_metrics"]["comet"])


def test_fake_worker_scores_through_the_pipeline(tmp_path, monkeypatch, fake_env):
    _, result = run_with_fake(tmp_path, monkeypatch, fake_env, "ok")
    assert result["unavailable_metrics"] == {}
    assert all(s["corpus_scores"]["comet"]["score"] == pytest.approx(50.0) for s in result["systems"])


def test_missing_environment_names_the_setup_command(tmp_path, monkeypatch, fake_env):
    _, model = fake_env
    config = comet_config(tmp_path, tmp_path / "no-env-here", model, [{"name": "copy", "backend": "copy"}])
    done = run_cli("run", config, "--quiet")
    assert done.returncode == 0, done.stderr
    reason = assert_comet_dropped_and_chrf_kept(run_json(done.stdout))
    assert "is not set up" in reason and f"evalkit setup comet --env {tmp_path / 'no-env-here'}" in reason
    assert f"metric comet: unavailable: {reason}" in done.stderr


def test_incomplete_or_outdated_environment_is_reported(tmp_path, fake_env):
    env, _ = fake_env
    stamp = json.loads((env / comet_env.STAMP).read_text())
    (env / comet_env.STAMP).write_text(json.dumps({**stamp, "requirements_hash": "0ld"}))
    with pytest.raises(MetricUnavailableError, match="built for other requirements.*--force"):
        comet_env.find_env(env)
    (env / comet_env.STAMP).unlink()
    with pytest.raises(MetricUnavailableError, match="is incomplete") as caught:
        comet_env.find_env(env)
    one_line(str(caught.value))


def test_default_environment_folder(monkeypatch, tmp_path):
    monkeypatch.delenv(comet_env.ENV_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert comet_env.default_env_dir() == tmp_path / "xdg" / "evalkit" / "envs" / "comet"
    monkeypatch.setenv(comet_env.ENV_VARIABLE, str(tmp_path / "mine"))
    assert comet_env.default_env_dir() == tmp_path / "mine"
    with pytest.raises(MetricUnavailableError) as caught:
        METRICS.get("comet")("ms").load()
    assert "run `evalkit setup comet` once" in one_line(str(caught.value))


def test_a_worker_that_crashes_fails_comet_only(tmp_path, monkeypatch, fake_env):
    done, result = run_with_fake(tmp_path, monkeypatch, fake_env, "crash")
    reason = assert_comet_dropped_and_chrf_kept(result)
    assert "exited with status 3 while scoring" in reason and "CUDA error: an illegal memory access" in reason
    assert "evalkit setup comet" in reason and "worker log" in reason


def test_a_worker_that_hangs_is_stopped_after_its_timeout(tmp_path, monkeypatch, fake_env):
    done, result = run_with_fake(tmp_path, monkeypatch, fake_env, "hang", timeout=2)
    reason = assert_comet_dropped_and_chrf_kept(result)
    assert "did not answer within 2 s while scoring" in reason and "evalkit setup comet" in reason


def test_a_model_the_worker_cannot_load_is_unavailable(tmp_path, monkeypatch, fake_env):
    _, result = run_with_fake(tmp_path, monkeypatch, fake_env, "unavailable")
    reason = assert_comet_dropped_and_chrf_kept(result)
    assert "cannot load model.ckpt: OSError: no tokenizer" in reason


def test_setup_failure_is_one_line(tmp_path):
    with pytest.raises(comet_env.EnvironmentSetupError) as caught:
        comet_env.setup_env(tmp_path / "env", python=str(tmp_path / "no-python"))
    assert one_line(str(caught.value)).startswith("evalkit setup comet: ")
    assert comet_env.read_stamp(tmp_path / "env") is None


def test_segment_score_cache_round_trip(tmp_path):
    path = tmp_path / "cache.sqlite"
    one, other = SegmentScoreCache(path, "model:a", "comet"), SegmentScoreCache(path, "model:b", "comet")
    keys = [segment_key("s", "c", "r"), segment_key("s", "c", None), segment_key("s", "c2", "r")]
    assert keys[0] != keys[1] != keys[2]
    one.put_many([(keys[0], 12.5, 1, False), (keys[1], -3.0, 3, True)])
    assert one.get_many(keys) == {keys[0]: (12.5, 1, False), keys[1]: (-3.0, 3, True)}
    assert other.get_many(keys) == {}  # another model identity shares nothing
    one.close()
    assert SegmentScoreCache(path, "model:a", "comet").count() == 2


def test_split_segment_keeps_order_and_text():
    sample = {"src": "Một. Hai. Ba. Bốn.", "mt": "Satu. Dua. Tiga. Empat.", "ref": "Satu. Dua. Tiga. Empat."}
    pieces = split_segment(sample, 2)
    assert pieces == [{"src": "Một. Hai.", "mt": "Satu. Dua.", "ref": "Satu. Dua."},
                      {"src": "Ba. Bốn.", "mt": "Tiga. Empat.", "ref": "Tiga. Empat."}]
    words = split_segment({"mt": "a b c d"}, 2, words=True)
    assert words == [{"mt": "a b"}, {"mt": "c d"}]
