"""The translation cache: a real tiny MarianMT model behind it, a real SQLite file under it."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import time
import pytest

from conftest import CORPUS, PIVOT
from evalkit.backends import BACKENDS
from evalkit.backends.base import BackendOptions, ProgressCallback, Translations, Translator
from evalkit.backends.cached import CachedTranslator, bypass_reason
from evalkit.backends.identity import backend_identity
from evalkit.backends.store import TranslationCache
from evalkit.backends.seq2seq import Seq2SeqOptions, Seq2SeqTranslator
from evalkit.corpus import load_document

PARAGRAPHS = load_document(CORPUS / PIVOT).texts[:8]


def seq2seq(model, **options) -> Seq2SeqTranslator:
    return Seq2SeqTranslator("tiny", model, Seq2SeqOptions(**{"batch_size": 4, "max_new_tokens": 12, **options}))


class Recording(Translator):
    """A real backend wrapped to record what it is asked; it files outputs under the wrapped one's identity."""

    def __init__(self, inner: Translator, interrupt_after_batches: int | None = None) -> None:
        super().__init__(inner.name, inner.model, inner.options)
        self.inner, self.interrupt_after_batches = inner, interrupt_after_batches
        self.calls: list[list[str]] = []
        self.batches = 0

    def load(self) -> None:
        self.inner.load()

    def _translate(self, texts, source_lang, target_lang, progress=None):
        self.calls.append(list(texts))

        def forward(done):
            if progress:
                progress(done)
            self.batches += 1
            if self.batches == self.interrupt_after_batches:
                raise KeyboardInterrupt  # Ctrl-C in the middle of a run, right after a batch finished

        return self.inner.translate(texts, source_lang, target_lang, forward)

    def signature(self) -> str:
        return self.inner.signature()

    def identity(self) -> str:
        return self.inner.identity()

    @property
    def asked(self) -> list[str]:
        return [t for call in self.calls for t in call]


@pytest.fixture(scope="module")
def expected(tiny_marian) -> list[str]:
    """The uncached translator's outputs: what the cache must reproduce."""
    return seq2seq(tiny_marian).translate(PARAGRAPHS, "vi", "th").texts


def counted(done: list[int]):
    """A progress callback that records how many paragraphs each call finished."""
    return lambda finished: done.append(len(finished))


def test_second_run_is_all_hits_and_never_loads_the_model(tiny_marian, expected, tmp_path):
    path = tmp_path / "cache.sqlite"
    first = CachedTranslator(seq2seq(tiny_marian), path)
    first.load()
    assert not first.model_loaded  # lazy
    done: list[int] = []
    assert first.translate(PARAGRAPHS, "vi", "th", progress=counted(done)).texts == expected
    assert (first.counters.hits, first.counters.misses, first.counters.translated, first.model_loaded) == (0, len(PARAGRAPHS), len(PARAGRAPHS), True)
    assert sum(done) == len(PARAGRAPHS)

    inner = seq2seq(tiny_marian)
    second = CachedTranslator(inner, path)
    second.load()
    done.clear()
    assert second.translate(PARAGRAPHS, "vi", "th", progress=counted(done)).texts == expected
    assert (second.counters.hits, second.counters.misses, second.counters.translated) == (len(PARAGRAPHS), 0, 0)
    assert second.model_loaded is False
    assert inner.info == {}  # the real Seq2SeqTranslator reports facts only once its model is loaded: it never was
    assert sum(done) == len(PARAGRAPHS)
    # a fully cached run still reports what produced the outputs
    assert second.signature() == first.signature()
    assert second.info["model_class"] == "MarianMTModel"
    assert second.info["cache"] == {
        "enabled": True, "path": str(path), "model_loaded": False, "hits": len(PARAGRAPHS), "misses": 0, "translated": 0,
    }
    assert TranslationCache(path).stats()["entries"] == len(PARAGRAPHS)


def test_order_is_kept_and_duplicates_are_translated_once(tiny_marian, expected, tmp_path):
    picks = [2, 0, 2, 5, 0, 2, 7]
    recording = Recording(seq2seq(tiny_marian))
    cached = CachedTranslator(recording, tmp_path / "cache.sqlite")
    done: list[int] = []
    assert cached.translate([PARAGRAPHS[i] for i in picks], "vi", "th", progress=counted(done)).texts == [expected[i] for i in picks]
    assert sorted(recording.asked) == sorted(PARAGRAPHS[i] for i in {2, 0, 5, 7})
    assert (cached.counters.hits, cached.counters.misses, cached.counters.translated) == (0, len(picks), 4)
    assert sum(done) == len(picks)

    # cached and new texts interleaved: only the new ones reach the model, the order is the caller's
    recording.calls.clear()
    assert cached.translate(PARAGRAPHS, "vi", "th").texts == expected
    assert recording.asked == [PARAGRAPHS[i] for i in (1, 3, 4, 6)]
    assert cached.translate([], "vi", "th").texts == []


