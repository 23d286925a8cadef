"""Write a run's results folder: run.json (the contract) and paragraphs.csv.

Each file is written to a temporary name and renamed into place, so an
interrupted run never leaves a half-written file that a later `compare` or
`check` would misread.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

from evalkit.results import RunResult

CSV_FIXED = ["system", "status", "source_line", "source_lines", "reference_lines", "alignment_confidence",
             "source", "reference", "candidate"]


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def paragraphs_csv(result: RunResult) -> str:
    metrics = list(result.config["metrics"])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIXED + metrics)
    for system in result.systems:
        for p in system.paragraphs:
            writer.writerow(
                [system.name, system.status, p.source_line, " ".join(map(str, p.source_lines)),
                 " ".join(map(str, p.reference_lines)), f"{p.alignment_confidence:.3f}", p.source, p.reference,
                 p.candidate] + [repr(p.scores[m]) if m in p.scores else "" for m in metrics]
            )
    return buffer.getvalue()


def write_reports(result: RunResult, folder: Path) -> list[Path]:
    """The views of a run (everything but run.json), written atomically; `evalkit report` calls this alone."""
    from evalkit.report.html_page import render_html
    from evalkit.report.markdown import render_markdown

    views = {"paragraphs.csv": paragraphs_csv(result), "summary.md": render_markdown(result),
             "report.html": render_html(result)}
    for name, text in views.items():
        _write_atomic(folder / name, text)
    return [folder / name for name in views]


def write_results(result: RunResult, output_dir: Path) -> Path:
    """Create output_dir/<run_id>/ with run.json and its reports; return the folder."""
    output_dir.mkdir(parents=True, exist_ok=True)
    folder, suffix = output_dir / result.run_id, 1
    while True:  # two runs finishing in the same second: claim the name atomically, else take the next
        try:
            folder.mkdir()
            break
        except FileExistsError:
            suffix += 1
            folder = output_dir / f"{result.run_id}-{suffix}"
    if folder.name != result.run_id:
        result.run_id = folder.name
    _write_atomic(folder / "run.json", json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")
    write_reports(result, folder)
    return folder
