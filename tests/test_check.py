"""`evalkit compare` and `evalkit check`: pass, regression, noise and error exits, through the real CLI.

Systems are precomputed candidate files, so a "good" and a "worse" version of
the same system can be made exactly: the human Malay translation itself, and
the Vietnamese source copied.
"""

import json
import re

import pytest

from conftest import CORPUS, MALAY, PIVOT, ROOT, make_config, run_cli
from evalkit.align.gold import load_gold
from evalkit.corpus import load_document

PIVOT_DOC = load_document(CORPUS / PIVOT)
_MALAY = {p.line: p.text for p in load_document(CORPUS / MALAY).paragraphs}
_GOLD = {s[0]: _MALAY[t[0]] for s, t in load_gold(ROOT / "tests" / "data" / "gold" / "vi-ms.json").pairs}
GOOD = [_GOLD.get(p.line, p.text) for p in PIVOT_DOC.paragraphs]  # the reference: chrF 100
BAD = [p.text for p in PIVOT_DOC.paragraphs]  # the source copied: a large, real drop


def _setup(tmp_path, name, candidates, **extra):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "mt.txt").write_text("\n".join(candidates) + "\n", encoding="utf-8")
    return make_config(folder, target_lang="ms", target_file=MALAY, systems=[
        {"name": "mt", "backend": "precomputed", "options": {"path": "mt.txt"}},
    ], statistics={"bootstrap_resamples": 300, "randomization_trials": 1000}, **extra)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("baseline")
    proc = run_cli("run", _setup(tmp, "base", GOOD), "-q")
    assert proc.returncode == 0, proc.stderr
    return next(p for p in (tmp / "base" / "results").iterdir() if p.is_dir())


def test_unchanged_system_passes(tmp_path, baseline):
    proc = run_cli("check", _setup(tmp_path, "same", GOOD), "--baseline", baseline)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "check passed" in proc.stdout


def test_real_regression_fails_with_what_moved_and_the_worst_paragraphs(tmp_path, baseline):
    proc = run_cli("check", _setup(tmp_path, "bad", BAD), "--baseline", baseline)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "check failed" in proc.stdout
    assert "mt chrf: 100.00 →" in proc.stdout and re.search(r"margin [0-9.]+; p = 0\.0\d+ < 0\.05", proc.stdout)
    assert "most regressed paragraphs (chrf)" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    as_json = run_cli("check", _setup(tmp_path, "bad2", BAD), "--baseline", baseline / "run.json", "--format", "json")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["passed"] is False and any(f.startswith("mt chrf:") for f in data["failures"])
    chrf = next(m for m in data["comparisons"][0]["metrics"] if m["metric"] == "chrf")
    assert chrf["drop"] > 50 and chrf["significant"] and chrf["p_bootstrap"] < 0.05


LOREM = "Lorem ipsum dolor sit amet."


def test_lorem_ipsum_in_3_of_16_paragraphs_fails_with_a_one_line_reason(tmp_path, baseline):
    """Issue 19: three paragraphs replaced can never be significant (p >= 2/2**3); the gate judges on magnitude."""
    lorem = [LOREM if i in (4, 9, 14) else g for i, g in enumerate(GOOD)]
    config = _setup(tmp_path, "lorem", lorem)
    proc = run_cli("check", config, "--baseline", baseline)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    reason = next(line for line in proc.stdout.splitlines() if line.strip().startswith("mt chrf: 100.00 →"))
    assert "3 paragraphs changed: a significance test cannot decide" in reason and "judged on magnitude" in reason
    assert "pivot line(s)" in proc.stdout and "dropped more than 10 points" in proc.stdout
    as_json = run_cli("check", config, "--baseline", baseline, "--format", "json")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    chrf = next(d for d in data["decisions"] if d["metric"] == "chrf")
    assert chrf["failed"] and chrf["decided_by"] == ["magnitude", "paragraph drop"]
    assert chrf["changed"] == 3 and chrf["underpowered"] and chrf["p_floor"] >= 0.25 and chrf["p"] >= 0.05
    assert len(chrf["worst_paragraphs"]) == 3 and chrf["worst_paragraphs"][0]["baseline"] == pytest.approx(100)
    metric = next(m for m in data["comparisons"][0]["metrics"] if m["metric"] == "chrf")
    assert metric["p_floor_randomization"] >= 0.25 and metric["changed"] == 3


def test_one_paragraph_copied_fails_unless_the_rules_allow_it(tmp_path, baseline):
    noisy = list(GOOD)
    noisy[5] = BAD[5]  # one paragraph of sixteen left untranslated
    config = _setup(tmp_path, "noisy", noisy)
    proc = run_cli("check", config, "--baseline", baseline)
    assert proc.returncode == 1 and "1 paragraph changed: a significance test cannot decide" in proc.stdout
    plain = run_cli("check", config, "--baseline", baseline, "--max-drop", "chrf=1", "--no-significance")
    assert plain.returncode == 1 and "significance not tested" in plain.stdout
    paragraph = run_cli("check", config, "--baseline", baseline, "--max-drop", "chrf=100", "--max-drop", "chrf++=100",
                        "--max-drop", "bleu=100", "--max-drop", "ter=1000", "--max-drop", "numbers=100",
                        "--max-paragraphs-worse", "numbers=16", "--max-paragraph-drop", "chrf=20")
    assert paragraph.returncode == 1 and "pivot line(s) [11] 100.0 → " in paragraph.stdout
    allowed = run_cli("check", config, "--baseline", baseline, "--max-drop", "chrf=100", "--max-drop", "chrf++=100",
                      "--max-drop", "bleu=100", "--max-drop", "ter=1000", "--max-drop", "numbers=100",
                      "--max-paragraphs-worse", "numbers=16", "--max-paragraph-drop", "chrf=100")
    assert allowed.returncode == 0, allowed.stdout
    assert "check passed" in allowed.stdout


