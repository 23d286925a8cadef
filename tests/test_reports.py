"""Run folders: run.json round-trips, summary.md, and `evalkit report` re-renders without translating."""

import json

import csv
import io

import pytest

from conftest import MALAY, make_config, run_cli
from test_report_files import languages_run, ntrex_run
from evalkit.config import load_config
from evalkit.pipeline import run
from evalkit.report.files import write_results
from evalkit.results import load_run


def test_run_json_round_trips_and_reports_are_rerendered(tmp_path):
    config = load_config(make_config(tmp_path, target_lang="ms", target_file=MALAY, systems=[
        {"name": "copy", "backend": "copy"}, {"name": "gone", "backend": "seq2seq", "model": "./missing"}]))
    folder = write_results(run(config), tmp_path / "out")
    data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert load_run(folder).to_dict() == data
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    assert "| copy | ok | 9.43 ± " in summary and "| gone | unavailable | – |" in summary
    assert "- system `gone`: unavailable — model folder " in summary and "missing does not exist" in summary
    assert "`chrf`: `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:" in summary
    # the numbers metric (on by default): its headline in summary.md, its items in paragraphs.csv
    assert "- copy: F1 100.00, precision 100.00, recall 100.00; 0 of " in summary
    header = (folder / "paragraphs.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",numbers,numbers_lost,numbers_items,numbers_reference")
    (folder / "summary.md").unlink()
    (folder / "paragraphs.csv").write_text("stale", encoding="utf-8")
    proc = run_cli("report", folder)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "summary.md").read_text(encoding="utf-8") == summary
    assert (folder / "paragraphs.csv").read_text(encoding="utf-8").startswith("system,status,lang,document,source_line")
    assert not list(folder.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_report_of_a_missing_run_is_one_line(tmp_path):
    proc = run_cli("report", tmp_path / "nope")
    assert proc.returncode == 2 and "no run.json here" in proc.stderr and "Traceback" not in proc.stderr


def test_metric_direction_and_baseline_are_recorded(tmp_path):
    config = load_config(make_config(tmp_path, target_lang="ms", target_file=MALAY,
                                     systems=[{"name": "copy", "backend": "copy"}], metrics=["chrf", "ter"]))
    data = json.loads((write_results(run(config), tmp_path / "out") / "run.json").read_text(encoding="utf-8"))
    scores = data["systems"][0]["corpus_scores"]
    assert scores["chrf"]["higher_is_better"] is True and scores["ter"]["higher_is_better"] is False
    assert data["baseline"] == "copy"


def test_concurrent_writers_of_the_same_run_id_get_distinct_folders(tmp_path):
    import threading

    config = load_config(make_config(tmp_path, target_lang="ms", target_file=MALAY,
                                     systems=[{"name": "copy", "backend": "copy"}], metrics=["chrf"]))
    result = run(config)
    folders, errors = [], []

    def write():
        try:
            folders.append(write_results(result, tmp_path / "same"))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len({f.name for f in folders}) == 6


def test_odd_run_json_contents_are_one_line_errors(tmp_path):
    from evalkit.errors import ResultsError
    import pytest

    for content, expected in [('{"schema_version": "1"}', "expected an integer schema_version"),
                              ('[1, 2]', "expected an integer schema_version"),
                              ('{"schema_version": 1, "systems": "x"}', "unexpected structure"),
                              ('{"schema_version": 1, "run_id": "r", "created": "c", "evalkit_version": "v", "config": {},'
                               ' "pivot": {}, "target": {}, "alignment": {}, "systems": [1]}', "unexpected structure")]:
        path = tmp_path / "run.json"
        path.write_text(content, encoding="utf-8")
        with pytest.raises(ResultsError, match=expected):
            load_run(path)


# ---------------------------------------------------------------- several languages, several documents


def test_a_run_over_languages_writes_every_report_and_rerenders_from_run_json(tmp_path):
    result = languages_run(tmp_path / "run")
    folder = write_results(result, tmp_path / "out")
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    assert "Vietnamese (vi) into Thai (th), Malay (ms), Indonesian (id), from corpus `" in summary
    assert "- Indonesian (id): **missing** — no Indonesian (id) translation of 002\\_6d8f2e7b812a4376.txt found" in summary
    assert "2 corpus documents in no pair:" in summary
    assert "### chrf\n\n| system | th | ms |\n|---|---|---|\n| copy (baseline) | " in summary
    assert "| mine | **100.00 ± 0.00** ★ (Δ +" in summary and ", significant) | unavailable |" in summary
    assert "### ter (lower is better)" in summary and "| mine | **0.00 ± 0.00** ★ (Δ -" in summary
    assert "### Thai (th)\n\n| document | status | reference | pairs | copy chrf | copy ter | mine chrf | mine ter |" in summary
    assert "- system `mine` → ms: unavailable — candidates file " in summary
    rows = list(csv.DictReader(io.StringIO((folder / "paragraphs.csv").read_text(encoding="utf-8"))))
    assert {(r["system"], r["lang"]) for r in rows} == {("copy", "th"), ("copy", "ms"), ("mine", "th")}
    assert {r["document"] for r in rows} == {"002_6d8f2e7b812a4376.txt"}
    assert sum(r["lang"] == "th" for r in rows) == 2 * len(result.system("copy", "th").paragraphs)
    html = (folder / "report.html").read_text(encoding="utf-8")
    views = {name: (folder / name).read_text(encoding="utf-8") for name in ("summary.md", "paragraphs.csv", "report.html")}
    for name in views:
        (folder / name).unlink()
    proc = run_cli("report", folder)
    assert proc.returncode == 0, proc.stderr
    assert {name: (folder / name).read_text(encoding="utf-8") for name in views} == views
    assert 'data-lang="th"' in html


def test_a_test_set_run_has_per_document_tables_and_ids(tmp_path):
    result = ntrex_run(tmp_path / "run")
    folder = write_results(result, tmp_path / "out")
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    documents = [d.document for d in result.documents_in("th") if d.scored]
    assert f"- Thai: line-parallel test set NTREX-128 ({len(documents)} documents), " in summary
    assert f"<details><summary>{len(documents)} documents</summary>" in summary  # long tables are collapsed
    for document in documents:
        assert f"| {document} | paired | " in summary
    rows = list(csv.DictReader(io.StringIO((folder / "paragraphs.csv").read_text(encoding="utf-8"))))
    assert {r["lang"] for r in rows} == {"th", "ms", "id"}
    assert {r["document"] for r in rows if r["lang"] == "th"} == set(documents)


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "@x"])
def test_lang_and_document_cells_are_spreadsheet_safe(tmp_path, value):
    from evalkit.report.files import paragraphs_csv
    from test_report_files import synthetic_run

    result = synthetic_run(n=2)
    for system in result.systems:
        for p in system.paragraphs:
            p.document = value
    rows = list(csv.DictReader(io.StringIO(paragraphs_csv(result))))
    assert {r["document"] for r in rows} == {"'" + value} and {r["lang"] for r in rows} == {"th"}


