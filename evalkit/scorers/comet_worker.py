"""The COMET worker: a process in COMET's own environment that loads a model once and scores batches.

unbabel-comet 2.2 pins transformers<5, numpy<2, huggingface-hub<1 and
protobuf<5, which evalkit's environment (transformers 5) cannot satisfy, so
`evalkit setup comet` builds a virtual environment for it and evalkit starts
this file there as a subprocess (`python -I comet_worker.py`). It is one
self-contained file on purpose: it imports only the standard library and
COMET's stack, never evalkit (which would pull in transformers 5 things), and
is run in place from evalkit's package folder, so the worker and the main
process always come from the same evalkit version.

Protocol: one JSON object per line. The worker first writes
`{"event": "ready", "protocol": N, "versions": {...}}`; then for each request
`{"id": n, "op": ...}` it writes exactly one answer `{"id": n, "ok": true, ...}`
or `{"id": n, "ok": false, "kind": "unavailable"|"error", "error": "<one line>"}`.

- `load` {model, checkpoint, device, batch_size, gpus, split_long}: load a model under the key
  `model` (one worker serves COMET and CometKiwi of a run side by side)
- `score` {model, samples: [{src, mt[, ref]}]}: segment scores in input order, how many pieces
  each segment was scored in, and whether it exceeded the encoder's input limit
- `shutdown`: answer, then exit

COMET and PyTorch Lightning print to stdout; the protocol needs it clean, so
the worker keeps a private duplicate of the original stdout for its answers and
points file descriptor 1 at stderr (which evalkit sends to a log file).

Long segments: COMET truncates every input at the encoder's limit (512 tokens
for XLM-R) without a word. A segment whose longest input (or, for models that
read src/mt/ref as one sequence, whose inputs together) exceed that limit is cut
into k consecutive pieces at sentence ends -- the same k for source, candidate
and reference, each piece holding about the same share of its text -- and its
score is the mean of the piece scores weighted by the reference piece's
characters (the source's for reference-free models), k the smallest that fits.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import traceback

PROTOCOL = 1
_MAX_PIECES = 64
# Sentence ends (Latin, CJK, Thai uses spaces between sentences), then any whitespace as a fallback.
_SENTENCE_END = re.compile(r"(?<=[.!?;:。！？…»\"”’)])\s+")
_SPACE = re.compile(r"\s+")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


# --- splitting long segments ------------------------------------------------------------


def _units(text: str) -> list[str]:
    """Sentences (a text without sentence ends, e.g. Thai, is cut at spaces instead: see `LoadedModel._pieces`)."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def _group(units: list[str], k: int) -> list[str]:
    """k consecutive groups of units, each holding about 1/k of the characters; some may be empty."""
    total = sum(len(u) for u in units) or 1
    groups: list[list[str]] = [[] for _ in range(k)]
    done = 0
    for unit in units:
        middle = done + len(unit) / 2
        groups[min(k - 1, int(k * middle / total))].append(unit)
        done += len(unit)
    return [" ".join(g) for g in groups]


def split_segment(fields: dict[str, str], k: int, words: bool = False) -> list[dict[str, str]]:
    """The segment cut into k aligned pieces (at sentence ends, or at spaces when `words`)."""
    cut = {}
    for name, text in fields.items():
        units = [w for w in _SPACE.split(text.strip()) if w] if words else _units(text)
        cut[name] = _group(units or [text], k)
    return [{name: cut[name][i] for name in fields} for i in range(k)]


# --- the model ------------------------------------------------------------------------------


