"""Prompted decoder-only LLMs (AutoModelForCausalLM) as translators.

A causal LM does not translate; it continues a prompt. The prompt is built from
a template (`{source_lang}`, `{target_lang}` as language *names*, `{source}`),
optional few-shot examples rendered with the same template, an optional system
prompt, and - when the tokenizer has one - the model's own chat template (the
setup of lm-evaluation-harness' `generate_until` tasks and of the WMT23/24 LLM
baselines). The answer is the generated continuation only, cut at the first
stop string (a line break by default: the default template asks for one line
after "Thai:"), and stripped. The prompt and the cutting live in
`evalkit.backends.prompting`, shared with the `openai` backend (a served model
gets the same prompt).

Mirrors `seq2seq`: heavy imports inside methods; weights local-only unless
`download: true`; one-line errors; greedy decoding from a *fresh*
GenerationConfig (a model's shipped sampling defaults or repetition penalty
would make "greedy" a lie in the signature); prompts sorted by token length and
batched with left padding (decoder-only models continue from the right edge),
order restored; `torch.inference_mode()`. Every prompt is checked against the
model's context before anything is generated: a prompt plus `max_new_tokens`
that does not fit is a TranslationError, never a silent truncation.

GGUF files (llama.cpp's format) load through transformers' own `gguf_file=`
argument, which dequantises them to torch tensors; it needs the `gguf` and
`accelerate` packages.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from evalkit.backends.base import Finished, ProgressCallback, Translations, Translator
from evalkit.backends.prompting import (  # noqa: F401  (re-exported: the prompt API as causal users know it)
    DEFAULT_PROMPT,
    ChatRenderer,
    FewShotExample,
    PromptOptions,
    build_messages,
    cut_answer,
    fill_template,
    find_stop,
    prompt_hash,
    render_prompt,
)
from evalkit.hf_models import (
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
from evalkit.errors import ModelUnavailableError, TranslationError


class CausalOptions(PromptOptions):
    use_chat_template: Literal["auto"] | bool = Field(
        "auto", description="wrap the prompt in the tokenizer's chat template: 'auto' = when it has one"
    )
    max_new_tokens: int = Field(256, ge=1)
    batch_size: int = Field(8, ge=1, description="prompts per generate() call")
    device: str = Field("auto", description="'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:1', ...")
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    revision: str | None = Field(None, description="hub revision (branch, tag or commit)")
    download: bool = Field(False, description="allow fetching weights from the Hugging Face hub")
    gguf_file: str | None = Field(
        None, description="a .gguf file inside `model` (folder or hub repo), loaded via transformers; needs gguf + accelerate"
    )


def _missing_gguf_packages() -> list[str]:
    """The packages transformers needs to read GGUF files that are not installed."""
    return [name for name in ("gguf", "accelerate") if importlib.util.find_spec(name) is None]


# -- the backend ----------------------------------------------------------------------------


class CausalTranslator(Translator):
    Options = CausalOptions
    needs_model = True
    options: CausalOptions
    runtime_packages = ("torch", "transformers")

    def __init__(self, name, model, options) -> None:
        super().__init__(name, model, options)
        self._tokenizer = None
        self._model = None
        self._device = None
        self._chat_template: str | None = None  # the template text when prompts go through it
        self._empty_outputs = 0
        self._hit_max_new_tokens = 0

    # -- loading -----------------------------------------------------------------
    def availability(self) -> tuple[bool | None, str]:
        gguf = self.options.gguf_file
        if gguf is None:
            return hub_availability(self.model, self.options.revision)
        if isinstance(self.model, Path):
            path = self.model / gguf
            return (True, f"GGUF file {path}") if path.is_file() else (False, f"GGUF file {path} not found")
        return None, "GGUF in a hub repository: not checked"

    def load(self) -> None:
        if self._model is not None:
            return
        o = self.options
        if self.model is None:
            raise ModelUnavailableError("backend causal needs `model:` (a hub id or a local folder)")
        if o.gguf_file is None:
            require_cached(self.model, o.revision, o.download)
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        is_local = isinstance(self.model, Path)
        if is_local and o.gguf_file is None and not (self.model / "config.json").is_file():
            what = "does not exist" if not self.model.exists() else "has no config.json"
            raise ModelUnavailableError(
                f"model folder {self.model} {what}; point `model:` at a folder saved with save_pretrained "
                f"(or set `gguf_file:` to a .gguf file inside it)"
            )
        kwargs: dict[str, object] = {"revision": o.revision, "local_files_only": not o.download}
        if o.gguf_file is not None:
            if is_local and not (self.model / o.gguf_file).is_file():
                raise ModelUnavailableError(f"GGUF file {o.gguf_file} not found in {self.model}")
            missing = _missing_gguf_packages()
            if missing:
                raise ModelUnavailableError(
                    f"gguf_file needs the package(s) {' and '.join(missing)}: pip install {' '.join(missing)}"
                )
            kwargs["gguf_file"] = o.gguf_file
        self._device = pick_device(self.options.device)
        # The GGUF loader's tqdm bar ignores transformers' progress-bar switch.
        bars = contextlib.redirect_stderr(io.StringIO()) if o.gguf_file else contextlib.nullcontext()
        clock = time.perf_counter()
        try:
            with quiet_transformers(), bars:
                config = AutoConfig.from_pretrained(self.model, **kwargs)
                if getattr(config, "is_encoder_decoder", False):
                    # AutoModelForCausalLM would load just the decoder of e.g. Marian or mBART
                    # (their *ForCausalLM classes) and translate without ever reading the source.
                    raise ModelUnavailableError(
                        f"{self.model} is an encoder-decoder model ({config.model_type}); use backend seq2seq"
                    )
                tokenizer = AutoTokenizer.from_pretrained(self.model, **kwargs)
                model = AutoModelForCausalLM.from_pretrained(self.model, dtype=pick_dtype(self.options.dtype, self._device), **kwargs)
        except (OSError, ValueError, ImportError, KeyError) as exc:
            # ValueError also covers "Unrecognized configuration class ... for AutoModelForCausalLM"
            # (a model with no causal head) and GGUF architectures transformers cannot read.
            raise load_failure(self.model, exc, o.download) from None
        self._tokenizer = self._prepare_tokenizer(tokenizer)
        self._chat_template = self._resolve_chat_template(tokenizer)
        self._model = model.to(self._device).eval()
        # max_new_tokens governs; a max_length left in the checkpoint's generation config makes transformers
        # warn on every batch that both are set (outputs are the same without it)
        self._model.generation_config.max_length = None
        self.timings.load += time.perf_counter() - clock

    def _prepare_tokenizer(self, tokenizer):
        tokenizer.padding_side = "left"  # decoder-only: every prompt must end where generation starts
        if tokenizer.pad_token is None:
            if tokenizer.eos_token is None:
                raise ModelUnavailableError(f"tokenizer of {self.model} has neither a pad nor an eos token")
            tokenizer.pad_token = tokenizer.eos_token  # only padding; the attention mask hides it
        return tokenizer

    def _resolve_chat_template(self, tokenizer) -> str | None:
        template = getattr(tokenizer, "chat_template", None)
        if isinstance(template, dict):  # several named templates: the default one is what chat models use
            template = template.get("default")
        wanted = self.options.use_chat_template
        if wanted is True and not template:
            raise ModelUnavailableError(
                f"use_chat_template: true, but the tokenizer of {self.model} has no chat template; "
                f"set use_chat_template to auto or false"
            )
        return template if wanted is not False and template else None

    # -- prompts -------------------------------------------------------------------
    def _chat_renderer(self) -> ChatRenderer | None:
        if self._chat_template is None:
            return None
        from jinja2 import TemplateError  # transformers renders chat templates with jinja2

        tokenizer, template = self._tokenizer, self._chat_template

        def render(messages: list[dict[str, str]]) -> str:
            try:
                return tokenizer.apply_chat_template(
                    messages, chat_template=template, tokenize=False, add_generation_prompt=True
                )
            except (TemplateError, ValueError) as exc:  # e.g. a template's raise_exception("System role not supported")
                raise TranslationError(
                    f"the chat template of {self.model} rejected the prompt: {first_line(exc)}; "
                    f"try use_chat_template: false or no system_prompt"
                ) from None

        return render

    def render_prompt(self, source: str, source_lang: str, target_lang: str) -> str:
        """The exact prompt this loaded model gets for `source` (loads the model if needed)."""
        self.load()
        return render_prompt(self.options, source, source_lang, target_lang, self._chat_renderer())

    def _context_length(self) -> int:
        # tokenizers without a limit report a huge sentinel (int(1e30)); ignore those.
        config = self._model.config
        config = config.get_text_config() if hasattr(config, "get_text_config") else config
        candidates = (getattr(config, "max_position_embeddings", None), self._tokenizer.model_max_length)
        return min((x for x in candidates if isinstance(x, int) and 0 < x < 10_000_000), default=10_000_000)

    # -- translation ---------------------------------------------------------------
    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        import torch
        from transformers import GenerationConfig, StoppingCriteriaList

        self.load()
        tokenizer, model, o = self._tokenizer, self._model, self.options
        chat = self._chat_renderer()
        prompts = [render_prompt(o, text, source_lang, target_lang, chat) for text in texts]
        with quiet_transformers():  # no "longer than the maximum" warning: the check below is the rule
            # A chat template writes the BOS token itself; adding it again would double it.
            encoded = tokenizer(prompts, add_special_tokens=self._chat_template is None)["input_ids"]
        limit = self._context_length()
        for index, ids in enumerate(encoded):
            if len(ids) + o.max_new_tokens > limit:
                raise TranslationError(
                    f"the prompt for paragraph {index + 1} is {len(ids)} tokens; with max_new_tokens {o.max_new_tokens} "
                    f"it exceeds the model's context of {limit}; evalkit does not truncate silently "
                    f"(shorten the prompt or few-shot examples, or lower max_new_tokens)"
                )
        generation = self._generation_config(GenerationConfig)
        eos_ids = _as_set(generation.eos_token_id)

        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]), reverse=True)
        outputs: list[str | None] = [None] * len(texts)
        for start in range(0, len(order), o.batch_size):
            batch = order[start : start + o.batch_size]
            inputs = tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, padding=True, return_tensors="pt")
            width = inputs["input_ids"].shape[1]
            stopping = StoppingCriteriaList([_stop_strings_class()(tokenizer, o.stop, width)]) if o.stop else None
            clock = time.perf_counter()
            try:
                with torch.inference_mode():
                    generated = model.generate(
                        **inputs.to(self._device), generation_config=generation, stopping_criteria=stopping
                    )
            except RuntimeError as exc:
                raise TranslationError(f"generation failed: {first_line(exc)}") from None
            self.timings.generate += time.perf_counter() - clock
            for i, row in zip(batch, generated[:, width:].tolist()):
                text = tokenizer.decode(row, skip_special_tokens=True)
                answer = cut_answer(text, o.stop)
                outputs[i] = answer
                self._empty_outputs += answer == ""
                finished = any(t in eos_ids for t in row) or find_stop(text, o.stop) is not None
                self._hit_max_new_tokens += not finished and len(row) >= o.max_new_tokens
            if progress:
                progress([Finished(i, outputs[i]) for i in batch])
        return Translations.whole([answer if answer is not None else "" for answer in outputs])

    def _generation_config(self, GenerationConfig):
        """Greedy decoding from a fresh config: only the model's special token ids are taken from it."""
        shipped = self._model.generation_config
        eos = shipped.eos_token_id if shipped.eos_token_id is not None else self._model.config.eos_token_id
        if eos is None:
            eos = self._tokenizer.eos_token_id
        return GenerationConfig(
            do_sample=False,
            num_beams=1,
            max_new_tokens=self.options.max_new_tokens,
            eos_token_id=eos,
            pad_token_id=self._tokenizer.pad_token_id,
            bos_token_id=shipped.bos_token_id,
        )

    # -- provenance ----------------------------------------------------------------
    def _uses_chat(self) -> str:
        if self._model is not None:
            return "yes" if self._chat_template is not None else "no"
        return {True: "yes", False: "no"}.get(self.options.use_chat_template, "auto")

    def signature(self) -> str:
        o = self.options
        revision = self.info.get("revision") or o.revision or "unknown"
        model = f"{self.model}" + (f"|gguf:{o.gguf_file}" if o.gguf_file else "")
        return (
            f"backend:causal|model:{model}|revision:{revision}|prompt:{prompt_hash(o, self._chat_template)}|"
            f"chat:{self._uses_chat()}|shots:{len(o.few_shot)}|decoding:greedy|max_new_tokens:{o.max_new_tokens}|"
            f"stop:{json.dumps(o.stop, ensure_ascii=True)}|dtype:{self.info.get('dtype', o.dtype)}|"
            f"transformers:{package_version('transformers')}"
        )

    def loaded_commit(self) -> str | None:
        revision = self.info.get("revision")
        return revision if isinstance(revision, str) else None

    @property
    def info(self) -> dict[str, object]:
        if self._model is None:
            return {}
        return {
            **loaded_model_info(self._model, self._tokenizer, self._device),
            "gguf_file": self.options.gguf_file,
            "context_length": self._context_length(),
            "chat_template": self._chat_template is not None,
            "prompt_hash": prompt_hash(self.options, self._chat_template),
            "empty_outputs": self._empty_outputs,
            "hit_max_new_tokens": self._hit_max_new_tokens,
        }


