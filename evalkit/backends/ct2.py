"""Encoder–decoder translation with CTranslate2 (OpenNMT's inference engine).

CTranslate2 runs the same Transformers checkpoints as `seq2seq` (NLLB-200,
M2M100, MarianMT/opus-mt, mBART-50) after a one-off conversion, with int8
weights and a C++ decoding loop: on this project's 2-core CPU, int8 measured
12-19x the naive one-paragraph-at-a-time `generate` loop and 2.2x seq2seq's
fused greedy path (15.1 vs 33.4 s of CPU, 32 paragraphs x 64 tokens, batch
16) at 0.58x its peak memory (1.9 vs 3.3 GiB) on NLLB-200-distilled-600M's
architecture, 1 thread each (benchmarks/decode_bound.py). Its float32 is
slower than seq2seq's (42.8 s) with outputs identical to it (32/32). int8
outputs are not float32's: on those random weights 16 of 32 paragraphs
differed somewhere in 64 tokens (random weights have small logit margins;
trained models were not measurable offline). Decoding is greedy by default
and, as in `seq2seq`, inputs are sorted by token length before batching and
the order is restored; beam batches count beams against `max_batch_tokens`.

Two pieces:

- `convert_to_ct2(model_dir, output_dir)`: a `save_pretrained` folder → a
  self-contained CTranslate2 folder (model.bin + the tokenizer files copied
  verbatim + `evalkit-ct2.json` recording the source and quantization), written
  to a staging folder and renamed into place, so a failed conversion never
  leaves a half folder that looks like a model.
- `CTranslate2Translator`: `model:` is such a folder. Text is tokenized and
  detokenized with the Hugging Face tokenizer saved in it, and the language is
  chosen exactly as `seq2seq` chooses it (`langcodes.resolve_codes`): a target
  token forced as the first decoded token (NLLB-200, M2M100, mBART-50: CT2's
  `target_prefix`) or a tag prefixed to the source (opus-mt multi-target,
  MADLAD-400).

Paragraphs over the model's input limit are split at sentence ends, translated
piece by piece and joined, and batches are planned by paragraph count and padded
token budget, with the same helpers as `seq2seq` (`batching`).

Equivalence with `seq2seq`: with float32 weights, greedy decoding and the same
length limit, outputs are identical to transformers' `generate` (tested), as
long as the Transformers model does not force EOS at the length limit
(`forced_eos_token_id`, which NLLB/M2M100 checkpoints set; CTranslate2 has no
such rule, so the last token of length-capped outputs can differ).
`max_decoding_length` counts the forced target-language token, as
`max_new_tokens` does.

Batch neighbours: on CPU, CTranslate2's oneDNN/MKL kernels can give a paragraph
a slightly different result depending on how much padding its batch adds
(OpenNMT/CTranslate2#693). Greedy outputs rarely change, but they can; set
`deterministic: true` to translate every paragraph in a batch of its own, so an
output is a function of its paragraph alone (slower: the speed of the naive loop).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from evalkit.backends.base import BackendOptions, ProgressCallback, Translations, Translator
from evalkit.backends.batching import Pieces, plan_batches
from evalkit.backends.langcodes import LanguageCodeBook, input_limit
from evalkit.errors import ConversionError, ModelUnavailableError, TranslationError
from evalkit.hf_models import first_line, package_version, quiet_transformers

INSTALL_HINT = "pip install 'evalkit[ct2]'"
METADATA_FILE = "evalkit-ct2.json"

# What a conversion may store and what a loaded model may compute in.
Quantization = Literal["int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16", "float32"]
ComputeType = Literal[
    "auto", "default", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16", "float32"
]

# Tokenizer files of every family evalkit supports (NLLB/M2M100/mBART: sentencepiece
# model or tokenizer.json; Marian: source/target.spm + vocab.json). Copied verbatim so
# the CT2 folder tokenizes exactly as the original folder does.
_TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "sentencepiece.bpe.model", "sentencepiece.model", "spiece.model", "tokenizer.model",
    "source.spm", "target.spm", "vocab.json", "target_vocab.json", "vocab.txt", "merges.txt",
)


# -- conversion ------------------------------------------------------------------------


def convert_to_ct2(
    model_dir: str | Path,
    output_dir: str | Path,
    quantization: Quantization = "int8",
    force: bool = False,
) -> Path:
    """Convert a `save_pretrained` folder into a self-contained CTranslate2 folder; return its path.

    `quantization` is how the weights are stored; a translator may still compute
    in another type (`compute_type`), converting on load. Memory: the whole
    model is loaded in float32 (NLLB-600M: 16 s, 4.2 GB peak on this machine).
    """
    try:
        import ctranslate2
        from ctranslate2.converters import TransformersConverter
    except ImportError:
        raise ConversionError(f"converting to CTranslate2 needs the ctranslate2 package: {INSTALL_HINT}") from None

    source, output = Path(model_dir).expanduser(), Path(output_dir).expanduser()
    if not source.is_dir():
        raise ConversionError(f"model folder {source} does not exist; point at a folder saved with save_pretrained")
    if not (source / "config.json").is_file():
        raise ConversionError(f"model folder {source} has no config.json; point at a folder saved with save_pretrained")
    if output.exists() and not force:
        raise ConversionError(f"output folder {output} already exists; pass force=True (--force) to replace it")
    if output.resolve() == source.resolve() or source.resolve().is_relative_to(output.resolve()):
        raise ConversionError(f"output folder {output} would replace the model folder {source}; choose another")
    tokenizer_files = [name for name in _TOKENIZER_FILES if (source / name).is_file()]
    if not tokenizer_files:
        raise ConversionError(
            f"model folder {source} has no tokenizer files ({', '.join(_TOKENIZER_FILES[:3])}, ...); "
            f"save the tokenizer into it with tokenizer.save_pretrained"
        )

    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.with_name(f".{output.name}.converting-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    clock = time.perf_counter()
    try:
        with quiet_transformers():
            converter = TransformersConverter(str(source), copy_files=tokenizer_files)
            converter.convert(str(staging), quantization=quantization, force=True)
    except (ValueError, KeyError, NotImplementedError, OSError, RuntimeError) as exc:
        # ValueError: an architecture CTranslate2 does not convert; KeyError: an unsupported
        # activation; OSError/RuntimeError: unreadable weights, a full disk.
        shutil.rmtree(staging, ignore_errors=True)
        raise ConversionError(f"cannot convert {source} to CTranslate2: {first_line(exc)}") from None
    metadata = {
        "source": str(source.resolve()),
        "quantization": quantization,
        "ctranslate2": ctranslate2.__version__,
        "max_position_embeddings": _max_positions(source),
        "converted_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - clock, 1),
    }
    (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    if output.is_dir() and not output.is_symlink():
        shutil.rmtree(output)
    elif output.exists() or output.is_symlink():
        output.unlink()
    staging.rename(output)
    return output


def _max_positions(source: Path) -> int | None:
    """The encoder's position limit, read from the Transformers config (CTranslate2's config drops it)."""
    try:
        value = json.loads((source / "config.json").read_text(encoding="utf-8")).get("max_position_embeddings")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, int) and value > 0 else None


def is_ct2_folder(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


# -- translation -----------------------------------------------------------------------


class CTranslate2Options(BackendOptions):
    compute_type: ComputeType = Field(
        "auto", description="'auto': int8 on CPU, int8_float16 on CUDA (where supported); or any CTranslate2 type"
    )
    device: str = Field("auto", description="'auto' (CUDA when CTranslate2 sees a GPU), 'cpu', 'cuda', 'cuda:1', ...")
    # 1/1 on CPU: measured stable on these 2-core machines, where scoring or another
    # run shares the cores (FACTS.md: 2 threads gain little when anything else runs);
    # 0 = CTranslate2's default (all cores).
    intra_threads: int = Field(1, ge=0, description="threads per translation (0 = CTranslate2's default)")
    inter_threads: int = Field(1, ge=1, description="batches translated in parallel")
    batch_size: int = Field(16, ge=1, description="most paragraphs per batch")
    max_batch_tokens: int | None = Field(8192, ge=1, description="most padded source tokens per batch")
    beam_size: int = Field(1, ge=1, description="1 = greedy decoding")
    max_decoding_length: int = Field(256, ge=1, description="output tokens, forced target-language token included")
    min_decoding_length: int = Field(0, ge=0, description="force at least this many output tokens (benchmarks)")
    deterministic: bool = Field(
        False, description="translate each paragraph alone, so no batch neighbour can change its output (slower)"
    )

    @model_validator(mode="after")
    def _lengths(self) -> CTranslate2Options:
        if self.min_decoding_length > self.max_decoding_length:
            raise ValueError("min_decoding_length is larger than max_decoding_length")
        return self


class CTranslate2Translator(Translator):
    Options = CTranslate2Options
    needs_model = True
    options: CTranslate2Options
    runtime_packages = ("ctranslate2", "transformers", "tokenizers", "sentencepiece")
    # Greedy/beam search only (no sampling options exist), so outputs may be cached: `deterministic` stays True.
    # Speed only. Batching can in rare cases change a CPU int8 output (see the module
    # docstring), the same trade-off seq2seq's batch_size makes; `deterministic` removes it.
    cache_neutral_options = frozenset({"batch_size", "max_batch_tokens", "intra_threads", "inter_threads"})

    def __init__(self, name, model, options) -> None:
        super().__init__(name, model, options)
        self._translator = None
        self._tokenizer = None
        self._device: str | None = None
        self._compute_type: str | None = None
        self._metadata: dict[str, object] = {}
        self._codes = LanguageCodeBook()
        self._split = 0  # paragraphs over the input limit, translated in pieces

    # -- loading -----------------------------------------------------------------
    def load(self) -> None:
        if self.model is None:
            raise ModelUnavailableError("backend ctranslate2 needs `model:` (a local CTranslate2 model folder)")
        folder = Path(self.model).expanduser()
        convert = "convert a save_pretrained folder with `evalkit convert SRC DEST`"
        if not folder.is_dir():
            where = "does not exist" if isinstance(self.model, Path) else "is not a local folder (no hub downloads)"
            raise ModelUnavailableError(f"CTranslate2 model {self.model} {where}; {convert}")
        if not is_ct2_folder(folder):
            raise ModelUnavailableError(f"{folder} is not a CTranslate2 model folder (no model.bin); {convert}")
        try:
            import ctranslate2
        except ImportError:
            raise ModelUnavailableError(f"backend ct2 needs the ctranslate2 package: {INSTALL_HINT}") from None
        from transformers import AutoTokenizer

        clock = time.perf_counter()
        device, index = self._pick_device(ctranslate2)
        compute_type = self._pick_compute_type(ctranslate2, device)
        threads = {"intra_threads": self.options.intra_threads, "inter_threads": self.options.inter_threads}
        try:
            with quiet_transformers():
                self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelUnavailableError(
                f"no usable tokenizer in {folder} ({first_line(exc)}); "
                f"copy the tokenizer files of the original model into it, or re-convert with convert_to_ct2"
            ) from None
        try:
            self._translator = ctranslate2.Translator(
                str(folder), device=device, device_index=index, compute_type=compute_type, **threads
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelUnavailableError(f"cannot load CTranslate2 model {folder}: {first_line(exc)}") from None
        self._device, self._compute_type = f"{device}:{index}" if device == "cuda" else device, compute_type
        try:
            self._metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._metadata = {}  # converted outside evalkit: no record of its source
        self.timings.load += time.perf_counter() - clock

    def availability(self) -> tuple[bool | None, str]:
        if self.model is None:
            return False, "no model configured"
        folder = Path(self.model).expanduser()
        if not folder.is_dir():
            return False, f"{self.model} is not a local folder"
        if not is_ct2_folder(folder):
            return False, f"{folder} is not a CTranslate2 model folder (no model.bin); convert it with `evalkit convert SRC DEST`"
        if importlib.util.find_spec("ctranslate2") is None:
            return False, f"the ctranslate2 package is not installed: {INSTALL_HINT}"
        return True, f"CTranslate2 folder {folder}"

    def _pick_device(self, ctranslate2) -> tuple[str, int]:
        wanted = self.options.device
        if wanted == "auto":
            return ("cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"), 0
        kind, _, index = wanted.partition(":")
        if kind not in ("cpu", "cuda") or (index and not index.isdigit()):
            raise ModelUnavailableError(f"device {wanted!r} is not one CTranslate2 runs on (auto, cpu, cuda, cuda:N)")
        if kind == "cuda" and ctranslate2.get_cuda_device_count() == 0:
            raise ModelUnavailableError("device cuda requested, but CTranslate2 sees no CUDA GPU here")
        return kind, int(index or 0)

    def _pick_compute_type(self, ctranslate2, device: str) -> str:
        supported = ctranslate2.get_supported_compute_types(device)
        wanted = self.options.compute_type
        if wanted == "auto":
            # int8 weights with float16 activations on GPUs, int8 on CPU: the fast
            # settings; fall back to exact float32 where the hardware lacks them.
            preferred = ("int8_float16", "float16", "float32") if device == "cuda" else ("int8", "float32")
            return next(c for c in preferred if c in supported or c == "float32")
        if wanted != "default" and wanted not in supported:
            raise ModelUnavailableError(
                f"compute_type {wanted} is not supported on this {device} (supported: {', '.join(sorted(supported))})"
            )
        return wanted

    # -- translation ---------------------------------------------------------------
    def _max_input_tokens(self) -> int:
        return input_limit(self._metadata.get("max_position_embeddings"), self._tokenizer.model_max_length)

    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        if self._translator is None:
            self.load()
        codes = self._codes.get(self._tokenizer, str(self.model), source_lang, target_lang)
        tokenizer = self._tokenizer
        if codes.tokenizer_src_lang:
            tokenizer.src_lang = codes.tokenizer_src_lang
        o = self.options
        limit = self._max_input_tokens()

        encoded: dict[str, list[str]] = {}  # split_to_fit measures each text; encode it once

        def encode(text: str) -> list[str]:
            # The tokenizer adds what the model was trained with (</s>, NLLB's source
            # language token), exactly as seq2seq feeds transformers.
            if text not in encoded:
                encoded[text] = tokenizer.convert_ids_to_tokens(tokenizer(codes.source_prefix + text)["input_ids"])
            return encoded[text]

        work = Pieces(texts, lambda t: len(encode(t)), limit)  # over-long paragraphs become several pieces
        self._split += sum(n > 1 for n in work.counts)
        sources = [encode(piece) for piece in work.pieces]

        prefix = [codes.forced_bos_token] if codes.forced_bos_token else None
        decoding = dict(
            beam_size=o.beam_size,
            max_decoding_length=o.max_decoding_length,
            min_decoding_length=o.min_decoding_length,
            max_input_length=0,  # CTranslate2 would silently truncate at 1024; pieces already fit
        )
        if o.deterministic:
            batches = [[k] for k in sorted(range(len(sources)), key=lambda k: -len(sources[k]))]
        else:
            lengths = [len(tokens) for tokens in sources]
            batches = plan_batches(lengths, o.batch_size, o.max_batch_tokens, beams=o.beam_size)
        # One call per `inter_threads` planned batches: CTranslate2 splits the call again
        # into rows of at most `max_batch_size` and translates those batches in parallel.
        for start in range(0, len(batches), o.inter_threads):
            group = batches[start : start + o.inter_threads]
            members = [k for batch in group for k in batch]
            clock = time.perf_counter()
            try:
                results = self._translator.translate_batch(
                    [sources[k] for k in members],
                    target_prefix=[prefix] * len(members) if prefix else None,
                    max_batch_size=max(len(batch) for batch in group),
                    batch_type="examples",
                    **decoding,
                )
            except (RuntimeError, ValueError) as exc:
                raise TranslationError(f"CTranslate2 translation failed: {first_line(exc)}") from None
            self.timings.generate += time.perf_counter() - clock
            finished = []
            for k, result in zip(members, results):
                tokens = result.hypotheses[0]
                if prefix and tokens[: len(prefix)] == prefix:
                    tokens = tokens[len(prefix) :]
                text = tokenizer.decode(tokenizer.convert_tokens_to_ids(tokens), skip_special_tokens=True).strip()
                if done := work.put(k, text):
                    finished.append(done)
            if progress and finished:
                progress(finished)
        return work.result()

    # -- provenance ----------------------------------------------------------------
    def signature(self) -> str:
        o = self.options
        compute = self._compute_type or o.compute_type
        return (
            f"backend:ct2|model:{self.model}|compute_type:{compute}|beam:{o.beam_size}|"
            f"max_decoding_length:{o.max_decoding_length}|ctranslate2:{_version('ctranslate2')}"
        )

    def identity_options(self) -> dict[str, object]:
        """The options with 'auto' device and compute type resolved the way CTranslate2 resolves them.

        The generic 'auto' handling asks torch about CUDA, but CTranslate2 finds
        GPUs on its own (a CPU-only torch beside a CUDA CTranslate2 would be
        recorded as CPU). Resolving here also lets `auto` and the type it picks share entries.
        """
        options = super().identity_options()
        if "auto" in (options["device"], options["compute_type"]) and importlib.util.find_spec("ctranslate2"):
            import ctranslate2

            if options["device"] == "auto":
                device, _ = self._pick_device(ctranslate2)
                options["device"] = device
            if options["compute_type"] == "auto":
                options["compute_type"] = self._pick_compute_type(ctranslate2, options["device"].split(":")[0])
        return options

    @property
    def info(self) -> dict[str, object]:
        if self._translator is None:
            return {}
        return {
            "engine": f"ctranslate2 {_version('ctranslate2')}",
            "tokenizer_class": type(self._tokenizer).__name__,
            "device": self._device,
            "compute_type": self._compute_type,
            "threads": {"intra": self.options.intra_threads, "inter": self.options.inter_threads},
            "converted_from": self._metadata.get("source"),
            "stored_quantization": self._metadata.get("quantization"),
            "language_codes": self._codes.describe(),
            "split_paragraphs": self._split,
        }


def _version(package: str) -> str:
    return package_version(package) or "not installed"
