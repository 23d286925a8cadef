"""End to end through the real `evalkit` command: config file → run.json checked against sacrebleu."""

import csv
import json
from pathlib import Path

import pytest
from pythainlp.tokenize import word_tokenize
from sacrebleu.metrics import BLEU, CHRF, TER

from conftest import INDONESIAN, MALAY, ROOT, make_config, run_cli
from evalkit.scorers import default_metric_names
from evalkit.config import load_config
from evalkit.pipeline import run


def _segment(text: str) -> str:
    return " ".join(w for w in word_tokenize(text, engine="newmm", keep_whitespace=False) if w.strip())


def _only_run(results: Path) -> Path:
    runs = [p for p in results.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope="module")
def thai_run(tiny_marian, tiny_nllb, tmp_path_factory):
    """One CLI run with the copy floor, two local tiny models and a hub model that is not available."""
    tmp = tmp_path_factory.mktemp("thai-run")
    config = make_config(tmp, systems=[
        {"name": "copy", "backend": "copy"},
        {"name": "tiny", "backend": "seq2seq", "model": str(tiny_marian), "options": {"batch_size": 8, "max_new_tokens": 16}},
        {"name": "tiny-nllb", "backend": "seq2seq", "model": str(tiny_nllb), "options": {"max_new_tokens": 16}},
        {"name": "nllb-600m", "backend": "seq2seq", "model": "facebook/nllb-200-distilled-600M"},
    ], statistics={"bootstrap_resamples": 200, "randomization_trials": 500})
    proc = run_cli("run", config, subprocess_run=True)  # the real entry point, output piped
    folder = _only_run(tmp / "results")
    return proc, folder, json.loads((folder / "run.json").read_text(encoding="utf-8"))


def test_run_succeeds_and_reports_the_unavailable_model_in_one_line(thai_run):
    proc, folder, data = thai_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("nllb-600m: unavailable — ")]
    assert len(lines) == 1
    assert "model facebook/nllb-200-distilled-600M is not available" in lines[0] and "local folder" in lines[0]
    assert "document (" in proc.stdout and "pretok:pythainlp.newmm" in proc.stdout
    assert "\x1b[" not in proc.stdout + proc.stderr  # piped output: no colour or cursor codes
    assert folder.name.endswith("-test-vi-th") and folder.name[:8].isdigit()


def test_run_json_structure(thai_run):
    _, _, data = thai_run
    assert data["schema_version"] == 2 and data["evalkit_version"]
    assert data["config"]["name"] == "test-vi-th"
    assert [(e["lang"], e["status"], e["documents"]) for e in data["languages"]] == [("th", "ok", 1)]
    (document,) = data["documents"]
    assert document["status"] == "paired" and document["lang"] == "th" and document["document"].startswith("002_")
    assert set(document["scores"]) == {s["name"] for s in data["systems"] if s["status"] == "ok"}
    for system in data["systems"]:  # one document: its score is the run's
        for metric, score in document["scores"].get(system["name"], {}).items():
            assert score["score"] == system["corpus_scores"][metric]["score"]
    statuses = {s["name"]: (s["status"], s["reason"]) for s in data["systems"]}
    assert statuses["copy"] == ("ok", None) and statuses["tiny"] == ("ok", None) and statuses["tiny-nllb"] == ("ok", None)
    assert statuses["nllb-600m"][0] == "unavailable" and "not available" in statuses["nllb-600m"][1]
    pairs = document["alignment"]["pairs"]
    for system in data["systems"]:
        if system["status"] != "ok":
            assert system["paragraphs"] == [] and system["corpus_scores"] == {}
            continue
        assert set(system["corpus_scores"]) == set(default_metric_names())
        assert all({"score", "signature"} <= set(s) for s in system["corpus_scores"].values())
        assert len(system["paragraphs"]) == len(pairs)
        assert system["lang"] == "th"
        for paragraph, pair in zip(system["paragraphs"], pairs):
            assert paragraph["lang"] == "th" and paragraph["document"] == document["document"]
            assert {"source_line", "reference_lines", "source", "reference", "candidate", "scores"} <= set(paragraph)
            assert paragraph["source_lines"] == pair["source_lines"]
            assert paragraph["reference_lines"] == pair["target_lines"]
            assert paragraph["source_line"] == pair["source_lines"][0]


