"""Terminal rendering with rich: per-system paragraph tables and document scores.

Rich drops colour by itself when stdout is not a terminal, so piped output
stays readable in CI logs.

A big run must not flood the terminal (2,000 paragraphs printed 4,000 lines):
each system's table shows at most `paragraphs` rows — the worst paragraphs on
the first metric and, for a system tested against a baseline, the paragraphs
that moved most against it — and says where the rest are (report.html,
paragraphs.csv). `paragraphs=None` prints every paragraph, as before.

This module is a view of a RunResult: it takes plain values (no run config).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from rich.console import Console
from rich.markup import escape  # corpus, model and config text may contain [brackets]: never markup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evalkit.report import matrix, numbers_view
from evalkit.report.wording import language_name, pairing_sentence
from evalkit.results import ParagraphResult, RunResult, SystemResult

EXCERPT = 48
# Rows per table when a run is longer (None: all). 20 keeps a typical news article (the shipped
# 17-paragraph demo) whole and a 2,000-paragraph run to a few dozen lines per system.
DEFAULT_PARAGRAPHS = 20
DOCUMENT_WIDTH = 24  # the document column of a many-document run's paragraph tables


class _Named(Protocol):
    name: str


def excerpt(text: str, width: int = EXCERPT) -> str:
    """A shortened, markup-escaped copy of user text for a rich table cell."""
    return escape(text if len(text) <= width else text[: width - 1] + "…")


class ProgressObserver:
    """Draws one progress bar per system while it translates."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=False,
        )
        self.task = None

    def __enter__(self) -> ProgressObserver:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def system_started(self, system: _Named, paragraphs: int) -> None:
        self.task = self.progress.add_task(f"translating with {escape(system.name)}", total=paragraphs)

    def advanced(self, paragraphs: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, paragraphs)

    def system_finished(self, result: SystemResult) -> None:
        if result.status != "ok" and self.task is not None:
            self.progress.update(self.task, description=f"{escape(result.name)}: {result.status}")
        self.task = None


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def paragraph_count(text: str) -> int | None:
    """`--paragraphs N|all` → what render_run takes: a count ≥ 0, or None for every paragraph; ValueError otherwise."""
    if text.strip().lower() == "all":
        return None
    try:
        count = int(text)
    except ValueError:
        count = -1
    if count < 0:
        raise ValueError(f"expected a number of paragraphs (0 or more) or 'all', got {text!r}")
    return count


def _key(p: ParagraphResult) -> tuple:
    return p.lang, p.document, tuple(p.source_lines), tuple(p.reference_lines)


def _worst(indexed: list[tuple[int, ParagraphResult]], metric: str, higher: bool) -> list[tuple[int, ParagraphResult]]:
    """Worst first on metric (lowest when higher is better); unscored last; ties in document order."""
    def key(item: tuple[int, ParagraphResult]) -> tuple:
        value = item[1].scores.get(metric)
        return (value is None, 0.0 if value is None else (value if higher else -value), item[0])
    return sorted(indexed, key=key)


def _paragraph_table(title: str, metrics: list[str], extra: str | None = None, lost: bool = False,
                     document: bool = False) -> Table:
    """`title` is plain text; the table is at least as wide so the title stays on one line where it fits.

    `lost`: a column right after the `numbers` score with the pivot items the candidate lost (missing
    or changed), and ⚑ where the human reference itself changed or dropped a number.
    `document`: a column naming each paragraph's document (runs over many documents: line numbers repeat).
    """
    table = Table(title=escape(title), title_justify="left", show_lines=False, min_width=len(title))
    # Numbers are never truncated; the excerpt takes whatever width is left.
    table.add_column("#", justify="right", no_wrap=True, min_width=2)
    if document:
        table.add_column("document", overflow="ellipsis", no_wrap=True, max_width=DOCUMENT_WIDTH)
    table.add_column("src", justify="right", no_wrap=True)
    table.add_column("ref", justify="right", no_wrap=True)
    table.add_column("source excerpt", overflow="ellipsis", no_wrap=True, min_width=12, max_width=EXCERPT)
    for metric in metrics:
        table.add_column(escape(metric), justify="right", no_wrap=True, min_width=max(6, len(metric)))
        if lost and metric == numbers_view.METRIC:
            table.add_column("lost", justify="right", no_wrap=True)
    if extra:
        table.add_column(escape(extra), justify="right", no_wrap=True)
    return table


