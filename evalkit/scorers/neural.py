"""Learned metrics: COMET (Rei et al., 2020/2022), CometKiwi (Rei et al., 2022) and BERTScore (Zhang et al., 2020).

Each model scores one segment at a time, and the packages define the system
score as the plain mean of the segment scores (`comet.models.base.predict`'s
`system_score`, the mean F1 that `bert-score` reports). So a paragraph's
statistics row is `[score, 1]` and the corpus score is `sum(scores) / count`:
the bootstrap intervals and significance tests of `evalkit.scorers.stats`
work on these rows unchanged. Scores are reported x100 (`scale:100` in the
signature), like sacrebleu's, so two decimals in a report keep their meaning.

Nothing is downloaded. A hub id is looked up in the local Hugging Face cache
only (`try_to_load_from_cache`: no network, no 46 s of retries offline); a
missing package or missing weights raise `MetricUnavailableError` with one line
saying what to install or download, and the run goes on without the metric.
COMET's own `download_model` is never called: offline it reports a misleading
`KeyError("Model ... not supported by COMET")`.

unbabel-comet 2.2.x requires transformers<5 and numpy<2, so COMET runs in a
virtual environment of its own (`evalkit setup comet`, `evalkit.scorers.comet_env`),
in a worker process evalkit talks to over a line-based JSON protocol
(`comet_worker`, `comet_process`); segment scores are cached in the run's
SQLite file (`comet_cache`). bert-score 0.3.13
works with transformers 5 except on empty candidates (`build_inputs_with_special_tokens`
is gone), which evalkit scores 0 itself -- the value bert-score assigns them.

The pipeline asks for statistics and then paragraph scores of the same inputs;
the last few predictions are memoised so a model runs once per system.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from evalkit import __version__
from evalkit.errors import EvalkitError, MetricUnavailableError, ScoringError
from evalkit.option_types import ConfigPath, ModelReference
from evalkit.hf_models import cached_file, first_line, hub_cache_dir, looks_local, package_version, pick_device
from evalkit.scorers.base import Scorer, ScorerOptions
from evalkit.scorers.comet_cache import SegmentScoreCache, segment_key
from evalkit.scorers.comet_env import ENV_VARIABLE, CometEnv, default_env_dir, find_env
from evalkit.scorers.comet_process import WorkerError, WorkerProcess, acquire_worker, release_worker

_DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?)$"
_HASH_CHARS = 16
_MEMO_SIZE = 4
_SNAPSHOT = re.compile(r"/snapshots/([0-9a-f]{40})(/|$)")



# --- locating weights without downloading -------------------------------------------


_DIGESTS: dict[tuple[str, int, int], str] = {}


def _file_digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        with path.open("rb") as handle:
            _DIGESTS[key] = hashlib.file_digest(handle, "sha256").hexdigest()
    return _DIGESTS[key]


def revision_of(files: Sequence[Path]) -> str:
    """The hub commit when the files sit in an HF cache snapshot, else a sha256 prefix of their contents."""
    commit = _SNAPSHOT.search(Path(files[0]).as_posix())
    if commit:
        return commit.group(1)
    combined = hashlib.sha256()
    for path in sorted(files, key=lambda p: p.name):
        combined.update(f"{path.name}\0{_file_digest(path)}\n".encode())
    return f"sha256.{combined.hexdigest()[:_HASH_CHARS]}"


def comet_checkpoint(model: str, metric: str = "comet", cache_dir: str | Path | None = None) -> tuple[Path, str]:
    """(checkpoints/model.ckpt, revision) of a COMET model, from a local path or the HF cache; never downloads.

    Also checks that the encoder named in hparams.yaml (xlm-roberta-large,
    microsoft/infoxlm-large, ...) has its config and tokenizer available, since
    COMET builds the encoder from them even when loading a checkpoint.
    """
    gated = " (it is gated: accept its licence on huggingface.co and log in first)" if "kiwi" in model.lower() else ""
    if looks_local(model):
        given = Path(model).expanduser()
        checkpoint = given if given.is_file() else given / "checkpoints" / "model.ckpt"
        hparams = checkpoint.parent.parent / "hparams.yaml"
        if not checkpoint.is_file() or not hparams.is_file():
            raise MetricUnavailableError(
                f"{metric}: {given} is not a COMET model folder (expected checkpoints/model.ckpt and hparams.yaml "
                f"in it, as in a download of Unbabel/wmt22-comet-da)"
            )
    else:
        checkpoint = cached_file(model, "checkpoints/model.ckpt", cache_dir)
        hparams = cached_file(model, "hparams.yaml", cache_dir)
        if checkpoint is None or hparams is None:
            raise MetricUnavailableError(
                f"{metric}: weights of {model} are not in the Hugging Face cache ({hub_cache_dir(cache_dir)}) and evalkit "
                f"does not download; run `hf download {model}` where there is internet{gated} and copy the cache "
                f"here, or set `model:` to a local folder holding checkpoints/model.ckpt"
            )
    _check_comet_encoder(model, metric, hparams, cache_dir)
    return checkpoint, revision_of([checkpoint, hparams])


def _check_comet_encoder(model: str, metric: str, hparams: Path, cache_dir: str | Path | None) -> None:
    try:
        text = hparams.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MetricUnavailableError(f"{metric}: cannot read {hparams} ({type(exc).__name__})") from None
    # A line match, not a YAML load: COMET writes hparams with its own loader's conventions.
    found = re.search(r"^pretrained_model:\s*['\"]?([^'\"\s#]+)", text, flags=re.MULTILINE)
    if not found:
        return  # an unusual checkpoint; COMET will say what it misses
    encoder = found.group(1)
    if looks_local(encoder) and (Path(encoder).expanduser() / "config.json").is_file():
        return
    if cached_file(encoder, "config.json", cache_dir) is None:
        raise MetricUnavailableError(
            f"{metric}: {model} builds its encoder from {encoder}, whose config and tokenizer are not in the "
            f"Hugging Face cache ({hub_cache_dir(cache_dir)}); run `hf download {encoder} --include '*.json' '*.model'` "
            f"where there is internet and copy the cache here"
        )


def hf_model_folder(model: str, metric: str, cache_dir: str | Path | None = None) -> Path:
    """The local folder of a transformers model given as a folder or as a hub id already in the HF cache."""
    if looks_local(model):
        folder = Path(model).expanduser()
        if not (folder / "config.json").is_file():
            raise MetricUnavailableError(
                f"{metric}: no model at {folder} (expected a folder written by save_pretrained, with config.json, "
                f"weights and tokenizer files)"
            )
        return folder
    config = cached_file(model, "config.json", cache_dir)
    if config is None:
        raise MetricUnavailableError(
            f"{metric}: {model} is not in the Hugging Face cache ({hub_cache_dir(cache_dir)}) and evalkit does not "
            f"download; run `hf download {model}` where there is internet and copy the cache here, or set `model:` "
            f"to a local folder written by save_pretrained"
        )
    return config.parent


def _required_version(distribution: str, metric: str, hint: str) -> str:
    version = package_version(distribution)
    if version is None:
        raise MetricUnavailableError(f"{metric}: needs the {distribution} package: {hint}")
    return version


# --- the common part: corpus score = mean of segment scores ---------------------


class NeuralOptions(ScorerOptions):
    model: str
    batch_size: int = Field(16, ge=1, description="segments per forward pass")
    device: str = Field("auto", pattern=_DEVICE_PATTERN, description="auto (CUDA when available), cpu, cuda or cuda:N")


class _SegmentMeanScorer(Scorer):
    """A learned metric whose corpus score is the mean of its segment scores (x100)."""

    references_used: ClassVar[bool] = True

    def __init__(self, target_lang: str, options: ScorerOptions | None = None, source_lang: str | None = None) -> None:
        super().__init__(target_lang, options, source_lang)
        self._loaded = False
        self._identity = ""  # "model@revision|package:version", known after load()
        self._memo: OrderedDict[tuple, list[float]] = OrderedDict()

    def load(self) -> None:
        if not self._loaded:
            self._load()
            self._loaded = True

    def _load(self) -> None:
        raise NotImplementedError

    def _predict(self, candidates: list[str], references: list[str], sources: list[str] | None) -> Sequence[float]:
        """Raw segment scores from the model, in input order."""
        raise NotImplementedError

    def _segment_scores(self, candidates: list[str], references: list[str], sources: list[str] | None) -> list[float]:
        key = (tuple(candidates), tuple(references) if self.references_used else None,
               tuple(sources) if self.needs_sources else None)
        if key in self._memo:
            self._memo.move_to_end(key)
            return list(self._memo[key])
        self.load()
        scores = [100.0 * float(s) for s in self._predict(candidates, references, sources)]
        if len(scores) != len(candidates):
            raise ScoringError(f"{self.name}: the model returned {len(scores)} scores for {len(candidates)} segments")
        self._memo[key] = scores
        while len(self._memo) > _MEMO_SIZE:
            self._memo.popitem(last=False)
        return list(scores)

    def _statistics(self, candidates: list[str], references: list[str], sources: list[str] | None) -> np.ndarray:
        scores = self._segment_scores(candidates, references, sources)
        return np.column_stack([np.asarray(scores, dtype=np.float64), np.ones(len(scores))])

    def _corpus(self, candidates: list[str], references: list[str], sources: list[str] | None) -> float:
        # The same float64 row sum as `score_from_statistics`, so both give the identical number.
        return self._score_from_statistics(self._statistics(candidates, references, sources).sum(axis=0))

    def _paragraphs(self, candidates: list[str], references: list[str], sources: list[str] | None) -> list[float]:
        return self._segment_scores(candidates, references, sources)

    def _score_from_statistics(self, summed: np.ndarray) -> float:
        if summed.shape != (2,) or summed[1] <= 0:
            raise ScoringError(f"{self.name}: statistics must be [sum of scores, count] with a positive count")
        return float(summed[0] / summed[1])

    def _scores_from_statistics(self, sums: np.ndarray) -> np.ndarray:
        # IEEE division is correctly rounded in numpy as in Python: the same numbers as row by row
        if sums.shape[1] != 2 or (sums[:, 1] <= 0).any():
            raise ScoringError(f"{self.name}: statistics must be [sum of scores, count] with a positive count")
        return sums[:, 0] / sums[:, 1]

    def _signature_head(self) -> str:
        return "nrefs:1"

    def signature(self) -> str:
        self.load()
        return f"{self._signature_head()}|{self._identity}|agg:mean|scale:100|evalkit:{__version__}"


# --- COMET and CometKiwi: scored by a worker in COMET's own environment -------------------


class CometOptions(NeuralOptions):
    model: ModelReference = Field("Unbabel/wmt22-comet-da", description="hub id (from the local HF cache), local model folder or .ckpt file")
    gpus: int = Field(
        1, ge=0, le=1,
        description="GPUs COMET uses when the device is CUDA (0: CPU). More than one would make PyTorch "
        "Lightning's DDP re-launch the worker per GPU, so evalkit allows one",
    )
    env: ConfigPath | None = Field(None, description=f"COMET's environment (default: ${ENV_VARIABLE}, else "
                                   "~/.cache/evalkit/envs/comet); built by `evalkit setup comet`")
    timeout: float = Field(600.0, gt=0, description="seconds the worker may take to start and load the model, "
                           "or to score one chunk of segments, before it is deemed hung and stopped")
    long_segments: Literal["split", "mark"] = Field(
        "split", description="segments over the encoder's limit (512 tokens): split = scored in pieces at sentence "
        "ends, character-weighted mean; mark = COMET's own truncation, marked in run.json")


_LONG_POLICY = {"split": "split-sentences,charmean", "mark": "truncated,marked"}
_CHUNK_SEGMENTS = 128  # segments per score request: a hang is noticed within `timeout`, progress is cached


class CometScorer(_SegmentMeanScorer):
    """COMET (Rei et al., 2020, 2022) through `evalkit.scorers.comet_worker`, in the environment `evalkit setup comet` builds.

    `load()` checks what it can without starting anything -- the environment,
    the checkpoint and its encoder's files -- and fixes the identity (model,
    checkpoint hash, comet version, long-segment policy) that signs the scores
    and keys the score cache. The worker starts on the first segment the cache
    does not have, loads the model once, and serves every system of the run
    (and CometKiwi's model too, when both metrics are configured); `close()`
    releases it, and the last metric to release it stops it. A worker that
    cannot start, dies or hangs raises ScoringError, a model it cannot load
    MetricUnavailableError: either way the pipeline reports the metric
    unavailable for the run and keeps the other metrics.
    """

    name = "comet"
    needs_sources = True
    Options = CometOptions

    def __init__(self, target_lang: str, options: ScorerOptions | None = None, source_lang: str | None = None) -> None:
        super().__init__(target_lang, options, source_lang)
        self._cache_path: Path | None = None
        self._cache: SegmentScoreCache | None = None
        self._worker: WorkerProcess | None = None
        self._checkpoint: Path | None = None
        self._env: CometEnv | None = None
        self._long: dict[tuple, tuple[list[int], list[bool]]] = {}  # memo key → (pieces, long) per segment

    def use_cache(self, path: Path | None) -> None:
        self._cache_path = path

    def _load(self) -> None:
        self._env = find_env(self.options.env, self.name)
        self._checkpoint, revision = comet_checkpoint(self.options.model, self.name)
        self._identity = (f"model:{self.options.model}@{revision}|comet:{self._env.comet_version}"
                          f"|long:{_LONG_POLICY[self.options.long_segments]}")
        if self._cache_path is not None:
            self._cache = SegmentScoreCache(self._cache_path, f"{self.name}|{self._identity}", self.name)

    def close(self) -> None:
        self._release()
        if self._cache is not None:
            self._cache.close()

    def _release(self) -> None:
        self._worker = None
        if self._env is not None:
            release_worker(self._env.python, self)  # idempotent

    def _samples(self, candidates: list[str], references: list[str], sources: list[str]) -> list[dict[str, str]]:
        return [{"src": s, "mt": c, "ref": r} for s, c, r in zip(sources, candidates, references)]

    @property
    def _model_key(self) -> str:
        """A model as loaded in the shared worker: identity and the options it scores with."""
        o = self.options
        return f"{self.name}|{self._identity}|device:{o.device}|gpus:{o.gpus}|batch:{o.batch_size}"

    def _start_worker(self) -> WorkerProcess:
        if self._worker is not None and self._worker.alive and self._model_key in self._worker.loaded:
            return self._worker
        try:
            self._worker = acquire_worker(self._env.python, self.options.timeout, self)
            if self._model_key not in self._worker.loaded:
                self._worker.request("load", f"loading {self.options.model}", timeout=self.options.timeout,
                                     model=self._model_key, checkpoint=str(self._checkpoint),
                                     device=self.options.device, gpus=self.options.gpus,
                                     batch_size=self.options.batch_size,
                                     split_long=self.options.long_segments == "split")
                self._worker.loaded.add(self._model_key)
        except WorkerError as exc:
            raise self._worker_failure(exc) from None
        return self._worker

    def _worker_failure(self, exc: WorkerError) -> EvalkitError:
        """The metric's one-line error; the worker is released (a dropped metric is not closed by the pipeline)."""
        self._release()
        if exc.kind == "unavailable":
            return MetricUnavailableError(f"{self.name}: {exc}")
        where = f" --env {self._env.path}" if self._env.path != default_env_dir() else ""
        return ScoringError(f"{self.name}: {exc}; if the environment is broken, rebuild it with "
                            f"`evalkit setup comet{where} --force`")

    def _segment_scores(self, candidates: list[str], references: list[str], sources: list[str] | None) -> list[float]:
        key = (tuple(candidates), tuple(references) if self.references_used else None, tuple(sources))
        if key in self._memo:
            self._memo.move_to_end(key)
            return list(self._memo[key])
        self.load()
        samples = self._samples(candidates, references, sources)
        keys = [segment_key(s["src"], s["mt"], s.get("ref")) for s in samples]
        found = self._cache.get_many(keys) if self._cache is not None else {}
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            todo = [samples[first[k]] for k in missing]
            for start in range(0, len(todo), _CHUNK_SEGMENTS):
                chunk, chunk_keys = todo[start:start + _CHUNK_SEGMENTS], missing[start:start + _CHUNK_SEGMENTS]
                worker = self._start_worker()
                try:
                    answer = worker.request("score", f"scoring {len(chunk)} segments", timeout=self.options.timeout,
                                            model=self._model_key, samples=chunk)
                except WorkerError as exc:
                    raise self._worker_failure(exc) from None
                scores, pieces, long = answer.get("scores"), answer.get("pieces"), answer.get("long")
                if not all(isinstance(x, list) and len(x) == len(chunk) for x in (scores, pieces, long)):
                    raise ScoringError(f"{self.name}: the worker answered {str(answer)[:80]!r} for {len(chunk)} segments")
                rows = [(k, 100.0 * float(s), int(p), bool(g)) for k, s, p, g in zip(chunk_keys, scores, pieces, long)]
                if self._cache is not None:
                    self._cache.put_many(rows)
                found.update({k: (s, p, g) for k, s, p, g in rows})
        result = [found[k][0] for k in keys]
        self._memo[key] = result
        self._long[key] = ([found[k][1] for k in keys], [found[k][2] for k in keys])
        while len(self._memo) > _MEMO_SIZE:
            dropped, _ = self._memo.popitem(last=False)
            self._long.pop(dropped, None)
        return list(result)

    def paragraph_details(self, candidates, references, sources=None):
        """Segments over the encoder's input limit: how many pieces each was scored in (or that COMET truncated it)."""
        self._check(candidates, references, sources)
        candidates, references, sources = list(candidates), list(references), list(sources)
        self._segment_scores(candidates, references, sources)
        key = (tuple(candidates), tuple(references) if self.references_used else None, tuple(sources))
        pieces, long = self._long[key]
        if not any(long):
            return None
        if self.options.long_segments == "split":
            return [{"long": True, "pieces": p} if g else {} for p, g in zip(pieces, long)]
        return [{"long": True, "truncated": True} if g else {} for g in long]


class CometKiwiOptions(CometOptions):
    model: ModelReference = Field("Unbabel/wmt22-cometkiwi-da", description="hub id (from the local HF cache), local model folder or .ckpt file")


class CometKiwiScorer(CometScorer):
    """Reference-free quality estimation: scores the candidate against the source only."""

    name = "cometkiwi"
    Options = CometKiwiOptions
    references_used = False

    def _samples(self, candidates: list[str], references: list[str], sources: list[str]) -> list[dict[str, str]]:
        return [{"src": s, "mt": c} for s, c in zip(sources, candidates)]

    def _signature_head(self) -> str:
        return "nrefs:0|qe:yes"


# --- BERTScore -------------------------------------------------------------------


class BertScoreOptions(NeuralOptions):
    model: ModelReference = Field("bert-base-multilingual-cased", description="hub id (from the local HF cache) or local folder")
    num_layers: int | None = Field(None, ge=1, description="layer whose embeddings are matched; default: bert-score's "
                                   "tuned layer for known models (required for other models)")
    batch_size: int = Field(64, ge=1, description="segments per forward pass")


class BertScoreScorer(_SegmentMeanScorer):
    """BERTScore F1 with bert-score's defaults otherwise (no idf weighting, no baseline rescaling)."""

    name = "bertscore"
    Options = BertScoreOptions

    def _load(self) -> None:
        package_version = _required_version("bert-score", self.name, "pip install bert-score")
        folder = hf_model_folder(self.options.model, self.name)
        model_config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        depth = model_config.get("num_hidden_layers")
        try:
            from bert_score import BERTScorer
            from bert_score.utils import model2layers
        except ImportError as exc:
            raise MetricUnavailableError(
                f"bertscore: bert-score is installed but does not import here ({first_line(exc)}); "
                f"pip install bert-score"
            ) from None
        from transformers import __version__ as transformers_version

        known = model2layers.get(self.options.model) or model2layers.get(folder.name)
        num_layers = self.options.num_layers or known
        if num_layers is None:
            raise MetricUnavailableError(
                f"bertscore: bert-score has no tuned layer for {self.options.model}; set num_layers "
                f"(the model has {depth} layers)"
            )
        if isinstance(depth, int) and num_layers > depth:
            raise MetricUnavailableError(f"bertscore: num_layers is {num_layers} but {self.options.model} has {depth} layers")
        if "t5" in str(folder) and "t5" not in str(model_config.get("model_type", "")):
            # bert_score.utils.get_model loads any model_type containing "t5" as T5EncoderModel.
            raise MetricUnavailableError(
                f"bertscore: bert-score treats every model path containing 't5' as a T5 model; move or link "
                f"{folder} to a path without 't5'"
            )
        try:
            # A local folder, never a hub id: bert-score would otherwise let transformers try the network.
            self._scorer = BERTScorer(model_type=str(folder), num_layers=num_layers, batch_size=self.options.batch_size,
                                      device=pick_device(self.options.device))
        except OSError as exc:  # e.g. weights or tokenizer files missing from the folder
            raise MetricUnavailableError(f"bertscore: cannot load {self.options.model}: {first_line(exc)}") from None
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        # bert-score truncates longer inputs to the tokenizer's limit without a word; say where that limit is.
        limit = getattr(self._scorer._tokenizer, "model_max_length", None)
        limit_part = f"|maxlen:{limit}" if isinstance(limit, int) and limit < 1_000_000 else ""
        self._identity = (f"model:{self.options.model}@{revision_of(files)}|layer:{num_layers}{limit_part}"
                          f"|idf:no|rescale:no|F1"
                          f"|bert_score:{package_version}|transformers:{transformers_version}")

    def _predict(self, candidates: list[str], references: list[str], sources: list[str] | None) -> Sequence[float]:
        # bert-score gives an empty candidate P = R = F1 = 0 but, under transformers 5,
        # crashes before getting there; score those here and send the rest.
        scores = [0.0] * len(candidates)
        keep = [i for i, c in enumerate(candidates) if c.strip()]
        if keep:
            _, _, f1 = self._scorer.score([candidates[i] for i in keep], [references[i] for i in keep],
                                          batch_size=self.options.batch_size)
            for i, value in zip(keep, f1.tolist()):
                scores[i] = value
        return scores
