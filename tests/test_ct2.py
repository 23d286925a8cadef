"""The CTranslate2 backend, checked against transformers on the same tiny real models.

Skipped as a whole where the optional extra (`pip install 'evalkit[ct2]'`) is absent.
"""

import pytest

pytest.importorskip("ctranslate2")

from pydantic import ValidationError  # noqa: E402

from conftest import CORPUS, PIVOT  # noqa: E402
from evalkit.backends.ct2 import (  # noqa: E402
    METADATA_FILE,
    ConversionError,
    CTranslate2Options,
    CTranslate2Translator,
    convert_to_ct2,
)
from evalkit.backends.seq2seq import Seq2SeqOptions, Seq2SeqTranslator  # noqa: E402
from evalkit.corpus import load_document  # noqa: E402
from evalkit.errors import EvalkitError, ModelUnavailableError, TranslationError  # noqa: E402

PARAGRAPHS = load_document(CORPUS / PIVOT).texts[:8]


@pytest.fixture(scope="module")
def marian_f32(tiny_marian, tmp_path_factory):
    return convert_to_ct2(tiny_marian, tmp_path_factory.mktemp("ct2") / "marian-f32", quantization="float32")


@pytest.fixture(scope="module")
def marian_int8(tiny_marian, tmp_path_factory):
    return convert_to_ct2(tiny_marian, tmp_path_factory.mktemp("ct2") / "marian-int8")


def ct2(folder, **options) -> CTranslate2Translator:
    return CTranslate2Translator("ct2", folder, CTranslate2Options(**options))


def transformers_greedy(folder, max_new_tokens: int, texts=PARAGRAPHS, target="th") -> list[str]:
    translator = Seq2SeqTranslator("hf", folder, Seq2SeqOptions(batch_size=3, max_new_tokens=max_new_tokens))
    return translator.translate(texts, "vi", target).texts


@pytest.mark.parametrize("length", [6, 20])
def test_float32_marian_equals_transformers_greedy(tiny_marian, marian_f32, length):
    expected = transformers_greedy(tiny_marian, length)
    assert len(set(expected)) > 1  # outputs depend on the input, so a mix-up would show
    translator = ct2(marian_f32, compute_type="float32", batch_size=3, max_decoding_length=length)
    assert translator.translate(PARAGRAPHS, "vi", "th").texts == expected
    assert translator.info["compute_type"] == "float32" and translator.info["stored_quantization"] == "float32"


def test_conversion_is_self_contained(tiny_marian, marian_f32):
    names = {p.name for p in marian_f32.iterdir()}
    assert {"model.bin", "config.json", "source.spm", "target.spm", "vocab.json", METADATA_FILE} <= names
    assert not any(name.endswith(".safetensors") for name in names)
    assert not any(p.name.startswith(".") for p in marian_f32.parent.iterdir())  # no staging folder left


def test_int8_returns_one_string_per_paragraph_in_order(marian_int8):
    translator = ct2(marian_int8, batch_size=3, max_decoding_length=12)  # compute_type auto: int8 on CPU
    done = []
    first = translator.translate(PARAGRAPHS, "vi", "th", progress=lambda finished: done.append(len(finished))).texts
    assert len(first) == len(PARAGRAPHS) and all(isinstance(t, str) for t in first)
    assert sum(done) == len(PARAGRAPHS) and len(done) == 3
    assert len(set(first)) > 1
    alone = ct2(marian_int8, deterministic=True, max_decoding_length=12)
    assert alone.translate(PARAGRAPHS, "vi", "th").texts == first  # sorting/batching restores order
    assert translator.translate(PARAGRAPHS[::-1], "vi", "th").texts == first[::-1]
    by_tokens = ct2(marian_int8, max_batch_tokens=120, max_decoding_length=12)
    assert by_tokens.translate(PARAGRAPHS, "vi", "th").texts == first
    parallel = ct2(marian_int8, batch_size=2, inter_threads=2, max_decoding_length=12)
    assert parallel.translate(PARAGRAPHS, "vi", "th").texts == first
    assert translator.info["compute_type"] == "int8" and translator.info["device"] == "cpu"
    assert translator.translate([], "vi", "th").texts == []
    assert translator.timings.load > 0 and translator.timings.generate > 0


