"""summary.md: the run in a page a reviewer can read in a pull request or an issue.

Corpus and model text is never written here (only line numbers and scores), but
names, paths, reasons and signatures are, and they come from users: a system
named `<b>x</b>` or `@team`, a path with `*` or `|`. GitHub renders Markdown
*and* inline HTML, so every such value goes through `md_text` (backslash-escapes
the characters that start markup, mentions or math; CommonMark lets any ASCII
punctuation be escaped this way) or `md_code` (a code span whose fence is longer
than any backtick run inside it); line breaks become spaces so a value cannot
end a table row or a list item.
"""

from __future__ import annotations

import re
from pathlib import Path

from evalkit.report import numbers_view
from evalkit.report.wording import pairing_sentence
from evalkit.results import RunResult, SystemResult

# Inline markup (emphasis, code, links, HTML, entities, strikethrough, math), table cells, headings, @mentions.
_MARKUP = re.compile(r"([\\`*_\[\]<>&|~#$@!])")


def _one_line(value: object) -> str:
    return " ".join(str(value).splitlines()) if value is not None else ""


def md_text(value: object) -> str:
    """User text as literal text in Markdown (also in a table cell)."""
    return _MARKUP.sub(r"\\\1", _one_line(value))


def md_code(value: object) -> str:
    """User text as a code span: literal whatever it contains (not for table cells: `|` would still split one)."""
    text = _one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


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
        f"# {md_text(result.config['name'])} — {md_text(result.run_id)}",
        "",
        f"evalkit {md_text(result.evalkit_version)}, {md_text(result.created)}. "
        f"Pivot {md_code(Path(result.pivot.path).name)} ({md_text(result.pivot.lang)}), "
        f"reference {md_code(Path(result.target.path).name)} ({md_text(result.target.lang)}).",
        "",
        f"{md_text(pairing_sentence(result))}.",
        "",
        f"Alignment: {len(a.pairs)} paragraph pairs scored; unmatched (not scored): {len(a.unmatched_source_lines)} pivot, "
        f"{len(a.unmatched_target_lines)} reference paragraphs; dropped as boilerplate: {len(result.pivot.dropped)} pivot, "
        f"{len(result.target.dropped)} reference lines. Evidence: {md_text(a.pairing_reason)}",
        "",
        "## Document scores",
        "",
        "Corpus-level scores over the aligned paragraphs, ± half-width of the 95% bootstrap interval"
        + (f"; Δ and p against {md_code(baseline)} (paired bootstrap / approximate randomisation, the larger p)."
           if baseline else "."),
        "",
        "| system | status | "
        + " | ".join(md_text(m) + ("" if result.higher_is_better(m) else " ↓") for m in metrics) + " |",
        "|---|---|" + "---|" * len(metrics),
    ]
    for s in result.systems:
        cells = [_cell(s, m) for m in metrics] if s.status == "ok" else ["–"] * len(metrics)
        lines.append(f"| {md_text(s.name)} | {md_text(s.status)} | " + " | ".join(cells) + " |")
    numbers = [(s, numbers_view.headline(s.corpus_scores.get(numbers_view.METRIC), len(s.paragraphs)))
               for s in result.systems if s.status == "ok"]
    numbers = [(s, h) for s, h in numbers if h is not None]
    if numbers:
        lines += ["", f"Numbers, dates and names ({md_code(numbers_view.METRIC)}: the pivot's numbers, amounts, dates, "
                      "times and acronyms kept in the candidate, Buddhist-Era years and other conversions counted as kept):", ""]
        lines += [f"- {md_text(s.name)}: F1 {h.f1:.2f}, {md_text(h.sentence())}; {md_text(h.items())}" for s, h in numbers]
    skipped = next((s.significance["skipped"] for s in result.systems if s.significance and "skipped" in s.significance), None)
    if skipped:
        lines += ["", f"No significance tests: {md_text(skipped)}."]
    problems = [s for s in result.systems if s.status != "ok"]
    if problems or result.unavailable_metrics:
        lines += ["", "## Not scored", ""]
        lines += [f"- system {md_code(s.name)}: {md_text(s.status)} — {md_text(s.reason)}" for s in problems]
        lines += [f"- metric {md_code(m)}: {md_text(reason)}" for m, reason in result.unavailable_metrics.items()]
    lines += ["", "## Signatures", ""]
    scored = next((s for s in result.systems if s.status == "ok"), None)
    if scored:
        lines += [f"- {md_code(m)}: {md_code(scored.corpus_scores[m].signature)}" for m in metrics if m in scored.corpus_scores]
    lines += [f"- system {md_code(s.name)}: {md_code(s.signature)}" for s in result.systems if s.signature]
    lines += ["", "## Time", ""]
    for s in result.systems:
        t = s.seconds
        lines.append(f"- {md_code(s.name)}: {s.translated} translated, {s.from_cache} from cache; load {t.get('load', 0):.2f} s, "
                     f"generation {t.get('generate', 0):.2f} s, evalkit {t.get('evalkit', 0):.2f} s, scoring {t.get('score', 0):.2f} s")
    return "\n".join(lines) + "\n"
