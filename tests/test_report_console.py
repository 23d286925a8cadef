"""The terminal view: a big run stays short, shows the right paragraphs and says where the rest are.

Also the report layer's import boundaries: the views read a RunResult (and run.json's
recorded facts), not the run config or the metric registry.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from rich.console import Console

from evalkit.report.console import DEFAULT_PARAGRAPHS, render_run
import pytest

from test_report_files import languages_run, synthetic_run, ntrex_run

REPORT = Path(__file__).resolve().parents[1] / "evalkit" / "report"


def _render(result, paragraphs=DEFAULT_PARAGRAPHS, folder=Path("results/run"), documents=False) -> str:
    console = Console(width=140, record=True, force_terminal=False, color_system=None)
    with console.capture() as capture:
        render_run(console, result, folder, paragraphs, documents=documents)
    return capture.get()


def _rows(text: str, title: str) -> list[list[str]]:
    """The body rows (cells split on │) of the table printed under `title`, up to its bottom border."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("└"):
            break
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if line.startswith("│") and cells[0].rstrip("†").isdigit():
            rows.append(cells)
    return rows


def test_a_2000_paragraph_run_prints_a_short_report():
    result = synthetic_run(n=2000)
    text = _render(result, paragraphs=10)
    lines = text.splitlines()
    assert len(lines) < 120 and len(text) < 20_000, (len(lines), len(text))
    assert "copy (copy): the 10 worst of 2000 paragraphs by chrf" in text
    assert "document (2000 pairs)" in text and "40.00 ± 1.00" in text  # the document-level scores are all there
    assert "nllb: the 10 paragraphs that moved most against copy on chrf" in text
    assert re.search(r"\d+ more paragraphs are in report\.html and paragraphs\.csv in results/run", text)
    assert "results: results/run" in text


def test_the_worst_paragraphs_are_the_lowest_chrf_worst_first():
    result = synthetic_run(n=300)
    text = _render(result, paragraphs=5)
    rows = _rows(text, "copy (copy): the 5 worst of 300 paragraphs by chrf")
    chrf = {r + 1: p.scores["chrf"] for r, p in enumerate(result.system("copy").paragraphs)}
    expected = sorted(chrf, key=lambda index: (chrf[index], index))[:5]
    assert [int(row[0]) for row in rows] == expected
    assert [float(row[4]) for row in rows] == [chrf[i] for i in expected]


def test_worst_follows_the_metric_direction_when_ter_comes_first():
    result = synthetic_run(n=50)
    result.config["metrics"] = ["ter", "chrf"]
    text = _render(result, paragraphs=3)
    rows = _rows(text, "copy (copy): the 3 worst of 50 paragraphs by ter")
    ter = [p.scores["ter"] for p in result.system("copy").paragraphs]
    assert [float(row[4]) for row in rows] == sorted(ter, reverse=True)[:3]  # TER: highest is worst


def test_most_changed_paragraphs_are_ranked_by_the_size_of_the_change():
    result = synthetic_run(n=200)
    text = _render(result, paragraphs=4)
    rows = _rows(text, "nllb: the 4 paragraphs that moved most against copy on chrf")
    base = [p.scores["chrf"] for p in result.system("copy").paragraphs]
    new = [p.scores["chrf"] for p in result.system("nllb").paragraphs]
    deltas = sorted(((-abs(n - b), r + 1, n - b) for r, (b, n) in enumerate(zip(base, new))))[:4]
    assert [int(row[0]) for row in rows] == [r for _, r, _ in deltas]
    assert [row[-1] for row in rows] == [f"{d:+.2f}" for _, _, d in deltas]


def test_all_prints_every_paragraph_and_a_short_run_is_printed_whole():
    result = synthetic_run(n=2000)
    text = _render(result, paragraphs=None)
    assert len(_rows(text, "copy (copy)")) == 2000 and "more paragraphs" not in text
    short = synthetic_run(n=DEFAULT_PARAGRAPHS)
    text = _render(short)
    assert len(_rows(text, "copy (copy)")) == DEFAULT_PARAGRAPHS
    assert "worst" not in text and "moved most" not in text and "more paragraphs" not in text
    text = _render(short, paragraphs=0)  # only the document-level rows
    assert _rows(text, "copy (copy)") == [] and f"document ({DEFAULT_PARAGRAPHS} pairs)" in text
    assert f"the {DEFAULT_PARAGRAPHS} paragraphs are in report.html" in text


def test_user_text_in_the_terminal_is_never_rich_markup():
    result = synthetic_run(n=30, names=("copy", "[bold]x[/bold] [/]"))
    text = _render(result, paragraphs=2)
    assert "[bold]x[/bold] [/]: the 2 paragraphs that moved most against copy on chrf" in text


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_report_views_do_not_import_the_config_or_the_metric_registry():
    assert not (REPORT / "html.py").exists()  # no module named after the standard library
    for name in ("html_page.py", "console.py", "markdown.py", "files.py", "numbers_view.py", "matrix.py", "wording.py"):
        imported = _imports(REPORT / name)
        assert not {m for m in imported if m.startswith(("evalkit.config", "evalkit.scorers"))}, (name, imported)


