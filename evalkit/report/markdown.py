"""summary.md: the run in a page a reviewer can read in a pull request or an issue.

Corpus and model text is never written here (only line numbers and scores),
so nothing in a scrape or a model output can break the Markdown.
"""

from __future__ import annotations

from pathlib import Path

from evalkit.results import RunResult, SystemResult


def _cell(system: SystemResult, metric: str) -> str:
    score = system.corpus_scores.get(metric)
    if score is None:
        return "–"
    text = f"{score.score:.2f}" + (f" ± {score.half_width:.2f}" if score.half_width is not None else "")
    test = system.baseline_test(metric)
    if test:
        delta, p, significant = test
        text += f" (Δ {delta:+.2f}, p={p:.3f}{', significant' if significant else ''})"
    return text


def render_markdown(result: RunResult) -> str:
    metrics = [m for m in result.config["metrics"] if m not in result.unavailable_metrics]
    a = result.alignment
    baseline = next((s.significance["baseline"] for s in result.systems if s.significance), None)
    lines = [
        f"# {result.config['name']} — {result.run_id}",
        "",
        f"evalkit {result.evalkit_version}, {result.created}. Pivot `{Path(result.pivot.path).name}` ({result.pivot.lang}), "
        f"reference `{Path(result.target.path).name}` ({result.target.lang}).",
        "",
        f"Alignment: {len(a.pairs)} paragraph pairs scored; unmatched (not scored): {len(a.unmatched_source_lines)} pivot, "
        f"{len(a.unmatched_target_lines)} reference paragraphs; dropped as boilerplate: {len(result.pivot.dropped)} pivot, "
        f"{len(result.target.dropped)} reference lines. Pairing: {a.pairing_reason}",
        "",
        "## Document scores",
        "",
        "Corpus-level scores over the aligned paragraphs, ± half-width of the 95% bootstrap interval"
        + (f"; Δ and p against `{baseline}` (paired bootstrap / approximate randomisation, the larger p)." if baseline else "."),
        "",
        "| system | status | " + " | ".join(m + (" ↓" if m == "ter" else "") for m in metrics) + " |",
        "|---|---|" + "---|" * len(metrics),
    ]
    for s in result.systems:
        cells = [_cell(s, m) for m in metrics] if s.status == "ok" else ["–"] * len(metrics)
        lines.append(f"| {s.name} | {s.status} | " + " | ".join(cells) + " |")
    skipped = next((s.significance["skipped"] for s in result.systems if s.significance and "skipped" in s.significance), None)
    if skipped:
        lines += ["", f"No significance tests: {skipped}."]
    problems = [s for s in result.systems if s.status != "ok"]
    if problems or result.unavailable_metrics:
        lines += ["", "## Not scored", ""]
        lines += [f"- system `{s.name}`: {s.status} — {s.reason}" for s in problems]
        lines += [f"- metric `{m}`: {reason}" for m, reason in result.unavailable_metrics.items()]
    lines += ["", "## Signatures", ""]
    scored = next((s for s in result.systems if s.status == "ok"), None)
    if scored:
        lines += [f"- `{m}`: `{scored.corpus_scores[m].signature}`" for m in metrics if m in scored.corpus_scores]
    lines += [f"- system `{s.name}`: `{s.signature}`" for s in result.systems if s.signature]
    lines += ["", "## Time", ""]
    for s in result.systems:
        t = s.seconds
        lines.append(f"- `{s.name}`: {s.translated} translated, {s.from_cache} from cache; load {t.get('load', 0):.2f} s, "
                     f"generation {t.get('generate', 0):.2f} s, evalkit {t.get('evalkit', 0):.2f} s, scoring {t.get('score', 0):.2f} s")
    return "\n".join(lines) + "\n"
