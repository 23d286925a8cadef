"""One self-contained HTML file per run: header, summary, paragraphs side by side, chart, alignment.

Results are data, reports are views: `render_html(result)` is a pure function of
a RunResult and returns the whole page as a string (the caller writes it).

The page must be safe to open whatever the corpus and the models produced. The
scraped corpus contains raw `<a …><img …></a>` markup and model output can be
anything, so:

- every piece of text from the run goes through `html.escape` (element text and
  attribute values alike) and appears as text, never as markup;
- the numbers the script needs are embedded as a `<script type="application/json">`
  block (never executed, never concatenated into code) with `<`, `>` and `&`
  written as `\\u003c`-style escapes, so no `</script>` or `<!--` can end it early;
- the script only ever sets `textContent`, never `innerHTML`;
- a Content-Security-Policy allows this file's own script (by its SHA-256) and
  inline styles, and nothing else: no other script runs and nothing is fetched,
  which also keeps the page working from file:// with no network.

The tables, scores, colours and the chart are in the markup, so the report reads
the same without JavaScript; the script only adds sorting, filtering, the
difference column and the "worst first" control.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from html import escape
from pathlib import PurePath
from typing import Any

from evalkit.results import ParagraphResult, RunResult, Score, SystemResult

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
LOWER_IS_BETTER = frozenset({"ter"})  # used only when the metric's class cannot be looked up
LOW_CONFIDENCE = 0.5


# ---------------------------------------------------------------- small helpers


def _e(value: Any) -> str:
    """Escape anything for element text or a double-quoted attribute value."""
    return escape("" if value is None else str(value), quote=True)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _num(value: Any, digits: int = 2) -> str:
    v = _finite(value)
    return "" if v is None else f"{v:.{digits}f}"


def _lines(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers))


def _higher_is_better(metric: str) -> bool:
    """The metric class's own direction (TER: lower is better); a name list where the class is not importable."""
    from evalkit.scorers import METRICS

    if metric in METRICS:
        try:
            return bool(METRICS.get(metric).higher_is_better)
        except ImportError:  # a run.json made where an optional metric package was installed
            pass
    return metric not in LOWER_IS_BETTER


def _scale(value: float | None, lo: float, hi: float, higher_is_better: bool) -> str:
    """Background colour on a red (worse) → green (better) scale over [lo, hi]."""
    if value is None:
        return ""
    t = 0.5 if hi <= lo else (value - lo) / (hi - lo)
    t = min(1.0, max(0.0, t if higher_is_better else 1.0 - t))
    return f"background:hsl({round(120 * t)},65%,86%)"


def _json_for_script(data: Any) -> str:
    """JSON that cannot end or comment out its <script> element: `<`, `>`, `&` (and U+2028/9) as escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def _kv(value: Any) -> str:
    """Nested dicts (model_info, cache state) as nested definition lists."""
    if isinstance(value, dict):
        if not value:
            return '<span class="dim">—</span>'
        items = "".join(f"<dt>{_e(k)}</dt><dd>{_kv(v)}</dd>" for k, v in value.items())
        return f'<dl class="kv">{items}</dl>'
    if isinstance(value, (list, tuple)):
        return _e(", ".join(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v for v in value))
    if value is None:
        return '<span class="dim">none</span>'
    return _e(value)


def _revision(system: SystemResult) -> str | None:
    revision = (system.model_info or {}).get("revision")
    if revision:
        return str(revision)
    for part in (system.signature or "").split("|"):
        if part.startswith("revision:"):
            return part.removeprefix("revision:")
    return None


def _baseline(result: RunResult) -> str | None:
    """The system the others were tested against: as recorded, else the config's rule (copy, else the first)."""
    if result.baseline:
        return result.baseline
    for system in result.systems:  # run.json written before `baseline` was recorded
        if system.significance and system.significance.get("baseline"):
            return system.significance["baseline"]
    named = (result.config.get("statistics") or {}).get("baseline")
    if named:
        return named
    configured = result.config.get("systems") or []
    return next((s.get("name") for s in configured if s.get("backend") == "copy"),
                configured[0].get("name") if configured else None)


