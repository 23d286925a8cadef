"""The `evalkit` command: parse, call one library function, render.

This is the only place that turns an EvalkitError into one line on stderr and
an exit code: 0 success, 1 a failure the user asked to be told about (--strict),
2 bad input (config, corpus, model). Heavy libraries are imported by the
backends that need them, so `evalkit --help` stays instant.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from typer.core import TyperGroup

from evalkit import __version__
from evalkit.errors import EvalkitError, StrictModeError, TerminationRequested

stderr = Console(stderr=True, highlight=False)


class _ErrorBoundary(TyperGroup):
    """The one place an EvalkitError becomes one line on stderr and its exit code, for every command.

    Inside the click group rather than around `app()`, so an in-process caller
    (typer's test runner, a script) sees exactly what a shell user sees.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EvalkitError as exc:
            stderr.print(f"{exc.label}: {exc}", soft_wrap=True, markup=False)
            ctx.exit(exc.exit_code)


app = typer.Typer(cls=_ErrorBoundary, add_completion=False, no_args_is_help=True,
                  help="Measure machine-translation quality on parallel documents.")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI timeout, `kill`) stops a run the way Ctrl-C does: finished work kept, one line, exit 143."""
    if threading.current_thread() is not threading.main_thread():  # signals can only be set from the main thread
        yield
        return

    def stop(signum, frame):
        raise TerminationRequested()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 if any system is unavailable or failed, a target language has no translation, or a corpus document pairs with nothing (for CI).")] = False,
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Where run folders go (default: the config's output_dir).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the results folder and problems.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Translate everything again; neither read nor write the translation cache.")] = False,
    paragraphs: Annotated[str, typer.Option("--paragraphs", metavar="N|all", help="Paragraphs per system in the terminal: the N worst and the N that moved most against the baseline, or all; every paragraph is in report.html and paragraphs.csv.")] = "20",
    executor: Annotated[Optional[str], typer.Option("--executor", metavar="in-process|ray", help="Where translation runs (default: the config's executor, else in-process); ray needs evalkit's ray extra installed.")] = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", metavar="ADDR", help="Ray cluster address (implies --executor ray); default: RAY_ADDRESS, else a cluster on this machine, else a local one for the run.")] = None,
    documents: Annotated[bool, typer.Option("--documents", help="Also print per-document scores (every document is in summary.md, report.html and run.json).")] = False,
) -> None:
    """Translate the pivot with every system, score against the reference, write results/<run-id>/."""
    from evalkit.config import load_config
    from evalkit.pipeline import run as run_pipeline
    from evalkit.report.console import ProgressObserver, paragraph_count, render_run
    from evalkit.report.files import check_writable, write_results_or_keep

    try:
        count = paragraph_count(paragraphs)  # "all" → None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--paragraphs") from None
    console = make_console(quiet)
    cfg = load_config(config)
    if output_dir is not None:
        cfg.output_dir = output_dir.resolve()
    if no_cache:
        cfg.cache = False
    if executor is not None or ray_address is not None:
        from evalkit.executors import EXECUTORS

        chosen = executor or "ray"
        if chosen not in EXECUTORS:
            raise typer.BadParameter(EXECUTORS.unknown_message(chosen), param_hint="--executor")
        cfg.executor = chosen
        if ray_address is not None:
            cfg.ray.address = ray_address
    check_writable(cfg.output_dir)  # before any translating: a write failure after an hour of work loses nothing
    with _sigterm_as_interrupt(), ProgressObserver(console) as observer:
        result = run_pipeline(cfg, observer)
    folder = write_results_or_keep(result, cfg.output_dir)
    render_run(console, result, folder, paragraphs=count, documents=documents)
    problems = [s for s in result.systems if s.status != "ok"]
    several = len(result.langs) > 1
    missing = [entry for entry in result.languages if entry.status != "ok"]
    gaps = [d for d in result.documents if d.status != "paired" and _in_scored_language(result, d)]
    if quiet:
        for system in problems:
            where = f" [{system.lang}]" if several else ""
            stderr.print(f"{system.name}{where}: {system.status}: {system.reason}", soft_wrap=True, markup=False)
        for metric, reason in result.unavailable_metrics.items():
            stderr.print(f"metric {metric}: unavailable: {reason}", soft_wrap=True, markup=False)
        for entry in missing:
            stderr.print(f"{entry.lang}: not scored: {entry.reason}", soft_wrap=True, markup=False)
    if quiet:
        print(folder)
    if strict:
        found = []
        if problems:
            found.append(f"{len(problems)} system(s) produced no scores: "
                         + ", ".join(f"{s.name}{f' [{s.lang}]' if several else ''} ({s.status})" for s in problems))
        if missing:
            found.append(f"{len(missing)} target language(s) not scored: {', '.join(e.lang for e in missing)}")
        if gaps and not missing:
            found.append(f"{len(gaps)} pivot document(s) without a translation in some language")
        if result.unpaired:
            found.append(f"{len(result.unpaired)} corpus document(s) paired with nothing (listed in run.json)")
        if found:
            raise StrictModeError("--strict: " + "; ".join(found))


def _in_scored_language(result, entry) -> bool:
    """Whether a document's gap is in a language that is otherwise scored (a missing language is reported once)."""
    return any(e.lang == entry.lang and e.status == "ok" for e in result.languages)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


