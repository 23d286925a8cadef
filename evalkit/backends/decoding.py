"""Decoding for encoder–decoder models: greedy with the output projection fused into the argmax, and a beam cache.

Why not `generate`: at batch 16 on NLLB-200's 256,206-piece vocabulary a decode
step computes a 16 x 256,206 logits matrix, copies it to float32, runs each
logits processor over all of it (the min-length one with `torch.where` on the
whole vocabulary, the EOS check with `isin`), then takes the argmax: measured
on the 600M architecture, this loop takes 10-15% less CPU per step than
`generate` at 16-32 rows (benchmarks/decode_bound.py), and a step is then ~85%
GEMM. Greedy decoding needs only the argmax. Here
the projection runs over the vocabulary in chunks of `CHUNK` rows of the weight
(views: nothing is copied) and only each row's running best survives, so no
full-vocabulary logits exist; a forced step (the target-language token of
NLLB/M2M100/mBART) skips the projection altogether; and rows that finished are
dropped from the batch (their KV cache rows with them) instead of being
decoded on as padding.

Beam search stays transformers' own, with one change that moves no output:
`beam_cache` gives `generate` a KV cache whose cross-attention part is not
reordered when beams are re-ranked. Every beam of a paragraph attends to the
same encoder states, so its cross-attention keys and values equal its sibling
beams'; transformers still copies all of them (rows x source length x d_model,
per layer) at every step (measured on the 600M architecture: 8 paragraphs x 4
beams x 12 steps, 5.5 -> 5.1 s of CPU). The copy is skipped only when each new beam comes from a beam of the
same paragraph, as beam search always picks them (checked at every step).

Greedy outputs are those of `generate(num_beams=1, do_sample=False)`: the same
decoder calls with the same KV cache, the same logits (the projection's
weight rows are the model's own, the bias added the way the model adds it),
the same processors where they act on an argmax, and the first index among
equal maxima as `torch.argmax` picks it. Only what this module reproduces
exactly is taken: `greedy_plan` returns the reason it does not apply (another
logits processor in the generation config, a model class whose logits are
computed differently) and the caller then runs `generate`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Rows of the output projection per chunk: 16,384 x 1,024 float32 = 64 MiB of weights per product.
CHUNK = 16_384
# Finished rows are dropped from the batch once they are at least this share of the rows still decoded
# (dropping copies the KV cache of the rows kept, so it is not done for every single row).
_COMPACT_SHARE = 0.25

# Model classes whose logits are `lm_head(decoder_states) (+ final_logits_bias)`, decoded by `get_decoder()`.
SUPPORTED_CLASSES = frozenset({"M2M100ForConditionalGeneration", "MarianMTModel", "MBartForConditionalGeneration"})

# Generation-config fields that either this module reproduces or that do not act on greedy decoding.
_HANDLED_FIELDS = frozenset({
    "decoder_start_token_id", "eos_token_id", "pad_token_id", "bos_token_id", "max_length", "max_new_tokens",
    "min_length", "min_new_tokens", "forced_bos_token_id", "forced_eos_token_id", "bad_words_ids",
    "suppress_tokens", "num_beams", "do_sample", "use_cache", "output_attentions", "output_hidden_states",
    "return_dict_in_generate", "output_scores", "output_logits", "num_return_sequences",
    # sampling and beam parameters: transformers ignores them when num_beams=1 and do_sample=False
    "temperature", "top_k", "top_p", "min_p", "typical_p", "epsilon_cutoff", "eta_cutoff", "length_penalty",
    "early_stopping", "num_beam_groups", "diversity_penalty",
    # a softmax does not move the argmax
    "renormalize_logits",
    "transformers_version", "_from_model_config", "cache_implementation",
})


@dataclass(frozen=True)
class GreedyPlan:
    """What greedy decoding must reproduce of a generation config, read once per translate call."""

    start: int
    eos: tuple[int, ...]
    max_new_tokens: int
    min_new_tokens: int  # EOS is suppressed while fewer tokens than this have been generated
    forced_bos: int | None
    forced_eos: tuple[int, ...]  # forced at the last step allowed by max_new_tokens (empty: not forced)
    suppressed: tuple[int, ...]  # never chosen (suppress_tokens, single-token bad words)


def greedy_plan(model, generation) -> GreedyPlan | str:
    """The plan for `generation` on `model`, or why this module cannot reproduce `generate` there (a one-line reason)."""
    name = type(model).__name__
    if name not in SUPPORTED_CLASSES:
        return f"{name} is not one of the model classes decoded here"
    if generation.num_beams != 1 or generation.do_sample:
        return "beam search or sampling"
    if (generation.num_return_sequences or 1) != 1:
        return "num_return_sequences > 1"
    changed = {key for key in generation.to_diff_dict() if key not in _HANDLED_FIELDS}
    if changed:
        return f"generation config sets {', '.join(sorted(changed))}"
    if generation.max_new_tokens is None or not isinstance(generation.decoder_start_token_id, int):
        return "no max_new_tokens or no single decoder_start_token_id"
    eos = _ids(generation.eos_token_id)
    bad_words = generation.bad_words_ids or []
    if any(len(words) != 1 for words in bad_words):
        return "multi-token bad_words_ids"
    suppressed = {w[0] for w in bad_words if w[0] not in eos} | set(generation.suppress_tokens or ())
    forced_bos, forced_eos = generation.forced_bos_token_id, _ids(generation.forced_eos_token_id)
    if (forced_bos is not None and forced_bos in suppressed) or suppressed & set(forced_eos):
        return "a forced token is also suppressed"
    min_new = max(generation.min_new_tokens or 0, (generation.min_length or 0) - 1)  # the decoder input is 1 token
    return GreedyPlan(
        start=int(generation.decoder_start_token_id), eos=eos, max_new_tokens=int(generation.max_new_tokens),
        min_new_tokens=min_new if eos else 0, forced_bos=forced_bos, forced_eos=forced_eos,
        suppressed=tuple(sorted(suppressed)),
    )


def _ids(value) -> tuple[int, ...]:
    if value is None:
        return ()
    return (int(value),) if isinstance(value, int) else tuple(int(v) for v in value)


Linear = Callable[..., object]  # (x, weight, bias) -> x @ weight.T + bias, as the caller's kernels compute it


class FusedProjection:
    """The model's output projection, evaluated chunk by chunk into a per-row argmax."""

    def __init__(self, torch, model, linear: Linear, chunk: int = CHUNK) -> None:
        head = model.get_output_embeddings()
        self.torch, self.linear = torch, linear
        self.weight, self.bias = head.weight, head.bias
        extra = getattr(model, "final_logits_bias", None)  # Marian, mBART: added after lm_head
        self.extra = extra.reshape(-1) if extra is not None else None
        self.vocabulary = self.weight.shape[0]
        self.chunk = chunk

    def logits(self, hidden):
        """Full-vocabulary logits, as the model computes them (for tests)."""
        out = self.linear(hidden, self.weight, self.bias)
        return out + self.extra if self.extra is not None else out

    def argmax(self, hidden, suppressed: Sequence[int]):
        """Each row's best token, first index among equals, never a suppressed one, without keeping the logits."""
        torch = self.torch
        best_value = best_index = None
        for start in range(0, self.vocabulary, self.chunk):
            end = min(start + self.chunk, self.vocabulary)
            bias = self.bias[start:end] if self.bias is not None else None
            logits = self.linear(hidden, self.weight[start:end], bias)
            if self.extra is not None:
                logits = logits + self.extra[start:end]
            local = [i - start for i in suppressed if start <= i < end]
            if local:
                logits[:, local] = float("-inf")
            value, index = logits.max(dim=1)
            if best_value is None:
                best_value, best_index = value, index
            else:
                better = value > best_value  # strict: an earlier chunk keeps a tie
                best_value = torch.where(better, value, best_value)
                best_index = torch.where(better, index + start, best_index)
        return best_index