class _View:
    """What every section needs, computed once from the RunResult."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        self.metrics = [m for m in result.config.get("metrics", []) if m not in result.unavailable_metrics]
        recorded = {m: s.higher_is_better for system in result.systems for m, s in system.corpus_scores.items()
                    if s.higher_is_better is not None}
        self.higher = {m: recorded[m] if m in recorded else _higher_is_better(m) for m in self.metrics}
        self.scored = [s for s in result.systems if s.status == "ok"]
        self.colour = {s.name: PALETTE[i % len(PALETTE)] for i, s in enumerate(self.scored)}
        self.baseline = _baseline(result)
        # One row per aligned pair, in document order, keyed by its lines so systems line up even if
        # one of them listed its paragraphs in another order.
        self.rows: list[ParagraphResult] = []
        self.by_system: list[dict[tuple, ParagraphResult]] = []
        seen: set[tuple] = set()
        for system in self.scored:
            own = {}
            for p in system.paragraphs:
                key = (tuple(p.source_lines), tuple(p.reference_lines))
                own[key] = p
                if key not in seen:
                    seen.add(key)
                    self.rows.append(p)
            self.by_system.append(own)
        self.rows.sort(key=lambda p: (p.source_lines, p.reference_lines))  # document order
        self.keys = [(tuple(p.source_lines), tuple(p.reference_lines)) for p in self.rows]
        # scores[i][j][r]: system i, metric j, row r (None where missing)
        self.scores = [
            [[_finite(own[k].scores.get(m)) if k in own else None for k in self.keys] for m in self.metrics]
            for own in self.by_system
        ]
        self.range = {}
        for j, m in enumerate(self.metrics):
            values = [v for per_system in self.scores for v in per_system[j] if v is not None]
            self.range[m] = (min(values), max(values)) if values else (0.0, 1.0)

    def arrow(self, metric: str) -> str:
        return "" if self.higher[metric] else " ↓"


# ---------------------------------------------------------------- sections


def _header(v: _View) -> str:
    r = v.result
    cfg = r.config
    seconds = " · ".join(f"{_e(k)} {_num(s)} s" for k, s in r.seconds.items()) or "not recorded"
    docs = []
    for label, doc in (("pivot (source)", r.pivot), ("reference", r.target)):
        detected = "" if doc.detected_lang is None else f"detected {_e(doc.detected_lang)} ({_num(doc.lang_confidence)})"
        docs.append(
            f"<tr><th scope=\"row\">{label}</th><td><code>{_e(PurePath(doc.path).name)}</code>"
            f'<div class="dim path">{_e(doc.path)}</div></td><td>{_e(doc.lang)}</td><td>{detected}</td>'
            f'<td class="num">{_e(doc.paragraphs)}</td><td class="num">{len(doc.dropped)}</td></tr>'
        )
    problems = []
    for s in r.systems:
        if s.status != "ok":
            problems.append(f'<li class="problem" data-system="{_e(s.name)}"><b>system {_e(s.name)}</b>: '
                            f'<span class="status">{_e(s.status)}</span> — {_e(s.reason)}</li>')
    for metric, reason in r.unavailable_metrics.items():
        problems.append(f'<li class="problem" data-metric="{_e(metric)}"><b>metric {_e(metric)}</b>: '
                        f'<span class="status">unavailable</span> — {_e(reason)}</li>')
    problem_list = f'<ul class="problems">{"".join(problems)}</ul>' if problems else ""
    return f"""<header>
