"""The files of a run folder as other people and programs read them.

Permissions follow the umask (a colleague, a web server or a CI artifact reader
can read them); paragraphs.csv cannot run formulas in a spreadsheet; summary.md
shows user text as text on GitHub; a run appears under its name complete or not
at all. Built from hand-made RunResults: no pipeline, no models.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest

from evalkit.errors import ResultsError
from evalkit.report import files
from evalkit.report.files import paragraphs_csv, spreadsheet_safe, write_reports, write_results
from evalkit.report.markdown import md_code, md_text, render_markdown
from evalkit.results import (
    AlignmentRecord,
    DocumentRecord,
    ParagraphResult,
    RunResult,
    Score,
    SystemResult,
    load_run,
    single_document_run,
)


def synthetic_run(n: int = 3, names: tuple[str, ...] = ("copy", "nllb"), texts: list[str] | None = None,
                  **config) -> RunResult:
    """n aligned paragraphs, one system per name (the first is the baseline), chrF and TER scores that vary."""
    texts = texts or []
    systems = []
    for k, name in enumerate(names):
        paragraphs = []
        for r in range(n):
            chrf = float((r * 37 + k * 11) % 100)
            paragraphs.append(ParagraphResult(
                source_lines=[r + 1], reference_lines=[r + 2], source=texts[r % len(texts)] if texts else f"nguồn {r}",
                reference=f"อ้างอิง {r}", candidate=texts[(r + 1) % len(texts)] if texts else f"{name} {r}",
                alignment_confidence=0.9, scores={"chrf": chrf, "ter": 100.0 - chrf}))
        significance = None if k == 0 else {"baseline": names[0], "alpha": 0.05, "metrics": {
            "chrf": {"delta": 1.5, "p_bootstrap": 0.01, "p_randomization": 0.02, "significant": True, "better": "system"}}}
        systems.append(SystemResult(
            name=name, backend="copy", model=None, status="ok", signature=f"backend:copy|{name}",
            corpus_scores={"chrf": Score(40.0 + k, "chrf-signature", 39.0, 41.0, higher_is_better=True),
                           "ter": Score(60.0 - k, "ter-signature", 58.0, 62.0, higher_is_better=False)},
            paragraph_signatures={"chrf": "p-chrf", "ter": "p-ter"}, significance=significance,
            paragraphs=paragraphs, translated=n, seconds={"load": 0.1, "generate": 0.2, "evalkit": 0.0, "score": 0.1}))
    doc = dict(detected_lang=None, lang_confidence=0.0, other_language_paragraphs=[], dropped=[], paragraphs=n)
    return single_document_run(
        run_id="20261201-000000-vi-th", created="2026-12-01T00:00:00+00:00", evalkit_version="0.1.0",
        config={"name": "vi-th", "metrics": ["chrf", "ter"], "statistics": {"alpha": 0.05},
                "systems": [{"name": s, "backend": "copy"} for s in names], **config},
        pivot=DocumentRecord(path="/corpus/002.txt", lang="vi", **doc),
        target=DocumentRecord(path="/corpus/000.txt", lang="th", **doc),
        alignment=AlignmentRecord(pairs=[{"source_lines": [r + 1], "target_lines": [r + 2], "confidence": 0.9}
                                         for r in range(n)],
                                  unmatched_source_lines=[], unmatched_target_lines=[], is_translation=True,
                                  pairing_score=0.9, pairing_reason="translates the pivot"),
        systems=systems, baseline=names[0],
    )


# ---------------------------------------------------------------- runs over several languages and documents (real pipeline)

PIVOT_FILE = "002_6d8f2e7b812a4376.txt"


def languages_run(tmp: Path, metrics: tuple[str, ...] = ("chrf", "ter")) -> RunResult:
    """vi → th, ms, id on the shipped corpus, one pivot document (id has no translation there: missing), two systems.

    `copy` runs everywhere; `mine` is precomputed from a file per language and only the Thai one exists, so it is
    scored in Thai (the human reference as its candidate: the best cell on both metrics) and unavailable in Malay.
    """
    import yaml

    from conftest import CORPUS
    from evalkit.config import load_config
    from evalkit.corpus import load_document
    from evalkit.pipeline import run

    tmp.mkdir(parents=True, exist_ok=True)
    config = {"name": "vi-3", "corpus": str(CORPUS), "pivot": {"lang": "vi", "file": PIVOT_FILE},
              "targets": ["th", "ms", "id"], "metrics": list(metrics), "output_dir": str(tmp / "results"),
              "cache": False, "statistics": {"bootstrap_resamples": 200, "randomization_trials": 200},
              "systems": [{"name": "copy", "backend": "copy"}]}
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    floor = run(load_config(path))
    references = {p.source_lines[0]: p.reference for p in floor.system("copy", "th").paragraphs}
    records = [{"line": p.line, "translation": references.get(p.line, p.text)}
               for p in load_document(CORPUS / PIVOT_FILE).paragraphs]
    (tmp / "mine.th.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                                       encoding="utf-8")
    config["systems"].append({"name": "mine", "backend": "precomputed", "options": {"path": "mine.{lang}.jsonl"}})
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return run(load_config(path))


def ntrex_run(tmp: Path) -> RunResult:
    """vi → th, ms, id on the shipped NTREX-128 excerpt: line-parallel, many documents per language."""
    import yaml

    from conftest import ROOT
    from evalkit.config import load_config
    from evalkit.pipeline import run

    tmp.mkdir(parents=True, exist_ok=True)
    config = {"name": "ntrex-vi", "testset": {"format": "ntrex128", "path": str(ROOT / "corpus" / "ntrex128-excerpt")},
              "pivot": {"lang": "vi"}, "targets": ["th", "ms", "id"], "metrics": ["chrf"], "cache": False,
              "output_dir": str(tmp / "results"), "statistics": {"bootstrap_resamples": 100, "randomization_trials": 100},
              "systems": [{"name": "copy", "backend": "copy"}]}
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return run(load_config(path))


# ---------------------------------------------------------------- permissions


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_written_files_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    old = os.umask(umask)
    try:
        folder = write_results(synthetic_run(), tmp_path / "results")
        names = sorted(p.name for p in folder.iterdir())
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
        (folder / "summary.md").unlink()
        write_reports(load_run(folder), folder)  # `evalkit report` re-renders with the same permissions
        rewritten = stat.S_IMODE((folder / "summary.md").stat().st_mode)
    finally:
        os.umask(old)
    assert names == ["paragraphs.csv", "report.html", "run.json", "summary.md"]
    assert modes == dict.fromkeys(names, file_mode) and rewritten == file_mode
    assert stat.S_IMODE(folder.stat().st_mode) == dir_mode


# ---------------------------------------------------------------- paragraphs.csv


DANGEROUS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def test_spreadsheet_safe_prefixes_exactly_the_formula_starts():
    assert [spreadsheet_safe(t) for t in DANGEROUS] == ["'" + t for t in DANGEROUS]
    for harmless in ("Việt – Nhật", " =1", "1-2", "a=b", "", "'quoted"):
        assert spreadsheet_safe(harmless) == harmless


def test_csv_cells_cannot_run_formulas_and_run_json_keeps_the_exact_text(tmp_path):
    result = synthetic_run(n=len(DANGEROUS), names=("=cmd|' /C calc'!A0", "nllb"), texts=DANGEROUS)
    result.baseline = None
    folder = write_results(result, tmp_path / "results")
    rows = list(csv.DictReader(io.StringIO((folder / "paragraphs.csv").read_bytes().decode("utf-8"), newline="")))
    assert len(rows) == 2 * len(DANGEROUS)
    for row in rows:
        for column in ("system", "source", "candidate") if row["system"] != "nllb" else ("source", "candidate"):
            assert row[column].startswith("'") and row[column][1:2] in "=+-@\t\r", (column, row[column])
        # numbers stay numbers: a score or a line number is never prefixed
        assert float(row["chrf"]) >= 0 and int(row["source_line"]) >= 1
    assert rows[0]["source"] == "'" + DANGEROUS[0] and rows[0]["system"] == "'=cmd|' /C calc'!A0"
    data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert [p["source"] for p in data["systems"][0]["paragraphs"]] == DANGEROUS
    assert data["systems"][0]["name"] == "=cmd|' /C calc'!A0"


def test_a_negative_score_is_still_a_number_in_the_csv():
    result = synthetic_run(n=1)
    result.systems[0].paragraphs[0].scores["chrf"] = -0.25  # e.g. a COMET-like metric
    (row,) = [r for r in csv.DictReader(io.StringIO(paragraphs_csv(result))) if r["system"] == "copy"]
    assert row["chrf"] == "-0.25"


# ---------------------------------------------------------------- summary.md


def _github(markdown: str) -> str:
    """The HTML a CommonMark + GFM-tables renderer makes of it (markdown-it-py, installed with rich)."""
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


HOSTILE = ['<b>x</b>', '<img src=x onerror=alert(1)>', 'a|b', '*em* _em_ ~~s~~ [l](http://e.x) `c` $x$ @team #1 &amp;',
           'two\nlines', '``tick`s``']


def test_md_text_and_md_code_render_user_text_as_that_text():
    from html import unescape

    for text in HOSTILE:
        flat = " ".join(text.splitlines())
        html = _github(f"before {md_text(text)} after")
        assert html.startswith("<p>") and html.count("<") == 2, html  # only the paragraph's own <p></p>
        assert unescape(html[3:-5]) == f"before {flat} after"
        code = _github(f"x {md_code(text)} y")
        assert code.count("<code>") == 1 and unescape(code.split("<code>")[1].split("</code>")[0]) == flat


def test_summary_md_escapes_system_names_paths_and_reasons(tmp_path):
    result = synthetic_run(names=("copy", "<b>bold</b>", "a|b @team"))
    result.config["name"] = "vi-th <i>x</i>"
    result.target.path = "/corpus/*th*_[1](x).txt"
    result.systems.append(SystemResult(name="<img src=x onerror=alert(1)>", backend="seq2seq", model="m",
                                       status="unavailable", reason="model <m> is not available\n| x | y |"))
    result.unavailable_metrics = {"comet": "pip install <unbabel-comet>"}
    html = _github(render_markdown(result))
    for tag in ("<b>", "<i>", "<img", "<em>", "<strong>", "<a ", "<del>"):
        assert tag not in html, tag
    for text in ("&lt;b&gt;bold&lt;/b&gt;", "a|b @team", "vi-th &lt;i&gt;x&lt;/i&gt;", "*th*_[1](x).txt",
                 "&lt;img src=x onerror=alert(1)&gt;", "model &lt;m&gt; is not available | x | y |",
                 "pip install &lt;unbabel-comet&gt;"):
        assert text in html, text
    # the score table keeps one row per system and its columns: no name or reason split a row
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    assert body.count("<tr>") == 4 and all(row.count("<td>") == 4 for row in body.split("<tr>")[1:])


# ---------------------------------------------------------------- complete or absent


def test_a_run_folder_appears_only_when_complete(tmp_path, monkeypatch):
    results = tmp_path / "results"

    def crash(result, folder):
        assert folder.name.startswith(".") and ".partial-" in folder.name  # written out of sight
        assert sorted(p.name for p in folder.iterdir()) == ["run.json"]
        raise KeyboardInterrupt  # killed while writing the reports

    monkeypatch.setattr(files, "write_reports", crash)
    with pytest.raises(KeyboardInterrupt):
        write_results(synthetic_run(), results)
    assert list(results.iterdir()) == []  # nothing named like a run, not even a hidden leftover
    monkeypatch.undo()
    folder = write_results(synthetic_run(), results)
    assert [p.name for p in results.iterdir()] == [folder.name] == ["20261201-000000-vi-th"]
    assert load_run(folder).run_id == folder.name


def test_same_run_id_twice_gets_the_next_name_and_records_it(tmp_path):
    first = write_results(synthetic_run(), tmp_path)
    second = write_results(synthetic_run(), tmp_path)
    assert (first.name, second.name) == ("20261201-000000-vi-th", "20261201-000000-vi-th-2")
    assert load_run(second).run_id == second.name
    assert "20261201-000000-vi-th-2" in (second / "summary.md").read_text(encoding="utf-8")


def test_a_name_taken_while_writing_moves_to_the_next(tmp_path, monkeypatch):
    """Another run fills the same name between our check and our rename: ours becomes -2, and says so."""
    real = files._write_folder
    calls = []

    def racing(result, folder):
        real(result, folder)
        if not calls:
            rival = tmp_path / result.run_id
            rival.mkdir()
            (rival / "run.json").write_text("{}", encoding="utf-8")
        calls.append(result.run_id)

    monkeypatch.setattr(files, "_write_folder", racing)
    folder = write_results(synthetic_run(), tmp_path)
    assert folder.name == "20261201-000000-vi-th-2" and calls == ["20261201-000000-vi-th", "20261201-000000-vi-th-2"]
    assert load_run(folder).run_id == folder.name
    assert (tmp_path / "20261201-000000-vi-th" / "run.json").read_text(encoding="utf-8") == "{}"  # the rival's is untouched
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("content", [None, "", '{"schema_version": 1, "run_id": "r"'])
def test_an_empty_or_incomplete_run_folder_is_a_one_line_error(tmp_path, content):
    folder = tmp_path / "20261201-000000-vi-th"
    folder.mkdir()
    if content is not None:
        (folder / "run.json").write_text(content, encoding="utf-8")
    with pytest.raises(ResultsError) as info:
        load_run(folder)
    message = str(info.value)
    assert "\n" not in message and str(folder) in message