def test_options_and_languages_are_part_of_the_key(tiny_marian, tmp_path):
    path, texts = tmp_path / "cache.sqlite", PARAGRAPHS[:3]
    CachedTranslator(seq2seq(tiny_marian), path).translate(texts, "vi", "th")

    def rerun(source="vi", target="th", **options) -> CachedTranslator:
        cached = CachedTranslator(seq2seq(tiny_marian, **options), path)
        cached.translate(texts, source, target)
        return cached

    assert rerun().counters.hits == 3
    assert rerun(batch_size=1).counters.hits == 3  # batching changes speed, not greedy output
    for changed in (rerun(max_new_tokens=5), rerun(num_beams=2), rerun(dtype="float32"), rerun(target="ms"), rerun(source="id")):
        assert (changed.counters.hits, changed.counters.misses, changed.model_loaded) == (0, 3, True)


def test_retraining_a_local_model_in_place_invalidates_its_outputs(tiny_marian, tmp_path):
    import torch
    from transformers import MarianMTModel

    folder = tmp_path / "model"
    shutil.copytree(tiny_marian, folder)
    path, texts = tmp_path / "cache.sqlite", PARAGRAPHS[:4]
    before = CachedTranslator(seq2seq(folder), path).translate(texts, "vi", "th").texts
    identity = seq2seq(folder).identity()

    model = MarianMTModel.from_pretrained(folder)
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.5)
    model.save_pretrained(folder)  # same file names and sizes, new weights

    assert seq2seq(folder).identity() != identity
    after = CachedTranslator(seq2seq(folder), path)
    assert after.translate(texts, "vi", "th").texts == seq2seq(folder).translate(texts, "vi", "th").texts
    assert (after.counters.hits, after.counters.misses) == (0, len(texts))
    assert after.translate(texts, "vi", "th").texts != before  # the retrained model really does translate differently


def test_an_interrupted_run_keeps_every_finished_batch_and_resumes(tiny_marian, expected, tmp_path):
    path = tmp_path / "cache.sqlite"
    interrupted = CachedTranslator(Recording(seq2seq(tiny_marian), interrupt_after_batches=1), path)
    with pytest.raises(KeyboardInterrupt):
        interrupted.translate(PARAGRAPHS, "vi", "th")
    assert TranslationCache(path).stats()["entries"] == 4  # the batch (of 4) finished before Ctrl-C is kept
    assert interrupted.counters.kept == 4

    recording = Recording(seq2seq(tiny_marian))
    resumed = CachedTranslator(recording, path)
    assert resumed.translate(PARAGRAPHS, "vi", "th").texts == expected
    assert len(recording.asked) == len(PARAGRAPHS) - 4 and set(recording.asked) < set(PARAGRAPHS)
    assert (resumed.counters.hits, resumed.counters.misses) == (4, len(PARAGRAPHS) - 4)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def _write_entries(path: str, worker: int, barrier) -> None:
    cache = TranslationCache(path)
    barrier.wait()  # both create the fresh file at the same moment
    shared = [(f"shared {i}", f"out {i}") for i in range(50)]
    own = [(f"text {worker}-{i}", f"out {worker}-{i}") for i in range(300)]
    pairs = shared + own
    for start in range(0, len(pairs), 10):  # many short transactions, interleaving with the other process
        cache.put_many("identity", "vi", "th", pairs[start : start + 10])
    cache.close()