def test_the_gate_still_trips_when_confidence_intervals_are_off(tmp_path, baseline):
    config = _setup(tmp_path, "noci", BAD)
    text = config.read_text(encoding="utf-8").replace("bootstrap_resamples: 300", "bootstrap_resamples: 0")
    assert "bootstrap_resamples: 0" in text
    config.write_text(text, encoding="utf-8")
    proc = run_cli("check", config, "--baseline", baseline)
    assert proc.returncode == 1 and "mt chrf: 100.00 →" in proc.stdout


def test_thresholds_from_the_config_per_language(tmp_path, baseline):
    noisy = list(GOOD)
    noisy[5] = BAD[5]
    config = _setup(tmp_path, "cfg", noisy, check={
        "significance": False, "max_drop": {"chrf": 0.1}, "max_paragraph_drop": {"chrf": 5},
        "per_language": {"ms": {"max_drop": {"chrf": 50, "chrf++": 50, "bleu": 50, "ter": 500, "numbers": 100},
                                "max_paragraph_drop": {"chrf": 100}, "max_new_number_errors": 16}}})
    proc = run_cli("check", config, "--baseline", baseline)
    assert proc.returncode == 0, proc.stdout  # the Malay margins win


@pytest.mark.parametrize("check, expected", [
    ({"max_paragraphs_worse": {"numbrs": 0}}, "numbrs"),
    ({"max_paragraphs_worse": {"chrf": -1}}, "a paragraph count is 0 or more"),
    ({"max_new_number_errors": -1}, "max_new_number_errors"),
])
def test_bad_gate_rules_in_the_config_exit_2(tmp_path, check, expected):
    proc = run_cli("check", _setup(tmp_path, "z", GOOD, check=check), "--baseline", tmp_path / "nowhere")
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("make_baseline, expected", [
    (lambda tmp: tmp / "nowhere", "no run.json here"),
    (lambda tmp: (tmp / "broken.json").write_text("{\n oops") and tmp / "broken.json", "broken.json:2: not valid JSON"),
    (lambda tmp: (tmp / "old.json").write_text('{"schema_version": 99}') and tmp / "old.json", "schema_version 99 is newer"),
])
def test_bad_baselines_exit_2(tmp_path, make_baseline, expected):
    proc = run_cli("check", _setup(tmp_path, "x", GOOD), "--baseline", make_baseline(tmp_path))
    assert proc.returncode == 2 and expected in proc.stderr and "Traceback" not in proc.stderr


def test_baseline_from_another_language_pair_exits_2_before_translating(tmp_path, baseline):
    thai = make_config(tmp_path, systems=[{"name": "copy", "backend": "copy"}])
    proc = run_cli("check", thai, "--baseline", baseline)
    assert proc.returncode == 2
    assert "scored target 001_011d1486f715c8a5.txt (ms), but the config names 000_04e105a6d28e593c.txt (th)" in proc.stderr
    assert not (tmp_path / "results").exists()


def test_malformed_threshold_flag_exits_2(tmp_path, baseline):
    proc = run_cli("check", _setup(tmp_path, "y", GOOD), "--baseline", baseline, "--max-drop", "chrf:1")
    assert proc.returncode == 2 and "expected METRIC=NUMBER" in proc.stderr
    proc = run_cli("check", _setup(tmp_path, "y2", GOOD), "--baseline", baseline, "--max-paragraphs-worse", "numbers=1.5")
    assert proc.returncode == 2 and "'1.5' is not a whole number" in proc.stderr


def test_compare_two_runs_and_two_systems_of_one_run(tmp_path, baseline):
    worse = _setup(tmp_path, "w", BAD)
    run_cli("run", worse, "-q")
    worse_run = next(p for p in (tmp_path / "w" / "results").iterdir() if p.is_dir())
    proc = run_cli("compare", baseline, worse_run, "--metric", "chrf", "--top", "3")
    assert proc.returncode == 0, proc.stderr
    assert "most regressed paragraphs (chrf)" in proc.stdout and "100.0 →" in proc.stdout
    data = json.loads(run_cli("compare", baseline, worse_run, "--format", "json").stdout)
    assert data[0]["paragraphs"] == 16 and len(data[0]["regressed"]) == 5 and data[0]["improved"] == []
    within = run_cli("compare", worse_run, "--system", "mt", "--against", "nope")
    assert within.returncode == 2 and "no system 'nope'" in within.stderr


def test_the_gate_output_tabulates_drop_p_floor_and_the_deciding_rule(tmp_path, baseline):
    lorem = [LOREM if i in (4, 9, 14) else g for i, g in enumerate(GOOD)]
    proc = run_cli("check", _setup(tmp_path, "lorem-table", lorem), "--baseline", baseline)
    assert proc.returncode == 1
    table = proc.stdout[proc.stdout.index("gate: how each metric was judged"):]
    row = next(line for line in table.splitlines() if " chrf " in line)
    assert "(underpowered)" in row and "magnitude" in row and "fail" in row and "0.2" in row  # floor ≈ 2/2**3