<h1>evalkit report: {_e(cfg.get("name"))}</h1>
<p class="meta">run <code>{_e(r.run_id)}</code> · {_e(r.created)} · evalkit {_e(r.evalkit_version)} ·
run.json schema {_e(r.schema_version)} · time: {seconds}</p>
{problem_list}
<table class="docs"><thead><tr><th></th><th>file</th><th>language</th><th>detected</th>
<th class="num">paragraphs kept</th><th class="num">lines dropped</th></tr></thead>
<tbody>{"".join(docs)}</tbody></table>
<nav><a href="#summary">summary</a> · <a href="#systems">systems</a> · <a href="#metrics">metrics</a> ·
<a href="#chart">chart</a> · <a href="#paragraphs">paragraphs</a> · <a href="#alignment">alignment</a></nav>
</header>"""


def _summary_cell(v: _View, system: SystemResult, metric: str) -> str:
    score: Score | None = system.corpus_scores.get(metric)
    if score is None:
        return '<td class="num dim">—</td>'
    parts = [f'<span class="score">{_num(score.score)}</span>']
    low, high = _finite(score.ci_low), _finite(score.ci_high)
    if low is not None and high is not None:
        parts.append(f' <span class="pm">± {_num((high - low) / 2)}</span>'
                     f'<div class="ci">95% CI {_num(low)}–{_num(high)}</div>')
    test = ((system.significance or {}).get("metrics") or {}).get(metric)
    if test:
        p_boot, p_ar = _finite(test.get("p_bootstrap")), _finite(test.get("p_randomization"))
        p = max(x for x in (p_boot, p_ar, 0.0) if x is not None)
        better = test.get("better")
        mark = ""
        if test.get("significant"):
            mark = ('<span class="sig better" title="significantly better than the baseline">* better</span>'
                    if better == "system" else
                    '<span class="sig worse" title="significantly worse than the baseline">* worse</span>')
        detail = f"bootstrap {_num(p_boot, 3)}" + (f", randomisation {_num(p_ar, 3)}" if p_ar is not None else "")
        delta = _finite(test.get("delta"))
        parts.append(f'<div class="delta">Δ {"" if delta is None else f"{delta:+.2f}"} · p = {_num(p, 3)} {mark}'
                     f'<div class="dim">{detail}</div></div>')
    return f'<td class="num" data-v="{_num(score.score, 6)}">{"".join(parts)}</td>'


def _summary(v: _View) -> str:
    r = v.result
    alpha = next((s.significance.get("alpha") for s in r.systems if s.significance), None)
    alpha = alpha if alpha is not None else (r.config.get("statistics") or {}).get("alpha", 0.05)
    caption = "Document scores over the aligned paragraphs, ± half-width of the 95% bootstrap interval"
    if any(s.significance for s in r.systems):
        caption += (f"; Δ and p against the baseline {_e(v.baseline)} (paired bootstrap and approximate "
                    f"randomisation, the larger p shown; * both significant at {_e(alpha)})")
    caption += ". ↓ lower is better."
    head = "".join(
        f'<th scope="col" class="num" data-metric="{_e(m)}">{_e(m)}{v.arrow(m)}'
        f'{"" if v.higher[m] else "<div class=dim>lower is better</div>"}</th>'
        for m in v.metrics
    )
    rows = []
    for s in r.systems:
        label = _e(s.name) + (' <span class="tag">baseline</span>' if s.name == v.baseline else "")
        if s.status != "ok":
            rows.append(f'<tr class="unavailable" data-system="{_e(s.name)}"><th scope="row">{label}</th>'
                        f'<td colspan="{max(1, len(v.metrics))}"><span class="status">{_e(s.status)}</span>: '
                        f"{_e(s.reason)}</td></tr>")
            continue
        cells = "".join(_summary_cell(v, s, m) for m in v.metrics)
        rows.append(f'<tr data-system="{_e(s.name)}"><th scope="row">{label}</th>{cells}</tr>')
    return f"""<section id="summary"><h2>Summary</h2>
<table class="summary"><caption>{caption}</caption>
<thead><tr><th scope="col">system</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></section>"""


def _systems(v: _View) -> str:
    rows = []
    for s in v.result.systems:
        sec = s.seconds or {}
        timing = "<br>".join(f"{_e(k)} {_num(x)} s" for k, x in sec.items()) or "—"
        model = _e(s.model) if s.model else '<span class="dim">—</span>'
        revision = _revision(s)
        rows.append(
            f'<tr data-system="{_e(s.name)}"><th scope="row">{_e(s.name)}</th><td>{_e(s.backend)}</td>'
            f'<td>{model}</td><td>{_e(revision) if revision else "<span class=dim>unknown</span>" if s.model else ""}</td>'
            f'<td><span class="status {_e(s.status)}">{_e(s.status)}</span>'
            f'{"" if s.reason is None else "<div>" + _e(s.reason) + "</div>"}</td>'
            f'<td class="num">{_e(s.translated)}</td><td class="num">{_e(s.from_cache)}</td><td class="nowrap">{timing}</td>'
            f'<td><code class="sig">{_e(s.signature)}</code>'
            f'<details><summary>model info</summary>{_kv(s.model_info)}</details></td></tr>'
        )
    return f"""<section id="systems"><h2>Systems</h2>