def _lost_cell(p: ParagraphResult) -> str:
    """'2', '2 ⚑', '⚑' or '': lost pivot items, and the flag where the reference itself disagrees with the pivot."""
    details = numbers_view.details_of(p)
    count = numbers_view.lost(details)
    flag = "⚑" if numbers_view.reference_disagrees(details) else ""
    return " ".join(x for x in (str(count) if count else "", flag) if x)


def _score_cells(p: ParagraphResult, metrics: list[str], lost: bool) -> list[str]:
    cells = []
    for m in metrics:
        cells.append(_fmt(p.scores.get(m)))
        if lost and m == numbers_view.METRIC:
            cells.append(_lost_cell(p))
    return cells


def _add_paragraph(table: Table, index: int, p: ParagraphResult, metrics: list[str], *extra: str,
                   lost: bool = False, document: bool = False) -> None:
    table.add_row(f"{index}{'†' if p.notes else ''}", *([excerpt(p.document, DOCUMENT_WIDTH)] if document else []),
                  ",".join(map(str, p.source_lines)),
                  ",".join(map(str, p.reference_lines)), excerpt(p.source), *_score_cells(p, metrics, lost), *extra)


def _notes(table: Table, shown: list[ParagraphResult]) -> None:
    if any(p.notes for p in shown):
        table.caption = escape("† " + "; ".join(n for p in shown for n in p.notes))


