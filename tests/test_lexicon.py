"""Translation lexicons as alignment evidence (evalkit.align.lexicon, evalkit.align.lexicon_train).

The shipped lexicons were built by benchmarks/alignment_lexicon.py from the NTREX-128 articles of the
development split only; the two articles of tests/data/ntrex128-docs whose id hashes to the held-out
split measure them on text they were not built from.
"""

from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from alignment_devset import NTREX_TESTS, _units, apply_edit, gold_pairs, load_ntrex, split_of  # noqa: E402

from evalkit.align import aligner  # noqa: E402
from evalkit.align.gold import score_alignment  # noqa: E402
from evalkit.align.lexicon import (  # noqa: E402
    entries,
    lexemes,
    lexicon_from_json,
    lexicon_to_json,
    load_lexicon,
)
from evalkit.align.lexicon_train import model1, train_lexicon  # noqa: E402

HELD_OUT_DOCS = load_ntrex(ROOT / "tests" / "data" / "ntrex128-docs")
DEV_DOCS = load_ntrex(NTREX_TESTS)
HELD_OUT = sorted(d for d in HELD_OUT_DOCS if split_of(d) == "test")


@pytest.fixture(autouse=True)
def _only_the_shipped_lexicons(monkeypatch):
    """A developer's own $EVALKIT_LEXICONS must not change what these tests measure."""
    monkeypatch.delenv("EVALKIT_LEXICONS", raising=False)


def test_the_held_out_articles_are_there_and_held_out():
    assert HELD_OUT == ["abcnews.306774", "newsweek.51340"]
    assert all(split_of(d) == "dev" for d in DEV_DOCS)


def test_lexemes_thai_words_and_vietnamese_syllables_with_their_pairs():
    th = lexemes("รัฐบาลไทยประกาศนโยบายใหม่", "th")
    assert {"รัฐบาล", "นโยบาย"} <= th and any("_" in w for w in th)
    vi = lexemes("Chính phủ Việt Nam công bố 3 chính sách", "vi")
    assert {"chính", "phủ", "chính_phủ", "chính_sách", "công_bố"} <= vi
    assert not any(ch.isdigit() for w in vi for ch in w)
    assert lexemes("Kerajaan Malaysia", "ms") == frozenset({"kerajaan", "malaysia"})


def test_a_two_syllable_entry_hides_its_syllables():
    vocab = {"nhật": 1, "chủ_nhật": 1, "bản": 1}
    assert entries(lexemes("Hôm chủ nhật", "vi"), vocab) == frozenset({"chủ_nhật"})
    assert entries(lexemes("Nhật Bản", "vi"), vocab) == frozenset({"nhật", "bản"})


def test_model1_learns_a_translation_from_cooccurrence():
    pairs = [(frozenset({"nhà", "đẹp"}), frozenset({"rumah", "cantik"})),
             (frozenset({"nhà", "lớn"}), frozenset({"rumah", "besar"})),
             (frozenset({"xe", "lớn"}), frozenset({"kereta", "besar"}))]
    p = model1(pairs)
    assert max(p["nhà"], key=p["nhà"].get) == "rumah"
    assert max(p["lớn"], key=p["lớn"].get) == "besar"


def test_train_lexicon_cross_validates_p_hit_over_documents():
    """Built from the six dev articles of tests/data/ntrex128: frequent words get translations with a
    measured p_hit, and a word of one article only (nothing to cross-validate it on) gets none."""
    data = {d: [(lexemes(a, "vi"), lexemes(b, "ms")) for a, b in zip(DEV_DOCS[d]["vi"], DEV_DOCS[d]["ms"])]
            for d in DEV_DOCS}
    lex = train_lexicon(data, "vi", "ms", "test")
    assert "dan" in lex.forward.translations["và"]
    assert 0.5 < lex.forward.p_hit["và"] < 1.0
    assert "và" in lex.backward.translations["dan"]
    one_article = {w for d, ps in data.items() for s, _ in ps for w in s} - {
        w for d, ps in data.items() for s, _ in ps for w in s if sum(w in t for dd, pp in data.items() for t, _ in pp if dd != d)}
    assert one_article and not (one_article & set(lex.forward.translations))
    again = lexicon_from_json(lexicon_to_json(lex))
    assert again.forward.translations == lex.forward.translations
    assert again.backward.p_hit == pytest.approx(lex.backward.p_hit, abs=1e-4)


