"""A re-run takes language ID and Thai word segmentation from the cache file instead of recomputing them."""

from __future__ import annotations

import sqlite3

import pytest

from conftest import make_config
from evalkit.config import load_config
from evalkit.corpus import langid
from evalkit.pipeline import run
from evalkit.scorers import segment


def _scores(result):
    return [(s.name, {m: v.score for m, v in s.corpus_scores.items()}, [p.scores for p in s.paragraphs])
            for s in result.systems]


def test_a_rerun_asks_neither_lingua_nor_pythainlp(tmp_path, monkeypatch):
    path = make_config(tmp_path, metrics=["chrf", "bleu", "ter"], statistics={"bootstrap_resamples": 50,
                                                                            "randomization_trials": 50})
    from evalkit import words
    from evalkit.align import aligner, lexicon

    segment.segmenter.cache_clear()  # as in a fresh process: nothing segmented yet
    lexicon.lexemes.cache_clear()
    words.thai_newmm.cache_clear()
    aligner._analyse_cached.cache_clear()
    first = run(load_config(path))
    cache = tmp_path / "results" / "translation-cache.sqlite"
    with sqlite3.connect(cache) as conn:
        assert conn.execute("SELECT COUNT(*) FROM memo").fetchone()[0] > 0

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed what the memo holds")

    import pythainlp.tokenize

    segment.segmenter.cache_clear()  # no in-process shortcut: the answers must come from the file
    langid._detector.cache_clear()
    lexicon.lexemes.cache_clear()
    words.thai_newmm.cache_clear()  # the aligner's Thai words (vi-th has a lexicon) must come from the file too
    aligner._analyse_cached.cache_clear()
    monkeypatch.setattr(pythainlp.tokenize, "word_tokenize", refuse)
    monkeypatch.setattr(langid, "_detector", refuse)
    second = run(load_config(path))
    assert _scores(second) == _scores(first)
    assert second.documents[0].target.other_language_paragraphs == first.documents[0].target.other_language_paragraphs


def test_without_the_cache_nothing_is_remembered_and_a_failed_run_leaves_no_file(tmp_path, monkeypatch):
    path = make_config(tmp_path, metrics=["chrf"], cache=False)
    run(load_config(path))
    assert not (tmp_path / "results" / "translation-cache.sqlite").exists()
    bad = make_config(tmp_path, target_lang="id", target_file="003_80fd675a9a6137d2.txt", metrics=["chrf"])
    with pytest.raises(Exception, match="not a translation"):
        run(load_config(bad))
    assert not (tmp_path / "results" / "translation-cache.sqlite").exists()