def render_system(console: Console, system: SystemResult, metrics: list[str], paragraphs: int | None = None,
                  baseline: SystemResult | None = None, higher: dict[str, bool] | None = None,
                  rest: str = "report.html", in_lang: bool = False) -> None:
    """One system: its paragraphs (all, or at most `paragraphs` worst and most changed), document scores, times.

    `baseline` is the system this one was tested against (its most changed paragraphs are
    shown when the run is too long to print); `higher` maps each metric to its direction;
    `rest` says where the paragraphs not printed are; `in_lang`: name the target language (runs over several).
    """
    if system.status != "ok":
        console.print(f"[bold]{escape(system.name)}[/bold]{' → ' + escape(system.lang) if in_lang else ''}: [yellow]{escape(str(system.status))}[/yellow] — "
                      f"{escape(str(system.reason))}", soft_wrap=True)
        return
    higher = higher or {}
    title = f"{system.name} ({system.backend}{', ' + system.model if system.model else ''})"
    if in_lang:
        title += f" → {system.lang}"
    document = len({p.document for p in system.paragraphs}) > 1
    indexed = list(enumerate(system.paragraphs, start=1))
    total = len(indexed)
    focus = metrics[0] if metrics else None
    if paragraphs is None or total <= paragraphs:
        chosen, heading = indexed, title
    elif focus is None:
        chosen = indexed[:max(0, paragraphs)]
        heading = f"{title}: the first {paragraphs} of {total} paragraphs" if chosen else title
    else:
        chosen = _worst(indexed, focus, higher.get(focus, True))[:max(0, paragraphs)]
        heading = f"{title}: the {paragraphs} worst of {total} paragraphs by {focus}" if chosen else title
    lost = numbers_view.METRIC in metrics and any(numbers_view.details_of(p) is not None for p in system.paragraphs)
    numbers = numbers_view.headline(system.corpus_scores.get(numbers_view.METRIC), total) \
        if numbers_view.METRIC in metrics else None
    table = _paragraph_table(heading, metrics, lost=lost, document=document)
    for index, p in chosen:
        _add_paragraph(table, index, p, metrics, lost=lost, document=document)
    table.add_section()
    _notes(table, [p for _, p in chosen])
    scores = []
    for m in metrics:
        scores.append(f"[bold]{_fmt(system.corpus_scores[m].score)}[/bold]" if m in system.corpus_scores else "")
        if lost and m == numbers_view.METRIC:
            total_lost = numbers.lost if numbers is not None else sum(
                numbers_view.lost(numbers_view.details_of(p)) for p in system.paragraphs)
            scores.append(f"[bold]{total_lost}[/bold]" if total_lost else "")
    label = f"[bold]{'all documents' if document else 'document'} ({total} pairs)[/bold]"
    table.add_row("", *([""] if document else []), "", "", label, *scores)
    console.print(table)
    if numbers is not None:
        console.print(f"  numbers, dates and names: {numbers.sentence()}; {numbers.items()}",
                      soft_wrap=True, highlight=False, markup=False)
    flagged = sum(1 for p in system.paragraphs if numbers_view.reference_disagrees(numbers_view.details_of(p)))
    if lost and (flagged or any(numbers_view.lost(numbers_view.details_of(p)) for p in system.paragraphs)):
        console.print("  lost: pivot numbers, dates and names missing or changed in the candidate"
                      + (f"; ⚑ the human reference itself changed or dropped a number there ({flagged} paragraph"
                         f"{'s' if flagged != 1 else ''}): not counted against the system" if flagged else ""),
                      style="dim", soft_wrap=True, highlight=False, markup=False)
    shown = {index for index, _ in chosen}
    if len(chosen) < total and focus is not None and baseline is not None and baseline is not system \
            and baseline.status == "ok":
        before = {_key(p): p.scores.get(focus) for p in baseline.paragraphs}
        moved = []
        for index, p in indexed:
            old, new = before.get(_key(p)), p.scores.get(focus)
            if old is not None and new is not None:
                moved.append((-abs(new - old), index, p, new - old))
        moved.sort(key=lambda item: item[:2])
        moved = moved[:max(0, paragraphs)]
        if moved:
            changed = _paragraph_table(f"{system.name}: the {len(moved)} paragraphs that moved most against "
                                       f"{baseline.name} on {focus}", metrics, f"Δ {focus}", lost=lost,
                                       document=document)
            for _, index, p, delta in moved:
                _add_paragraph(changed, index, p, metrics, f"{delta:+.2f}", lost=lost, document=document)
            _notes(changed, [p for _, _, p, _ in moved])
            console.print(changed)
            shown |= {index for _, index, _, _ in moved}
    if len(shown) < total:
        which = f"{total - len(shown)} more paragraphs are" if shown else f"the {total} paragraphs are"
        console.print(f"  {which} in {rest} (all of them here: --paragraphs all)",
                      style="dim", soft_wrap=True, highlight=False, markup=False)
    s = system.seconds
    console.print(
        f"  {system.translated} paragraphs translated, {system.from_cache} from the cache · "
        f"load {s.get('load', 0):.2f} s · generation {s.get('generate', 0):.2f} s · "
        f"evalkit {s.get('evalkit', 0):.2f} s · scoring {s.get('score', 0):.2f} s",
        style="dim", soft_wrap=True,
    )
    served = served_accounting(system.model_info)
    if served:
        console.print(f"  {served}", style="dim", soft_wrap=True, highlight=False, markup=False)
    for metric in metrics:
        if metric in system.corpus_scores:
            console.print(f"  {metric:7} {system.corpus_scores[metric].signature}", style="dim", highlight=False,
                          soft_wrap=True, markup=False)


def served_accounting(info: dict) -> str | None:
    """One line for a served model (backend openai): requests, retries, tokens, time waiting on the server."""
    if "requests" not in info:
        return None
    waited = (info.get("seconds") or {}).get("waiting_on_server")
    parts = [f"{info['requests']} requests", f"{info.get('retries', 0)} retries",
             f"{info.get('prompt_tokens', 0)} + {info.get('completion_tokens', 0)} tokens (prompt + completion)"]
    if waited is not None:
        parts.append(f"{waited:.2f} s waiting on the server")
    for key, label in (("failed_paragraphs", "failed"), ("empty_answers", "empty answers"),
                       ("refused_answers", "refused answers")):
        if info.get(key):
            parts.append(f"{info[key]} {label}")
    return " · ".join(parts)


