"""Alignment accuracy on the hand-checked gold, through the same pairing code `evalkit run` uses."""

import json
import subprocess
import sys

import pytest

from conftest import MALAY, ROOT, THAI, make_config, run_cli
from evalkit.align.gold import load_gold, score_alignment
from evalkit.config import load_config
from evalkit.errors import CorpusError
from evalkit.pairing import pair_documents

GOLD = ROOT / "tests" / "data" / "gold"


def test_scoring_counts_exact_pairs_and_spurious_ones():
    gold = [((1,), (5,)), ((3,), (9,)), ((5, 7), (13,))]
    predicted = [((1,), (5,)), ((3,), (9, 11)), ((5,), (13,)), ((7,), ()), ((), (43,))]
    acc = score_alignment(predicted, gold)
    assert (acc.correct, acc.predicted, acc.gold) == (1, 3, 3)  # 1-0 / 0-1 beads are not pairs
    assert acc.precision == pytest.approx(1 / 3) and acc.recall == pytest.approx(1 / 3)
    assert acc.spurious == 1  # (3)->(9, 11) touches line 11, which the gold leaves unmatched
    assert score_alignment([], gold).f1 == 0.0


def test_bad_gold_files_name_the_problem(tmp_path):
    bad = tmp_path / "g.json"
    bad.write_text('{"pivot": "a", "target": "b", "source_lang": "vi", "target_lang": "th"}')
    with pytest.raises(CorpusError, match="missing field 'pairs'"):
        load_gold(bad)
    bad.write_text("{\n  nope")
    with pytest.raises(CorpusError, match=r"g.json:2: not valid JSON"):
        load_gold(bad)


@pytest.mark.parametrize("name, lang, target", [("vi-th", "th", THAI), ("vi-ms", "ms", MALAY)])
def test_pipeline_alignment_matches_gold_exactly(tmp_path, name, lang, target):
    gold = load_gold(GOLD / f"{name}.json")
    assert gold.target == target
    paired = pair_documents(load_config(make_config(tmp_path, target_lang=lang, target_file=target)))
    predicted = [
        (tuple(paired.pivot.paragraphs[i].line for i in b.source), tuple(paired.target.paragraphs[j].line for j in b.target))
        for b in paired.alignment.pairs
    ]
    acc = score_alignment(predicted, gold.pairs)
    assert (acc.f1, acc.spurious) == (1.0, 0)


def test_align_command_json_matches_gold_and_lists_what_is_not_scored():
    proc = run_cli("align", ROOT / "configs" / "vi-th.yaml", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    gold = load_gold(GOLD / "vi-th.json")
    assert [(tuple(p["source_lines"]), tuple(p["target_lines"])) for p in data["pairs"]] == list(gold.pairs)
    assert all(0 <= p["confidence"] <= 1 for p in data["pairs"])
    assert {11, 43, 47, 65}.issubset(data["unmatched_target_lines"])  # captions and the untranslated tail
    dropped = {(d["side"], d["line"]): d["reason"] for d in data["dropped"]}
    assert dropped[("target", 45)] == "repeat of line 43" and dropped[("source", 35)] == "reply form"
    verdicts = {d["file"].rsplit("/", 1)[1][:3]: (d["detected_lang"], d["is_translation"]) for d in data["documents"]}
    assert verdicts == {"000": ("th", True), "001": ("ms", True), "003": ("id", False), "004": ("vi", False)}


def test_align_command_table_shows_pairs_and_rejections():
    proc = run_cli("align", ROOT / "configs" / "vi-id.yaml")
    assert proc.returncode == 0, proc.stderr
    assert "003_80fd675a9a6137d2.txt is NOT a translation of 002_6d8f2e7b812a4376.txt" in proc.stdout
    assert "not a translation" in proc.stdout and "same language as the pivot" in proc.stdout


def test_declared_language_is_checked(tmp_path):
    proc = run_cli("run", make_config(tmp_path, target_lang="ms", target_file="003_80fd675a9a6137d2.txt"))
    assert proc.returncode == 2
    assert "the text is Indonesian (id" in proc.stderr and "target.lang is 'ms'" in proc.stderr


def test_benchmark_reports_f1_on_both_pairs():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "alignment_accuracy.py"), "--sections", "gold", "--trials", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines() if line.split()[1:2] == ["cleaned"]]
    assert [(r[0], float(r[4]), int(r[5])) for r in rows] == [("vi-ms", 1.0, 0), ("vi-th", 1.0, 0)]