<table class="systems"><thead><tr><th>system</th><th>backend</th><th>model</th><th>revision</th><th>status</th>
<th class="num">translated</th><th class="num">from cache</th><th>seconds</th><th>signature, model info</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></section>"""


def _metrics(v: _View) -> str:
    rows = []
    for m in v.metrics:
        corpus = sorted({s.corpus_scores[m].signature for s in v.scored if m in s.corpus_scores})
        paragraph = sorted({s.paragraph_signatures[m] for s in v.scored if m in s.paragraph_signatures})
        lo, hi = v.range[m]
        worst, best = (lo, hi) if v.higher[m] else (hi, lo)
        rows.append(
            f'<tr data-metric="{_e(m)}"><th scope="row">{_e(m)}{v.arrow(m)}</th>'
            f'<td>{"higher" if v.higher[m] else "lower"} is better</td>'
            f'<td>{"<br>".join(f"<code>{_e(x)}</code>" for x in corpus)}</td>'
            f'<td>{"<br>".join(f"<code>{_e(x)}</code>" for x in paragraph)}</td>'
            f'<td><span class="swatch" style="{_scale(worst, lo, hi, v.higher[m])}">{_num(worst)}</span> → '
            f'<span class="swatch" style="{_scale(best, lo, hi, v.higher[m])}">{_num(best)}</span></td></tr>'
        )
    for m, reason in v.result.unavailable_metrics.items():
        rows.append(f'<tr class="unavailable" data-metric="{_e(m)}"><th scope="row">{_e(m)}</th>'
                    f'<td colspan="4"><span class="status">unavailable</span>: {_e(reason)}</td></tr>')
    return f"""<section id="metrics"><h2>Metrics</h2>
<table class="metrics"><thead><tr><th>metric</th><th>direction</th><th>document signature</th>
<th>paragraph signature</th><th>paragraph colour scale (worst → best)</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></section>"""


def _nice(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at or above value: an axis top."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value * (1 - 1e-9))


def _chart(v: _View) -> str:
    """Small multiples: one SVG per metric, paragraph index on x, one line of markers per system."""
    n = len(v.rows)
    if not n or not v.metrics:
        return '<section id="chart"><h2>Scores by paragraph</h2><p class="dim">No scored paragraphs.</p></section>'
    width, height, left, right, top, bottom = 360, 170, 38, 8, 8, 24
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(r: int) -> float:
        return left + (plot_w / 2 if n == 1 else plot_w * r / (n - 1))

    figures = []
    for j, m in enumerate(v.metrics):
        lo, hi = v.range[m]
        top_value, bottom_value = _nice(max(hi, 1.0)), min(0.0, lo)

        def y(value: float) -> float:
            return top + plot_h * (1 - (value - bottom_value) / ((top_value - bottom_value) or 1))

        parts = []
        for tick in (bottom_value, (bottom_value + top_value) / 2, top_value):
            parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
                         f'<text class="tick" x="{left - 4}" y="{y(tick) + 3:.1f}" text-anchor="end">{round(tick, 2):g}</text>')
        for r in sorted({0, n - 1, (n - 1) // 2}):
            parts.append(f'<text class="tick" x="{x(r):.1f}" y="{height - 8}" text-anchor="middle">{r + 1}</text>')
        for i, s in enumerate(v.scored):
            colour = v.colour[s.name]
            points = [(r, value) for r, value in enumerate(v.scores[i][j]) if value is not None]
            if len(points) > 1:
                path = " ".join(f"{x(r):.1f},{y(value):.1f}" for r, value in points)
                parts.append(f'<polyline class="series" points="{path}" stroke="{colour}"/>')
            for r, value in points:
                parts.append(f'<circle cx="{x(r):.1f}" cy="{y(value):.1f}" r="2.6" fill="{colour}">'
                             f"<title>{_e(s.name)} · paragraph {r + 1} (pivot line {_e(_lines(v.rows[r].source_lines))})"
                             f" · {_e(m)} {_num(value)}</title></circle>")
        figures.append(
            f'<figure><figcaption>{_e(m)}{v.arrow(m)} by paragraph</figcaption>'
            f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{_e(m)} of each system by paragraph index">{"".join(parts)}</svg></figure>'
        )
    legend = "".join(f'<li><span class="key" style="background:{v.colour[s.name]}"></span>{_e(s.name)}</li>'
                     for s in v.scored)
    return f"""<section id="chart"><h2>Scores by paragraph</h2>