def _lines(numbers: list[int], limit: int = 8) -> str:
    if not numbers:
        return "none"
    shown = ", ".join(map(str, numbers[:limit]))
    return f"{len(numbers)} ({shown}{', …' if len(numbers) > limit else ''})"


def _cell(system: SystemResult, metric: str) -> str:
    score = system.corpus_scores[metric]
    text = f"{score.score:.2f}" + (f" ± {score.half_width:.2f}" if score.half_width is not None else "")
    test = system.baseline_test(metric)
    if test:
        delta, p, significant = test
        text += f"\nΔ {delta:+.2f} p={p:.3f}{'*' if significant else ' '}"
    return text


def render_summary(console: Console, result: RunResult, metrics: list[str]) -> None:
    scored = [s for s in result.systems if s.status == "ok"]
    if not scored:
        return
    skipped = next((s.significance["skipped"] for s in scored if s.significance and "skipped" in s.significance), None)
    if skipped:
        console.print(f"no significance tests: {skipped}", markup=False)
    stats = result.config.get("statistics") or {}
    baseline = next((s.significance["baseline"] for s in scored if s.significance), None)
    alpha = next((s.significance.get("alpha") for s in scored if s.significance and s.significance.get("alpha")), None)
    title = "document scores, ± half-width of the 95% bootstrap interval"
    if baseline:
        title += (f"; Δ and p against {baseline} (paired bootstrap and approximate randomisation, the larger p shown; "
                  f"* both significant at {alpha if alpha is not None else stats.get('alpha', 0.05)})")
    table = Table(title=escape(title), title_justify="left")
    table.add_column("system", no_wrap=True)
    for metric in metrics:
        table.add_column(escape(metric) + ("" if result.higher_is_better(metric) else " ↓"), justify="right", no_wrap=True)
    for system in scored:
        label = escape(system.name) + (" (baseline)" if system.name == baseline else "")
        table.add_row(label, *(_cell(system, m) if m in system.corpus_scores else "" for m in metrics))
    console.print(table)


def _baseline(result: RunResult, lang: str | None = None) -> SystemResult | None:
    """The scored system the others were tested against (in `lang` for a run over several), as recorded in the run."""
    name = matrix.baseline_name(result)
    return next((s for s in result.systems if s.name == name and s.status == "ok"
                 and (lang is None or s.lang == lang)), None)


def render_run(console: Console, result: RunResult, folder: Path | None,
               paragraphs: int | None = DEFAULT_PARAGRAPHS, documents: bool = False) -> None:
    """The whole run for the terminal; `paragraphs`: rows per system table when a run is longer (None: all).

    A run over one document in one language prints what it always printed. A run over several
    languages or documents prints one systems × languages matrix per metric; `documents=True` adds,
    per language, a documents × systems table and the paragraph tables (`paragraphs` rows each).
    """
    if not matrix.multi(result):
        _render_single(console, result, folder, paragraphs)
    else:
        _render_multi(console, result, folder, paragraphs, documents)
    if folder is not None:
        console.print(f"\nresults: {folder}", highlight=False, markup=False)