@app.command()
def align(
    config: Annotated[Path, typer.Argument(help="YAML run config, e.g. configs/vi-th.yaml")],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table for people, json for tools.")] = OutputFormat.table,
) -> None:
    """Show how the pivot and reference paragraphs pair up, what is unmatched or dropped, and which corpus documents translate the pivot (for a corpus folder or a test set: every document's pairing)."""
    from evalkit.config import load_config
    from evalkit.pairing import pair_documents
    from evalkit.report.alignment import alignment_json, render_alignment

    cfg = load_config(config)
    if cfg.testset is not None or cfg.pivot.file is None:  # a test set or a corpus folder: the pairing of every document
        from evalkit.pipeline import build_evaluation_set
        from evalkit.report.alignment import pairing_json, render_pairing

        evalset = build_evaluation_set(cfg)
        if output_format is OutputFormat.json:
            print(json.dumps(pairing_json(evalset), ensure_ascii=False, indent=2))
        else:
            render_pairing(make_console(quiet=False), evalset)
        return
    if cfg.single_target is not None:  # one language: the fields tools already read, unchanged
        paired = pair_documents(cfg, survey=True)
        if output_format is OutputFormat.json:
            print(json.dumps(alignment_json(paired), ensure_ascii=False, indent=2))
        else:
            render_alignment(make_console(quiet=False), paired)
        return
    found = [(target.lang, paired) for target in cfg.targets if (paired := _paired_or_said(cfg, target)) is not None]
    if output_format is OutputFormat.json:
        print(json.dumps({"languages": [{"lang": lang, **alignment_json(paired)} for lang, paired in found]},
                         ensure_ascii=False, indent=2))
    else:
        console = make_console(quiet=False)
        for lang, paired in found:
            console.rule(f"{lang}")
            render_alignment(console, paired)


def _paired_or_said(cfg, target):
    """The pivot aligned with its reference in `target`'s language; None (said on stderr) when the corpus has none."""
    from evalkit.errors import CorpusError
    from evalkit.pairing import pair_documents

    try:
        return pair_documents(cfg, survey=True, target=target)
    except CorpusError as exc:
        if target.file is not None:
            raise
        stderr.print(f"{target.lang}: {exc}", soft_wrap=True, markup=False)
        return None


@app.command()
def models(
    config: Annotated[Path, typer.Argument(help="YAML run config, e.g. configs/vi-th.yaml")],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="table for people, json for tools.")] = OutputFormat.table,
) -> None:
    """List each system, whether its weights are available here, and how many of its translations are cached."""
    from dataclasses import asdict

    from rich.markup import escape
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
        table.add_row(escape(r.name), r.backend, escape(r.model or ""), f"{weights}: {escape(r.detail)}", escape(r.cache_note))
    console.print(table)
    if stats:
        console.print(f"cache {escape(str(stats['path']))}: {stats['entries']} translations, {stats['identities']} model settings, "
                      f"{int(stats['file_bytes']) / 1e6:.1f} MB", highlight=False, soft_wrap=True)


@app.command()
def report(
    run_folder: Annotated[Path, typer.Argument(help="A results/<run-id>/ folder (or its run.json).")],
    show: Annotated[bool, typer.Option("--show", help="Also print the run's results in the terminal, as `evalkit run` does.")] = False,
    documents: Annotated[bool, typer.Option("--documents", help="With --show: per-document scores too.")] = False,
) -> None:
    """Re-render an existing run's reports from its run.json (version 1 or 2), without translating or scoring again."""
    from evalkit.report.console import render_run
    from evalkit.report.files import write_reports
    from evalkit.results import load_run

    result = load_run(run_folder)
    folder = run_folder if run_folder.is_dir() else run_folder.parent
    written = write_reports(result, folder)
    if show:
        render_run(make_console(quiet=False), result, folder, documents=documents)
    for path in written:
        print(path)