<ul class="legend">{legend}</ul><div class="charts">{"".join(figures)}</div></section>"""


def _paragraphs(v: _View) -> str:
    if not v.rows:
        return '<section id="paragraphs"><h2>Paragraphs</h2><p class="dim">No system produced scores.</p></section>'
    nm = len(v.metrics)
    top = ['<th rowspan="2" data-sort="idx" scope="col" class="num">#</th>',
           '<th rowspan="2" scope="col" class="num">pivot line</th>',
           '<th rowspan="2" scope="col" class="num">ref. line</th>',
           '<th rowspan="2" data-sort="conf" scope="col" class="num">align. conf.</th>',
           '<th rowspan="2" scope="col">source</th>', '<th rowspan="2" scope="col">reference</th>']
    second = []
    for i, s in enumerate(v.scored):
        top.append(f'<th colspan="{nm + 1}" scope="colgroup" class="sys" data-system="{_e(s.name)}">'
                   f'<span class="key" style="background:{v.colour[s.name]}"></span>{_e(s.name)}'
                   f'{" (baseline)" if s.name == v.baseline else ""}</th>')
        second.append('<th scope="col" class="sysstart">candidate</th>')
        for j, m in enumerate(v.metrics):
            second.append(f'<th scope="col" class="num" data-sort="s:{i}:{j}" data-system="{_e(s.name)}" '
                          f'data-metric="{_e(m)}" title="sort by {_e(s.name)} {_e(m)}">{_e(m)}{v.arrow(m)}</th>')
    body = []
    for r, p in enumerate(v.rows):
        conf = _finite(p.alignment_confidence)
        low = conf is not None and conf < LOW_CONFIDENCE
        cells = [
            f'<td class="num">{r + 1}</td>',
            f'<td class="num">{_e(_lines(p.source_lines))}</td>',
            f'<td class="num">{_e(_lines(p.reference_lines))}</td>',
            f'<td class="num{" low" if low else ""}" data-col="conf" data-v="{_num(conf, 6)}" '
            f'style="{_scale(conf, 0.0, 1.0, True)}">{_num(conf)}{" ⚠" if low else ""}</td>',
            f'<td class="txt">{_e(p.source)}</td>',
            f'<td class="txt">{_e(p.reference)}</td>',
        ]
        for i, own in enumerate(v.by_system):
            q = own.get(v.keys[r])
            if q is None:
                cells.append('<td class="txt sysstart dim">not scored</td>' + '<td class="num"></td>' * nm)
                continue
            notes = getattr(q, "notes", None) or []
            note = "".join(f'<div class="note">† {_e(n)}</div>' for n in notes)
            cells.append(f'<td class="txt sysstart">{_e(q.candidate)}{note}</td>')
            for j, m in enumerate(v.metrics):
                value = v.scores[i][j][r]
                lo, hi = v.range[m]
                cells.append(f'<td class="num" data-col="s:{i}:{j}" data-v="{_num(value, 6)}" '
                             f'style="{_scale(value, lo, hi, v.higher[m])}">'
                             f"{_num(value)}</td>")
        body.append(f'<tr data-r="{r}">{"".join(cells)}</tr>')
    controls = """<div id="controls" class="controls" hidden>
<label>filter <input id="filter" type="search" placeholder="text in source, reference or a candidate"></label>
<span id="count" class="dim"></span>
<span class="group"><label>system <select id="sys-a"></select></label> − <label><select id="sys-b"></select></label>
<label>on <select id="metric"></select></label>
<button id="sort-delta" type="button">sort by difference</button>
<button id="worst" type="button">worst first (left system)</button>
<button id="reset" type="button">document order</button></span>
</div>
<noscript><p class="dim">Sorting, filtering and the difference column need JavaScript; the table is complete without it.</p></noscript>"""
    return f"""<section id="paragraphs"><h2>Paragraphs</h2>
