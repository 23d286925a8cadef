"""Encoder–decoder translation with transformers' AutoModelForSeq2SeqLM.

Covers NLLB-200, M2M100, MarianMT/opus-mt, MADLAD-400 and mBART-50 through one
code path; `langcodes` tells each family the languages. Decoding is greedy by
default and inputs are sorted by length before batching so padding stays small
(greedy outputs do not depend on batch composition, so order is restored
exactly). Weights are looked up locally only unless `download: true`: these
evaluations run offline, and a hub retry loop would stall a run for a minute
before failing anyway.

Speed (measured on a 2-core AMD EPYC, 1 torch thread, NLLB-200-distilled-600M's
architecture; benchmarks/translation_speed.py):

- The encoder runs outside `generate`, on groups of paragraphs of nearly equal
  length, so a batch's short paragraphs are not padded to its longest: encoding
  is compute-bound and costs per padded token (one batch of 16 paragraphs of
  40-243 tokens: 13.5 s padded, 8.4 s unpadded). Each paragraph's encoder
  states are then padded (masked) into one batch for decoding, where batching
  pays: a decode step reads every weight once per batch, not once per row.
- On CPU in float32, linear layers (the 1024 x 256,206 output projection
  included) run through oneDNN (`torch.ops.mkldnn._linear_pointwise`, which
  takes the model's own weights: no copy) rather than torch's default BLAS
  (MKL), whose float32 GEMM uses no AVX-512 on AMD CPUs: about 2x faster there
  (output projection, 16 rows: 190 -> 85 ms). Logits then differ from stock
  transformers in the last float bits, as they already do between batch sizes;
  `cpu_kernels: default` turns it off. The layers are switched only inside
  `translate` and restored after: loading evalkit changes nothing global.
  Products under _ONEDNN_MIN_MACS stay on MKL (oneDNN's per-call cost is higher).

Together, 32 paragraphs x 64 forced tokens, batch 16: 78 s -> 45 s of CPU
(38 -> 22 ms per output token per paragraph); grouping alone gains ~3% there
(sorted batches of 32 paragraphs are already of similar lengths), oneDNN ~40%.

- Greedy decoding runs evalkit's own loop (`decoding.py`) where it reproduces
  `generate` exactly (NLLB/M2M100, Marian, mBART, and the generation-config
  fields it knows; anything else runs `generate`, and run.json's
  `model_info.decoding` says which and why): the output projection is fused
  with the argmax over vocabulary chunks (no full-vocabulary logits), a forced
  first token skips the projection, finished rows leave the batch. A decode
  step is then ~85% GEMM (600M architecture, batch 16: ~10% less CPU per step
  than `generate`; benchmarks/decode_bound.py measures it against the GEMM
  bound). `greedy: generate` turns it off; outputs are the same either way.
- Beam search is transformers' own, with the cross-attention cache shared
  between a paragraph's beams instead of copied at every step (same outputs),
  and batches are planned by padded tokens x rows x beams, so a beam batch
  holds as much memory as a greedy one under the same `max_batch_tokens`.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import Field

from evalkit.backends.base import BackendOptions, ProgressCallback, Translations, Translator
from evalkit.backends.batching import Pieces, plan_batches
from evalkit.backends.decoding import (
    FusedProjection,
    GreedyPlan,
    beam_cache,
    cache_argument,
    decode_greedy,
    greedy_plan,
)
from evalkit.backends.langcodes import LanguageCodeBook, input_limit
from evalkit.errors import ModelUnavailableError, TranslationError
from evalkit.hf_models import (
    check_local_folder,
    first_line,
    hub_availability,
    load_failure,
    loaded_model_info,
    pick_device,
    pick_dtype,
    quiet_transformers,
    package_version,
    require_cached,
)


class Seq2SeqOptions(BackendOptions):
    batch_size: int = Field(16, ge=1, description="most paragraphs per generate() call")
    max_batch_tokens: int | None = Field(8192, ge=1, description="most padded input tokens per generate() call")
    num_beams: int = Field(1, ge=1, description="1 = greedy decoding")
    max_new_tokens: int = Field(256, ge=1)
    device: str = Field("auto", description="'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:1', ...")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    revision: str | None = Field(None, description="hub revision (branch, tag or commit)")
    download: bool = Field(False, description="allow fetching weights from the Hugging Face hub")
    greedy: Literal["fused", "generate"] = Field(
        "fused",
        description="greedy decoding: 'fused' (projection fused with the argmax; same outputs as generate) or 'generate'",
    )
    cpu_kernels: Literal["onednn", "default"] = Field(
        "onednn",
        description="CPU float32 linear layers: 'onednn' (about 2x faster than MKL on AMD CPUs) or 'default' (torch's)",
    )


# A group of paragraphs encoded together may be padded by at most this share of its real tokens.
_ENCODER_PADDING = 0.125
# oneDNN costs ~11 µs more per call than MKL: below about this many multiply-adds MKL is faster (measured).
_ONEDNN_MIN_MACS = 1 << 21


class Seq2SeqTranslator(Translator):
    Options = Seq2SeqOptions
    needs_model = True
    options: Seq2SeqOptions
    runtime_packages = ("torch", "transformers")
    # `greedy` changes how, not what: fused greedy decoding returns generate's outputs (tests/test_backends.py)
    cache_neutral_options = Translator.cache_neutral_options | {"greedy"}

    def __init__(self, name, model, options) -> None:
        super().__init__(name, model, options)
        self._tokenizer = None
        self._model = None
        self._device = None
        self._codes = LanguageCodeBook()
        self._split = 0  # paragraphs over the input limit, translated in pieces
        # Whether oneDNN linear layers work here: None = not probed yet; the probe's failure is recorded.
        self._onednn: bool | None = None
        self._onednn_failure: str | None = None
        self._decoding: str | None = None  # how the last translate call decoded (run.json's model_info)

    # -- loading -----------------------------------------------------------------
    def load(self) -> None:
        if self.model is None:
            raise ModelUnavailableError("backend seq2seq needs `model:` (a hub id or a local folder)")
        if isinstance(self.model, Path):
            check_local_folder(self.model)
        require_cached(self.model, self.options.revision, self.options.download)
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        kwargs = {"revision": self.options.revision, "local_files_only": not self.options.download}
        self._device = pick_device(self.options.device)
        clock = time.perf_counter()
        try:
            with quiet_transformers():
                self._tokenizer = AutoTokenizer.from_pretrained(self.model, **kwargs)
                self._model = AutoModelForSeq2SeqLM.from_pretrained(
                    self.model, dtype=pick_dtype(self.options.dtype, self._device), **kwargs
                )
        except (OSError, ValueError, ImportError) as exc:
            raise load_failure(self.model, exc, self.options.download) from None
        self._model.to(self._device).eval()
        # max_new_tokens governs the length; a max_length left in the checkpoint's generation config makes
        # transformers warn on every batch that both are set (outputs are the same without it)
        self._model.generation_config.max_length = None
        import torch

        self._kernels(str(self._device), self._model.dtype == torch.float32)  # probe now: the identity is exact once loaded
        self.timings.load += time.perf_counter() - clock

    def availability(self) -> tuple[bool | None, str]:
        return hub_availability(self.model, self.options.revision)

    # -- translation ---------------------------------------------------------------
    def _max_input_tokens(self) -> int:
        return input_limit(getattr(self._model.config, "max_position_embeddings", None), self._tokenizer.model_max_length)

    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        import torch

        if self._model is None:
            self.load()
        codes = self._codes.get(self._tokenizer, str(self.model), source_lang, target_lang)
        tokenizer, model = self._tokenizer, self._model
        if codes.tokenizer_src_lang:
            tokenizer.src_lang = codes.tokenizer_src_lang
        generation = model.generation_config.__class__.from_dict(model.generation_config.to_dict())
        generation.update(
            num_beams=self.options.num_beams,
            do_sample=False,
            max_new_tokens=self.options.max_new_tokens,
        )
        if codes.forced_bos_token:
            generation.forced_bos_token_id = tokenizer.convert_tokens_to_ids(codes.forced_bos_token)
        limit = self._max_input_tokens()
        token_ids: dict[str, list[int]] = {}  # each piece is tokenized once: to split, to sort, to encode

        def ids(text: str) -> list[int]:
            if text not in token_ids:
                token_ids[text] = tokenizer(codes.source_prefix + text)["input_ids"]
            return token_ids[text]

        def count(text: str) -> int:
            return len(ids(text))

        work = Pieces(texts, count, limit)  # over-long paragraphs become several pieces
        self._split += sum(n > 1 for n in work.counts)
        pieces = work.pieces
        lengths = [count(piece) for piece in pieces]

        plan = greedy_plan(model, generation) if self.options.greedy == "fused" else "greedy: generate"
        self._decoding = "fused greedy" if isinstance(plan, GreedyPlan) else f"generate ({plan})"
        beams = self.options.num_beams
        cache_arg = cache_argument(model)
        with self._fast_linear_layers(torch):
            projection = FusedProjection(torch, model, self._linear(torch)) if isinstance(plan, GreedyPlan) else None
            for batch in plan_batches(lengths, self.options.batch_size, self.options.max_batch_tokens, beams=beams):
                clock = time.perf_counter()
                try:
                    with torch.inference_mode():
                        encoder_outputs, attention_mask = self._encode(torch, [ids(pieces[k]) for k in batch])
                        if projection is not None:
                            generated = decode_greedy(torch, model, plan, projection,
                                                      encoder_outputs.last_hidden_state, attention_mask)
                        else:
                            cache = beam_cache(torch, model, beams) if beams > 1 else None
                            generated = model.generate(
                                encoder_outputs=encoder_outputs, attention_mask=attention_mask,
                                generation_config=generation, **({cache_arg: cache} if cache is not None else {}),
                            )
                        del encoder_outputs  # the states are not kept past their batch
                except RuntimeError as exc:
                    raise TranslationError(f"generation failed: {first_line(exc)}") from None
                self.timings.generate += time.perf_counter() - clock
                decoded = tokenizer.batch_decode(generated, skip_special_tokens=True)
                finished = [done for k, text in zip(batch, decoded) if (done := work.put(k, text.strip()))]
                if progress and finished:
                    progress(finished)
        return work.result()

    def _encode(self, torch, rows: list[list[int]]):
        """The encoder's states for a batch, each row padded only to its group's longest, then masked into one batch.

        Rows are encoded in groups of nearly equal length (padding at most
        _ENCODER_PADDING of a group's tokens), so the encoder, whose cost is per
        padded token, does not pad every row to the batch's longest. The states
        are then padded with zeros to one length; the attention mask hides the
        padding from cross-attention, as it does in generate's own padded batch.
        """
        from transformers.modeling_outputs import BaseModelOutput

        pad = self._tokenizer.pad_token_id
        order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))
        groups: list[list[int]] = []
        for i in order:
            if groups and pad is not None:
                group = groups[-1]
                real = sum(len(rows[j]) for j in group) + len(rows[i])
                if len(rows[group[0]]) * (len(group) + 1) <= (1 + _ENCODER_PADDING) * real:
                    group.append(i)
                    continue
            groups.append([i])
        longest = max(len(row) for row in rows)
        mask = torch.zeros(len(rows), longest, dtype=torch.long)
        for i, row in enumerate(rows):
            mask[i, : len(row)] = 1
        mask = mask.to(self._device)
        encoder = self._model.get_encoder()
        states = None
        for group in groups:
            width = len(rows[group[0]])
            input_ids = torch.tensor([rows[i] + [pad] * (width - len(rows[i])) for i in group], device=self._device)
            hidden = encoder(input_ids=input_ids, attention_mask=mask[group, :width], return_dict=True)
            hidden = hidden.last_hidden_state
            if states is None:
                states = hidden.new_zeros(len(rows), longest, hidden.shape[-1])
            states[group, :width] = hidden
        return BaseModelOutput(last_hidden_state=states), mask

    @contextlib.contextmanager
    def _fast_linear_layers(self, torch) -> Iterator[None]:
        """On CPU in float32, the model's nn.Linear layers call oneDNN inside (but for tiny products); restored on exit.

        torch.ops.mkldnn._linear_pointwise (used by torch.compile's CPU backend)
        takes the layer's own dense weight, so nothing is copied. It is private
        to torch: it is probed once against F.linear and skipped if missing or
        different, and never used outside inference_mode (it has no backward).
        """
        model = self._model
        if self._kernels(str(self._device), model.dtype == torch.float32) != "onednn":
            yield
            return
        linear = self._linear(torch)
        layers = [m for m in model.modules() if type(m) is torch.nn.Linear and "forward" not in vars(m)]

        def fast(layer):
            def forward(x):
                return linear(x, layer.weight, layer.bias)

            return forward

        for layer in layers:
            layer.forward = fast(layer)
        try:
            yield
        finally:
            for layer in layers:
                del layer.forward

    def _linear(self, torch):
        """`F.linear` as the kernels in effect compute it: oneDNN for float32 CPU products above _ONEDNN_MIN_MACS."""
        plain = torch.nn.functional.linear
        if self._kernels(str(self._device), self._model.dtype == torch.float32) != "onednn":
            return plain
        onednn = torch.ops.mkldnn._linear_pointwise

        def linear(x, weight, bias):
            if (
                x.numel() // weight.shape[1] * weight.numel() < _ONEDNN_MIN_MACS
                or x.dtype != torch.float32
                or x.device.type != "cpu"
                or torch.is_grad_enabled()
            ):
                return plain(x, weight, bias)
            return onednn(x, weight, bias, "none", [], "")

        return linear

    def _kernels(self, device: str, float32: bool) -> str:
        """The CPU kernels linear layers use: 'onednn' where asked for, on CPU float32, and the probe passed."""
        if self.options.cpu_kernels != "onednn" or not device.startswith("cpu") or not float32:
            return "default"
        return "onednn" if self._onednn_works() else "default"

    def _onednn_works(self) -> bool:
        """Probe the private oneDNN op once against F.linear; a failure is kept for run.json, never silent."""
        if self._onednn is None:
            import torch

            try:
                generator = torch.Generator().manual_seed(0)
                x, w, b = (torch.randn(*shape, generator=generator) for shape in ((3, 5, 64), (48, 64), (48,)))
                with torch.inference_mode():
                    fast = torch.ops.mkldnn._linear_pointwise(x, w, b, "none", [], "")
                    self._onednn = bool(torch.allclose(fast, torch.nn.functional.linear(x, w, b), rtol=1e-4, atol=1e-5))
                if not self._onednn:
                    self._onednn_failure = "oneDNN linear differs from F.linear beyond tolerance"
            except (AttributeError, RuntimeError, TypeError) as exc:
                self._onednn, self._onednn_failure = False, f"oneDNN linear unavailable: {first_line(exc)}"
        return self._onednn

    def identity_options(self) -> dict[str, object]:
        """`cpu_kernels` as it takes effect: oneDNN changes logits in the last bits, so it is part of the identity.

        Resolved without loading: the device and dtype 'auto' would pick, and
        whether the oneDNN probe passes on this machine (a failed probe runs the
        default kernels, and outputs are filed under those).
        """
        options = super().identity_options()
        device = pick_device(self.options.device)  # imports torch only where a GPU driver is present
        float32 = self.options.dtype == "float32" or (self.options.dtype == "auto" and device.startswith("cpu"))
        if (self.options.cpu_kernels == "onednn" and device.startswith("cpu") and float32
                and self._onednn is None and "torch" not in sys.modules):
            # Not probed yet, and probing means importing torch (about a second), which a fully cached
            # run never needs: assume the probe passes. `load` probes, and the cache re-reads the identity
            # after loading, so outputs are always filed under the kernels that ran.
            options["cpu_kernels"] = "onednn"
        else:
            options["cpu_kernels"] = self._kernels(device, float32)
        return options

    def loaded_commit(self) -> str | None:
        revision = self.info.get("revision")
        return revision if isinstance(revision, str) else None

    # -- provenance ----------------------------------------------------------------
    def signature(self) -> str:
        o = self.options
        revision = self.info.get("revision") or o.revision or "unknown"
        return (
            f"backend:seq2seq|model:{self.model}|revision:{revision}|beams:{o.num_beams}|"
            f"max_new_tokens:{o.max_new_tokens}|dtype:{self.info.get('dtype', o.dtype)}|transformers:{package_version('transformers')}"
        )

    @property
    def info(self) -> dict[str, object]:
        if self._model is None:
            return {}
        import torch

        kernels = self._kernels(str(self._device), self._model.dtype == torch.float32)
        info = {
            **loaded_model_info(self._model, self._tokenizer, self._device),
            "language_codes": self._codes.describe(),
            "split_paragraphs": self._split,
            "cpu_kernels": kernels,
        }
        if self._decoding:
            info["decoding"] = self._decoding
        if self._onednn_failure:
            info["cpu_kernels_probe"] = self._onednn_failure
        return info