@app.command()
def convert(
    model_dir: Annotated[Path, typer.Argument(help="Transformers model folder (saved with save_pretrained).")],
    output_dir: Annotated[Path, typer.Argument(help="Where the CTranslate2 folder goes.")],
    quantization: Annotated[str, typer.Option("--quantization", help="int8 (default), int8_float16, float16, float32, ...")] = "int8",
    force: Annotated[bool, typer.Option("--force", help="Replace OUTPUT_DIR if it exists.")] = False,
) -> None:
    """Convert a translation model for the ctranslate2 backend (needs: pip install -e '.[ct2]')."""
    from evalkit.backends.ct2 import convert_to_ct2

    print(convert_to_ct2(model_dir, output_dir, quantization=quantization, force=force))


def _parse_limits(values: list[str] | None, flag: str, count: bool = False) -> dict[str, float]:
    from evalkit.errors import ConfigError
    from evalkit.scorers import METRICS

    limits = {}
    what = "COUNT" if count else "NUMBER"
    for value in values or []:
        name, sep, number = value.partition("=")
        if not sep or name not in METRICS:
            raise ConfigError(f"{flag} {value!r}: expected METRIC={what} with METRIC one of {', '.join(METRICS.names())}")
        try:
            limits[name] = float(int(number)) if count else float(number)
        except ValueError:
            kind = "a whole number" if count else "a number"
            raise ConfigError(f"{flag} {value!r}: {number!r} is not {kind}") from None
        if count and limits[name] < 0:
            raise ConfigError(f"{flag} {value!r}: a paragraph count is 0 or more")
    return limits