def test_two_processes_write_one_cache_file_at_once(tmp_path):
    path = tmp_path / "shared" / "cache.sqlite"
    context = multiprocessing.get_context("spawn")  # no fork of a process that has torch threads
    barrier = context.Barrier(2)
    workers = [context.Process(target=_write_entries, args=(str(path), w, barrier)) for w in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
    assert [p.exitcode for p in workers] == [0, 0]

    cache = TranslationCache(path)
    assert cache.stats()["entries"] == 50 + 2 * 300
    texts = ["shared 7", "text 1-0", "text 2-299"]
    assert cache.get_many("identity", "vi", "th", texts) == {"shared 7": "out 7", "text 1-0": "out 1-0", "text 2-299": "out 2-299"}
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def _write_until_killed(path: str) -> None:
    cache = TranslationCache(path)
    for batch in range(100_000):
        cache.put_many("identity", "vi", "th", [(f"text {batch}-{i}", "out") for i in range(10)])


def test_a_writer_killed_mid_run_leaves_a_sound_file_with_whole_batches(tmp_path):
    path = tmp_path / "cache.sqlite"
    writer = multiprocessing.get_context("spawn").Process(target=_write_until_killed, args=(str(path),))
    writer.start()
    cache = TranslationCache(path)
    try:
        while cache.stats()["entries"] < 200 and writer.is_alive():
            time.sleep(0.01)
    finally:
        writer.kill()  # SIGKILL: no cleanup, no rollback, possibly mid-transaction
        writer.join(30)
    entries = cache.stats()["entries"]
    assert entries >= 200 and entries % 10 == 0  # every committed batch whole, no partial one
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    cache.put_many("identity", "vi", "th", [("after", "the crash")])  # and the file is still writable
    assert cache.get_many("identity", "vi", "th", ["after"]) == {"after": "the crash"}


class SamplingOptions(BackendOptions):
    do_sample: bool = False
    temperature: float = 0.0


class Sampler(Translator):
    """A backend that declares itself non-deterministic when its options sample (the contract, not option names)."""

    Options = SamplingOptions

    @property
    def deterministic(self) -> bool:
        return not (self.options.do_sample or self.options.temperature > 0)

    def _translate(self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None):
        return Translations.whole([t.upper() for t in texts])

    def signature(self) -> str:
        return "sampler"


def test_copy_and_sampled_output_pass_straight_through(tmp_path):
    path = tmp_path / "cache.sqlite"
    copy = CachedTranslator(BACKENDS.get("copy")("copy", None, BACKENDS.get("copy").Options()), path)
    assert copy.translate(["a", "b"], "vi", "th").texts == ["a", "b"]
    assert copy.info["cache"]["enabled"] is False
    uncacheable = Sampler("s", None, SamplingOptions())
    uncacheable.cacheable = False
    assert "not cacheable" in bypass_reason(uncacheable)
    assert bypass_reason(Sampler("s", None, SamplingOptions())) is None
    assert "not deterministic" in bypass_reason(Sampler("s", None, SamplingOptions(do_sample=True)))
    assert "not deterministic" in bypass_reason(Sampler("s", None, SamplingOptions(temperature=0.7)))
    sampled = CachedTranslator(Sampler("s", None, SamplingOptions(do_sample=True)), path)
    assert sampled.translate(["a"], "vi", "th").texts == ["A"]
    assert not path.exists()  # nothing was cached, not even an empty file


def test_identity_of_a_hub_model_needs_no_network():
    identity = backend_identity("evalkit.backends.seq2seq.Seq2SeqTranslator", "facebook/nllb-200-distilled-600M",
                                Seq2SeqOptions(device="cpu", dtype="float32", revision="v1").model_dump(),
                                neutral_options=Seq2SeqTranslator.cache_neutral_options)
    assert '"hub_id":"facebook/nllb-200-distilled-600M"' in identity and '"revision":"v1"' in identity
    assert "batch_size" not in identity and "max_new_tokens" in identity


def test_stats_and_identities_describe_the_file(tiny_marian, tmp_path):
    path = tmp_path / "cache.sqlite"
    CachedTranslator(seq2seq(tiny_marian), path).translate(PARAGRAPHS[:2], "vi", "th")
    stats = TranslationCache(path).stats()
    assert stats["entries"] == 2 and stats["identities"] == 1 and stats["file_bytes"] > 0
    [row] = TranslationCache(path).identities()
    assert row["entries"] == 2 and row["signature"].startswith("backend:seq2seq")
    assert row["identity"]["model"]["path"] == str(tiny_marian.resolve()) and len(row["identity"]["model"]["fingerprint"]) == 64
    assert TranslationCache(tmp_path / "none.sqlite").stats()["entries"] == 0


def test_paragraphs_translated_in_pieces_stay_marked_when_served_from_the_cache(tiny_marian, tmp_path):
    texts = load_document(CORPUS / PIVOT).texts
    long_text = " ".join(texts[:6] * 3)
    options = Seq2SeqOptions(max_new_tokens=3)
    first = CachedTranslator(Seq2SeqTranslator("tiny", tiny_marian, options), TranslationCache(tmp_path / "c.sqlite"))
    out = first.translate([texts[1], long_text], "vi", "th")
    assert out.pieces[0] == 1 and out.pieces[1] >= 2
    second = CachedTranslator(Seq2SeqTranslator("tiny", tiny_marian, options), TranslationCache(tmp_path / "c.sqlite"))
    again = second.translate([texts[1], long_text], "vi", "th")
    assert again == Translations(out.texts, out.pieces, cached=2)
    assert second.counters.hits == 2 and not second.model_loaded
