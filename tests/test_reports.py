"""Run folders: run.json round-trips, summary.md, and `evalkit report` re-renders without translating."""

import json

from conftest import MALAY, make_config, run_cli
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