def test_a_language_where_every_system_failed_and_a_refused_document_render_everywhere(tmp_path):
    """Cases the pipeline rarely produces together: built from a real run, then changed by hand."""
    import copy as copying

    from rich.console import Console

    from evalkit.report.console import render_run
    from evalkit.report.html_page import render_html
    from evalkit.report.markdown import render_markdown
    from evalkit.results import DocumentEntry

    result = languages_run(tmp_path / "run")
    malay = result.system("copy", "ms")
    malay.status, malay.reason, malay.corpus_scores, malay.paragraphs = "failed", "CUDA out of memory", {}, []
    thai = next(d for d in result.documents if d.lang == "th")
    refused = copying.deepcopy(thai)
    refused.document, refused.status, refused.reason, refused.paragraphs, refused.scores = (
        "004_424d4b2d4314c3a5.txt", "not-a-translation", "another article (pairing score 0.02)", 0, {})
    result.documents.append(refused)
    assert isinstance(refused, DocumentEntry)

    console = Console(width=160, record=True, color_system=None)
    with console.capture() as capture:
        render_run(console, result, None, documents=True)
    text = capture.get()
    row = next(line for line in text.splitlines() if line.startswith("│ copy (baseline)"))
    assert row.split("│")[3].strip() == "failed"  # the Malay column: no score, no best
    assert "copy → ms: failed — CUDA out of memory" in text
    assert "004_424d4b2d4314c3a5.txt: not-a-translation — another article (pairing score 0.02)" in text
    assert "Thai: 1 of 2 Vietnamese documents paired (1 refused or with nothing aligned)" in text

    summary = render_markdown(result)
    assert "| copy (baseline) | " in summary and "| failed |" in summary
    assert "| 004\\_424d4b2d4314c3a5.txt | not-a-translation: another article (pairing score 0.02) | " in summary
    html = render_html(result)
    assert "CUDA out of memory" in html and 'data-document="004_424d4b2d4314c3a5.txt"' in html