def test_nllb_forces_the_target_language_token(tiny_nllb, tmp_path):
    folder = convert_to_ct2(tiny_nllb, tmp_path / "nllb", quantization="float32")
    translator = ct2(folder, compute_type="float32", max_decoding_length=10)
    thai = translator.translate(PARAGRAPHS, "vi", "th").texts
    malay = translator.translate(PARAGRAPHS, "vi", "ms").texts
    assert translator.info["tokenizer_class"].startswith("Nllb")
    assert translator.info["language_codes"] == {"vi-th": "vie_Latn->tha_Thai", "vi-ms": "vie_Latn->zsm_Latn"}
    assert thai != malay
    assert thai == transformers_greedy(tiny_nllb, 10)  # the forced token counts in both length limits
    assert malay == transformers_greedy(tiny_nllb, 10, target="ms")
    assert not any("tha_Thai" in t for t in thai)


def test_multi_target_marian_gets_the_source_tag(tiny_marian_multi, tmp_path):
    folder = convert_to_ct2(tiny_marian_multi, tmp_path / "multi", quantization="float32")
    translator = ct2(folder, compute_type="float32", max_decoding_length=8)
    assert translator.translate(PARAGRAPHS, "vi", "th").texts == transformers_greedy(tiny_marian_multi, 8)
    assert translator.info["language_codes"] == {"vi-th": ">>tha<<"}
    with pytest.raises(TranslationError, match=r"does not know the target language id \(Indonesian\)"):
        translator.translate(PARAGRAPHS[:1], "vi", "id").texts


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