<p class="dim">One row per aligned pair; every system's candidate and paragraph scores side by side. Cells are
coloured per metric from worst (red) to best (green) over all systems (see <a href="#metrics">metrics</a>).
Click a column header to sort. {"" if not v.scored else "Alignment confidence below " + str(LOW_CONFIDENCE) + " is marked ⚠."}</p>
{controls}
<div class="scroll"><table id="paragraph-table" class="paragraphs">
<thead><tr>{"".join(top)}</tr><tr>{"".join(second)}</tr></thead>
<tbody>{"".join(body)}</tbody></table></div></section>"""


def _alignment(v: _View) -> str:
    a, r = v.result.alignment, v.result
    verdict = "a translation of the pivot" if a.is_translation else "NOT a translation of the pivot"
    pairs = "".join(
        f'<tr><td class="num">{k}</td><td class="num">{_e(_lines(p.get("source_lines", [])))}</td>'
        f'<td class="num">{_e(_lines(p.get("target_lines", [])))}</td>'
        f'<td class="num" style="{_scale(_finite(p.get("confidence")), 0.0, 1.0, True)}">{_num(p.get("confidence"))}'
        f'{" ⚠" if (_finite(p.get("confidence")) or 0.0) < LOW_CONFIDENCE else ""}</td></tr>'
        for k, p in enumerate(a.pairs, start=1)
    )
    dropped = "".join(
        f'<tr><td>{side}</td><td class="num">{_e(d.get("line"))}</td><td>{_e(d.get("reason"))}</td>'
        f'<td class="txt">{_e(d.get("text"))}</td></tr>'
        for side, doc in (("pivot", r.pivot), ("reference", r.target)) for d in doc.dropped
    )
    other = "".join(
        f"<li>{side} line {_e(o.get('line'))}: {_e(o.get('lang'))}</li>"
        for side, doc in (("pivot", r.pivot), ("reference", r.target)) for o in doc.other_language_paragraphs
    )

    def numbers(values: list[int]) -> str:
        return _e(_lines(values)) if values else '<span class="dim">none</span>'

    return f"""<section id="alignment"><h2>Alignment</h2>