def test_paragraph_count_parses_the_flag_value():
    import pytest

    from evalkit.report.console import paragraph_count

    assert paragraph_count("all") is None and paragraph_count("ALL") is None
    assert paragraph_count("0") == 0 and paragraph_count("25") == 25
    for bad in ("-1", "ten", "", "2.5"):
        with pytest.raises(ValueError, match="or 'all'"):
            paragraph_count(bad)


def test_a_served_system_gets_one_accounting_line():
    from evalkit.report.console import served_accounting

    info = {"requests": 17, "retries": 2, "prompt_tokens": 900, "completion_tokens": 340,
            "seconds": {"waiting_on_server": 3.25}, "refused_answers": 1, "empty_answers": 0}
    assert served_accounting(info) == ("17 requests · 2 retries · 900 + 340 tokens (prompt + completion) · "
                                       "3.25 s waiting on the server · 1 refused answers")
    assert served_accounting({"model_class": "MarianMTModel"}) is None


# ---------------------------------------------------------------- several languages, several documents


@pytest.fixture(scope="module")
def languages(tmp_path_factory):
    return languages_run(tmp_path_factory.mktemp("languages"))


@pytest.fixture(scope="module")
def testset(tmp_path_factory):
    return ntrex_run(tmp_path_factory.mktemp("testset"))


def _matrix(text: str, metric: str) -> dict[str, list[str]]:
    """The matrix printed under `metric`: system → its cells (first line of each row only), with the header row."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == metric)
    out = {}
    for line in lines[start + 1:]:
        if line.startswith("└"):
            break
        if line.startswith(("│", "┃")):
            cells = [c.strip() for c in line.strip("│┃ ").replace("┃", "│").split("│")]
            if cells[0]:
                out[cells[0]] = cells[1:]
    return out


def test_a_run_over_languages_prints_one_matrix_per_metric(languages):
    text = _render(languages)
    chrf = _matrix(text, "chrf")
    assert chrf["system"] == ["th", "ms"]  # scored languages only: id is listed as missing
    copy_th, copy_ms = (f"{languages.system('copy', lang).corpus_scores['chrf'].score:.2f}" for lang in ("th", "ms"))
    assert chrf["copy (baseline)"][0].startswith(copy_th + " ± ") and not chrf["copy (baseline)"][0].endswith("★")
    assert chrf["copy (baseline)"][1].startswith(copy_ms + " ± ") and "★" not in chrf["copy (baseline)"][1]
    assert chrf["mine"] == ["100.00 ± 0.00 ★", "unavailable"]  # best in Thai; no file for Malay
    ter = _matrix(text, "ter (lower is better)")
    assert ter["mine"] == ["0.00 ± 0.00 ★", "unavailable"]  # TER: the lowest is the best
    assert re.search(r"Δ \+\d+\.\d\d p=0\.\d{3}\*", text)  # mine against copy, in Thai
    assert "Indonesian (id): missing — no Indonesian (id) translation of 002_6d8f2e7b812a4376.txt found" in text
    assert "2 corpus documents in no pair (all listed in run.json):" in text
    assert "003_80fd675a9a6137d2.txt (id): not a translation of any pivot" in text
    assert "mine → ms: unavailable — candidates file " in text
    assert "Thai 000_04e105a6d28e593c.txt translates the Vietnamese 002_6d8f2e7b812a4376.txt" in text
    assert "worst of" not in text and "--documents" in text  # paragraph tables only when asked


def test_per_document_detail_is_printed_when_asked(languages, testset):
    text = _render(languages, paragraphs=3, documents=True)
    assert "Thai (th): chrf per document, ★ best per document" in text
    assert "copy (copy) → th: the 3 worst of 17 paragraphs by chrf" in text
    assert "mine → ms: unavailable" in text
    text = _render(testset, paragraphs=2, documents=True)
    for lang in ("Thai (th)", "Malay (ms)", "Indonesian (id)"):
        assert f"{lang}: chrf per document" in text
    documents = {d.document for d in testset.documents_in("th") if d.scored}
    assert len(documents) > 10
    for document in documents:
        assert document in text
    # the paragraph tables of a many-document run name each paragraph's document
    worst = _rows(text, "copy (copy) → th: the 2 worst of")
    assert len(worst) == 2 and all(row[1] in documents for row in worst)


def test_a_test_set_run_says_it_is_line_parallel(testset):
    text = _render(testset)
    assert "vi → th, ms, id · test set NTREX-128" in text
    n = len([d for d in testset.documents_in("th") if d.scored])
    assert f"Thai: line-parallel test set NTREX-128 ({n} documents), " in text
    assert list(_matrix(text, "chrf")) == ["system", "copy (baseline)"]
