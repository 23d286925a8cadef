"""The causal (prompted decoder LLM) backend, on a tiny real Llama built and saved offline.

Random weights produce arbitrary text, so stop-string behaviour is tested on
what the model really generates: a first run without stop strings shows the
text, a second run with a stop string taken from that text must equal the
first run cut by `cut_answer`.
"""

import importlib.util
import shutil

import pytest
from pydantic import ValidationError

from conftest import CORPUS, PIVOT
from evalkit.backends import BACKENDS
from evalkit.backends import causal
from evalkit.backends.causal import CausalOptions, CausalTranslator, cut_answer, render_prompt
from evalkit.corpus import load_document
from evalkit.errors import ModelUnavailableError, TranslationError
from tiny_causal import build_llama, write_gguf

PARAGRAPHS = load_document(CORPUS / PIVOT).texts[:6]
SHORT = [p[:120] for p in PARAGRAPHS]  # short prompts keep the tiny model fast


@pytest.fixture(scope="session")
def tiny_causal(tmp_path_factory):
    """A 2-layer Llama with a byte-level BPE tokenizer and no chat template."""
    base = tmp_path_factory.mktemp("tiny-causal")
    return build_llama(base / "model", base / "work")


@pytest.fixture(scope="session")
def tiny_causal_chat(tmp_path_factory):
    """The same network and vocabulary, with a ChatML chat template."""
    base = tmp_path_factory.mktemp("tiny-causal-chat")
    return build_llama(base / "model", base / "work", chat=True)


def make(path, **options) -> CausalTranslator:
    return CausalTranslator("tiny", path, CausalOptions(**{"max_new_tokens": 12, **options}))


# -- translation ---------------------------------------------------------------------------


def test_translates_in_order_and_batching_changes_nothing(tiny_causal):
    batched = make(tiny_causal, batch_size=4, stop=[])
    done = []
    first = batched.translate(SHORT, "vi", "th", progress=lambda finished: done.append(len(finished))).texts
    assert len(first) == len(SHORT) and all(isinstance(t, str) and t for t in first)
    assert done == [4, 2]  # one call per batch
    assert len(set(first)) == len(first)  # outputs depend on the input, so order restoration is observable
    assert make(tiny_causal, batch_size=1, stop=[]).translate(SHORT, "vi", "th").texts == first
    assert batched.translate(list(reversed(SHORT)), "vi", "th").texts == list(reversed(first))
    assert batched.translate([], "vi", "th").texts == []
    info = batched.info
    assert info["model_class"] == "LlamaForCausalLM" and info["device"] == "cpu" and info["chat_template"] is False
    assert info["empty_outputs"] == 0 and info["hit_max_new_tokens"] == 2 * len(SHORT)  # nothing stopped it
    assert info["context_length"] == 512 and batched.timings.generate > 0


def test_stop_strings_end_generation_where_cut_answer_cuts(tiny_causal):
    full = make(tiny_causal, stop=[]).translate(SHORT, "vi", "th").texts
    # A character from the middle of a real answer, and a second stop string that may come earlier.
    stop = next(ch for ch in full[0][3:] if not ch.isspace() and ch != "\ufffd")
    other = next(ch for ch in full[1][2:] if not ch.isspace() and ch not in (stop, "\ufffd"))
    translator = make(tiny_causal, stop=[stop, other])
    stopped = translator.translate(SHORT, "vi", "th").texts
    assert stopped == [cut_answer(text, [stop, other]) for text in full]
    assert len(stopped[0]) < len(full[0]) and len(stopped[1]) < len(full[1])
    assert translator.info["hit_max_new_tokens"] < len(SHORT)  # generation really stopped early
    assert translator.signature().count("|stop:") == 1


def test_an_empty_answer_is_returned_and_counted(tiny_causal):
    full = make(tiny_causal, stop=[]).translate(SHORT[:1], "vi", "th").texts
    translator = make(tiny_causal, stop=[full[0][0]])  # the answer's first character ends it at once
    assert translator.translate(SHORT[:1], "vi", "th").texts == [""]
    assert translator.info["empty_outputs"] == 1


