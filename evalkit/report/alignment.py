"""Views of a document pairing: the JSON that `evalkit align --format json` prints, and a side-by-side table.

Line numbers are 1-based positions in the original files, so every claim can be
checked against the raw scrape.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evalkit.evalset import EvaluationSet
from evalkit.pairing import PairedDocuments

from evalkit.report.console import excerpt

SIDES = (("pivot", "source"), ("reference", "target"))


def alignment_json(paired: PairedDocuments) -> dict[str, Any]:
    pivot, target, alignment, verdict = paired.pivot, paired.target, paired.alignment, paired.verdict
    return {
        "pivot": str(pivot.path),
        "target": str(target.path),
        "is_translation": verdict.is_translation,
        "pairing_score": verdict.score,
        "pairing_reason": verdict.reason,
        "pairs": [
            {
                "source_lines": [pivot.paragraphs[i].line for i in bead.source],
                "target_lines": [target.paragraphs[j].line for j in bead.target],
                "confidence": round(bead.confidence, 4),
            }
            for bead in alignment.pairs
        ],
        "unmatched_source_lines": [pivot.paragraphs[i].line for i in alignment.unmatched_source],
        "unmatched_target_lines": [target.paragraphs[j].line for j in alignment.unmatched_target],
        "dropped": [
            {"side": side, "line": d.line, "reason": d.reason}
            for side, doc in (("source", pivot), ("target", target))
            for d in doc.dropped
        ],
        "documents": [
            {
                "file": str(s.path),
                "detected_lang": s.detected_lang,
                "lang_confidence": round(s.lang_confidence, 4),
                "is_translation": s.is_translation,
                "score": round(s.score, 4),
                "reason": s.reason,
            }
            for s in paired.survey
        ],
    }


def _runs(
    rows: list[tuple[str, int, str, str]], aligned: dict[str, set[int]], min_run: int = 3
) -> list[tuple[str, str, str, str]]:
    """Collapse 3+ adjacent rows with the same file and reason (a page footer, an untranslated tail) into one.

    Rows are adjacent when no aligned line of that file lies between them.
    """

    def adjacent(a: tuple[str, int, str, str], b: tuple[str, int, str, str]) -> bool:
        return a[0] == b[0] and a[2] == b[2] and not any(a[1] < line < b[1] for line in aligned.get(a[0], ()))

    out: list[tuple[str, str, str, str]] = []
    start = 0
    while start < len(rows):
        end = start
        while end + 1 < len(rows) and adjacent(rows[end], rows[end + 1]):
            end += 1
        name, first, why, text = rows[start]
        if end - start + 1 >= min_run:
            out.append((name, f"{first}–{rows[end][1]}", f"{why} ({end - start + 1} lines)", text + " …"))
        else:
            out.extend((r[0], str(r[1]), r[2], r[3]) for r in rows[start : end + 1])
        start = end + 1
    return out


def render_alignment(console: Console, paired: PairedDocuments, width: int = 56) -> None:
    pivot, target, alignment, verdict = paired.pivot, paired.target, paired.alignment, paired.verdict
    mark = "[green]a translation[/green]" if verdict.is_translation else "[red]NOT a translation[/red]"
    console.print(f"{escape(target.path.name)} is {mark} of {escape(pivot.path.name)}: {escape(verdict.reason)}",
                  soft_wrap=True)

    table = Table(title="aligned pairs", title_justify="left")
    table.add_column("pivot", justify="right", no_wrap=True)
    table.add_column(escape(pivot.path.name), overflow="ellipsis", no_wrap=True, max_width=width)
    table.add_column("ref", justify="right", no_wrap=True)
    table.add_column(escape(target.path.name), overflow="ellipsis", no_wrap=True, max_width=width)
    table.add_column("conf", justify="right", no_wrap=True)
    for bead in alignment.pairs:
        table.add_row(
            ",".join(str(pivot.paragraphs[i].line) for i in bead.source),
            excerpt(" ".join(pivot.paragraphs[i].text for i in bead.source), width),
            ",".join(str(target.paragraphs[j].line) for j in bead.target),
            excerpt(" ".join(target.paragraphs[j].text for j in bead.target), width),
            f"{bead.confidence:.2f}",
            style=None if bead.confidence >= 0.5 else "yellow",
        )
    console.print(table)

    leftovers = Table(title="not scored: unmatched and dropped lines", title_justify="left")
    leftovers.add_column("file", no_wrap=True)
    leftovers.add_column("line", justify="right", no_wrap=True)
    leftovers.add_column("why", overflow="fold", max_width=40)
    leftovers.add_column("text", overflow="ellipsis", no_wrap=True, max_width=width)
    rows = [(pivot.path.name, pivot.paragraphs[i].line, "unmatched", pivot.paragraphs[i].text) for i in alignment.unmatched_source]
    rows += [(target.path.name, target.paragraphs[j].line, "unmatched", target.paragraphs[j].text) for j in alignment.unmatched_target]
    rows += [(doc.path.name, d.line, f"dropped: {d.reason}", d.text) for doc in (pivot, target) for d in doc.dropped]
    aligned = {
        pivot.path.name: {pivot.paragraphs[i].line for bead in alignment.pairs for i in bead.source},
        target.path.name: {target.paragraphs[j].line for bead in alignment.pairs for j in bead.target},
    }
    for name, lines, why, text in _runs(sorted(rows, key=lambda r: (r[0] != pivot.path.name, r[1])), aligned):
        leftovers.add_row(escape(name), lines, escape(why), excerpt(text.strip(), width))
    console.print(leftovers)

    if paired.survey:
        survey = Table(title=escape(f"other documents of the corpus against {pivot.path.name}"), title_justify="left")
        survey.add_column("file", no_wrap=True)
        survey.add_column("language", no_wrap=True)
        survey.add_column("verdict", no_wrap=True)
        survey.add_column("score", justify="right", no_wrap=True)
        survey.add_column("reason", overflow="fold")
        for s in paired.survey:
            survey.add_row(
                escape(s.path.name), f"{s.detected_lang or '?'} ({s.lang_confidence:.2f})",
                "translation" if s.is_translation else "[red]not a translation[/red]", f"{s.score:.2f}", escape(s.reason),
            )
        console.print(survey)


def pairing_json(evalset: EvaluationSet) -> dict[str, Any]:
    """`evalkit align --format json` for a corpus folder or a test set: every pairing decision, nothing translated."""
    return {
        "source": evalset.source,
        "languages": [asdict(language.entry) for language in evalset.languages],
        "documents": [{k: v for k, v in asdict(d).items() if k not in ("scores", "significance")}
                      for language in evalset.languages for d in language.documents],
        "unpaired": evalset.unpaired,
    }


def render_pairing(console: Console, evalset: EvaluationSet) -> None:
    """Which document pairs with which, per language, and why the rest did not: what a run would score."""
    for language in evalset.languages:
        entry = language.entry
        if entry.status != "ok":
            console.print(f"{escape(entry.lang)}: [red]not scored[/red] — {escape(entry.reason or '')}", soft_wrap=True)
            continue
        table = Table(title=escape(f"{entry.lang}: {entry.documents} document(s), {entry.paragraphs} paragraph pairs"),
                      title_justify="left")
        for column in ("document", "reference", "status", "pairs", "P(parallel)", "reason"):
            table.add_column(column, overflow="fold")
        for d in language.documents:
            score = f"{d.alignment.pairing_score:.2f}" if d.alignment else ""
            reference = Path(d.target.path).name if d.target else ""
            table.add_row(escape(d.document), escape(reference), d.status, str(d.paragraphs), score,
                          escape(d.reason or (f"{len(d.skipped)} empty row(s) not scored" if d.skipped else "")))
        console.print(table)
    if evalset.unpaired:
        table = Table(title=f"{len(evalset.unpaired)} corpus document(s) in no pair", title_justify="left")
        for column in ("file", "language", "reason"):
            table.add_column(column, overflow="fold")
        for u in evalset.unpaired:
            table.add_row(escape(Path(u["path"]).name), escape(u.get("lang") or "?"), escape(u["reason"]))
        console.print(table)