def test_alignment_and_dropped_lines_are_recorded(thai_run):
    _, _, data = thai_run
    pairs = {tuple(p["source_lines"]): tuple(p["target_lines"]) for p in data["documents"][0]["alignment"]["pairs"]}
    assert pairs[(1,)] == (5,) and pairs[(3,)] == (9,) and pairs[(5,)] == (13,) and pairs[(33,)] == (41,)
    assert 11 in data["documents"][0]["alignment"]["unmatched_target_lines"]  # the video caption the original lacks
    assert 47 in data["documents"][0]["alignment"]["unmatched_target_lines"]  # the tail the truncated original lacks
    assert {"line": 45, "reason": "repeat of line 43"} == {k: v for k, v in
                                                          next(d for d in data["documents"][0]["target"]["dropped"] if d["line"] == 45).items() if k != "text"}
    assert [d["line"] for d in data["documents"][0]["pivot"]["dropped"]] == [35, 37]


def test_scores_match_sacrebleu_called_directly(thai_run):
    _, _, data = thai_run
    for system in (s for s in data["systems"] if s["status"] == "ok"):
        hyps = [p["candidate"] for p in system["paragraphs"]]
        refs = [p["reference"] for p in system["paragraphs"]]
        if system["name"] == "copy":
            assert hyps == [p["source"] for p in system["paragraphs"]]
        seg_h, seg_r = [_segment(h) for h in hyps], [_segment(r) for r in refs]
        expected = {
            "chrf": CHRF().corpus_score(hyps, [refs]).score,
            "chrf++": CHRF(word_order=2).corpus_score(seg_h, [seg_r]).score,
            "bleu": BLEU().corpus_score(seg_h, [seg_r]).score,
            "ter": TER().corpus_score(seg_h, [seg_r]).score,
        }
        for metric, value in expected.items():
            assert system["corpus_scores"][metric]["score"] == pytest.approx(value, abs=1e-9), (system["name"], metric)
        sentence_bleu = BLEU(effective_order=True)
        for p, h, r in zip(system["paragraphs"], seg_h, seg_r):
            assert p["scores"]["chrf"] == pytest.approx(CHRF().sentence_score(p["candidate"], [p["reference"]]).score)
            assert p["scores"]["bleu"] == pytest.approx(sentence_bleu.sentence_score(h, [r]).score)
            assert p["scores"]["ter"] == pytest.approx(TER().sentence_score(h, [r]).score)


def test_corpus_scores_have_confidence_intervals_and_systems_are_tested_against_the_baseline(thai_run):
    proc, _, data = thai_run
    systems = {s["name"]: s for s in data["systems"]}
    assert data["config"]["statistics"] == {"baseline": None, "bootstrap_resamples": 200, "paired_resamples": 1000,
                                            "randomization_trials": 500,
                                            "seed": 12345, "alpha": 0.05, "workers": None, "resample": "paragraph"}
    for name in ("copy", "tiny", "tiny-nllb"):
        for metric, score in systems[name]["corpus_scores"].items():
            assert score["ci_low"] <= score["score"] <= score["ci_high"], (name, metric)
    assert systems["copy"]["significance"] is None  # the baseline
    assert systems["nllb-600m"]["significance"] is None  # no scores
    for name in ("tiny", "tiny-nllb"):
        sig = systems[name]["significance"]
        assert sig["baseline"] == "copy" and set(sig["metrics"]) == set(default_metric_names())
        for metric, test in sig["metrics"].items():
            own, base = systems[name]["corpus_scores"][metric]["score"], systems["copy"]["corpus_scores"][metric]["score"]
            assert test["delta"] == pytest.approx(own - base)
            assert 0 < test["p_bootstrap"] <= 1 and 0 < test["p_randomization"] <= 1
            assert test["significant"] == (test["p_bootstrap"] < 0.05 and test["p_randomization"] < 0.05 and test["delta"] != 0)
    assert "± half-width of the 95% bootstrap interval" in proc.stdout and "against copy" in proc.stdout
    assert "copy (baseline)" in proc.stdout


