"""The `evalkit` command: parse, call one library function, render.

This is the only place that turns an EvalkitError into one line on stderr and
an exit code: 0 success, 1 a failure the user asked to be told about (--strict),
2 bad input (config, corpus, model). Heavy libraries are imported by the
backends that need them, so `evalkit --help` stays instant.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from evalkit import __version__
from evalkit.errors import EvalkitError, StrictModeError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Measure machine-translation quality on parallel documents.")
stderr = Console(stderr=True, highlight=False)


def make_console(quiet: bool) -> Console:
    """Rich's 80-column default for pipes would crush the score tables; CI logs take wider lines."""
    console = Console(quiet=quiet, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(quiet=quiet, highlight=False, width=160)
    return console


def _version(value: bool) -> None:
    if value:
        print(f"evalkit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    pass


@app.command()
def run(
    config: Annotated[Path, typer.Argument(help="YAML run config, e.g. configs/vi-th.yaml")],
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any system is unavailable or failed (for CI).")] = False,
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Where run folders go (default: the config's output_dir).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the results folder and problems.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Translate everything again; neither read nor write the translation cache.")] = False,
) -> None:
    """Translate the pivot with every system, score against the reference, write results/<run-id>/."""
    from evalkit.config import load_config
    from evalkit.pipeline import run as run_pipeline
    from evalkit.report.console import ProgressObserver, render_run
    from evalkit.report.files import write_results

    console = make_console(quiet)
    cfg = load_config(config)
    if output_dir is not None:
        cfg.output_dir = output_dir.resolve()
    if no_cache:
        cfg.cache = False
    with ProgressObserver(console) as observer:
        result = run_pipeline(cfg, observer)
    folder = write_results(result, cfg.output_dir)
    render_run(console, result, folder)
    problems = [s for s in result.systems if s.status != "ok"]
    for system in problems:
        if quiet:
            stderr.print(f"{system.name}: {system.status}: {system.reason}")
    if quiet:
        print(folder)
    if strict and problems:
        raise StrictModeError(
            f"--strict: {len(problems)} system(s) produced no scores: "
            + ", ".join(f"{s.name} ({s.status})" for s in problems)
        )


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
def align(
    config: Annotated[Path, typer.Argument(help="YAML run config, e.g. configs/vi-th.yaml")],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table for people, json for tools.")] = OutputFormat.table,
) -> None:
    """Show how the pivot and reference paragraphs pair up, what is unmatched or dropped, and which corpus documents translate the pivot."""
    from evalkit.config import load_config
    from evalkit.pairing import pair_documents
    from evalkit.report.alignment import alignment_json, render_alignment

    paired = pair_documents(load_config(config), survey=True)
    if output_format is OutputFormat.json:
        print(json.dumps(alignment_json(paired), ensure_ascii=False, indent=2))
    else:
        render_alignment(make_console(quiet=False), paired)


@app.command()
def models(
    config: Annotated[Path, typer.Argument(help="YAML run config, e.g. configs/vi-th.yaml")],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table for people, json for tools.")] = OutputFormat.table,
) -> None:
    """List each system, whether its weights are available here, and how many of its translations are cached."""
    from dataclasses import asdict

    from rich.table import Table

    from evalkit.config import load_config
    from evalkit.inventory import inventory

    rows, stats = inventory(load_config(config))
    if output_format is OutputFormat.json:
        print(json.dumps({"systems": [asdict(r) for r in rows], "cache": stats}, ensure_ascii=False, indent=2))
        return
    console = make_console(quiet=False)
    table = Table(title_justify="left", title="systems")
    for column in ("system", "backend", "model", "weights", "cache"):
        table.add_column(column, overflow="fold")
    for r in rows:
        weights = {True: "[green]available[/green]", False: "[red]missing[/red]", None: "not checked"}[r.available]
        table.add_row(r.name, r.backend, r.model or "", f"{weights}: {r.detail}", r.cache_note)
    console.print(table)
    if stats:
        console.print(f"cache {stats['path']}: {stats['entries']} translations, {stats['identities']} model settings, "
                      f"{int(stats['file_bytes']) / 1e6:.1f} MB", highlight=False, soft_wrap=True)


def main() -> None:
    # Typer/click handle usage errors (exit 2), --help and Ctrl-C themselves;
    # evalkit's own errors are turned into one line here and nowhere else.
    try:
        app()
    except EvalkitError as exc:
        stderr.print(f"error: {exc}", soft_wrap=True)
        sys.exit(exc.exit_code)
