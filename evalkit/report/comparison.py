"""Terminal views of comparisons and of the regression gate."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evalkit.compare import GateResult, ParagraphDelta, SystemComparison
from evalkit.report.console import excerpt


def _paragraphs(console: Console, title: str, rows: list[ParagraphDelta], metric: str) -> None:
    if not rows:
        console.print(f"{title}: none", highlight=False, markup=False)
        return
    table = Table(title=title, title_justify="left")
    table.add_column("pivot", justify="right", no_wrap=True)
    table.add_column(metric, justify="right", no_wrap=True)
    table.add_column("baseline candidate", overflow="ellipsis", no_wrap=True, max_width=50)
    table.add_column("candidate", overflow="ellipsis", no_wrap=True, max_width=50)
    table.add_column("reference", overflow="ellipsis", no_wrap=True, max_width=40)
    for d in rows:
        table.add_row(",".join(map(str, d.source_lines)), f"{d.baseline_score:.1f} → {d.score:.1f}",
                      excerpt(d.baseline_candidate, 50), excerpt(d.candidate, 50), excerpt(d.reference, 40))
    console.print(table)


def render_comparison(console: Console, c: SystemComparison) -> None:
    left = f"; {c.left_out} paragraphs aligned in only one run were left out" if c.left_out else ""
    table = Table(title=escape(f"{c.candidate_label} against {c.baseline_label} ({c.paragraphs} paragraphs{left})"),
                  title_justify="left")
    for column in ("metric", "baseline", "candidate", "Δ", "p bootstrap", "p randomisation", "significant"):
        table.add_column(column, justify="left" if column == "metric" else "right", no_wrap=True)
    for d in c.metrics:
        verdict = ("[red]worse[/red]" if d.drop > 0 else "[green]better[/green]") if d.significant else "no"
        table.add_row(d.metric, f"{d.baseline:.2f}", f"{d.candidate:.2f}", f"{d.delta:+.2f}", f"{d.p_bootstrap:.4f}",
                      "" if d.p_randomization is None else f"{d.p_randomization:.4f}", verdict)
    console.print(table)
    _paragraphs(console, f"most improved paragraphs ({c.focus_metric})", c.improved, c.focus_metric)
    _paragraphs(console, f"most regressed paragraphs ({c.focus_metric})", c.regressed, c.focus_metric)


def render_decisions(console: Console, outcome: GateResult) -> None:
    """Per system and metric: the drop, the tests' p and the floor they could reach, and the rule that decided."""
    if not outcome.decisions:
        return
    table = Table(title="gate: how each metric was judged", title_justify="left")
    for column in ("system", "metric", "drop", "margin", "p", "p floor", "changed", "decided by", "verdict"):
        table.add_column(column, justify="left" if column in ("system", "metric", "decided by") else "right",
                         no_wrap=column != "decided by")
    for d in outcome.decisions:
        table.add_row(
            escape(d.system), escape(d.metric), f"{d.drop:+.2f}", "–" if d.margin is None else f"{d.margin:g}",
            "–" if d.p is None else f"{d.p:.4f}",
            f"{d.p_floor:.4f}" + (" (underpowered)" if d.underpowered else ""),
            f"{d.changed} (≈{d.effective_changed:.1f})", escape(", ".join(d.decided_by)),
            "[red]fail[/red]" if d.failed else "[green]pass[/green]",
        )
    console.print(table)


def render_gate(console: Console, outcome: GateResult, folder: Path | None) -> None:
    for comparison in outcome.comparisons:
        render_comparison(console, comparison)
    render_decisions(console, outcome)
    for note in outcome.notes:
        console.print(f"note: {note}", highlight=False, soft_wrap=True, markup=False)
    if outcome.passed:
        console.print("[green]check passed[/green]: no regression beyond its margin", highlight=False)
    else:
        console.print(f"[red]check failed[/red]: {len(outcome.failures)} regression(s)", highlight=False)
        for failure in outcome.failures:
            console.print(f"  {failure}", highlight=False, soft_wrap=True, markup=False)
    if folder is not None:
        console.print(f"results: {folder}", highlight=False, markup=False)