@app.command()
def compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline results folder (or its run.json).")],
    run_b: Annotated[Optional[Path], typer.Argument(help="Candidate results folder; omit to compare two systems of RUN_A.")] = None,
    system: Annotated[Optional[str], typer.Option("--system", "-s", help="Candidate system (default: every system scored in both runs).")] = None,
    against: Annotated[Optional[str], typer.Option("--against", help="Baseline system within RUN_A (default: the run's baseline).")] = None,
    metric: Annotated[Optional[str], typer.Option("--metric", "-m", help="Metric that ranks paragraphs (default: the first).")] = None,
    lang: Annotated[Optional[str], typer.Option("--lang", "-l", help="Target language to compare (default: every language scored in both).")] = None,
    top: Annotated[int, typer.Option("--top", help="Paragraphs listed as most improved / regressed.")] = 5,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Per-metric deltas with paired significance, and the paragraphs that improved or regressed most."""
    from dataclasses import asdict

    from evalkit.compare import compare_systems
    from evalkit.errors import ResultsError
    from evalkit.report.comparison import render_comparison
    from evalkit.results import load_run

    base_run = load_run(run_a)
    cand_run = load_run(run_b) if run_b is not None else base_run

    def find(run, name, in_lang):
        found = next((s for s in run.systems if s.name == name and s.lang == in_lang), None)
        if found is None:
            names = ", ".join(dict.fromkeys(s.name for s in run.systems))
            where = f" in {in_lang}" if len(run.langs) > 1 else ""
            raise ResultsError(f"{run.run_id}: no system {name!r}{where} (systems: {names})")
        return found

    if lang is not None and lang not in base_run.langs + cand_run.langs:
        raise ResultsError(f"--lang {lang}: the runs scored {', '.join(dict.fromkeys(base_run.langs + cand_run.langs))}")
    langs = [lang] if lang else [code for code in cand_run.scored_langs if code in base_run.scored_langs]
    if not langs:
        raise ResultsError(f"{base_run.run_id} and {cand_run.run_id} score no target language in common")
    if run_b is None:
        if system is None:
            raise ResultsError("comparing within one run needs --system NAME (and optionally --against NAME)")
        baseline_name = against or base_run.baseline or next(
            (s.significance["baseline"] for s in base_run.systems if s.significance), None)
        if baseline_name is None:
            raise ResultsError(f"{base_run.run_id}: no baseline recorded; name one with --against")
        pairs = [(find(base_run, baseline_name, code), find(base_run, system, code)) for code in langs]
    else:
        pairs = []
        for code in langs:
            names = [system] if system else [
                s.name for s in cand_run.systems_in(code)
                if s.status == "ok" and any(b.name == s.name and b.status == "ok" for b in base_run.systems_in(code))]
            pairs += [(find(base_run, against or n, code), find(cand_run, n, code)) for n in names]
    if len(langs) > 1:  # a system without scores in one language is left out there (said on stderr), not fatal
        for a, b in [p for p in pairs if p[0].status != "ok" or p[1].status != "ok"]:
            bad = a if a.status != "ok" else b
            stderr.print(f"{bad.lang}: {bad.name} has no scores ({bad.status}); not compared in {bad.lang}",
                         soft_wrap=True, markup=False)
        pairs = [p for p in pairs if p[0].status == "ok" and p[1].status == "ok"]
        if not pairs:
            raise ResultsError("no language has scores for both systems")
        if not pairs:
            raise ResultsError(f"{base_run.run_id} and {cand_run.run_id} have no system scored in both")
    comparisons = [compare_systems(base_run, b, cand_run, c, focus_metric=metric, top=top) for b, c in pairs]
    if output_format is OutputFormat.json:
        print(json.dumps([asdict(c) for c in comparisons], ensure_ascii=False, indent=2))
    else:
        console = make_console(quiet=False)
        for comparison in comparisons:
            render_comparison(console, comparison)


def _gate_rules(cfg, max_drop, max_paragraph_drop, max_paragraphs_worse):
    """Each target language's thresholds: defaults < the config's check < its per_language entry < the command line."""
    from evalkit.compare import GateRules, default_paragraph_rules
    from evalkit.scorers import default_gate_margins

    settings = cfg.check
    flags = (_parse_limits(max_drop, "--max-drop"), _parse_limits(max_paragraph_drop, "--max-paragraph-drop"),
             {m: int(n) for m, n in _parse_limits(max_paragraphs_worse, "--max-paragraphs-worse", count=True).items()})
    default_paragraph_drops, default_worse = default_paragraph_rules()

    def rules_for(lang: str) -> GateRules:
        language = settings.per_language.get(lang)
        return GateRules(
            {**default_gate_margins(), **settings.max_drop, **(language.max_drop if language else {}), **flags[0]},
            {**default_paragraph_drops, **settings.max_paragraph_drop,
             **(language.max_paragraph_drop if language else {}), **flags[1]},
            {**default_worse, **settings.paragraphs_worse(), **(language.paragraphs_worse() if language else {}), **flags[2]},
        )

    return rules_for


@app.command()
def check(
    config: Annotated[Path, typer.Argument(help="YAML run config")],
    baseline: Annotated[Path, typer.Option("--baseline", "-b", help="Baseline results folder or run.json.")],
    max_drop: Annotated[Optional[list[str]], typer.Option("--max-drop", help="METRIC=POINTS tolerated corpus drop (repeatable).")] = None,
    max_paragraph_drop: Annotated[Optional[list[str]], typer.Option("--max-paragraph-drop", help="METRIC=POINTS tolerated drop of any one paragraph (default chrf=30).")] = None,
    max_paragraphs_worse: Annotated[Optional[list[str]], typer.Option("--max-paragraphs-worse", help="METRIC=COUNT paragraphs that may score lower than in the baseline (default numbers=0).")] = None,
    alpha: Annotated[Optional[float], typer.Option("--alpha", help="Significance level (default 0.05 or the config's).")] = None,
    no_significance: Annotated[bool, typer.Option("--no-significance", help="Plain thresholds: fail on any drop beyond the margin.")] = False,
    output_dir: Annotated[Optional[Path], typer.Option("--output-dir", "-o", help="Where the new run folder goes.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """Run CONFIG (reusing cached translations) and fail (exit 1) if it regressed against the baseline run."""
    from evalkit.compare import check_baseline_fits, check_comparable, gate
    from evalkit.config import load_config
    from evalkit.pipeline import run as run_pipeline
    from evalkit.report.comparison import render_gate
    from evalkit.report.console import ProgressObserver
    from evalkit.report.files import write_results
    from evalkit.results import load_run

    cfg = load_config(config)
    before = load_run(baseline)  # a missing, malformed or mismatched baseline fails before any translation
    check_baseline_fits(before, cfg)
    if output_dir is not None:
        cfg.output_dir = output_dir.resolve()
    rules_for = _gate_rules(cfg, max_drop, max_paragraph_drop, max_paragraphs_worse)
    settings = cfg.check
    console = make_console(quiet or output_format is OutputFormat.json)
    with ProgressObserver(console) as observer:
        after = run_pipeline(cfg, observer)
    check_comparable(before, after)
    folder = write_results(after, cfg.output_dir)
    first = rules_for(cfg.target_langs[0])
    outcome = gate(before, after, max_drop=first.max_drop, max_paragraph_drop=first.max_paragraph_drop,
                   max_paragraphs_worse=first.max_paragraphs_worse, rules_for=rules_for,
                   significance=settings.significance and not no_significance,
                   alpha=alpha if alpha is not None else settings.alpha,
                   resamples=cfg.statistics.paired_resamples, trials=cfg.statistics.randomization_trials,
                   seed=cfg.statistics.seed)
    if output_format is OutputFormat.json:
        print(json.dumps({**outcome.to_dict(), "run": str(folder), "baseline": str(baseline)}, ensure_ascii=False, indent=2))
    else:
        render_gate(make_console(quiet=False) if not outcome.passed else console, outcome, folder)
    if not outcome.passed:
        raise typer.Exit(1)


@app.command()
def setup(
    metric: Annotated[str, typer.Argument(help="comet: the environment COMET and CometKiwi are scored in.")],
    env: Annotated[Optional[Path], typer.Option("--env", help="Where to build it (default: $EVALKIT_COMET_ENV, else ~/.cache/evalkit/envs/comet); give the same path as the metric's `env:` option.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Delete and rebuild an existing environment.")] = False,
    python: Annotated[Optional[str], typer.Option("--python", help="Interpreter the environment is made from (default: the one running evalkit).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the environment's folder.")] = False,
) -> None:
    """Build the separate environment a metric with conflicting dependencies runs in (once; needs PyPI)."""
    from evalkit.errors import ConfigError
    from evalkit.scorers.comet_env import setup_env

    if metric not in ("comet", "cometkiwi"):
        raise ConfigError(f"setup {metric!r}: only comet has an environment of its own (it also serves cometkiwi)")
    console = make_console(quiet)
    ready, built, seconds = setup_env(env, force=force, python=python,
                                      log=lambda line: console.print(f"  {line}", highlight=False, soft_wrap=True, markup=False))
    versions = ", ".join(f"{k} {v}" for k, v in ready.versions.items() if k in ("unbabel-comet", "torch", "transformers"))
    if quiet:
        print(ready.path)
    elif built:
        console.print(f"COMET environment ready at {ready.path} ({versions}; {seconds:.0f} s)", highlight=False, soft_wrap=True, markup=False)
    else:
        console.print(f"COMET environment already set up at {ready.path} ({versions}); --force rebuilds it",
                      highlight=False, soft_wrap=True, markup=False)


@app.command()
def lexicon(
    source_lang: Annotated[str, typer.Argument(help="Source language code (the pivot, e.g. vi).")],
    target_lang: Annotated[str, typer.Argument(help="Target language code (e.g. fr; Thai is segmented, other scripts without spaces are refused).")],
    pairs: Annotated[Path, typer.Argument(help="TSV of sentence pairs: document<TAB>source<TAB>target, 2+ documents.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write <src>-<tgt>.json.gz into; put it in $EVALKIT_LEXICONS.")] = Path("lexicons"),
) -> None:
    """Build the aligner's translation lexicon for a language pair from your own sentence-aligned text."""
    from evalkit.align.lexicon import LEXICONS_ENV
    from evalkit.lexicon_files import lexicon_from_tsv

    lex, path = lexicon_from_tsv(pairs, source_lang, target_lang, out)
    console = make_console(False)
    console.print(f"{path}: {lex.origin}; {len(lex.forward.translations)} {lex.source_lang} and "
                  f"{len(lex.backward.translations)} {lex.target_lang} words, character ratio {lex.char_ratio:.3f}. "
                  f"The aligner uses it for {lex.source_lang}-{lex.target_lang} when {LEXICONS_ENV} names "
                  f"{path.parent.resolve()}.", highlight=False, soft_wrap=True, markup=False)


def main() -> None:
    # Typer/click handle usage errors (exit 2), --help and Ctrl-C themselves;
    # evalkit's own errors are turned into one line by _ErrorBoundary.
    app()
