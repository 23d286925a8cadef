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

from evalkit.report import matrix, numbers_view
from evalkit.report.wording import language_name, pairing_sentence
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
    """summary.md: as it always was for one document in one language; with the matrices for a run over many."""
    if matrix.multi(result):
        return _render_multi(result)
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


# ---------------------------------------------------------------- many languages, many documents

# Lists longer than this go into a collapsed <details> block.
COLLAPSE = 8


def _matrix_cell(cell: matrix.Cell) -> str:
    if cell.score is None:
        return md_text(cell.status) if cell.status != "ok" else "–"
    text = f"{cell.score.score:.2f}" + (f" ± {cell.half_width:.2f}" if cell.half_width is not None else "")
    text = f"**{text}** ★" if cell.best else text
    if cell.test is not None:
        delta, p, significant = cell.test
        text += f" (Δ {delta:+.2f}, p={p:.3f}{', significant' if significant else ''})"
    return text


def _details(summary: str, lines: list[str], limit: int = COLLAPSE) -> list[str]:
    """`lines` as they are when short, inside a collapsed <details> block when longer than `limit`."""
    if len(lines) <= limit:
        return lines
    return [f"<details><summary>{summary}</summary>", "", *lines, "", "</details>"]


def _source(result: RunResult) -> str:
    source = result.source or {}
    if source.get("kind") == "testset":
        split = f", split {md_text(source['split'])}" if source.get("split") else ""
        return f"test set {md_text(matrix.testset_name(result))} ({md_code(source.get('path', ''))}{split})"
    if source.get("path"):
        return f"corpus {md_code(source['path'])}"
    return "an unrecorded source"


def _document_table(result: RunResult, lang: str, metrics: list[str]) -> list[str]:
    """One language's documents × systems, every metric: score ± half-width, ★ best per document."""
    names = [s.name for s in result.systems_in(lang)]
    if not metrics:
        return []
    corpus = any(d.alignment is not None for d in result.documents_in(lang))  # a test set's references are one file
    head = f"| document | status | {'reference | ' if corpus else ''}pairs | " + " | ".join(
        f"{md_text(n)} {md_text(m)}" for n in names for m in metrics) + " |"
    lines = [head, "|---|---|" + ("---|" if corpus else "") + "---|" + "---|" * (len(names) * len(metrics))]
    rows = {m: matrix.document_rows(result, lang, m) for m in metrics}
    for k, row in enumerate(rows[metrics[0]]):
        entry = row.entry
        cells = []
        for n in names:
            for m in metrics:
                r = rows[m][k]
                score = r.cells.get(n)
                if score is None:
                    cells.append("–")
                    continue
                text = f"{score.score:.2f}" + (f" ± {score.half_width:.2f}" if score.half_width is not None else "")
                cells.append(f"**{text}** ★" if n in r.best else text)
        status = md_text(entry.status) + (f": {md_text(entry.reason)}" if entry.reason and not entry.scored else "")
        reference = ""
        if corpus:
            reference = (md_text(Path(entry.target.path).name) if entry.target is not None else "–") + " | "
        lines.append(f"| {md_text(entry.document)} | {status} | {reference}{entry.paragraphs if entry.scored else ''} | "
                     + " | ".join(cells) + " |")
    return lines