<p class="verdict {"ok" if a.is_translation else "bad"}">The reference was judged {verdict}
(pairing score {_num(a.pairing_score)}): {_e(a.pairing_reason)}</p>
<p>{len(a.pairs)} aligned pairs scored. Unmatched, never scored: pivot lines {numbers(a.unmatched_source_lines)};
reference lines {numbers(a.unmatched_target_lines)}.</p>
{f'<p>Kept paragraphs detected as another language:</p><ul>{other}</ul>' if other else ""}
<div class="two">
<table class="pairs"><caption>pairs (line numbers are 1-based lines of the original files)</caption>
<thead><tr><th class="num">#</th><th class="num">pivot lines</th><th class="num">reference lines</th>
<th class="num">confidence</th></tr></thead><tbody>{pairs}</tbody></table>
<table class="dropped"><caption>{len(r.pivot.dropped)} pivot + {len(r.target.dropped)} reference lines dropped before
alignment</caption><thead><tr><th>file</th><th class="num">line</th><th>reason</th><th>text</th></tr></thead>
<tbody>{dropped}</tbody></table>
</div></section>"""


def _data(v: _View) -> dict[str, Any]:
    return {
        "metrics": [{"name": m, "higher_is_better": v.higher[m]} for m in v.metrics],
        "systems": [s.name for s in v.scored],
        "baseline": v.baseline,
        "confidence": [_finite(p.alignment_confidence) for p in v.rows],
        "scores": v.scores,
    }


# ---------------------------------------------------------------- page

CSS = """
:root{--line:#d0d4da;--dim:#5c6470;--head:#f3f5f8}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Thai",sans-serif;margin:0 auto;
padding:16px 24px 48px;color:#1d232b;max-width:none}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line)}
code{font:12px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
table{border-collapse:collapse;margin:.4em 0}caption{text-align:left;color:var(--dim);padding:.2em 0;caption-side:top}
th,td{border:1px solid var(--line);padding:3px 6px;vertical-align:top}thead th{background:var(--head);text-align:left}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.dim{color:var(--dim)}.nowrap{white-space:nowrap}.path{font-size:11px}.meta{color:var(--dim);margin:.2em 0 .8em}
.problems{background:#fff6e0;border:1px solid #e8c46a;padding:.5em .5em .5em 2em;margin:.5em 0}
.status{font-weight:600;color:#a15c00}.status.ok{color:#1e7a34}
.tag{font-size:11px;background:#e6eaf0;border-radius:3px;padding:0 4px;font-weight:normal}
.summary td{min-width:9em}.score{font-weight:600;font-size:1.05em}.pm,.ci{color:var(--dim)}.ci{font-size:11px}
.delta{font-size:12px;margin-top:2px}.delta .dim{font-size:11px}
.sig{font-weight:700}.sig.better{color:#1e7a34}.sig.worse{color:#b3261e}
.kv{display:grid;grid-template-columns:auto 1fr;gap:0 8px;margin:2px 0;font-size:12px}.kv dt{color:var(--dim)}.kv dd{margin:0}
.systems code.sig{font-weight:normal;display:block;max-width:36em}
.swatch{padding:0 4px;border-radius:3px}
.legend{list-style:none;padding:0;display:flex;gap:16px;flex-wrap:wrap}
.key{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;vertical-align:baseline}
.charts{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}figcaption{font-size:12px;color:var(--dim)}
svg .grid{stroke:#e3e6ea;stroke-width:1}svg .tick{font-size:10px;fill:var(--dim)}
svg .series{fill:none;stroke-width:1.4;stroke-opacity:.75}
.controls{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin:.5em 0;padding:6px 8px;background:var(--head);
border:1px solid var(--line)}.controls[hidden]{display:none}
.controls input[type=search]{width:22em}
.scroll{overflow-x:auto;max-width:100%}
.paragraphs{font-size:13px}
.paragraphs .txt{min-width:16em;max-width:30em;overflow-wrap:anywhere}
.paragraphs th.sys{text-align:center}.sysstart{border-left:2px solid #9aa3ad}
th[data-sort]{cursor:pointer;user-select:none}th[data-sort]:hover{background:#e4e9f0}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
td.low{font-weight:700}.note{font-size:11px;color:#a15c00;margin-top:3px}
.two{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}.dropped .txt{max-width:40em;overflow-wrap:anywhere}
.verdict.ok{color:#1e7a34}.verdict.bad{color:#b3261e;font-weight:700}
nav{margin:.6em 0;font-size:13px}
"""

# No innerHTML anywhere: names and numbers reach the page through textContent and new Option() only.
JS = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("evalkit-data").textContent);
  var table = document.getElementById("paragraph-table");
  if (!table || !data.systems.length) return;
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  var headRows = table.tHead.rows;
  var $ = function (id) { return document.getElementById(id); };
  var sysA = $("sys-a"), sysB = $("sys-b"), metricSel = $("metric"), filter = $("filter"), count = $("count");
  var metrics = data.metrics;

  data.systems.forEach(function (name, i) {
    sysA.appendChild(new Option(name, String(i)));
    sysB.appendChild(new Option(name, String(i)));
  });
  metrics.forEach(function (m, j) { metricSel.appendChild(new Option(m.name, String(j))); });
  var base = data.systems.indexOf(data.baseline);
  sysB.value = String(base >= 0 ? base : 0);
  sysA.value = String(data.systems.length > 1 && (base === 0 || base < 0) ? 1 : 0);

  // The difference column: created here, so the page without script has no empty column.
  var deltaHead = document.createElement("th");
  deltaHead.rowSpan = 2;
  deltaHead.className = "num";
  deltaHead.setAttribute("data-sort", "delta");
  headRows[0].appendChild(deltaHead);
  var deltaCells = rows.map(function (row) {
    var td = document.createElement("td");
    td.className = "num";
    row.appendChild(td);
    return td;
  });

  function score(r, i, j) {
    var v = data.scores[i][j][r];
    return v === null || v === undefined ? null : v;
  }
  function delta(r) {
    var a = score(r, +sysA.value, +metricSel.value), b = score(r, +sysB.value, +metricSel.value);
    return a === null || b === null ? null : a - b;
  }
  function value(row, key) {
    var r = +row.getAttribute("data-r");
    if (key === "idx") return r;
    if (key === "conf") return data.confidence[r];
    if (key === "delta") return delta(r);
    var parts = key.split(":");
    return score(r, +parts[1], +parts[2]);
  }
  function updateDelta() {
    var m = metrics[+metricSel.value];
    deltaHead.textContent = "Δ " + data.systems[+sysA.value] + " − " + data.systems[+sysB.value] + " (" + m.name + ")";
    rows.forEach(function (row, k) {
      var d = delta(+row.getAttribute("data-r"));
      var td = deltaCells[k];
      td.textContent = d === null ? "" : (d > 0 ? "+" : "") + d.toFixed(2);
      td.style.background = d === null || d === 0 ? "" : ((d > 0) === m.higher_is_better ? "#d7f0dc" : "#f6d6d3");
    });
  }

  var sortable = Array.prototype.slice.call(table.querySelectorAll("th[data-sort]"));
  var current = {key: "idx", dir: 1};
  function sortBy(key, dir) {
    var keyed = rows.map(function (row) { return [value(row, key), +row.getAttribute("data-r"), row]; });
    keyed.sort(function (a, b) {
      if (a[0] === null || b[0] === null) return a[0] === null ? (b[0] === null ? a[1] - b[1] : 1) : -1;
      return (a[0] - b[0]) * dir || a[1] - b[1];
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (k) { fragment.appendChild(k[2]); });
    tbody.appendChild(fragment);
    current = {key: key, dir: dir};
    sortable.forEach(function (th) {
      if (th.getAttribute("data-sort") === key) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
  }
  sortable.forEach(function (th) {
    th.tabIndex = 0;
    var go = function () {
      var key = th.getAttribute("data-sort");
      sortBy(key, current.key === key ? -current.dir : 1);
    };
    th.addEventListener("click", go);
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); go(); }
    });
  });

  function refresh() {
    updateDelta();
    if (current.key === "delta") sortBy("delta", current.dir);
  }
  [sysA, sysB, metricSel].forEach(function (el) { el.addEventListener("change", refresh); });
  $("sort-delta").addEventListener("click", function () {
    sortBy("delta", current.key === "delta" ? -current.dir : 1);
  });
  $("worst").addEventListener("click", function () {
    var j = +metricSel.value;
    sortBy("s:" + sysA.value + ":" + j, metrics[j].higher_is_better ? 1 : -1);
  });
  $("reset").addEventListener("click", function () { sortBy("idx", 1); });

  function applyFilter() {
    var q = filter.value.trim().toLowerCase(), shown = 0;
    rows.forEach(function (row, k) {
      var keep = !q || texts[k].indexOf(q) >= 0;
      row.hidden = !keep;
      if (keep) shown++;
    });
    count.textContent = shown + " of " + rows.length + " pairs shown";
  }
  filter.addEventListener("input", applyFilter);

  updateDelta();
  applyFilter();
  $("controls").hidden = false;
})();
"""


def _csp_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def render_html(result: RunResult) -> str:
    """The whole report as one self-contained HTML page (inline CSS and JS, nothing fetched)."""
    v = _View(result)
    csp = (f"default-src 'none'; script-src '{_csp_hash(JS)}'; style-src 'unsafe-inline'; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="evalkit {_e(result.evalkit_version)}">
<title>evalkit · {_e(result.config.get("name"))} · {_e(result.run_id)}</title>
<link rel="icon" href="data:,">
<style>{CSS}</style>
</head>
<body>
{_header(v)}
<main>
{_summary(v)}
{_systems(v)}
{_metrics(v)}
{_chart(v)}
{_paragraphs(v)}
{_alignment(v)}
</main>
<script type="application/json" id="evalkit-data">{_json_for_script(_data(v))}</script>
<script>{JS}</script>
</body>
</html>
"""