def test_cut_answer():
    assert cut_answer(" Xin chào.\nThai: more", ["\n"]) == "Xin chào."
    assert cut_answer("a b ### c\nd", ["\n", "###"]) == "a b"  # the earliest stop string wins
    assert cut_answer("  no stop here  ", ["\n"]) == "no stop here"
    assert cut_answer("\nanswer", ["\n"]) == ""  # a line break first means an empty answer
    assert cut_answer(" text\n", []) == "text"


def test_prompt_longer_than_the_context_is_refused(tiny_causal):
    translator = make(tiny_causal, max_new_tokens=8)
    with pytest.raises(TranslationError, match=r"paragraph 2 is \d+ tokens; .* context of 512; evalkit does not truncate"):
        translator.translate([SHORT[0], " ".join(PARAGRAPHS * 2)], "vi", "th").texts
    with pytest.raises(TranslationError) as info:
        translator.translate([" ".join(PARAGRAPHS * 2)], "vi", "th").texts
    assert "\n" not in str(info.value)


def test_room_for_max_new_tokens_is_part_of_the_limit(tiny_causal):
    translator = make(tiny_causal, max_new_tokens=500)  # a short prompt + 500 > 512 positions
    with pytest.raises(TranslationError, match="with max_new_tokens 500 it exceeds the model's context of 512"):
        translator.translate(SHORT[:1], "vi", "th").texts


# -- prompts ---------------------------------------------------------------------------------


def test_plain_prompt_names_the_languages():
    prompt = render_prompt(CausalOptions(), "Xin chào", "vi", "th")
    assert prompt == "Translate the following Vietnamese text into Thai.\nVietnamese: Xin chào\nThai:"


def test_few_shot_examples_and_system_prompt_precede_the_query(tiny_causal):
    options = dict(
        few_shot=[{"source": "Một", "target": "หนึ่ง"}, {"source": "Hai", "target": "สอง"}],
        system_prompt="You translate news.",
        prompt="{source_lang}: {source}\n{target_lang}:",
    )
    expected = "You translate news.\n\nVietnamese: Một\nThai: หนึ่ง\n\nVietnamese: Hai\nThai: สอง\n\nVietnamese: Ba\nThai:"
    assert render_prompt(CausalOptions(**options), "Ba", "vi", "th") == expected
    assert make(tiny_causal, **options).render_prompt("Ba", "vi", "th") == expected


def test_chat_template_is_used_when_the_tokenizer_has_one(tiny_causal_chat, tiny_causal):
    options = dict(few_shot=[{"source": "Một", "target": "หนึ่ง"}], system_prompt="Be literal.")
    chat = make(tiny_causal_chat, **options)
    prompt = chat.render_prompt("Ba", "vi", "th")
    assert prompt.startswith("<s><|im_start|>system\nBe literal.<|im_end|>\n<|im_start|>user\n")
    assert "<|im_start|>assistant\nหนึ่ง<|im_end|>\n" in prompt  # the example's answer is an assistant turn
    assert prompt.endswith("Vietnamese: Ba\nThai:<|im_end|>\n<|im_start|>assistant\n")
    assert prompt.count("<s>") == 1
    assert chat.translate(SHORT[:2], "vi", "th").texts  # the BOS the template writes is not added twice
    assert chat.info["chat_template"] is True and "|chat:yes|" in chat.signature()

    off = make(tiny_causal_chat, use_chat_template=False, **options)
    assert off.render_prompt("Ba", "vi", "th") == render_prompt(CausalOptions(**options), "Ba", "vi", "th")
    assert "<|im_start|>" not in off.render_prompt("Ba", "vi", "th")
    assert "|chat:no|" in off.signature()
    prompt_hash = lambda t: t.signature().split("|prompt:")[1].split("|")[0]  # noqa: E731
    assert prompt_hash(off) != prompt_hash(chat)
    assert prompt_hash(make(tiny_causal_chat, **{**options, "system_prompt": "Be free."})) != prompt_hash(chat)

    assert "<|im_start|>" not in make(tiny_causal).render_prompt("Ba", "vi", "th")  # auto, no template
    with pytest.raises(ModelUnavailableError, match="has no chat template"):
        make(tiny_causal, use_chat_template=True).load()


