"""The systems × languages matrix every report shows for a run over several target languages.

One matrix per metric: rows are systems (in the order the run lists them),
columns are the target languages that were scored, and each cell is the
system's corpus score in that language with its CI half-width, its test
against the baseline *in the same language*, whether it is the best of its
column (in the metric's direction) — or, when the system did not produce
scores in that language, its status and reason. The terminal, summary.md and
report.html all render this one structure, so they cannot disagree on which
cell is best or what a missing cell means.

Languages with no scored document (no translation in the corpus) are not
columns: they are listed with their reason (`missing_languages`).

It also holds the small per-document view (documents × systems on one
metric) and the helpers that say whether a run needs the multi-language
layout at all: a run over one language and one document keeps the reports it
always had.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evalkit.results import DocumentEntry, RunResult, Score, SystemResult

# Two scores closer than this are the same best (ties are all marked).
_TIE = 1e-9


@dataclass(frozen=True)
class Cell:
    """One system in one language on one metric."""

    system: str
    lang: str
    status: str  # the system's status in this language: ok | unavailable | failed | absent (never run there)
    reason: str | None = None
    score: Score | None = None  # None when the system has no score in this language (not ok, or metric missing)
    test: tuple[float, float, bool] | None = None  # (delta, p, significant) against the baseline in this language
    best: bool = False

    @property
    def value(self) -> float | None:
        return None if self.score is None else self.score.score

    @property
    def half_width(self) -> float | None:
        return None if self.score is None else self.score.half_width

    def text(self, digits: int = 2, test: bool = True) -> str:
        """'45.20 ± 1.10' (and ' Δ +2.00 p=0.010*' with the test) or the status where there is no score."""
        if self.score is None:
            return self.status if self.status != "ok" else "–"
        out = f"{self.score.score:.{digits}f}"
        if self.half_width is not None:
            out += f" ± {self.half_width:.{digits}f}"
        if test and self.test is not None:
            delta, p, significant = self.test
            out += f" Δ {delta:+.{digits}f} p={p:.3f}{'*' if significant else ''}"
        return out


@dataclass(frozen=True)
class Matrix:
    metric: str
    higher_is_better: bool
    systems: list[str]
    langs: list[str]
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)  # (system, lang) → cell

    def cell(self, system: str, lang: str) -> Cell:
        return self.cells[(system, lang)]

    def row(self, system: str) -> list[Cell]:
        return [self.cells[(system, lang)] for lang in self.langs]


def multi(result: RunResult) -> bool:
    """Whether the run needs the many-languages / many-documents layout (else: the reports it always had)."""
    return len(result.langs) > 1 or result.single_document() is None


def metrics_of(result: RunResult) -> list[str]:
    """The run's metrics that were computed, in config order."""
    return [m for m in result.config.get("metrics", []) if m not in result.unavailable_metrics]


def system_names(result: RunResult) -> list[str]:
    """Every system once, in the order the run lists them."""
    return list(dict.fromkeys(s.name for s in result.systems))


def baseline_name(result: RunResult) -> str | None:
    if result.baseline:
        return result.baseline
    return next((s.significance["baseline"] for s in result.systems
                 if s.significance and s.significance.get("baseline")), None)


def _entry(result: RunResult, name: str, lang: str) -> SystemResult | None:
    return next((s for s in result.systems if s.name == name and s.lang == lang), None)


def build(result: RunResult, metric: str) -> Matrix:
    """The matrix of one metric over the run's scored languages."""
    higher = result.higher_is_better(metric)
    names, langs = system_names(result), result.scored_langs
    cells: dict[tuple[str, str], Cell] = {}
    for lang in langs:
        column: dict[str, Cell] = {}
        for name in names:
            s = _entry(result, name, lang)
            if s is None:
                column[name] = Cell(name, lang, "absent", "not run in this language")
            elif s.status != "ok":
                column[name] = Cell(name, lang, s.status, s.reason)
            else:
                column[name] = Cell(name, lang, "ok", None, s.corpus_scores.get(metric), s.baseline_test(metric))
        values = [c.value for c in column.values() if c.value is not None]
        if len(values) > 1:
            best = max(values) if higher else min(values)
            column = {n: Cell(c.system, c.lang, c.status, c.reason, c.score, c.test,
                              c.value is not None and abs(c.value - best) <= _TIE) for n, c in column.items()}
        for name, c in column.items():
            cells[(name, lang)] = c
    return Matrix(metric, higher, names, langs, cells)


def matrices(result: RunResult) -> list[Matrix]:
    return [build(result, m) for m in metrics_of(result)]


@dataclass(frozen=True)
class Missing:
    lang: str
    reason: str


def missing_languages(result: RunResult) -> list[Missing]:
    """Target languages with nothing scored, with the reason the pairing gave."""
    scored = set(result.scored_langs)
    out = []
    for entry in result.languages:
        if entry.status != "ok" or entry.lang not in scored:
            out.append(Missing(entry.lang, entry.reason or "no document of this language was scored"))
    return out


def unpaired_summary(result: RunResult, limit: int = 3) -> tuple[int, list[str]]:
    """How many corpus documents are in no pair, and the first `limit` as 'name (lang): reason'."""
    lines = [f"{Path(str(u.get('path', '?'))).name} ({u.get('lang', '?')}): {u.get('reason', 'no reason recorded')}"
             for u in result.unpaired]
    return len(lines), lines[:limit]


def testset_name(result: RunResult) -> str | None:
    """The test set's name when the run read one (line-parallel: no alignment), else None."""
    source = result.source or {}
    if source.get("kind") != "testset":
        return None
    return str(source.get("name") or source.get("format") or "test set")


@dataclass(frozen=True)
class DocumentRow:
    """One document of one language: its status and each system's score on one metric."""

    entry: DocumentEntry
    cells: dict[str, Score | None]  # system → score (None: not scored)
    best: set[str]


def document_rows(result: RunResult, lang: str, metric: str) -> list[DocumentRow]:
    """Every document of a language (scored first, in run order; then the unscored), scores on one metric."""
    higher = result.higher_is_better(metric)
    names = [s.name for s in result.systems_in(lang)]
    rows = []
    entries = result.documents_in(lang)
    for entry in sorted(entries, key=lambda d: not d.scored):
        cells = {name: (entry.scores.get(name) or {}).get(metric) for name in names}
        values = [c.score for c in cells.values() if c is not None]
        best: set[str] = set()
        if len(values) > 1:
            top = max(values) if higher else min(values)
            best = {n for n, c in cells.items() if c is not None and abs(c.score - top) <= _TIE}
        rows.append(DocumentRow(entry, cells, best))
    return rows
