"""Terminal rendering with rich: per-system paragraph tables and document scores.

Rich drops colour by itself when stdout is not a terminal, so piped output
stays readable in CI logs.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape  # corpus, model and config text may contain [brackets]: never markup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evalkit.config import SystemConfig
from evalkit.results import RunResult, SystemResult

EXCERPT = 48


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

    def system_started(self, system: SystemConfig, paragraphs: int) -> None:
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


def render_system(console: Console, system: SystemResult, metrics: list[str]) -> None:
    if system.status != "ok":
        console.print(f"[bold]{escape(system.name)}[/bold]: [yellow]{system.status}[/yellow] — {escape(str(system.reason))}",
                      soft_wrap=True)
        return
    table = Table(title=escape(f"{system.name} ({system.backend}{', ' + system.model if system.model else ''})"),
                  title_justify="left", show_lines=False)
    # Numbers are never truncated; the excerpt takes whatever width is left.
    table.add_column("#", justify="right", no_wrap=True, min_width=2)
    table.add_column("src", justify="right", no_wrap=True)
    table.add_column("ref", justify="right", no_wrap=True)
    table.add_column("source excerpt", overflow="ellipsis", no_wrap=True, min_width=12, max_width=EXCERPT)
    for metric in metrics:
        table.add_column(metric, justify="right", no_wrap=True, min_width=max(6, len(metric)))
    for index, p in enumerate(system.paragraphs, start=1):
        table.add_row(f"{index}{'†' if p.notes else ''}", ",".join(map(str, p.source_lines)), ",".join(map(str, p.reference_lines)),
                      excerpt(p.source), *(_fmt(p.scores.get(m)) for m in metrics))
    table.add_section()
    if any(p.notes for p in system.paragraphs):
        table.caption = "† " + "; ".join(n for p in system.paragraphs for n in p.notes)
    table.add_row("", "", "", f"[bold]document ({len(system.paragraphs)} pairs)[/bold]",
                  *(f"[bold]{_fmt(system.corpus_scores[m].score)}[/bold]" for m in metrics))
    console.print(table)
    s = system.seconds
    console.print(
        f"  {system.translated} paragraphs translated, {system.from_cache} from the cache · "
        f"load {s.get('load', 0):.2f} s · generation {s.get('generate', 0):.2f} s · "
        f"evalkit {s.get('evalkit', 0):.2f} s · scoring {s.get('score', 0):.2f} s",
        style="dim", soft_wrap=True,
    )
    for metric in metrics:
        console.print(f"  {metric:7} {system.corpus_scores[metric].signature}", style="dim", highlight=False,
                      soft_wrap=True, markup=False)


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
    stats = result.config.get("statistics", {})
    baseline = next((s.significance["baseline"] for s in scored if s.significance), None)
    title = "document scores, ± half-width of the 95% bootstrap interval"
    if baseline:
        title += (f"; Δ and p against {baseline} (paired bootstrap and approximate randomisation, the larger p shown; "
                  f"* both significant at {stats.get('alpha', 0.05)})")
    table = Table(title=title, title_justify="left")
    table.add_column("system", no_wrap=True)
    for metric in metrics:
        table.add_column(metric + (" ↓" if metric == "ter" else ""), justify="right", no_wrap=True)
    for system in scored:
        label = escape(system.name) + (" (baseline)" if system.name == baseline else "")
        table.add_row(label, *(_cell(system, m) for m in metrics))
    console.print(table)


def render_run(console: Console, result: RunResult, folder: Path | None) -> None:
    a = result.alignment
    console.print(
        f"[bold]{escape(result.config['name'])}[/bold]: {escape(Path(result.pivot.path).name)} ({result.pivot.lang}) → "
        f"{escape(Path(result.target.path).name)} ({result.target.lang}): {escape(a.pairing_reason)}",
        soft_wrap=True,
    )
    console.print(
        f"  {len(a.pairs)} aligned pairs scored; unmatched, not scored: pivot lines {_lines(a.unmatched_source_lines)}, "
        f"reference lines {_lines(a.unmatched_target_lines)}; dropped as boilerplate: "
        f"{len(result.pivot.dropped)} pivot + {len(result.target.dropped)} reference lines (all listed in run.json)",
        soft_wrap=True,
    )
    metrics = [m for m in result.config["metrics"] if m not in result.unavailable_metrics]
    for name, reason in result.unavailable_metrics.items():
        console.print(f"metric {name}: unavailable — {reason}", soft_wrap=True, markup=False)
    for system in result.systems:
        console.print()
        render_system(console, system, metrics)
    console.print()
    render_summary(console, result, metrics)
    if folder is not None:
        console.print(f"\nresults: {folder}", highlight=False, markup=False)