def test_a_chat_template_that_rejects_the_prompt_is_one_line(tiny_causal_chat, tmp_path):
    shutil.copytree(tiny_causal_chat, tmp_path / "model")
    (tmp_path / "model" / "chat_template.jinja").write_text(
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
        "{% for m in messages %}{{ m['content'] }}{% endfor %}",
        encoding="utf-8",
    )
    with pytest.raises(TranslationError, match=r"rejected the prompt: System role not supported; try use_chat_template"):
        make(tmp_path / "model", system_prompt="Be literal.").translate(SHORT[:1], "vi", "th").texts
    assert make(tmp_path / "model").render_prompt("Ba", "vi", "th").endswith("Vietnamese: Ba\nThai:")


# -- options and errors ----------------------------------------------------------------------


def test_options_are_closed_and_checked():
    with pytest.raises(ValidationError, match="max_new_token\n.*Extra inputs are not permitted"):
        CausalOptions(max_new_token=5)
    with pytest.raises(ValidationError, match=r"unknown placeholder\(s\) \{target\}"):
        CausalOptions(prompt="Translate {source} into {target}")
    with pytest.raises(ValidationError, match=r"must contain \{source\}"):
        CausalOptions(prompt="Translate into {target_lang}")
    with pytest.raises(ValidationError, match="stop strings must not be empty"):
        CausalOptions(stop=[""])
    with pytest.raises(ValidationError, match="Extra inputs"):
        CausalOptions(few_shot=[{"source": "a", "target": "b", "note": "c"}])
    assert CausalOptions(use_chat_template=True).use_chat_template is True
    with pytest.raises(ValidationError):
        CausalOptions(use_chat_template="sometimes")


def test_missing_hub_model_is_one_clear_line_without_network():
    translator = CausalTranslator("llm", "Qwen/Qwen2.5-0.5B-Instruct", CausalOptions())
    with pytest.raises(ModelUnavailableError) as info:
        translator.load()
    message = str(info.value)
    assert "\n" not in message and "Qwen/Qwen2.5-0.5B-Instruct" in message and "not available" in message
    assert "backend:causal|model:Qwen/Qwen2.5-0.5B-Instruct|" in translator.signature()  # unloaded, still a signature


def test_missing_or_broken_model_folder(tmp_path):
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        make(tmp_path / "nope").load()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError, match="has no config.json"):
        make(tmp_path / "empty").load()


def test_an_encoder_decoder_model_is_refused(tiny_marian):
    # AutoModelForCausalLM would happily load just Marian's decoder (MarianForCausalLM).
    with pytest.raises(ModelUnavailableError, match=r"is an encoder-decoder model \(marian\); use backend seq2seq$"):
        make(tiny_marian).load()


def test_registered_as_causal():
    if "causal" not in BACKENDS:
        pytest.skip("evalkit/backends/__init__.py does not register 'causal' yet")
    assert BACKENDS.get("causal") is CausalTranslator


# -- GGUF ------------------------------------------------------------------------------------


def test_missing_gguf_file_is_unavailable(tiny_causal):
    with pytest.raises(ModelUnavailableError, match=r"GGUF file tiny-q8.gguf not found in "):
        make(tiny_causal.parent, gguf_file="tiny-q8.gguf").load()


def test_gguf_without_its_packages_names_them(tmp_path, monkeypatch):
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    monkeypatch.setattr(causal, "_missing_gguf_packages", lambda: ["accelerate"])
    with pytest.raises(ModelUnavailableError, match=r"needs the package\(s\) accelerate: pip install accelerate$"):
        make(tmp_path, gguf_file="model.gguf").load()


@pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("gguf", "accelerate")),
    reason="loading GGUF through transformers needs the gguf and accelerate packages",
)
def test_gguf_file_loads_and_translates_like_the_saved_model(tiny_causal_chat, tmp_path):
    write_gguf(tiny_causal_chat, tmp_path / "tiny-f32.gguf")
    from_gguf = make(tmp_path, gguf_file="tiny-f32.gguf", stop=[])
    reference = make(tiny_causal_chat, stop=[])
    assert from_gguf.render_prompt("Ba", "vi", "th") == reference.render_prompt("Ba", "vi", "th")  # chat template kept
    assert from_gguf.translate(SHORT, "vi", "th").texts == reference.translate(SHORT, "vi", "th").texts
    assert from_gguf.info["gguf_file"] == "tiny-f32.gguf" and "|gguf:tiny-f32.gguf|" in from_gguf.signature()
