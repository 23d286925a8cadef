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


# -- fused greedy decoding: the same outputs as generate and as the naive loop -----------------------------

ALL_PARAGRAPHS = load_document(CORPUS / PIVOT).texts


def naive_generate(folder, texts, target: str, max_new_tokens: int) -> list[str]:
    """What a first script does: transformers' own generate, one paragraph at a time, stock kernels."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from evalkit.backends.langcodes import resolve_codes

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
    codes = resolve_codes(tokenizer, str(folder), "vi", target)
    if codes.tokenizer_src_lang:
        tokenizer.src_lang = codes.tokenizer_src_lang
    forced = {"forced_bos_token_id": tokenizer.convert_tokens_to_ids(codes.forced_bos_token)} if codes.forced_bos_token else {}
    outputs = []
    for text in texts:
        encoded = tokenizer(codes.source_prefix + text, return_tensors="pt")
        generated = model.generate(**encoded, max_new_tokens=max_new_tokens, max_length=None, num_beams=1,
                                   do_sample=False, **forced)
        outputs.append(tokenizer.decode(generated[0], skip_special_tokens=True).strip())
    return outputs


@pytest.fixture(scope="module")
def marian_with_processors(tiny_marian, tmp_path_factory):
    """The tiny Marian with what real opus-mt checkpoints carry, and early stops.

    A non-zero final_logits_bias (added after the projection), a single-token
    bad word, a suppressed token, a minimum length, and a second EOS id that the
    random model picks often, so rows finish at different steps and the fused
    loop drops finished rows from its batch.
    """
    import shutil

    import torch
    from transformers import AutoModelForSeq2SeqLM

    folder = tmp_path_factory.mktemp("marian-processors") / "model"
    shutil.copytree(tiny_marian, folder)
    model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
    generator = torch.Generator().manual_seed(1)
    model.final_logits_bias.copy_(torch.randn(model.final_logits_bias.shape, generator=generator))
    plain = Seq2SeqTranslator("plain", tiny_marian, Seq2SeqOptions(max_new_tokens=24, greedy="generate"))
    tokens = [t for text in plain.translate(ALL_PARAGRAPHS, "vi", "th").texts for t in plain._tokenizer(text)["input_ids"]]
    common = max(set(tokens) - {model.config.eos_token_id}, key=tokens.count)
    config = model.generation_config
    config.eos_token_id = [model.config.eos_token_id, common]
    config.min_new_tokens = 2
    config.bad_words_ids = [[model.config.pad_token_id], [5]]
    config.suppress_tokens = [7, 11]
    model.save_pretrained(folder)
    return folder


def test_fused_greedy_equals_generate_and_the_naive_loop(tiny_marian, tiny_nllb, marian_with_processors):
    for folder, target in ((tiny_marian, "th"), (tiny_nllb, "th"), (tiny_nllb, "ms"), (marian_with_processors, "th")):
        fused = Seq2SeqTranslator("fused", folder, Seq2SeqOptions(batch_size=5, max_new_tokens=20))
        generate = Seq2SeqTranslator("generate", folder, Seq2SeqOptions(batch_size=5, max_new_tokens=20, greedy="generate"))
        expected = generate.translate(ALL_PARAGRAPHS, "vi", target).texts
        assert len(set(expected)) > 1
        assert fused.translate(ALL_PARAGRAPHS, "vi", target).texts == expected, (folder.name, target)
        assert fused.info["decoding"] == "fused greedy"
        assert generate.info["decoding"] == "generate (greedy: generate)"
        assert fused.identity() == generate.identity()  # the same outputs: the same cache entries
    lengths = [len(t.split()) for t in expected]
    assert min(lengths) < max(lengths)  # the processors' model stops early on some rows, so rows were dropped
    assert naive_generate(marian_with_processors, ALL_PARAGRAPHS, "th", 20) == expected
    nllb = Seq2SeqTranslator("fused", tiny_nllb, Seq2SeqOptions(batch_size=5, max_new_tokens=20))
    assert naive_generate(tiny_nllb, PARAGRAPHS, "ms", 20) == nllb.translate(PARAGRAPHS, "vi", "ms").texts


def test_fused_argmax_matches_the_full_logits_ties_and_suppression_included(tiny_marian):
    import torch

    from evalkit.backends.decoding import FusedProjection

    translator = Seq2SeqTranslator("t", tiny_marian, Seq2SeqOptions())
    translator.load()
    model = translator._model
    with torch.inference_mode():
        model.final_logits_bias.copy_(torch.randn(model.final_logits_bias.shape, generator=torch.Generator().manual_seed(2)))
        hidden = torch.randn(9, model.config.d_model, generator=torch.Generator().manual_seed(3))
        projection = FusedProjection(torch, model, torch.nn.functional.linear, chunk=37)  # many chunks, a ragged last one
        logits = model.lm_head(hidden) + model.final_logits_bias
        assert torch.equal(projection.logits(hidden), logits)
        assert torch.equal(projection.argmax(hidden, ()), logits.argmax(dim=1))
        best = logits.argmax(dim=1).tolist()
        suppressed = logits.clone()
        suppressed[:, best] = float("-inf")
        assert torch.equal(projection.argmax(hidden, best), suppressed.argmax(dim=1))
        tied = torch.zeros(2, model.config.d_model)  # every logit equals its bias: make two chunks tie
        model.final_logits_bias.fill_(0.0)
        model.final_logits_bias[0, [40, 80]] = 1.0
        assert projection.argmax(tied, ()).tolist() == [40, 40]  # the first of equal maxima, as torch.argmax


def test_greedy_falls_back_to_generate_for_what_it_does_not_reproduce(tiny_marian, tmp_path):
    import shutil

    from transformers import GenerationConfig

    folder = tmp_path / "model"
    shutil.copytree(tiny_marian, folder)
    config = GenerationConfig.from_pretrained(folder)
    config.repetition_penalty = 1.3
    config.save_pretrained(folder)
    translator = Seq2SeqTranslator("t", folder, Seq2SeqOptions(max_new_tokens=10))
    out = translator.translate(PARAGRAPHS, "vi", "th").texts
    assert translator.info["decoding"] == "generate (generation config sets repetition_penalty)"
    plain = Seq2SeqTranslator("t", folder, Seq2SeqOptions(max_new_tokens=10, greedy="generate"))
    assert plain.translate(PARAGRAPHS, "vi", "th").texts == out
    beams = Seq2SeqTranslator("t", tiny_marian, Seq2SeqOptions(max_new_tokens=10, num_beams=3))
    beams.translate(PARAGRAPHS[:2], "vi", "th")
    assert beams.info["decoding"] == "generate (beam search or sampling)"


def test_beam_search_batched_equals_one_paragraph_at_a_time(tiny_nllb):
    batched = Seq2SeqTranslator("b", tiny_nllb, Seq2SeqOptions(num_beams=4, batch_size=6, max_new_tokens=12))
    alone = Seq2SeqTranslator("b", tiny_nllb, Seq2SeqOptions(num_beams=4, batch_size=1, max_new_tokens=12))
    out = batched.translate(ALL_PARAGRAPHS, "vi", "th").texts
    assert len(set(out)) > 1
    assert alone.translate(ALL_PARAGRAPHS, "vi", "th").texts == out
    greedy = Seq2SeqTranslator("g", tiny_nllb, Seq2SeqOptions(batch_size=6, max_new_tokens=12))
    assert greedy.translate(ALL_PARAGRAPHS, "vi", "th").texts != out  # beams decode differently, as they should


def test_beam_search_shares_cross_attention_between_beams_without_changing_outputs(tiny_nllb, monkeypatch):
    from evalkit.backends import decoding, seq2seq

    shared = Seq2SeqTranslator("b", tiny_nllb, Seq2SeqOptions(num_beams=4, batch_size=6, max_new_tokens=12))
    skipped = []
    make = decoding.beam_cache

    def counting(torch, model, beams):
        cache = make(torch, model, beams)
        reorder = cache.cross_attention_cache.reorder_cache
        cache.cross_attention_cache.reorder_cache = lambda index: skipped.append(False) or reorder(index)
        full = type(cache).reorder_cache

        def reorder_all(index):
            skipped.append(True)
            full(cache, index)

        cache.reorder_cache = reorder_all
        return cache

    monkeypatch.setattr(seq2seq, "beam_cache", counting)
    out = shared.translate(ALL_PARAGRAPHS, "vi", "th").texts
    assert skipped and all(skipped)  # every step reordered the self-attention cache only
    monkeypatch.setattr(seq2seq, "beam_cache", lambda *args: None)  # transformers' own cache, copied at every step
    plain = Seq2SeqTranslator("b", tiny_nllb, Seq2SeqOptions(num_beams=4, batch_size=6, max_new_tokens=12))
    assert plain.translate(ALL_PARAGRAPHS, "vi", "th").texts == out