def test_paragraphs_csv_has_a_row_per_system_and_paragraph(thai_run):
    _, folder, data = thai_run
    with open(folder / "paragraphs.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    n = len(data["documents"][0]["alignment"]["pairs"])
    assert len(rows) == 3 * n  # copy and the two tiny models; the unavailable system has no paragraphs
    tiny = [r for r in rows if r["system"] == "tiny"]
    first = next(s for s in data["systems"] if s["name"] == "tiny")["paragraphs"][0]
    assert tiny[0]["candidate"] == first["candidate"] and float(tiny[0]["chrf"]) == first["scores"]["chrf"]


def test_shipped_config_runs_copy_and_reports_nllb_unavailable(tmp_path):
    proc = run_cli("run", ROOT / "configs" / "vi-th.yaml", "--output-dir", tmp_path, subprocess_run=True)  # as README says
    assert proc.returncode == 0, proc.stderr
    data = json.loads((_only_run(tmp_path) / "run.json").read_text(encoding="utf-8"))
    assert [(s["name"], s["status"]) for s in data["systems"]] == [("copy", "ok"), ("nllb-600m", "unavailable")]
    strict = run_cli("run", ROOT / "configs" / "vi-th.yaml", "--output-dir", tmp_path, "--strict", "--quiet",
                     subprocess_run=True)
    assert strict.returncode == 1
    assert "--strict: 1 system(s) produced no scores: nllb-600m (unavailable)" in strict.stderr
    assert "Traceback" not in strict.stderr


def test_a_document_that_is_not_a_translation_is_not_scored(tmp_path):
    proc = run_cli("run", ROOT / "configs" / "vi-id.yaml", "--output-dir", tmp_path, subprocess_run=True)
    assert proc.returncode == 2
    assert f"{INDONESIAN} is not a translation of 002_6d8f2e7b812a4376.txt" in proc.stderr
    assert "nothing was scored" in proc.stderr and "Traceback" not in proc.stderr
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"systems": [{"name": "x", "backend": "sec2seq", "model": "a/b"}]}, "systems[0].backend: unknown backend 'sec2seq'; did you mean 'seq2seq'?"),
        ({"target_file": "missing.txt"}, "target.file:"),
        ({"metrics": ["chrf", "blue"]}, "did you mean 'bleu'?"),
    ],
)
def test_user_mistakes_are_one_line_with_exit_2(tmp_path, change, expected):
    proc = run_cli("run", make_config(tmp_path, **change))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and expected in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_missing_local_model_is_recorded_and_the_run_goes_on(tmp_path):
    config = make_config(tmp_path, target_lang="ms", target_file=MALAY, systems=[
        {"name": "copy", "backend": "copy"},
        {"name": "mine", "backend": "seq2seq", "model": "./models/not-there"},
    ])
    result = run(load_config(config))
    mine = result.system("mine")
    assert mine.status == "unavailable" and "models/not-there does not exist" in mine.reason
    assert result.system("copy").status == "ok"


def test_reference_is_detected_when_not_named(tmp_path):
    result = run(load_config(make_config(tmp_path, target_lang="ms", target_file=None)))
    assert Path(result.target.path).name == MALAY
    assert result.alignment.is_translation
    pairs = {tuple(p["source_lines"]): tuple(p["target_lines"]) for p in result.alignment.pairs}
    assert pairs[(3,)] == (1,) and pairs[(5,)] == (3,) and pairs[(33,)] == (17,)
    assert 1 in result.alignment.unmatched_source_lines  # Malay has no title


def test_second_run_takes_everything_from_the_cache_without_loading_the_model(tiny_marian, tmp_path):
    config = make_config(tmp_path, systems=[
        {"name": "copy", "backend": "copy"},
        {"name": "tiny", "backend": "seq2seq", "model": str(tiny_marian), "options": {"max_new_tokens": 8}},
    ], metrics=["chrf"])
    first = run(load_config(config))
    second = run(load_config(config))
    a, b = first.system("tiny"), second.system("tiny")
    needed = len({line for p in a.paragraphs for line in p.source_lines})
    assert (a.translated, a.from_cache) == (needed, 0)
    assert (b.translated, b.from_cache) == (0, needed)
    assert b.model_info["cache"]["model_loaded"] is False and b.seconds["load"] == 0.0
    assert [p.candidate for p in b.paragraphs] == [p.candidate for p in a.paragraphs]
    assert b.corpus_scores == a.corpus_scores
    assert (tmp_path / "results" / "translation-cache.sqlite").is_file()
    assert second.system("copy").model_info == {"cache": {"enabled": False, "path": str(tmp_path / "results" / "translation-cache.sqlite"),
                                                          "model_loaded": True, "reason": "backend CopyTranslator is not cacheable"}}


