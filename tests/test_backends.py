"""Backends load tiny real models through the same code users run."""


import pytest

from conftest import CORPUS, PIVOT
from evalkit.backends import BACKENDS
from evalkit.backends.seq2seq import Seq2SeqOptions, Seq2SeqTranslator
from evalkit.corpus import load_document
from evalkit.errors import ModelUnavailableError, RegistryError, TranslationError

PARAGRAPHS = load_document(CORPUS / PIVOT).texts[:6]


def test_copy_backend_returns_the_source():
    copy = BACKENDS.get("copy")("copy", None, BACKENDS.get("copy").Options())
    assert copy.translate(["a", "b"], "vi", "th").texts == ["a", "b"]


def test_unknown_backend_suggests_the_nearest():
    with pytest.raises(RegistryError, match="unknown backend 'sec2seq'; did you mean 'seq2seq'"):
        BACKENDS.get("sec2seq")


def test_seq2seq_translates_with_a_local_model_deterministically(tiny_marian):
    batched = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(batch_size=4, max_new_tokens=12))
    done = []
    first = batched.translate(PARAGRAPHS, "vi", "th", progress=lambda finished: done.append(len(finished))).texts
    assert len(first) == len(PARAGRAPHS) and all(isinstance(t, str) for t in first)
    assert sum(done) == len(PARAGRAPHS)
    assert len(set(first)) > 1  # outputs depend on the input, so order restoration is observable
    one_by_one = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(batch_size=1, max_new_tokens=12))
    assert one_by_one.translate(PARAGRAPHS, "vi", "th").texts == first  # sorting/batching restores order exactly
    assert batched.translate(PARAGRAPHS, "vi", "th").texts == first
    info = batched.info
    assert info["model_class"] == "MarianMTModel" and info["device"] == "cpu"
    assert "backend:seq2seq" in batched.signature() and "beams:1" in batched.signature()


def test_multi_target_marian_gets_the_target_token(tiny_marian_multi):
    translator = Seq2SeqTranslator("multi", tiny_marian_multi, Seq2SeqOptions(max_new_tokens=4))
    translator.translate(PARAGRAPHS[:1], "vi", "th").texts
    assert translator.info["language_codes"] == {"vi-th": ">>tha<<"}
    with pytest.raises(TranslationError, match=r"does not know the target language id \(Indonesian\)"):
        translator.translate(PARAGRAPHS[:1], "vi", "id").texts


def test_nllb_family_uses_flores_codes_and_forces_the_target(tiny_nllb):
    translator = Seq2SeqTranslator("nllb", tiny_nllb, Seq2SeqOptions(max_new_tokens=8))
    thai = translator.translate(PARAGRAPHS, "vi", "th").texts
    malay = translator.translate(PARAGRAPHS, "vi", "ms").texts
    assert translator.info["tokenizer_class"].startswith("Nllb")
    assert translator.info["language_codes"] == {"vi-th": "vie_Latn->tha_Thai", "vi-ms": "vie_Latn->zsm_Latn"}
    assert thai != malay  # the forced first token (target language) steers decoding
    assert translator.translate(PARAGRAPHS, "vi", "th").texts == thai


def test_m2m100_family_uses_its_language_tokens(tmp_path):
    from tiny_models import build_m2m100

    model = build_m2m100(tmp_path / "model", tmp_path / "work")
    translator = Seq2SeqTranslator("m2m", model, Seq2SeqOptions(max_new_tokens=6))
    thai = translator.translate(PARAGRAPHS[:3], "vi", "th").texts
    malay = translator.translate(PARAGRAPHS[:3], "vi", "ms").texts
    assert translator.info["tokenizer_class"].startswith("M2M100")
    assert translator.info["language_codes"] == {"vi-th": "__vi__->__th__", "vi-ms": "__vi__->__ms__"}
    assert thai != malay