def test_conversion_errors_are_one_line(tiny_marian, marian_int8, tmp_path):
    with pytest.raises(ConversionError) as missing:
        convert_to_ct2(tmp_path / "nope", tmp_path / "out")
    assert "does not exist" in one_line(missing) and isinstance(missing.value, EvalkitError)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConversionError, match="has no config.json"):
        convert_to_ct2(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(ConversionError) as exists:
        convert_to_ct2(tiny_marian, marian_int8)
    assert "already exists" in one_line(exists) and "force=True" in str(exists.value)
    with pytest.raises(ConversionError, match="would replace the model folder"):
        convert_to_ct2(tiny_marian, tiny_marian, force=True)
    assert not (tmp_path / "out").exists()


def test_force_replaces_an_existing_output(tiny_marian, tmp_path):
    out = tmp_path / "ct2"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    assert convert_to_ct2(tiny_marian, out, force=True) == out
    assert (out / "model.bin").is_file() and not (out / "stale.txt").exists()


def test_a_folder_that_is_not_ct2_is_unavailable_with_a_how_to(tiny_marian, tmp_path):
    with pytest.raises(ModelUnavailableError) as hf_folder:
        ct2(tiny_marian).load()
    assert "not a CTranslate2 model folder" in one_line(hf_folder) and "`evalkit convert SRC DEST`" in str(hf_folder.value)
    with pytest.raises(ModelUnavailableError) as missing:
        ct2(tmp_path / "nope").load()
    assert "does not exist" in one_line(missing)
    with pytest.raises(ModelUnavailableError) as hub_id:
        ct2("facebook/nllb-200-distilled-600M").load()
    assert "is not a local folder" in one_line(hub_id)


def test_overlong_paragraph_is_split_at_sentences_translated_and_joined(marian_int8):
    translator = ct2(marian_int8, max_decoding_length=3)
    long_text = " ".join(PARAGRAPHS * 3)
    done = []
    result = translator.translate([PARAGRAPHS[1], long_text], "vi", "th", progress=lambda finished: done.append(len(finished)))
    out, (short_pieces, pieces) = result.texts, result.pieces
    assert len(out) == 2 and sum(done) == 2
    assert pieces >= 2 and short_pieces == 1
    assert len(out[1].split(" ")) >= pieces  # one translation per piece, joined in order
    assert translator.info["split_paragraphs"] == 1


def test_unsplittable_run_is_refused_not_truncated(marian_int8):
    with pytest.raises(TranslationError, match="longer than the model's limit of 256 tokens; evalkit does not truncate"):
        ct2(marian_int8, max_decoding_length=2).translate(["x" * 3000], "vi", "th").texts


def test_availability_is_checked_without_loading(marian_int8, tiny_marian, tmp_path):
    assert ct2(marian_int8).availability() == (True, f"CTranslate2 folder {marian_int8}")
    available, detail = ct2(tiny_marian).availability()
    assert available is False and "not a CTranslate2 model folder" in detail
    assert ct2(tmp_path / "nope").availability()[0] is False


def test_options_are_closed_and_checked():
    with pytest.raises(ValidationError, match="num_beams"):
        CTranslate2Options(num_beams=2)
    with pytest.raises(ValidationError, match="min_decoding_length"):
        CTranslate2Options(min_decoding_length=9, max_decoding_length=8)
    defaults = CTranslate2Options()
    assert (defaults.compute_type, defaults.intra_threads, defaults.inter_threads, defaults.beam_size) == ("auto", 1, 1, 1)


def test_signature_and_cache_identity_without_loading(marian_int8):
    import ctranslate2

    translator = ct2(marian_int8, beam_size=2)
    signature = translator.signature()  # a failed load still records one
    assert f"model:{marian_int8}" in signature and "beam:2" in signature
    assert f"ctranslate2:{ctranslate2.__version__}" in signature and "compute_type:auto" in signature
    identity = translator.identity()
    assert '"ctranslate2"' in identity
    assert ct2(marian_int8, beam_size=2, batch_size=1, intra_threads=2).identity() == identity
    assert ct2(marian_int8, beam_size=2, compute_type="float32").identity() != identity
    # 'auto' is resolved as CTranslate2 resolves it: on this CPU, the same entries as int8
    assert ct2(marian_int8, beam_size=2, device="cpu", compute_type="int8").identity() == identity


def test_convert_command_and_a_run_through_the_registered_backend(tiny_marian, tmp_path):
    from conftest import make_config, run_cli

    out = tmp_path / "ct2-model"
    proc = run_cli("convert", tiny_marian, out, "--quantization", "int8")
    assert proc.returncode == 0, proc.stderr
    assert (out / "model.bin").is_file()
    again = run_cli("convert", tiny_marian, out)
    assert again.returncode == 2 and "error: " in again.stderr and "Traceback" not in again.stderr
    config = make_config(tmp_path, systems=[{"name": "ct2", "backend": "ctranslate2", "model": str(out),
                                             "options": {"max_decoding_length": 8}}], metrics=["chrf"])
    run_proc = run_cli("run", config)
    assert run_proc.returncode == 0, run_proc.stderr
    assert "17 paragraphs translated, 0 from the cache" in run_proc.stdout


def test_beam_batches_count_beams_and_change_no_output(marian_f32):
    """A beam batch is planned by padded tokens x rows x beams; outputs equal one paragraph at a time."""

    def translate(beams: int) -> tuple[list[str], list[int]]:
        translator = ct2(marian_f32, compute_type="float32", beam_size=beams, max_batch_tokens=400,
                         max_decoding_length=10)
        translator.load()
        real, calls = translator._translator, []

        class Counting:
            def translate_batch(self, sources, **kwargs):
                calls.append(len(sources))
                return real.translate_batch(sources, **kwargs)

        translator._translator = Counting()
        return translator.translate(PARAGRAPHS, "vi", "th").texts, calls

    out, beam_calls = translate(3)
    _, greedy_calls = translate(1)
    assert len(beam_calls) > len(greedy_calls)  # the same budget holds fewer paragraphs at 3 beams
    alone = ct2(marian_f32, compute_type="float32", beam_size=3, deterministic=True, max_decoding_length=10)
    assert alone.translate(PARAGRAPHS, "vi", "th").texts == out