def _render_single(console: Console, result: RunResult, folder: Path | None, paragraphs: int | None) -> None:
    a = result.alignment
    console.print(f"[bold]{escape(result.config['name'])}[/bold]: {escape(pairing_sentence(result))}", soft_wrap=True)
    console.print(
        f"  {len(a.pairs)} aligned pairs scored; unmatched, not scored: pivot lines {_lines(a.unmatched_source_lines)}, "
        f"reference lines {_lines(a.unmatched_target_lines)}; dropped as boilerplate: "
        f"{len(result.pivot.dropped)} pivot + {len(result.target.dropped)} reference lines (all listed in run.json)",
        soft_wrap=True,
    )
    metrics = matrix.metrics_of(result)
    for name, reason in result.unavailable_metrics.items():
        console.print(f"metric {name}: unavailable — {reason}", soft_wrap=True, markup=False)
    higher = {m: result.higher_is_better(m) for m in metrics}
    baseline = _baseline(result)
    rest = "report.html and paragraphs.csv" + ("" if folder is None else f" in {folder}")
    for system in result.systems:
        console.print()
        render_system(console, system, metrics, paragraphs, baseline=baseline, higher=higher, rest=rest)
    console.print()
    render_summary(console, result, metrics)


def _plain(console: Console, text: str, style: str | None = None) -> None:
    console.print(text, soft_wrap=True, highlight=False, markup=False, style=style)


def _source_line(result: RunResult) -> str:
    source = result.source or {}
    pivot = next((d.pivot.lang for d in result.documents if d.pivot is not None), None)
    pivot = pivot or (result.config.get("pivot") or {}).get("lang") or "?"
    where = ""
    if source.get("kind") == "testset":
        where = f" · test set {matrix.testset_name(result)} ({source.get('path', '')})"
    elif source.get("path"):
        where = f" · corpus {source['path']}"
    seconds = result.seconds.get("pairing")
    timing = f" · pairing {seconds:.1f} s" if seconds is not None else ""
    return f"{pivot} → {', '.join(result.langs)}{where}{timing}"


def _matrix_cell(cell: matrix.Cell) -> str:
    """Rich markup for a matrix cell: score ± half-width (★ best, bold), the test on a second line, or the status."""
    if cell.score is None:
        return f"[yellow]{escape(cell.status)}[/yellow]" if cell.status != "ok" else "–"
    text = f"{cell.score.score:.2f}" + (f" ± {cell.half_width:.2f}" if cell.half_width is not None else "")
    text = f"[bold]{text} ★[/bold]" if cell.best else text + "  "
    if cell.test is not None:
        delta, p, significant = cell.test
        text += f"\nΔ {delta:+.2f} p={p:.3f}{'*' if significant else ' '}"
    return text


def matrix_legend(result: RunResult, matrices: list[matrix.Matrix]) -> str:
    """The one sentence above the matrices: what a cell holds."""
    text = (f"corpus score per system and language ± half-width of the 95% bootstrap interval (resampled by "
            f"{result.resampled_by()}); ★ best in its language")
    if any(c.test is not None for m in matrices for c in m.cells.values()):
        text += (f"; Δ and p against {matrix.baseline_name(result)} in the same language (paired bootstrap and "
                 "approximate randomisation, the larger p; * both significant)")
    return text


def render_matrix(console: Console, result: RunResult, m: matrix.Matrix) -> None:
    """One metric: systems × languages, score ± half-width, ★ best per column, Δ and p against the baseline."""
    baseline = matrix.baseline_name(result)
    table = Table(title=escape(m.metric + ("" if m.higher_is_better else " (lower is better)")), title_justify="left")
    table.add_column("system", no_wrap=True)
    for lang in m.langs:
        table.add_column(escape(lang), justify="right", no_wrap=True)
    for name in m.systems:
        label = escape(name) + (" (baseline)" if name == baseline else "")
        table.add_row(label, *(_matrix_cell(c) for c in m.row(name)))
    console.print(table)