class LoadedModel:
    """One COMET model and its scoring options; a worker holds one per metric it serves (COMET and CometKiwi)."""

    def __init__(self) -> None:
        self.model = None
        self.options: dict = {}
        self.limit = 0
        self.joint = False  # inputs read as one sequence (UnifiedMetric: CometKiwi, xCOMET)

    def load(self, request: dict) -> dict:
        import inspect

        from comet import load_from_checkpoint

        extra = {"local_files_only": True} if "local_files_only" in inspect.signature(load_from_checkpoint).parameters else {}
        try:
            model = load_from_checkpoint(request["checkpoint"], **extra)
        except (OSError, KeyError, ValueError) as exc:
            raise Unavailable(f"cannot load {request['checkpoint']}: {_one_line(exc)}") from None
        model.eval()
        self.model = model
        self.options = dict(request)
        if self.options.get("device", "auto") == "auto":
            import torch

            self.options["device"] = "cuda" if torch.cuda.is_available() else "cpu"
        encoder = model.encoder
        positions = int(getattr(encoder, "max_positions", 512))
        # COMET cuts each input at max_positions - 2 tokens (room for <s> and </s>); a model that reads
        # its inputs as one sequence (UnifiedMetric) cuts the joined sequence, separators included.
        from comet.models import UnifiedMetric  # CometKiwi; xCOMET's XCOMETMetric derives from it

        self.joint = isinstance(model, UnifiedMetric)
        fields = len(getattr(model, "input_segments", None) or ("mt", "src", "ref"))
        self.limit = positions - (1 + fields * int(getattr(encoder, "size_separator", 2))) if self.joint else positions - 2
        return {"class": type(model).__name__, "max_tokens": self.limit, "joint": self.joint,
                "device": self.options["device"]}

    def _length(self, sample: dict[str, str]) -> int:
        tokenizer = self.model.encoder.tokenizer
        counts = [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in sample.values()]
        return sum(counts) if self.joint else max(counts)

    def _predict(self, samples: list[dict[str, str]]) -> list[float]:
        if not samples:
            return []
        device = self.options["device"]
        gpus = 0 if device == "cpu" else int(self.options.get("gpus", 1))
        devices = [int(device.split(":", 1)[1])] if gpus and ":" in device else None
        output = self.model.predict(
            samples, batch_size=int(self.options.get("batch_size", 16)), gpus=gpus, devices=devices,
            accelerator="gpu" if gpus else "cpu", progress_bar=False,
        )
        return [float(s) for s in output.scores]

    def _pieces(self, sample: dict[str, str], length: int) -> list[dict[str, str]]:
        k = max(2, math.ceil(length / self.limit))
        for words in (False, True):
            while k <= _MAX_PIECES:
                pieces = split_segment(sample, k, words)
                if all(self._length(p) <= self.limit for p in pieces):
                    return pieces
                if not words and max(len(_units(t)) for t in sample.values()) <= k:
                    break  # no more sentence ends to cut at: cut at spaces
                k += 1
        return split_segment(sample, _MAX_PIECES, True)  # still too long pieces: COMET truncates them

    def score(self, request: dict) -> dict:
        samples = request["samples"]
        weight_field = "ref" if all("ref" in s for s in samples) else "src"
        plan: list[tuple[int, int, list[float]]] = []  # (first flat index, piece count, weights)
        flat: list[dict[str, str]] = []
        lengths = [self._length(sample) for sample in samples]
        for sample, length in zip(samples, lengths):
            if length <= self.limit or not self.options.get("split_long", True):
                plan.append((len(flat), 1, [1.0]))
                flat.append(sample)
                continue
            pieces = self._pieces(sample, length)
            weights = [float(len(p[weight_field])) for p in pieces]
            plan.append((len(flat), len(pieces), weights))
            flat.extend(pieces)
        raw = self._predict(flat)
        scores, counts, long = [], [], []
        for length, (start, count, weights) in zip(lengths, plan):
            values = raw[start:start + count]
            total = sum(weights)
            if total <= 0:
                weights, total = [1.0] * count, float(count)
            scores.append(sum(v * w for v, w in zip(values, weights)) / total)
            counts.append(count)
            long.append(length > self.limit)
        return {"scores": scores, "pieces": counts, "long": long, "max_tokens": self.limit}


class Unavailable(Exception):
    """The model cannot be loaded here (missing files): the metric is unavailable, not broken."""


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("unbabel-comet", "torch", "transformers", "pytorch-lightning"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    found["python"] = sys.version.split()[0]
    return found


def main() -> int:
    # Answers go to a private copy of the original stdout; everything else printed lands on stderr.
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def answer(message: dict) -> None:
        channel.write(json.dumps(message, ensure_ascii=False) + "\n")
        channel.flush()

    answer({"event": "ready", "protocol": PROTOCOL, "versions": _versions(), "pid": os.getpid()})
    models: dict[str, LoadedModel] = {}  # by the `model` key evalkit gives in `load`
    for line in sys.stdin:
        if not line.strip():
            continue
        request_id = None
        try:
            request = json.loads(line)
            request_id = request.get("id")
            op = request.get("op")
            if op == "shutdown":
                answer({"id": request_id, "ok": True})
                return 0
            key = str(request.get("model", ""))
            if op == "load":
                loaded = LoadedModel()
                result = loaded.load(request)
                models[key] = loaded
            elif op == "score":
                if key not in models:
                    raise ValueError(f"score before load of model {key!r}")
                result = models[key].score(request)
            else:
                raise ValueError(f"unknown op {op!r}")
            answer({"id": request_id, "ok": True, **result})
        except Unavailable as exc:
            answer({"id": request_id, "ok": False, "kind": "unavailable", "error": str(exc)})
        except Exception as exc:  # the worker's error boundary: one line back to evalkit, details to the log
            traceback.print_exc(file=sys.stderr)
            answer({"id": request_id, "ok": False, "kind": "error", "error": _one_line(exc)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