def test_missing_hub_model_is_one_clear_line_without_network():
    translator = Seq2SeqTranslator("nllb", "facebook/nllb-200-distilled-600M", Seq2SeqOptions())
    with pytest.raises(ModelUnavailableError) as info:
        translator.load()
    message = str(info.value)
    assert "\n" not in message
    assert "facebook/nllb-200-distilled-600M" in message and "not available" in message
    assert "offline, not in the local Hugging Face cache" in message  # looked up locally, no hub retries
    assert "local folder" in message and "Hugging Face cache" in message


def test_missing_or_broken_model_folder(tmp_path):
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        Seq2SeqTranslator("x", tmp_path / "nope", Seq2SeqOptions()).load()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError, match="has no config.json"):
        Seq2SeqTranslator("x", tmp_path / "empty", Seq2SeqOptions()).load()


def test_overlong_paragraph_is_split_at_sentences_translated_and_joined(tiny_marian):
    translator = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(max_new_tokens=3))
    long_text = " ".join(PARAGRAPHS * 3)
    done = []
    result = translator.translate([PARAGRAPHS[1], long_text], "vi", "th", progress=lambda finished: done.append(len(finished)))
    out, (short_pieces, pieces) = result.texts, result.pieces
    assert len(out) == 2 and sum(done) == 2
    assert pieces >= 2 and short_pieces == 1
    assert len(out[1].split(" ")) >= pieces  # one translation per piece, joined in order
    assert translator.info["split_paragraphs"] == 1


def test_unsplittable_run_is_refused_not_truncated(tiny_marian):
    translator = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(max_new_tokens=2))
    with pytest.raises(TranslationError, match="longer than the model's limit of 256 tokens; evalkit does not truncate"):
        translator.translate(["x" * 3000], "vi", "th").texts


def test_token_budget_batches_give_the_same_outputs(tiny_marian):
    small = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(max_new_tokens=6, max_batch_tokens=64))
    large = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(max_new_tokens=6, max_batch_tokens=None))
    assert small.translate(PARAGRAPHS, "vi", "th").texts == large.translate(PARAGRAPHS, "vi", "th").texts


def test_onednn_linear_layers_change_no_output_and_are_restored(tiny_marian, monkeypatch):
    import torch

    from evalkit.backends import seq2seq

    monkeypatch.setattr(seq2seq, "_ONEDNN_MIN_MACS", 0)  # the tiny model's products are all under the threshold
    fast = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(batch_size=4, max_new_tokens=12))
    fast.load()
    if not fast._onednn_works():
        pytest.skip("this torch build has no working oneDNN linear")
    calls = []
    real = torch.ops.mkldnn._linear_pointwise
    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", lambda *args: calls.append(1) or real(*args))
    plain = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(batch_size=1, max_new_tokens=12, cpu_kernels="default"))
    assert fast.translate(PARAGRAPHS, "vi", "th").texts == plain.translate(PARAGRAPHS, "vi", "th").texts
    assert calls  # the oneDNN path did run
    assert not any("forward" in vars(module) for module in fast._model.modules())  # every layer restored
    # the kernels change logits in the last bits: outputs are filed under the kernels that ran, which run.json shows
    assert fast.identity() != plain.identity()
    assert (fast.info["cpu_kernels"], plain.info["cpu_kernels"]) == ("onednn", "default")


def test_a_failed_onednn_probe_is_recorded_and_files_outputs_under_the_default_kernels(tiny_marian, monkeypatch):
    import torch

    def broken(*args):
        raise RuntimeError("no oneDNN here\nsecond line")

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", broken)
    asked = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(max_new_tokens=4, device="cpu", dtype="float32"))
    plain = Seq2SeqTranslator("tiny", tiny_marian, Seq2SeqOptions(max_new_tokens=4, device="cpu", dtype="float32",
                                                                   cpu_kernels="default"))
    assert asked.identity() == plain.identity()
    asked.translate(PARAGRAPHS[:1], "vi", "th")
    assert asked.info["cpu_kernels"] == "default"
    assert asked.info["cpu_kernels_probe"] == "oneDNN linear unavailable: no oneDNN here"
