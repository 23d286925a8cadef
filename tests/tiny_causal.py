"""Build a tiny, randomly initialised but real decoder-only LM for offline tests.

A byte-level BPE tokenizer trained on the corpus text (so every id decodes, and
"\\n" is a token a random model can emit), wrapped in a PreTrainedTokenizerFast
with <s>/</s>/<pad>, optionally a ChatML chat template, and a 2-layer Llama with
hidden size 64. Saved with `save_pretrained` and loaded back through
AutoTokenizer / AutoModelForCausalLM in evalkit.backends.causal, as users would.
`write_gguf` writes the same weights as a llama.cpp GGUF file with the `gguf`
package, for the `gguf_file:` path.
"""

from __future__ import annotations

from pathlib import Path

from tiny_models import corpus_text_file

SPECIAL_TOKENS = ["<s>", "</s>", "<pad>", "<|im_start|>", "<|im_end|>"]
CHATML = (
    "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tokenizer(workdir: Path, vocab_size: int = 600, chat_template: str | None = None):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    workdir.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train([str(corpus_text_file(workdir))], trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"], model_max_length=512,
        chat_template=chat_template,
    )


def build_llama(dest: Path, workdir: Path, seed: int = 0, chat: bool = False, max_positions: int = 512) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(workdir, chat_template=CHATML if chat else None)
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
        initializer_range=0.5,  # large enough that random outputs depend on the input
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config).eval()
    dest.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(dest)
    model.save_pretrained(dest)
    return dest


def _llama_cpp_permute(weights, n_head: int):
    """llama.cpp's q/k row order for rotary embeddings (convert_hf_to_gguf.py); transformers undoes it on load."""
    return weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def write_gguf(model_dir: Path, dest: Path) -> Path:
    """The model saved in `model_dir` as an F32 llama GGUF file with a byte-level BPE ("gpt2") vocabulary.

    Written with the `gguf` package (llama.cpp's gguf-py) the way convert_hf_to_gguf.py does, so
    that transformers reads config, tokenizer and weights from it alone.
    """
    import json

    import gguf
    import torch
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM.from_pretrained(model_dir)
    config = model.config
    tokenizer_json = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = tokenizer_json["model"]["vocab"]
    added = {t["content"]: t["id"] for t in tokenizer_json["added_tokens"]}
    tokens = [None] * config.vocab_size
    for token, index in {**vocab, **added}.items():
        tokens[index] = token
    merges = [m if isinstance(m, str) else " ".join(m) for m in tokenizer_json["model"]["merges"]]
    token_types = [gguf.TokenType.CONTROL if t in added else gguf.TokenType.NORMAL for t in tokens]

    writer = gguf.GGUFWriter(str(dest), "llama")
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_rope_dimension_count(config.hidden_size // config.num_attention_heads)
    writer.add_rope_freq_base(float(config.rope_parameters["rope_theta"]))
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_vocab_size(config.vocab_size)
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types(token_types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(config.bos_token_id)
    writer.add_eos_token_id(config.eos_token_id)
    writer.add_pad_token_id(config.pad_token_id)
    writer.add_add_bos_token(True)
    config_json = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    chat_file = model_dir / "chat_template.jinja"
    template = chat_file.read_text(encoding="utf-8") if chat_file.exists() else config_json.get("chat_template")
    if template:
        writer.add_chat_template(template)

    names = {
        "model.embed_tokens.weight": "token_embd.weight",
        "model.norm.weight": "output_norm.weight",
        "lm_head.weight": "output.weight",
    }
    per_layer = {
        "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
        "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
    }
    for i in range(config.num_hidden_layers):
        for hf, ggml in per_layer.items():
            names[f"model.layers.{i}.{hf}.weight"] = f"blk.{i}.{ggml}.weight"
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            data = tensor.float().numpy()
            if name.endswith("q_proj.weight"):
                data = _llama_cpp_permute(data, config.num_attention_heads)
            elif name.endswith("k_proj.weight"):
                data = _llama_cpp_permute(data, config.num_key_value_heads)
            writer.add_tensor(names[name], data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dest
