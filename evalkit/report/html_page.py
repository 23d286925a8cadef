"""One self-contained HTML file per run: header, summary, paragraphs side by side, chart, alignment.

Results are data, reports are views: `render_html(result)` is a pure function of
a RunResult and returns the whole page as a string (the caller writes it).

The page is a Jinja2 template (`templates/report.html.j2`) with its CSS and
script as package files (`static/report.css`, `static/report.js`), inlined so
the report stays one file. This module computes what the template shows (which
rows, which colours, where the chart's points go); the template only lays it out.

The page must be safe to open whatever the corpus and the models produced. The
scraped corpus contains raw `<a …><img …></a>` markup and model output can be
anything, so:

- the template environment autoescapes: every value from the run is HTML-escaped
  (element text and attribute values alike) and appears as text, never as
  markup, with no escaping call to forget; only the CSS, the script and the
  JSON block below are marked safe, and none of them is text from the run;
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

The `numbers` metric's items (numbers, dates, names) are highlighted in the
paragraph texts by their recorded character spans: `numbers_view` cuts each text
into (text, class, title) segments and the template wraps the highlighted ones
in `<mark>` with autoescape like any other value — no markup is ever built by
string concatenation, so an item's text is as inert as the paragraph around it.

A metric's direction comes from run.json (`Score.higher_is_better`), not from the
metric registry: the page renders wherever run.json can be read, without the
metric's package. Files written before the direction was recorded fall back to
`LOWER_IS_BETTER` in results.py.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
from importlib import resources
from pathlib import PurePath
from typing import Any

from evalkit.report import matrix, numbers_view
from evalkit.report.wording import language_name, pairing_sentence
from evalkit.results import ParagraphResult, RunResult, SystemResult

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
# Only for run.json files written before each score recorded its direction.
LOW_CONFIDENCE = 0.5
TEMPLATE = "report.html.j2"


@functools.cache
def static_text(name: str) -> str:
    """A package file under static/ (`report.css`, `report.js`), read on first use, not at import.

    report.js never uses innerHTML: names and numbers reach the page through textContent and new Option() only.
    """
    return resources.files("evalkit.report").joinpath("static", name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- small helpers (also the template's filters)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _num(value: Any, digits: int = 2) -> str:
    v = _finite(value)
    return "" if v is None else f"{v:.{digits}f}"


def _lines(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers))


def _scale(value: float | None, lo: float, hi: float, higher_is_better: bool) -> str:
    """Background colour on a red (worse) → green (better) scale over [lo, hi]."""
    if value is None:
        return ""
    t = 0.5 if hi <= lo else (value - lo) / (hi - lo)
    t = min(1.0, max(0.0, t if higher_is_better else 1.0 - t))
    return f"background:hsl({round(120 * t)},65%,86%)"


def _kv_list(values: Any) -> str:
    return ", ".join(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values)


def _json_for_script(data: Any) -> str:
    """JSON that cannot end or comment out its <script> element: `<`, `>`, `&` (and U+2028/9) as escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


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


def _row_key(p: ParagraphResult, lang: str) -> tuple:
    """A paragraph table row: the same aligned pair in the same language and document, whichever system."""
    return p.lang or lang, p.document, tuple(p.source_lines), tuple(p.reference_lines)


