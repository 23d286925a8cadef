"""Corpus pairing (evalkit.survey.pair_corpus) on real documents: the shipped scrape and a scrambled NTREX corpus."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from conftest import CORPUS, INDONESIAN, MALAY, OTHER_VI, PIVOT, THAI
from evalkit.errors import CorpusError
from evalkit.survey import CorpusPairing, language_sample, pair_corpus

NTREX = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ntrex128-docs"


def _names(pairing: CorpusPairing):
    matches = {(m.pivot.path.name, m.lang): m.target.path.name for m in pairing.matches}
    missing = {(m.pivot.name, m.lang): m.reason for m in pairing.missing}
    unpaired = {u.path.name: u.reason for u in pairing.unpaired}
    return matches, missing, unpaired


def _accounted(pairing: CorpusPairing, folder: Path) -> None:
    """Every document of the folder is a pivot, a matched target or unpaired, exactly once."""
    seen = [d.path.name for d in pairing.pivots] + [m.target.path.name for m in pairing.matches]
    seen += [u.path.name for u in pairing.unpaired]
    assert sorted(seen) == sorted(p.name for p in folder.glob("*.txt"))


@pytest.fixture(scope="module")
def shipped() -> CorpusPairing:
    return pair_corpus(CORPUS, "vi", ["th", "ms", "id"], pivot_files=[CORPUS / PIVOT])


def test_shipped_corpus_pairs_th_and_ms_and_reports_id_missing(shipped):
    matches, missing, unpaired = _names(shipped)
    assert [d.path.name for d in shipped.pivots] == [PIVOT]
    assert [g.lang for g in shipped.pivot_langs] == ["vi"]
    assert matches == {(PIVOT, "th"): THAI, (PIVOT, "ms"): MALAY}
    assert [(m.lang, m.target_lang.lang) for m in shipped.matches] == [("th", "th"), ("ms", "ms")]
    assert all(m.verdict.is_translation and m.alignment.pairs for m in shipped.matches)
    assert list(missing) == [(PIVOT, "id")]
    reason = missing[(PIVOT, "id")]
    assert reason.startswith(f"no Indonesian (id) translation of {PIVOT} found; {INDONESIAN} is another article")
    assert "pairing score 0.00" in reason and "numbers" in reason and "\n" not in reason
    assert unpaired[OTHER_VI] == "pivot language Vietnamese (vi): another original"
    assert unpaired[INDONESIAN].startswith(f"not a translation of any pivot (closest: {PIVOT}, pairing score 0.00")
    _accounted(shipped, CORPUS)
    assert set(shipped.seconds) == {"read", "language id", "prefilter", "align"}


def test_every_vietnamese_document_is_a_pivot_without_pivot_files():
    pairing = pair_corpus(CORPUS, "vi", ["th", "ms", "id"])
    matches, missing, unpaired = _names(pairing)
    assert [d.path.name for d in pairing.pivots] == [PIVOT, OTHER_VI]
    assert matches == {(PIVOT, "th"): THAI, (PIVOT, "ms"): MALAY}
    assert sorted(missing) == sorted([(PIVOT, "id"), (OTHER_VI, "th"), (OTHER_VI, "ms"), (OTHER_VI, "id")])
    assert f"and translates {PIVOT}" in missing[(OTHER_VI, "th")]
    assert list(unpaired) == [INDONESIAN]
    _accounted(pairing, CORPUS)


def test_other_languages_and_unreadable_files_are_unpaired_with_the_reason(tmp_path):
    for name in (PIVOT, THAI, INDONESIAN):
        shutil.copy(CORPUS / name, tmp_path / name)
    (tmp_path / "zz_latin1.txt").write_bytes("Tiếng Việt".encode("utf-8")[:-1] + b"\xff\n")
    (tmp_path / "notes.md").write_text("not a corpus document\n")
    pairing = pair_corpus(tmp_path, "vi", ["th"])
    matches, missing, unpaired = _names(pairing)
    assert matches == {(PIVOT, "th"): THAI} and not missing
    assert unpaired[INDONESIAN] == "Indonesian (id): not a target language of this run"
    assert unpaired["zz_latin1.txt"].startswith("unreadable: ") and "not valid UTF-8" in unpaired["zz_latin1.txt"]
    _accounted(pairing, tmp_path)


def test_a_language_without_any_document_is_missing_for_every_pivot(tmp_path):
    shutil.copy(CORPUS / PIVOT, tmp_path / PIVOT)
    pairing = pair_corpus(tmp_path, "vi", ["th"])
    assert [(m.pivot.name, m.lang, m.reason) for m in pairing.missing] == [
        (PIVOT, "th", f"no Thai (th) translation of {PIVOT} found: no Thai (th) document in the folder")
    ]


def test_a_named_pivot_that_cannot_be_read_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus file not found"):
        pair_corpus(CORPUS, "vi", ["th"], pivot_files=[tmp_path / "nope.txt"])


def test_language_sample_keeps_the_longest_paragraphs_in_document_order():
    paragraphs = ["Menu", "a" * 1500, "Home", "b" * 800, "c" * 900]
    assert language_sample(paragraphs, limit=2000) == ["a" * 1500, "c" * 900]