@pytest.mark.parametrize("tl", ["th", "ms", "id", "en"])
def test_shipped_lexicons_load_both_ways(tl):
    lex = load_lexicon("vi", tl)
    assert lex is not None and "dev articles" in lex.origin
    back = load_lexicon(tl, "vi")
    assert back.source_lang == tl and back.forward == lex.backward
    assert load_lexicon("vi-VN", tl) == lex
    assert load_lexicon("vi", "ja") is None and load_lexicon("vi", "vi") is None


def _edited(doc, tl, edit, seed):
    docs = HELD_OUT_DOCS
    rng = random.Random(f"{doc}/{tl}/{edit}/{seed}")
    src, tgt = _units(docs[doc]["vi"]), _units(docs[doc][tl])
    heads = [docs[o][tl if not edit.endswith("_src") else "vi"][0] for o in docs if o != doc]
    apply_edit(edit, src, tgt, ("vi", tl), heads, rng)
    return [u[0] for u in src], [u[0] for u in tgt], gold_pairs(src, tgt)


def _f1(tl):
    f1 = []
    for doc in HELD_OUT:
        for seed in range(4):
            for edit in ("combo_tgt", "combo_src", "delete_tgt", "delete_src"):
                src, tgt, gold = _edited(doc, tl, edit, seed)
                al = aligner.analyse(src, tgt, "vi", tl).alignment
                f1.append(score_alignment([(b.source, b.target) for b in al.pairs], gold).f1)
    return statistics.mean(f1)


def test_the_lexicon_helps_on_held_out_articles(monkeypatch):
    """Deletions and combined edits (site lines + a deletion + a merge + a split) of two held-out
    articles: with the lexicon no language gets worse by more than a hair and together they get better (measured: th
    0.990 -> 0.991, ms 0.994 -> 0.996, id 0.990 -> 0.991; the benchmark measures 25 such articles)."""
    aligner._analyse_cached.cache_clear()
    with_lexicon = {tl: _f1(tl) for tl in ("th", "ms", "id")}
    monkeypatch.setattr(aligner, "load_lexicon", lambda s, t: None)
    aligner._analyse_cached.cache_clear()
    without = {tl: _f1(tl) for tl in ("th", "ms", "id")}
    aligner._analyse_cached.cache_clear()
    assert all(with_lexicon[tl] >= without[tl] - 0.002 for tl in with_lexicon), (with_lexicon, without)
    assert sum(with_lexicon.values()) > sum(without.values()) + 0.002, (with_lexicon, without)
    assert min(with_lexicon.values()) >= 0.99, with_lexicon


def test_a_pair_without_a_lexicon_aligns_on_length_and_anchors_alone(monkeypatch):
    """A pair evalkit has no lexicon for gets exactly the alignment of length and anchors (the same
    texts read as vi-ms with the lexicon switched off), and its Thai is not segmented."""
    src, tgt = DEV_DOCS["bbc.381705"]["vi"], DEV_DOCS["bbc.381705"]["ms"]
    src, tgt = src[:3] + src[4:], tgt  # a deleted sentence: where word evidence matters
    unknown = aligner.analyse(src, tgt, "vi", "xx")
    monkeypatch.setattr(aligner, "load_lexicon", lambda s, t: None)
    aligner._analyse_cached.cache_clear()
    off = aligner.analyse(src, tgt, "vi", "ms")
    monkeypatch.undo()
    aligner._analyse_cached.cache_clear()
    on = aligner.analyse(src, tgt, "vi", "ms")
    assert unknown.alignment == off.alignment and unknown.length == off.length
    assert [b.confidence for b in on.alignment.pairs] != [b.confidence for b in off.alignment.pairs]

    from evalkit.align.text import document_features

    assert all(not p.lexemes for p in document_features(DEV_DOCS["bbc.381705"]["th"], "th").paragraphs)
    assert any(p.lexemes for p in document_features(DEV_DOCS["bbc.381705"]["th"], "th", lexical=True).paragraphs)