def test_no_cache_flag_translates_again(tiny_marian, tmp_path):
    config = make_config(tmp_path, systems=[
        {"name": "tiny", "backend": "seq2seq", "model": str(tiny_marian), "options": {"max_new_tokens": 4}}], metrics=["chrf"])
    assert run_cli("run", config, "-q").returncode == 0
    proc = run_cli("run", config, "--no-cache")
    assert proc.returncode == 0, proc.stderr
    assert "17 paragraphs translated, 0 from the cache" in proc.stdout
    again = run_cli("run", config)
    assert "0 paragraphs translated, 17 from the cache" in again.stdout


def test_models_command_reports_weights_and_cache_state(tiny_marian, tmp_path):
    config = make_config(tmp_path, systems=[
        {"name": "copy", "backend": "copy"},
        {"name": "tiny", "backend": "seq2seq", "model": str(tiny_marian), "options": {"max_new_tokens": 4}},
        {"name": "nllb", "backend": "seq2seq", "model": "facebook/nllb-200-distilled-600M"},
    ], metrics=["chrf"])
    before = json.loads(run_cli("models", config, "--format", "json").stdout)
    rows = {r["name"]: r for r in before["systems"]}
    assert rows["tiny"]["available"] is True and rows["tiny"]["cached"] == 0
    assert rows["nllb"]["available"] is False and "not in the Hugging Face cache" in rows["nllb"]["detail"]
    assert rows["copy"]["cached"] is None
    run(load_config(config))
    after = {r["name"]: r for r in json.loads(run_cli("models", config, "--format", "json").stdout)["systems"]}
    assert after["tiny"]["cached"] == 17 and after["nllb"]["cached"] == 0
    table = run_cli("models", config)
    assert table.returncode == 0 and "17 translations cached for these exact settings" in table.stdout


def test_brackets_in_names_and_text_are_shown_literally_not_as_markup(tmp_path):
    """rich would swallow [tags] and crash on a stray [/closing] tag; every user string is escaped."""
    from evalkit.corpus import load_document
    from conftest import CORPUS, PIVOT

    candidates = [f"[/bold] [iklan_2] {text}" for text in load_document(CORPUS / PIVOT).texts]
    (tmp_path / "mt.txt").write_text("\n".join(candidates) + "\n", encoding="utf-8")
    config = make_config(tmp_path, target_lang="ms", target_file=MALAY, metrics=["chrf"], systems=[
        {"name": "copy", "backend": "copy"},
        {"name": "mt [/x]", "backend": "precomputed", "options": {"path": "mt.txt"}},
        {"name": "gone [red]", "backend": "precomputed", "options": {"path": "missing [/x].txt"}},
    ])
    proc = run_cli("run", config)
    assert proc.returncode == 0, proc.stderr
    assert "mt [/x]" in proc.stdout and "gone [red]: unavailable" in proc.stdout and "missing [/x].txt" in proc.stdout
    align = run_cli("align", ROOT / "configs" / "vi-id.yaml")
    assert align.returncode == 0 and "[iklan_2]" in align.stdout  # a dropped template placeholder, shown as text


def test_an_unavailable_baseline_is_reported_not_silently_skipped(tmp_path):
    config = make_config(tmp_path, target_lang="ms", target_file=MALAY, metrics=["chrf"], systems=[
        {"name": "copy", "backend": "copy"},
        {"name": "gone", "backend": "precomputed", "options": {"path": "missing.txt"}},
    ], statistics={"baseline": "gone"})
    proc = run_cli("run", config)
    assert proc.returncode == 0, proc.stderr
    assert "no significance tests: baseline 'gone' produced no scores" in proc.stdout
    data = json.loads((_only_run(tmp_path / "results") / "run.json").read_text(encoding="utf-8"))
    assert data["systems"][0]["significance"] == {"baseline": "gone", "skipped": "baseline 'gone' produced no scores"}


def test_reference_detection_for_a_language_lingua_does_not_know(tmp_path):
    # lingua has no Lao: any document that translates the pivot and is not in the pivot's language qualifies
    result = run(load_config(make_config(tmp_path, target_lang="lo", target_file=None, metrics=["chrf"])))
    assert Path(result.target.path).name in {"000_04e105a6d28e593c.txt", MALAY}
    assert result.alignment.is_translation
