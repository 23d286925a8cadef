"""Write a run's results folder: run.json (the contract), paragraphs.csv, summary.md and report.html.

Nothing half-written is ever visible under a run's name:

- a new run is written into a hidden folder next to the results
  (`.<run-id>.partial-<random>`) and renamed to `<run-id>` only when every file
  is in it, so a run killed while writing leaves no empty or incomplete run
  folder for `report`, `compare` or `check` to trip over (at most a hidden
  `.…partial-…` folder, which is safe to delete);
- each file is written to a temporary name and renamed into place, so
  re-rendering (`evalkit report`) never leaves a truncated file either.

Files and folders are created with the usual permissions (0644 and 0755 under a
022 umask): reports are meant to be read by colleagues, web servers and CI
artifact readers, not only by their owner (`tempfile.mkstemp` would make 0600).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import secrets
import shutil
from pathlib import Path

from evalkit.errors import ResultsError
from evalkit.report import numbers_view
from evalkit.results import RunResult

# lang: the reference's language; document: the pivot file's name (corpus) or the test set's document id.
CSV_FIXED = ["system", "status", "lang", "document", "source_line", "source_lines", "reference_lines", "alignment_confidence",
             "source", "reference", "candidate"]
# numbers_lost: pivot items missing or changed; numbers_items: every item ("changed: 100 tỷ yen→100 ล้านเยน;
# converted: 2023→2566 (BE year)"); numbers_reference: where the human reference itself differs from the pivot.
CSV_NUMBERS = ["numbers_lost", "numbers_items", "numbers_reference"]
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A run folder's name is taken by someone else (a concurrent run): try the next suffix.
_TAKEN = {errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR}


def _write_atomic(path: Path, text: str) -> None:
    """Write text to path through a temporary file in the same folder, created with the umask's permissions."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet shows as text: a leading `'` on a cell it would otherwise evaluate as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def paragraphs_csv(result: RunResult) -> str:
    """One row per system, target language and aligned paragraph, for spreadsheets.

    `lang` and `document` say which reference a row was scored against (a run over many
    languages and documents lists them all in one file).

    Corpus text, model output and system names are untrusted: a cell starting with
    `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` so no
    spreadsheet runs it as a formula. run.json keeps the exact text.

    Where the run has the `numbers` metric, three more columns follow the scores (`CSV_NUMBERS`):
    the pivot items the candidate lost, every item in compact form and what the human reference
    itself changed; runs without it keep the columns they always had.
    """
    metrics = list(result.config["metrics"])
    # The `numbers` metric's items, after the scores, where the run has them (not in older runs or other configs):
    # how many pivot items each candidate lost, the items in compact form, and what the human reference changed.
    numbers = numbers_view.METRIC in metrics or any(
        numbers_view.details_of(p) is not None for s in result.systems for p in s.paragraphs)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIXED + metrics + (CSV_NUMBERS if numbers else []))
    for system in result.systems:
        for p in system.paragraphs:
            row = ([spreadsheet_safe(system.name), system.status, spreadsheet_safe(p.lang or system.lang),
                    spreadsheet_safe(p.document), p.source_line, " ".join(map(str, p.source_lines)),
                    " ".join(map(str, p.reference_lines)), f"{p.alignment_confidence:.3f}", spreadsheet_safe(p.source),
                    spreadsheet_safe(p.reference), spreadsheet_safe(p.candidate)]
                   + [repr(p.scores[m]) if m in p.scores else "" for m in metrics])
            if numbers:
                details = numbers_view.details_of(p)
                row += ["", "", ""] if details is None else [
                    str(numbers_view.lost(details)), spreadsheet_safe(numbers_view.compact(details)),
                    spreadsheet_safe(numbers_view.compact_reference(details))]
            writer.writerow(row)
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


def _write_run_json(result: RunResult, folder: Path) -> None:
    _write_atomic(folder / "run.json", json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n")


def _write_folder(result: RunResult, folder: Path) -> None:
    _write_run_json(result, folder)
    write_reports(result, folder)


def check_writable(output_dir: Path) -> None:
    """Fail before any translating when the results cannot be written there (not a folder, no permission, full disk).

    Creates output_dir if needed and a hidden probe folder with a file in it,
    the same operations `write_results` makes, then removes the probe.
    """
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        probe = output_dir / f".evalkit-write-check-{secrets.token_hex(6)}"
        probe.mkdir()
        try:
            _write_atomic(probe / "probe", "ok")
        finally:
            shutil.rmtree(probe, ignore_errors=True)
    except OSError as exc:
        raise ResultsError(f"cannot write results to {output_dir} ({exc.strerror or exc}); "
                           f"choose another folder with --output-dir or output_dir:") from None


def write_results_or_keep(result: RunResult, output_dir: Path) -> Path:
    """`write_results`, and where that fails after the work is done, run.json in a fallback folder, never nothing.

    The error names where the run was kept; the fallback is the system's
    temporary folder (`$TMPDIR`), the one place still likely to be writable.
    """
    try:
        return write_results(result, output_dir)
    except OSError as exc:
        import tempfile

        fallback = Path(tempfile.gettempdir()) / f"evalkit-unsaved-{result.run_id}-{secrets.token_hex(4)}"
        try:
            fallback.mkdir(parents=True)
            _write_run_json(result, fallback)
        except OSError as second:
            raise ResultsError(f"cannot write results to {output_dir} ({exc.strerror or exc}), nor to {fallback} "
                               f"({second.strerror or second}); translations are kept in the cache where it is on") from None
        raise ResultsError(f"cannot write results to {output_dir} ({exc.strerror or exc}); the run is kept in "
                           f"{fallback / 'run.json'} (`evalkit report {fallback}` renders it)") from None


def write_results(result: RunResult, output_dir: Path) -> Path:
    """Create output_dir/<run_id>/ with run.json and its reports, complete or not at all; return the folder.

    Two runs finishing in the same second get `<run_id>` and `<run_id>-2`: the
    complete folder is renamed into place, and a rename onto a folder another run
    has already filled fails, so each takes the next free name (and its run.json
    records the name it got).
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    base, suffix = result.run_id, 1
    while True:
        staging = output_dir / f".{base}.partial-{secrets.token_hex(6)}"
        try:
            staging.mkdir()  # 0777 less the umask, like any folder
            break
        except FileExistsError:
            continue
    try:
        while True:
            name = base if suffix == 1 else f"{base}-{suffix}"
            folder = output_dir / name
            if folder.exists():
                suffix += 1
                continue
            result.run_id = name
            _write_folder(result, staging)
            try:
                os.rename(staging, folder)  # atomic; fails if another run has filled this name meanwhile
                return folder
            except OSError as exc:
                if exc.errno not in _TAKEN:
                    raise
                suffix += 1
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