def _as_set(ids) -> set[int]:
    if ids is None:
        return set()
    return set(ids) if isinstance(ids, (list, tuple, set)) else {ids}


@functools.cache
def _stop_strings_class():
    """`StopStrings`, built on first use so that importing this module does not import transformers."""
    import torch
    from transformers import StoppingCriteria

    class StopStrings(StoppingCriteria):
        """Ends each sequence once its decoded continuation contains a stop string.

        transformers' own `stop_strings` matches token overlaps from a preprocessed
        vocabulary; decoding the continuation applies exactly the rule `cut_answer`
        applies afterwards, and costs little next to a forward pass (one decode of at
        most max_new_tokens ids per unfinished row per step).
        """

        def __init__(self, tokenizer, stops: Sequence[str], prompt_width: int) -> None:
            self.tokenizer, self.stops, self.width = tokenizer, list(stops), prompt_width
            self.done: set[int] = set()

        def __call__(self, input_ids, scores, **kwargs):
            for row in range(input_ids.shape[0]):
                if row not in self.done:
                    text = self.tokenizer.decode(input_ids[row, self.width :], skip_special_tokens=True)
                    if find_stop(text, self.stops) is not None:
                        self.done.add(row)
            flags = [row in self.done for row in range(input_ids.shape[0])]
            return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)

    return StopStrings
