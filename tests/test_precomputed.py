"""Candidates a user brings, validated for count, order and keys."""

import json

import pytest

from conftest import CORPUS, PIVOT, make_config
from evalkit.config import load_config
from evalkit.corpus import load_document
from evalkit.pipeline import run

PIVOT_DOC = load_document(CORPUS / PIVOT)


def _config(tmp_path, filename, **options):
    return load_config(make_config(tmp_path, target_lang="ms", target_file="001_011d1486f715c8a5.txt", systems=[
        {"name": "copy", "backend": "copy"},
        {"name": "mine", "backend": "precomputed", "options": {"path": filename, **options}},
    ], metrics=["chrf", "bleu"], statistics={"bootstrap_resamples": 0, "randomization_trials": 0}))


def test_lines_file_gives_the_same_scores_as_the_system_it_copies(tmp_path):
    (tmp_path / "cands.txt").write_text("\n".join(PIVOT_DOC.texts) + "\n", encoding="utf-8")
    result = run(_config(tmp_path, "cands.txt"))
    mine, copy = result.system("mine"), result.system("copy")
    assert mine.status == "ok" and mine.corpus_scores == copy.corpus_scores
    assert [p.candidate for p in mine.paragraphs] == [p.source for p in copy.paragraphs]
    assert "backend:precomputed|file:cands.txt|sha256:" in mine.signature


def test_jsonl_keyed_by_pivot_line(tmp_path):
    records = [{"line": p.line, "source": p.text, "translation": f"T{p.line}"} for p in PIVOT_DOC.paragraphs]
    (tmp_path / "cands.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in reversed(records)), encoding="utf-8")
    mine = run(_config(tmp_path, "cands.jsonl")).system("mine")
    assert mine.status == "ok"
    assert [p.candidate for p in mine.paragraphs] == [f"T{p.source_lines[0]}" for p in mine.paragraphs]


@pytest.mark.parametrize(
    "content, expected",
    [
        ("one line\n", "cands.txt: 1 lines, but the pivot 002_6d8f2e7b812a4376.txt has 17 paragraphs"),
    ],
)
def test_lines_file_with_the_wrong_count_fails_that_system_only(tmp_path, content, expected):
    (tmp_path / "cands.txt").write_text(content, encoding="utf-8")
    result = run(_config(tmp_path, "cands.txt"))
    assert result.system("mine").status == "failed" and expected in result.system("mine").reason
    assert result.system("copy").status == "ok"


@pytest.mark.parametrize(
    "lines, expected",
    [
        (['{"line": 3, "translation": "x"', ], "cands.jsonl:1: not valid JSON"),
        (['{"line": 3}'], 'cands.jsonl:1: expected {"line": N, "translation": "..."}'),
        (['{"line": 2, "translation": "x"}'], "cands.jsonl:1: line 2 is not a paragraph of 002_6d8f2e7b812a4376.txt"),
        (['{"line": 3, "translation": "x"}', '{"line": 3, "translation": "y"}'], "cands.jsonl:2: line 3 appears twice"),
        (['{"line": 3, "source": "something else", "translation": "x"}'], "cands.jsonl:1: source text differs from"),
        (['{"line": 3, "translation": "x"}'], "no candidate for pivot line(s) 5, 7, 9"),
    ],
)
def test_bad_jsonl_names_file_line_and_problem(tmp_path, lines, expected):
    (tmp_path / "cands.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mine = run(_config(tmp_path, "cands.jsonl")).system("mine")
    assert mine.status == "failed" and expected in mine.reason, mine.reason


def test_missing_file_is_unavailable(tmp_path):
    mine = run(_config(tmp_path, "nope.txt")).system("mine")
    assert mine.status == "unavailable" and "candidates file" in mine.reason and "nope.txt not found" in mine.reason