def _render_multi(result: RunResult) -> str:
    metrics = matrix.metrics_of(result)
    pivot = next((d.pivot.lang for d in result.documents if d.pivot is not None), None) \
        or (result.config.get("pivot") or {}).get("lang") or "?"
    lines = [
        f"# {md_text(result.config.get('name', ''))} — {md_text(result.run_id)}",
        "",
        f"evalkit {md_text(result.evalkit_version)}, {md_text(result.created)}. {md_text(language_name(pivot))} "
        f"({md_text(pivot)}) into {', '.join(f'{md_text(language_name(x))} ({md_text(x)})' for x in result.langs)}, "
        f"from {_source(result)}.",
        "",
        "## Languages",
        "",
    ]
    missing = {m.lang: m.reason for m in matrix.missing_languages(result)}
    for lang in result.langs:
        if lang in missing:
            lines.append(f"- {md_text(language_name(lang))} ({md_text(lang)}): **missing** — {md_text(missing[lang])}")
        else:
            lines.append(f"- {md_text(pairing_sentence(result, lang))}.")
    seconds = result.seconds.get("pairing")
    if seconds is not None:
        lines += ["", f"Pairing took {seconds:.1f} s for every language."]
    count, _ = matrix.unpaired_summary(result)
    if count:
        _, every = matrix.unpaired_summary(result, limit=count)
        lines += ["", f"{count} corpus document{'s' if count != 1 else ''} in no pair:", ""]
        lines += _details(f"{count} unpaired documents", [f"- {md_text(x)}" for x in every])
    found = matrix.matrices(result)
    baseline = matrix.baseline_name(result)
    lines += ["", "## Scores", ""]
    if not result.scored_langs:
        lines.append("No language was scored.")
    else:
        tested = any(c.test is not None for m in found for c in m.cells.values())
        lines.append(f"Corpus-level scores per language over the aligned paragraphs of every document, ± half-width of "
                     f"the 95% bootstrap interval (resampled by {md_text(result.resampled_by())}); ★ best in its language"
                     + (f"; Δ and p against {md_code(baseline)} in the same language (paired bootstrap / approximate "
                        f"randomisation, the larger p)." if tested else "."))
        for m in found:
            lines += ["", f"### {md_text(m.metric)}{'' if m.higher_is_better else ' (lower is better)'}", "",
                      "| system | " + " | ".join(md_text(x) for x in m.langs) + " |",
                      "|---|" + "---|" * len(m.langs)]
            for name in m.systems:
                label = md_text(name) + (" (baseline)" if name == baseline else "")
                lines.append(f"| {label} | " + " | ".join(_matrix_cell(c) for c in m.row(name)) + " |")
    numbers = []
    for s in result.systems:
        h = numbers_view.headline(s.corpus_scores.get(numbers_view.METRIC), len(s.paragraphs)) \
            if s.status == "ok" else None
        if h is not None:
            numbers.append(f"- {md_text(s.name)} → {md_text(s.lang)}: F1 {h.f1:.2f}, {md_text(h.sentence())}; "
                           f"{md_text(h.items())}")
    if numbers:
        lines += ["", f"Numbers, dates and names ({md_code(numbers_view.METRIC)}: the pivot's numbers, amounts, dates, "
                      "times and acronyms kept in the candidate, Buddhist-Era years and other conversions counted as kept):",
                  "", *numbers]
    skipped = next((s.significance["skipped"] for s in result.systems if s.significance and "skipped" in s.significance),
                   None)
    if skipped:
        lines += ["", f"No significance tests: {md_text(skipped)}."]
    if result.documents and metrics:
        lines += ["", "## Documents", ""]
        for lang in result.scored_langs:
            table = _document_table(result, lang, metrics)
            entries = result.documents_in(lang)
            lines += [f"### {md_text(language_name(lang))} ({md_text(lang)})", ""]
            lines += _details(f"{len(entries)} documents", table, limit=COLLAPSE + 2)
            lines.append("")
    problems = [s for s in result.systems if s.status != "ok"]
    if problems or result.unavailable_metrics:
        lines += ["", "## Not scored", ""]
        lines += [f"- system {md_code(s.name)} → {md_text(s.lang)}: {md_text(s.status)} — {md_text(s.reason)}"
                  for s in problems]
        lines += [f"- metric {md_code(m)}: {md_text(reason)}" for m, reason in result.unavailable_metrics.items()]
    lines += ["", "## Signatures", ""]
    signatures = {}
    for s in result.systems:
        if s.status == "ok":
            for m in metrics:
                if m in s.corpus_scores:
                    signatures.setdefault((m, s.corpus_scores[m].signature), []).append(s.lang)
    for (m, signature), langs in signatures.items():
        where = "" if len(signatures) == len(metrics) else f" ({', '.join(dict.fromkeys(langs))})"
        lines.append(f"- {md_code(m)}{md_text(where)}: {md_code(signature)}")
    lines += [f"- system {md_code(s.name)} → {md_text(s.lang)}: {md_code(s.signature)}" for s in result.systems
              if s.signature]
    lines += ["", "## Time", ""]
    for s in result.systems:
        t = s.seconds
        lines.append(f"- {md_code(s.name)} → {md_text(s.lang)}: {s.translated} translated, {s.from_cache} from cache; "
                     f"load {t.get('load', 0):.2f} s, generation {t.get('generate', 0):.2f} s, "
                     f"evalkit {t.get('evalkit', 0):.2f} s, scoring {t.get('score', 0):.2f} s")
    return "\n".join(lines) + "\n"