def cache_argument(model) -> str:
    """The keyword the decoder takes its KV cache by: `cache` (transformers >= 5.x) or `past_key_values`."""
    parameters = inspect.signature(model.get_decoder().forward).parameters
    return "cache" if "cache" in parameters else "past_key_values"


def beam_cache(torch, model, beams: int):
    """An empty encoder–decoder cache for `generate(num_beams=beams)` that does not copy cross-attention between beams.

    None where the model class is not one this module knows (generate then makes its own cache).
    """
    if type(model).__name__ not in SUPPORTED_CLASSES:
        return None
    from transformers.cache_utils import DynamicCache, EncoderDecoderCache

    class SharedCrossAttentionCache(EncoderDecoderCache):
        def reorder_cache(self, beam_idx):
            rows = torch.arange(beam_idx.shape[0], device=beam_idx.device)
            if torch.equal(beam_idx // beams, rows // beams):  # every new beam comes from its own paragraph's beams
                self.self_attention_cache.reorder_cache(beam_idx)
            else:
                super().reorder_cache(beam_idx)

    try:
        config = model.config.get_text_config(decoder=True)
        return SharedCrossAttentionCache(DynamicCache(config=config), DynamicCache(config=config))
    except (TypeError, AttributeError):  # older transformers: no config argument
        return SharedCrossAttentionCache(DynamicCache(), DynamicCache())


def decode_greedy(torch, model, plan: GreedyPlan, projection: FusedProjection, states, mask) -> list[list[int]]:
    """Greedy token ids for each row of the encoder `states` (masked by `mask`): start token first, EOS last if reached.

    The same ids `generate` returns per row, less the padding after EOS.
    """
    decoder = model.get_decoder()
    cache_arg = cache_argument(model)
    rows = states.shape[0]
    device = states.device
    outputs: list[list[int]] = [[plan.start] for _ in range(rows)]
    active = list(range(rows))  # original row of each position in the batch decoded now
    done = [False] * rows
    tokens = torch.full((rows, 1), plan.start, dtype=torch.long, device=device)
    eos = set(plan.eos)
    cache = None
    for step in range(plan.max_new_tokens):
        out = decoder(input_ids=tokens, encoder_hidden_states=states, encoder_attention_mask=mask,
                      use_cache=True, return_dict=True, **{cache_arg: cache})
        cache = out.cache if hasattr(out, "cache") else out.past_key_values
        if plan.forced_eos and step == plan.max_new_tokens - 1:
            chosen = [plan.forced_eos[0]] * len(active)
        elif plan.forced_bos is not None and step == 0:
            chosen = [plan.forced_bos] * len(active)
        else:
            suppressed = plan.suppressed + (plan.eos if step < plan.min_new_tokens else ())
            chosen = projection.argmax(out.last_hidden_state[:, -1], suppressed).tolist()
        for position, token in enumerate(chosen):
            row = active[position]
            if not done[row]:  # a finished row still in the batch: its tokens are padding, as in generate
                outputs[row].append(token)
                done[row] = token in eos
        finished = [position for position, row in enumerate(active) if done[row]]
        if len(finished) == len(active):
            break
        tokens = torch.tensor(chosen, dtype=torch.long, device=device).unsqueeze(1)
        if finished and len(finished) >= _COMPACT_SHARE * len(active):
            keep = [position for position, row in enumerate(active) if not done[row]]
            index = torch.tensor(keep, dtype=torch.long, device=device)
            cache.batch_select_indices(index)
            states, mask, tokens = states[index], mask[index], tokens[index]
            active = [active[position] for position in keep]
    return outputs