def test_the_character_ratio_travels_with_the_lexicon_and_steers_short_articles():
    from evalkit.align.aligner import _reestimate  # the estimate a short article falls back on
    from evalkit.align.costs import LengthParams
    from evalkit.align.lexicon import char_ratio

    th = load_lexicon("vi", "th")
    assert 1.0 < th.char_ratio < 1.2 and load_lexicon("th", "vi").char_ratio == pytest.approx(1 / th.char_ratio)
    assert char_ratio([("ab cd", "abcdef")]) == pytest.approx(1.5)

    class TwoPairs:  # fewer 1-1 beads than an estimate needs
        @staticmethod
        def lengths(step):
            return (100.0, 180.0)

    steps = [(0, 0, 1, 1), (1, 1, 1, 1)]
    fallback = LengthParams(1.8, 27.2)
    assert _reestimate(TwoPairs, steps, fallback).ratio == 1.8
    assert _reestimate(TwoPairs, steps, fallback, prior=th.char_ratio).ratio == th.char_ratio


def _pairs_tsv(path: Path, tl: str) -> Path:
    lines = [f"{d}\t{a}\t{b}" for d in sorted(DEV_DOCS) for a, b in zip(DEV_DOCS[d]["vi"], DEV_DOCS[d][tl])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_evalkit_lexicon_builds_one_the_aligner_then_uses(tmp_path, monkeypatch):
    from conftest import run_cli

    tsv = _pairs_tsv(tmp_path / "my-pairs.tsv", "ms")
    done = run_cli("lexicon", "vi", "ms", tsv, "--out", tmp_path / "lex")
    assert done.returncode == 0, done.stderr
    path = tmp_path / "lex" / "vi-ms.json.gz"
    assert path.is_file() and "EVALKIT_LEXICONS" in done.stdout
    again = run_cli("lexicon", "vi", "ms", tsv, "--out", tmp_path / "lex2")
    assert (tmp_path / "lex2" / "vi-ms.json.gz").read_bytes() == path.read_bytes()  # deterministic
    monkeypatch.setenv("EVALKIT_LEXICONS", str(tmp_path / "lex"))
    mine = load_lexicon("vi", "ms")
    assert "my-pairs.tsv" in mine.origin and "dan" in mine.forward.translations["và"]
    assert load_lexicon("ms", "vi").forward == mine.backward
    assert "dev articles" in load_lexicon("vi", "th").origin  # other pairs still come from the package
    monkeypatch.delenv("EVALKIT_LEXICONS")
    assert "dev articles" in load_lexicon("vi", "ms").origin


def test_bad_sentence_pairs_and_a_corrupt_lexicon_are_one_line_errors(tmp_path, monkeypatch):
    from conftest import run_cli

    from evalkit.errors import LexiconError

    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tXin chào\tHalo\nb\tChỉ hai cột\n", encoding="utf-8")
    done = run_cli("lexicon", "vi", "ms", bad)
    assert done.returncode == 2 and "bad.tsv:2: expected 'document<TAB>source<TAB>target'" in done.stderr
    assert "Traceback" not in done.stderr
    one = tmp_path / "one.tsv"
    one.write_text("a\tXin chào\tHalo\n", encoding="utf-8")
    done = run_cli("lexicon", "vi", "ms", one)
    assert done.returncode == 2 and "at least 2 documents" in done.stderr
    (tmp_path / "lex").mkdir()
    (tmp_path / "lex" / "vi-xx.json.gz").write_bytes(b"not gzip")
    monkeypatch.setenv("EVALKIT_LEXICONS", str(tmp_path / "lex"))
    with pytest.raises(LexiconError, match=r"vi-xx.json.gz: not a readable evalkit lexicon"):
        load_lexicon("vi", "xx")


def test_an_alignment_follows_the_lexicon_folder_it_was_made_with(tmp_path, monkeypatch):
    """A lexicon added to $EVALKIT_LEXICONS takes effect for texts aligned before in the same process."""
    import gzip
    import json

    src, tgt = DEV_DOCS["bbc.381646"]["vi"], DEV_DOCS["bbc.381646"]["ms"]
    before = aligner.analyse(src, tgt, "vi", "ms")
    folder = tmp_path / "lex"
    folder.mkdir()
    empty = {"source_lang": "vi", "target_lang": "ms", "origin": "empty", "char_ratio": 0,
             "forward": {}, "backward": {}}
    (folder / "vi-ms.json.gz").write_bytes(gzip.compress(json.dumps(empty).encode()))
    monkeypatch.setenv("EVALKIT_LEXICONS", str(folder))
    after = aligner.analyse(src, tgt, "vi", "ms")
    assert after is not before and load_lexicon("vi", "ms").origin == "empty"
    monkeypatch.delenv("EVALKIT_LEXICONS")
    assert aligner.analyse(src, tgt, "vi", "ms") is before


def test_the_lexicon_command_refuses_what_it_cannot_build(tmp_path):
    from conftest import run_cli

    tsv = _pairs_tsv(tmp_path / "pairs.tsv", "ms")
    for args, says in [(("vi", "ja"), "written without spaces"), (("vi", "vi-VN"), "between two languages"),
                       (("vi", "qq"), "unknown language code 'qq'")]:
        done = run_cli("lexicon", *args, tsv, "--out", tmp_path / "lex")
        assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr, done.stderr
    (tmp_path / "a-file").write_text("x")
    done = run_cli("lexicon", "vi", "ms-MY", tsv, "--out", tmp_path / "a-file")
    assert done.returncode == 2 and "cannot write the lexicon to" in done.stderr
    done = run_cli("lexicon", "vi", "ms-MY", tsv, "--out", tmp_path / "lex")
    assert done.returncode == 0 and (tmp_path / "lex" / "vi-ms.json.gz").is_file()  # filed under the base code
    two = tmp_path / "two.tsv"  # two documents, too little text for any word to recur across them
    two.write_text("a\tXin chào\tHalo\nb\tTạm biệt\tSelamat tinggal\n", encoding="utf-8")
    done = run_cli("lexicon", "vi", "ms", two, "--out", tmp_path / "lex2")
    assert done.returncode == 2 and "nothing was written" in done.stderr
    assert not (tmp_path / "lex2" / "vi-ms.json.gz").exists()


def test_a_lexicon_file_must_hold_what_its_name_says(tmp_path, monkeypatch):
    import gzip
    import json

    from evalkit.errors import LexiconError

    folder = tmp_path / "lex"
    folder.mkdir()
    ms_vi = {"source_lang": "ms", "target_lang": "vi", "forward": {}, "backward": {}}
    (folder / "vi-ms.json.gz").write_bytes(gzip.compress(json.dumps(ms_vi).encode()))
    (folder / "vi-id.json.gz").write_bytes(gzip.compress(json.dumps({**ms_vi, "forward": []}).encode()))
    monkeypatch.setenv("EVALKIT_LEXICONS", str(folder))
    with pytest.raises(LexiconError, match="holds a ms-vi lexicon"):
        load_lexicon("vi", "ms")
    with pytest.raises(LexiconError, match="not a readable evalkit lexicon"):
        load_lexicon("vi", "id")


def test_lexicon_files_do_not_depend_on_string_hashing(tmp_path):
    """Model 1 sums floats over words: in set order the last digits (and near-ties at the cut) would
    follow PYTHONHASHSEED; two processes with different seeds write the same bytes."""
    import os
    import subprocess

    tsv = _pairs_tsv(tmp_path / "pairs.tsv", "th")
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"lex{seed}"
        subprocess.run([sys.executable, "-m", "evalkit", "lexicon", "vi", "th", str(tsv), "--out", str(out)],
                       check=True, capture_output=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed})
        outs.append((out / "vi-th.json.gz").read_bytes())
    assert outs[0] == outs[1]
