"""One contract test for every registered metric and every registered backend (as Hugging Face `evaluate` does).

A new metric or backend is tested by being registered: it runs through these
checks with default options, unless it needs a local model, which `METRIC_SETUP`
/ `BACKEND_SETUP` build from the tests' tiny real models. One whose package or
weights are missing here is skipped with the reason it gave, never silently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pytest
from pydantic import ConfigDict

from conftest import CORPUS, MALAY, PIVOT, THAI
from evalkit.backends import BACKENDS
from evalkit.backends.base import Finished, Translations
from evalkit.corpus import load_document
from evalkit.errors import MetricUnavailableError, ModelUnavailableError, ScoringError
from evalkit.scorers import METRICS
from evalkit.scorers.base import Scorer

PIVOT_DOC = load_document(CORPUS / PIVOT)
SOURCES = PIVOT_DOC.texts[:4]
REFERENCES = {"ms": load_document(CORPUS / MALAY).texts[:4], "th": load_document(CORPUS / THAI).texts[:4]}
UNICODE = ["Café naïve — 1.000 ₫ 🚀 e\u0301", "ภาษาไทย ๑๒๓ ปี 2516", "Tiếng Việt có dấu: Hà Nội, 100 tỷ yên"]


# -- metrics -------------------------------------------------------------------------


def _spbleu_options(request) -> dict:
    from test_spbleu import corpus_text_file, train_spm

    work = request.getfixturevalue("tmp_path_factory").mktemp("contract-spm")
    return {"spm_model": str(train_spm(corpus_text_file(work), work / "spm"))}


def _bertscore_options(request) -> dict:
    pytest.importorskip("bert_score")
    from test_neural import build_tiny_bert

    base = request.getfixturevalue("tmp_path_factory").mktemp("contract-bert")
    return {"model": str(build_tiny_bert(base / "model", base / "work")), "num_layers": 2, "device": "cpu"}


METRIC_SETUP: dict[str, Callable] = {"spbleu": _spbleu_options, "bertscore": _bertscore_options}


@pytest.fixture(scope="module", params=METRICS.registered())
def scorer_for(request):
    """A loaded scorer factory for each registered metric and a target language."""
    name = request.param
    cls = METRICS.get(name)
    options = cls.Options(**METRIC_SETUP[name](request)) if name in METRIC_SETUP else cls.Options()

    def make(lang: str, source_lang: str = "vi") -> Scorer:
        scorer = cls(lang, options, source_lang)
        try:
            scorer.load()
        except MetricUnavailableError as exc:
            pytest.skip(f"{name} is unavailable here: {exc}")
        return scorer

    return make


@pytest.mark.parametrize("lang", ["ms", "th"])
def test_metric_contract(scorer_for, lang):
    scorer = scorer_for(lang)
    cls = type(scorer)
    refs = REFERENCES[lang]
    candidates = [refs[0], refs[1][: len(refs[1]) // 2], SOURCES[2], refs[3] + " " + refs[0][:30]]

    # declared facts
    assert isinstance(cls.name, str) and METRICS.get(cls.name) is cls
    assert isinstance(cls.higher_is_better, bool) and isinstance(cls.in_default_set, bool)
    assert cls.gate_margin is None or cls.gate_margin > 0
    assert cls.Options.model_config.get("extra") == "forbid"

    # a signature, stable across calls and instances
    signature = scorer.signature()
    assert signature and signature == scorer.signature() == scorer_for(lang).signature()
    assert scorer.paragraph_signature()

    corpus = scorer.corpus_score(candidates, refs, SOURCES).score
    paragraphs = scorer.paragraph_scores(candidates, refs, SOURCES)
    assert len(paragraphs) == len(refs) and all(math.isfinite(p) for p in paragraphs) and math.isfinite(corpus)
    if cls.has_statistics:  # the corpus score is the score of summed statistics, over any subset too
        stats = scorer.statistics(candidates, refs, SOURCES)
        assert stats.shape[0] == len(refs)
        assert scorer.score_from_statistics(stats) == pytest.approx(corpus, abs=1e-9)
        assert scorer.score_from_statistics(stats.sum(axis=0)) == pytest.approx(corpus, abs=1e-9)
        subset = [0, 2]
        alone = scorer.corpus_score([candidates[i] for i in subset], [refs[i] for i in subset], [SOURCES[i] for i in subset])
        assert scorer.score_from_statistics(stats[subset]) == pytest.approx(alone.score, abs=1e-9)
        # resampled corpora scored at once equal the same corpora scored one by one, exactly
        draws = np.random.default_rng(0).integers(0, len(refs), size=(16, len(refs)))
        sums = np.stack([stats[row].sum(axis=0) for row in draws])
        assert scorer.scores_from_statistics(sums).tolist() == [scorer.score_from_statistics(row) for row in sums]
        # determinism
        assert np.array_equal(stats, scorer.statistics(candidates, refs, SOURCES))
        summary = scorer.summary(stats)
        assert summary is None or all(isinstance(v, float) and math.isfinite(v) for v in summary.values())
    assert scorer.paragraph_scores(candidates, refs, SOURCES) == paragraphs

    details = scorer.paragraph_details(candidates, refs, SOURCES)
    assert details is None or (len(details) == len(refs) and json.dumps(details, ensure_ascii=False))

    # one paragraph, and nothing
    one = scorer.paragraph_scores(candidates[:1], refs[:1], SOURCES[:1])
    assert len(one) == 1 and math.isfinite(scorer.corpus_score(candidates[:1], refs[:1], SOURCES[:1]).score)
    with pytest.raises(ScoringError):
        scorer.corpus_score([], [], [])
    with pytest.raises(ScoringError):  # unaligned input is refused, never scored
        scorer.corpus_score(candidates, refs[:-1], SOURCES)

    # unicode of every kind scores without error, and identical source, candidate and reference (one language)
    # score at least as well as a poor candidate, whichever side a metric compares with
    scores = scorer.paragraph_scores(UNICODE, UNICODE, UNICODE)
    assert all(math.isfinite(s) for s in scores)
    perfect = scorer_for(lang, lang).corpus_score(refs, refs, refs).score
    assert (perfect >= corpus) if cls.higher_is_better else (perfect <= corpus)


# -- backends ------------------------------------------------------------------------


def _seq2seq(request):
    return request.getfixturevalue("tiny_marian"), {"max_new_tokens": 8, "batch_size": 2}


def _ctranslate2(request):
    pytest.importorskip("ctranslate2")
    from evalkit.backends.ct2 import convert_to_ct2

    folder = convert_to_ct2(request.getfixturevalue("tiny_marian"),
                            request.getfixturevalue("tmp_path_factory").mktemp("contract-ct2") / "m")
    return folder, {"max_decoding_length": 8, "batch_size": 2}


def _causal(request):
    from tiny_causal import build_llama

    base = request.getfixturevalue("tmp_path_factory").mktemp("contract-causal")
    return build_llama(base / "model", base / "work"), {"max_new_tokens": 6, "batch_size": 2}


def _precomputed(request):
    folder = request.getfixturevalue("tmp_path_factory").mktemp("contract-precomputed")
    path = folder / "candidates.txt"
    path.write_text("\n".join(f"candidate {i}" for i in range(len(PIVOT_DOC.paragraphs))) + "\n", encoding="utf-8")
    return None, {"path": path}


def _openai(request):
    pytest.importorskip("httpx")
    from fault_server import contract_setup

    return contract_setup(request)


BACKEND_SETUP: dict[str, Callable] = {
    "seq2seq": _seq2seq, "ctranslate2": _ctranslate2, "causal": _causal, "precomputed": _precomputed,
    "openai": _openai,
}


@pytest.fixture(scope="module", params=BACKENDS.registered())
def backend_for(request):
    name = request.param
    cls = BACKENDS.get(name)
    model, options = BACKEND_SETUP[name](request) if name in BACKEND_SETUP else (None, {})

    def make():
        translator = cls(name, model, cls.Options(**options))
        translator.prepare([PIVOT_DOC])
        try:
            translator.load()
        except ModelUnavailableError as exc:
            pytest.skip(f"{name} is unavailable here: {exc}")
        return translator

    return cls, make


def test_backend_contract(backend_for):
    cls, make = backend_for
    assert cls.Options.model_config.get("extra") == "forbid"
    assert isinstance(cls.cacheable, bool) and isinstance(cls.needs_model, bool)
    fresh = make()
    identity = fresh.identity()
    assert json.loads(identity) and identity == make().identity()  # canonical JSON, stable across instances
    assert isinstance(fresh.deterministic, bool)
    available, detail = fresh.availability()
    assert available in (True, False, None) and isinstance(detail, str)

    texts = [p.text for p in PIVOT_DOC.paragraphs[:5]]
    finished: list[Finished] = []
    result = fresh.translate(texts, "vi", "th", progress=finished.extend)
    assert isinstance(result, Translations) and len(result.texts) == len(texts) == len(result.pieces)
    assert all(isinstance(t, str) for t in result.texts) and all(n >= 1 for n in result.pieces)
    # every paragraph reported finished exactly once, with the text the call returns
    assert sorted(f.index for f in finished) == list(range(len(texts)))
    assert all(result.texts[f.index] == f.text and result.pieces[f.index] == f.pieces for f in finished)
    if fresh.deterministic:
        assert fresh.translate(texts[::-1], "vi", "th").texts == result.texts[::-1]  # order is the caller's
    assert fresh.translate([], "vi", "th") == Translations([], [])
    assert fresh.signature() and json.dumps(fresh.info, default=str)
    assert fresh.timings.load >= 0 and fresh.timings.generate >= 0


def test_backend_options_are_closed_types():
    for name in BACKENDS.registered():
        config: ConfigDict = BACKENDS.get(name).Options.model_config
        assert config.get("extra") == "forbid", name