def _nice(value: float) -> float:
    """The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) at or above value: an axis top."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if step * power >= value * (1 - 1e-9))


# ---------------------------------------------------------------- what the template shows


class _View:
    """What every section needs, computed once from the RunResult."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        self.metrics = [m for m in result.config.get("metrics", []) if m not in result.unavailable_metrics]
        self.higher = {m: result.higher_is_better(m) for m in self.metrics}
        self.scored = [s for s in result.systems if s.status == "ok"]
        # The paragraph table's system columns: one per system name (a run over several languages has
        # one entry per system × language; a column holds that system's paragraphs in every language).
        self.columns = list(dict.fromkeys(s.name for s in self.scored))
        self.colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(self.columns)}
        self.baseline = _baseline(result)
        self.multi = matrix.multi(result)
        self.langs = result.langs
        self.problems_shown = any(s.status != "ok" for s in result.systems) or bool(result.unavailable_metrics)
        self.tested = any(s.significance for s in result.systems)
        alpha = next((s.significance.get("alpha") for s in result.systems if s.significance), None)
        self.alpha = alpha if alpha is not None else (result.config.get("statistics") or {}).get("alpha", 0.05)
        # One row per aligned pair, in document order, keyed by its language, document and lines so systems
        # line up even if one of them listed its paragraphs in another order.
        self.rows: list[ParagraphResult] = []
        self.by_system: list[dict[tuple, ParagraphResult]] = []
        seen: set[tuple] = set()
        for name in self.columns:
            own = {}
            for system in self.scored:
                if system.name != name:
                    continue
                for p in system.paragraphs:
                    key = _row_key(p, system.lang)
                    own[key] = p
                    if key not in seen:
                        seen.add(key)
                        self.rows.append(p)
            self.by_system.append(own)
        lang_order = {lang: i for i, lang in enumerate(self.langs)}
        doc_order: dict[str, int] = {}
        for d in result.documents:
            doc_order.setdefault(d.document, len(doc_order))
        self.rows.sort(key=lambda p: (lang_order.get(p.lang, len(lang_order)), doc_order.get(p.document, len(doc_order)),
                                      p.source_lines, p.reference_lines))  # document order
        self.keys = [_row_key(p, p.lang) for p in self.rows]
        # scores[i][j][r]: system column i, metric j, row r (None where missing)
        self.scores = [
            [[_finite(own[k].scores.get(m)) if k in own else None for k in self.keys] for m in self.metrics]
            for own in self.by_system
        ]
        self.range = {}
        for j, m in enumerate(self.metrics):
            values = [v for per_system in self.scores for v in per_system[j] if v is not None]
            self.range[m] = (min(values), max(values)) if values else (0.0, 1.0)
        self._numbers()
        single = result.single_document()
        self.other_language = [] if single is None or single.target is None or single.pivot is None else [
            (side, o) for side, doc in (("pivot", single.pivot), ("reference", single.target))
            for o in doc.other_language_paragraphs]
        if self.multi:
            self.chart_groups = [{"lang": lang, "charts": self._charts([r for r, p in enumerate(self.rows)
                                                                       if p.lang == lang])}
                                 for lang in result.scored_langs]
            self.charts = [c for g in self.chart_groups for c in g["charts"]]
        else:
            self.charts = self._charts(list(range(len(self.rows))))
            self.chart_groups = [{"lang": None, "charts": self.charts}]
        self._languages()

    def _languages(self) -> None:
        """What the many-languages layout shows: the matrices, missing languages, documents and their pairing."""
        result = self.result
        self.matrices = matrix.matrices(result) if self.multi else []
        self.missing = matrix.missing_languages(result) if self.multi else []
        self.sentences = {lang: pairing_sentence(result, lang) for lang in result.langs} if self.multi else {}
        self.unpaired = result.unpaired
        self.documents = result.documents
        self.testset = matrix.testset_name(result)
        self.language_name = language_name
        self.document_rows = {lang: {m: matrix.document_rows(result, lang, m) for m in self.metrics}
                              for lang in result.scored_langs} if self.multi else {}
        self.doc_systems = {lang: [s.name for s in result.systems_in(lang)] for lang in result.scored_langs}
        pivot = next((d.pivot.lang for d in result.documents if d.pivot is not None), None)
        self.pivot_lang = pivot or (result.config.get("pivot") or {}).get("lang") or "?"
        self._missing = {m.lang: m.reason for m in self.missing}

    def missing_reason(self, lang: str) -> str | None:
        return self._missing.get(lang)

    def _numbers(self) -> None:
        """The `numbers` metric's view: highlighted texts per row, lost items per cell, the per-system headline.

        Segments are (text, class, title) built here and rendered by the template with autoescape,
        so an item's text is as inert as the rest of the paragraph. Without the metric's details
        (an older run, a config without it) every text is one plain segment, as before.
        """
        self.numbers_shown = any(numbers_view.details_of(p) is not None for s in self.scored for p in s.paragraphs)
        self.numbers_metric = numbers_view.METRIC if numbers_view.METRIC in self.metrics else None
        self.texts: list[dict[str, Any]] = []
        self.candidates: list[list[list[numbers_view.Segment]]] = [[] for _ in self.columns]
        self.lost: list[list[int | None]] = [[] for _ in self.columns]
        for r, (p, key) in enumerate(zip(self.rows, self.keys)):
            own = [by.get(key) for by in self.by_system]
            if self.numbers_shown:
                self.texts.append({
                    "source": numbers_view.source_segments(p.source, [(name, q) for name, q in zip(self.columns, own)]),
                    "reference": numbers_view.reference_segments(p.reference, own),
                    "flag": numbers_view.reference_flag(own),
                })
            else:
                self.texts.append({"source": [numbers_view.Segment(p.source)],
                                   "reference": [numbers_view.Segment(p.reference)], "flag": None})
            for i, q in enumerate(own):
                details = numbers_view.details_of(q)
                self.candidates[i].append(numbers_view.candidate_segments(q) if q is not None and details is not None
                                          else [numbers_view.Segment(q.candidate if q is not None else "")])
                self.lost[i].append(None if details is None else numbers_view.lost(details))
        self.numbers_summary = []
        for s in self.scored:
            h = numbers_view.headline(s.corpus_scores.get(numbers_view.METRIC), len(s.paragraphs))
            if h is not None:
                cell = self.summary_cell(s, numbers_view.METRIC)
                self.numbers_summary.append({"system": s, "headline": h, "cell": cell})
        self.reference_flags = sum(1 for t in self.texts if t["flag"])

    def lost_in_row(self, r: int) -> bool:
        """Whether any system lost (missing or changed) a pivot item in row r."""
        return any(per_system[r] for per_system in self.lost)

    def arrow(self, metric: str) -> str:
        return "" if self.higher[metric] else " ↓"

    revision = staticmethod(_revision)

    def signatures(self, metric: str, level: str) -> list[str]:
        if level == "corpus":
            return sorted({s.corpus_scores[metric].signature for s in self.scored if metric in s.corpus_scores})
        return sorted({s.paragraph_signatures[metric] for s in self.scored if metric in s.paragraph_signatures})

    def summary_cell(self, system: SystemResult, metric: str) -> dict[str, Any] | None:
        score = system.corpus_scores.get(metric)
        if score is None:
            return None
        low, high = _finite(score.ci_low), _finite(score.ci_high)
        cell: dict[str, Any] = {"score": score.score, "low": low, "high": high,
                                "half_width": None if low is None or high is None else (high - low) / 2, "test": None}
        test = ((system.significance or {}).get("metrics") or {}).get(metric)
        if test:
            p_boot, p_ar = _finite(test.get("p_bootstrap")), _finite(test.get("p_randomization"))
            delta = _finite(test.get("delta"))
            mark = None
            if test.get("significant"):
                mark = "better" if test.get("better") == "system" else "worse"
            cell["test"] = {"p": max(x for x in (p_boot, p_ar, 0.0) if x is not None), "p_bootstrap": p_boot,
                            "p_randomization": p_ar, "delta": "" if delta is None else f"{delta:+.2f}", "mark": mark}
        return cell

    def _charts(self, rows: list[int]) -> list[dict[str, Any]]:
        """Small multiples: one SVG per metric, paragraph index on x, one line of markers per system.

        `rows`: the paragraph table's rows the charts show (one language's, in a run over several);
        each point keeps its row index `r` so its tooltip names the right paragraph.
        """
        n = len(rows)
        if not n or not self.metrics:
            return []
        width, height, left, right, top, bottom = 360, 170, 38, 8, 8, 24
        plot_w, plot_h = width - left - right, height - top - bottom

        def x(r: int) -> float:
            return left + (plot_w / 2 if n == 1 else plot_w * r / (n - 1))

        charts = []
        for j, m in enumerate(self.metrics):
            lo, hi = self.range[m]
            top_value, bottom_value = _nice(max(hi, 1.0)), min(0.0, lo)

            def y(value: float) -> float:
                return top + plot_h * (1 - (value - bottom_value) / ((top_value - bottom_value) or 1))

            series = []
            for i, name in enumerate(self.columns):
                # (position on the axis, row index in the paragraph table, value)
                points = [(k, r, self.scores[i][j][r]) for k, r in enumerate(rows) if self.scores[i][j][r] is not None]
                series.append({
                    "name": name, "colour": self.colour[name],
                    "path": " ".join(f"{x(k):.1f},{y(value):.1f}" for k, _, value in points) if len(points) > 1 else "",
                    "points": [{"r": r, "value": value, "x": f"{x(k):.1f}", "y": f"{y(value):.1f}"}
                               for k, r, value in points],
                })
            charts.append({
                "metric": m, "width": width, "height": height, "left": left, "right": width - right,
                "y_ticks": [{"y": f"{y(t):.1f}", "label_y": f"{y(t) + 3:.1f}", "label": f"{round(t, 2):g}"}
                            for t in (bottom_value, (bottom_value + top_value) / 2, top_value)],
                "x_ticks": [{"x": f"{x(k):.1f}", "label": rows[k] + 1} for k in sorted({0, n - 1, (n - 1) // 2})],
                "series": series,
            })
        return charts

    def data(self) -> dict[str, Any]:
        """What the script reads: names, directions and every paragraph score, by index."""
        return {
            "metrics": [{"name": m, "higher_is_better": self.higher[m]} for m in self.metrics],
            "systems": self.columns,
            "baseline": self.baseline,
            "confidence": [_finite(p.alignment_confidence) for p in self.rows],
            "scores": self.scores,
            # the language and document selectors (a run over several languages or documents)
            "multi": self.multi,
            "langs": [{"code": lang, "name": language_name(lang),
                       "documents": [d.document for d in self.result.documents_in(lang) if d.scored]}
                      for lang in self.result.scored_langs] if self.multi else [],
        }


# ---------------------------------------------------------------- page


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("evalkit.report", "templates"),
        autoescape=True,  # every template here is HTML
        undefined=jinja2.StrictUndefined,  # a misspelt field is an error, not an empty cell
        finalize=lambda value: "" if value is None else value,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_num, lines=_lines, scale=_scale, finite=_finite, kv_list=_kv_list,
                       basename=lambda path: PurePath(path).name)
    return env


def _csp_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def render_html(result: RunResult) -> str:
    """The whole report as one self-contained HTML page (inline CSS and JS, nothing fetched)."""
    from markupsafe import Markup

    v = _View(result)
    css, js = static_text("report.css"), static_text("report.js")
    csp = (f"default-src 'none'; script-src '{_csp_hash(js)}'; style-src 'unsafe-inline'; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    return _environment().get_template(TEMPLATE).render(
        r=result, v=v, csp=csp, low_confidence=LOW_CONFIDENCE,
        # The only values not escaped: package files and JSON whose <, > and & are \u escapes.
        css=Markup(css), js=Markup(js), data_json=Markup(_json_for_script(v.data())),
    )