def render_documents(console: Console, result: RunResult, lang: str, metric: str) -> None:
    """One language's documents × systems on one metric (the per-document detail)."""
    rows = matrix.document_rows(result, lang, metric)
    names = [s.name for s in result.systems_in(lang)]
    title = f"{language_name(lang)} ({lang}): {metric} per document, ★ best per document"
    table = Table(title=escape(title), title_justify="left", min_width=len(title))
    table.add_column("document", overflow="ellipsis", no_wrap=True, max_width=40)
    table.add_column("pairs", justify="right", no_wrap=True)
    for name in names:
        table.add_column(escape(name), justify="right", no_wrap=True)
    for row in rows:
        entry = row.entry
        if not entry.scored:
            table.add_row(excerpt(entry.document, 40), "",
                          f"[yellow]{escape(entry.status)}[/yellow]", *[""] * (len(names) - 1))
            continue
        cells = []
        for name in names:
            score = row.cells.get(name)
            if score is None:
                cells.append("–")
                continue
            text = f"{score.score:.2f}" + (f" ± {score.half_width:.2f}" if score.half_width is not None else "")
            cells.append(f"[bold]{text} ★[/bold]" if name in row.best else text + "  ")
        table.add_row(excerpt(entry.document, 40), str(entry.paragraphs), *cells)
    console.print(table)
    unscored = [r.entry for r in rows if not r.entry.scored]
    for entry in unscored[:5]:
        _plain(console, f"  {entry.document}: {entry.status} — {entry.reason or 'no reason recorded'}", style="dim")
    if len(unscored) > 5:
        _plain(console, f"  … {len(unscored) - 5} more unscored documents (all listed in run.json)", style="dim")


def _render_multi(console: Console, result: RunResult, folder: Path | None, paragraphs: int | None,
                  documents: bool) -> None:
    console.print(f"[bold]{escape(str(result.config.get('name', '')))}[/bold]: {escape(_source_line(result))}",
                  soft_wrap=True)
    missing = {m.lang: m.reason for m in matrix.missing_languages(result)}
    for lang in result.langs:
        if lang in missing:
            _plain(console, f"  {language_name(lang)} ({lang}): missing — {missing[lang]}")
        else:
            _plain(console, f"  {pairing_sentence(result, lang)}")
    count, first = matrix.unpaired_summary(result)
    if count:
        _plain(console, f"  {count} corpus document{'s' if count != 1 else ''} in no pair (all listed in run.json)"
                        + (":" if first else ""))
        for line in first:
            _plain(console, f"    {line}", style="dim")
        if count > len(first):
            _plain(console, f"    … {count - len(first)} more", style="dim")
    for name, reason in result.unavailable_metrics.items():
        _plain(console, f"metric {name}: unavailable — {reason}")
    metrics = matrix.metrics_of(result)
    higher = {m: result.higher_is_better(m) for m in metrics}
    rest = "report.html and paragraphs.csv" + ("" if folder is None else f" in {folder}")
    if documents:
        for lang in result.scored_langs:
            console.print()
            if metrics:
                render_documents(console, result, lang, metrics[0])
            baseline = _baseline(result, lang)
            for system in result.systems_in(lang):
                console.print()
                render_system(console, system, metrics, paragraphs, baseline=baseline, higher=higher, rest=rest,
                              in_lang=True)
    else:
        console.print()
        for system in result.systems:
            if system.status != "ok":
                continue
            t = system.seconds
            _plain(console, f"  {system.name} → {system.lang}: {len(system.paragraphs)} paragraphs scored, "
                            f"{system.translated} translated, {system.from_cache} from the cache · load "
                            f"{t.get('load', 0):.2f} s · generation {t.get('generate', 0):.2f} s · scoring "
                            f"{t.get('score', 0):.2f} s", style="dim")
        _plain(console, f"  per-document scores and the worst paragraphs of each system: --documents; "
                        f"every paragraph: {rest}", style="dim")
    console.print()
    skipped = next((s.significance["skipped"] for s in result.systems
                    if s.status == "ok" and s.significance and "skipped" in s.significance), None)
    if skipped:
        _plain(console, f"no significance tests: {skipped}")
    found = matrix.matrices(result)
    if found and result.scored_langs:
        _plain(console, matrix_legend(result, found))
    for m in found:
        render_matrix(console, result, m)
    problems = [s for s in result.systems if s.status != "ok"]
    for s in problems:
        console.print(f"[bold]{escape(s.name)}[/bold] → {escape(s.lang)}: [yellow]{escape(str(s.status))}[/yellow] — "
                      f"{escape(str(s.reason))}", soft_wrap=True)
