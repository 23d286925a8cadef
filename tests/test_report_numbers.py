"""Every report shows number, date and name preservation (issue 14): report.html, paragraphs.csv, the terminal, summary.md.

Paragraph details come from the real metric (`check_paragraph`) on hand-written
Vietnamese → Thai paragraphs: a Buddhist-Era year converted, an amount changed
("100 tỷ yen", a hundred billion, as "100 ล้านเยน", a hundred million), a year
missing, and a paragraph whose human reference itself changed a year. The
report modules never import the scorer: they read these details as run.json
stores them. Runs without the metric (older runs, other configs) render as before.
"""

from __future__ import annotations

import copy
import csv
import io
import json

import numpy as np
import pytest
from rich.console import Console

from evalkit.report import numbers_view
from evalkit.report.console import render_run
from evalkit.report.files import CSV_FIXED, CSV_NUMBERS, paragraphs_csv
from evalkit.report.html_page import render_html
from evalkit.report.markdown import render_markdown
from evalkit.results import RunResult, Score, run_from_dict
from evalkit.scorers.numbers import check_paragraph, summary_from_statistics
from test_html_report import EVIL_IMG, EVIL_SCRIPT, Page, assert_safe
from test_report_files import synthetic_run

# (pivot, reference, {system: candidate}); the copy system's candidate is the pivot itself.
PARAGRAPHS = [
    ("Năm 2023, Nhật Bản cho Việt Nam vay 100 tỷ yen thông qua JICA.",
     "ในปี 2566 ญี่ปุ่นให้เวียดนามกู้ 100,000 ล้านเยนผ่าน JICA",
     {"mt": "ในปี 2566 ญี่ปุ่นให้เวียดนามกู้ 100 ล้านเยนผ่าน JICA"}),  # BE year converted, the amount changed
    ("Hai nước thiết lập quan hệ ngoại giao năm 1973.",
     "ทั้งสองประเทศสถาปนาความสัมพันธ์ทางการทูตในปี 2517",  # the human reference changed the year (1974)
     {"mt": "ทั้งสองประเทศสถาปนาความสัมพันธ์ทางการทูตในปี 2516"}),
    ("Tháng 9 năm 2021, hai bên ký thỏa thuận.",
     "ในเดือนกันยายน 2564 ทั้งสองฝ่ายลงนามข้อตกลง",
     {"mt": "ในเดือนกันยายน ทั้งสองฝ่ายลงนามข้อตกลง"}),  # the year dropped
    ("Không có số nào ở đây.", "ไม่มีตัวเลข", {"mt": "ไม่มีตัวเลข"}),
]
SYSTEMS = ("copy", "mt")


def numbers_run(names: tuple[str, ...] = SYSTEMS, paragraphs=PARAGRAPHS) -> RunResult:
    """synthetic_run's shape with the four paragraphs above and the numbers metric as evalkit stores it."""
    result = synthetic_run(n=len(paragraphs), names=names)
    result.config["metrics"] = ["chrf", "ter", "numbers"]
    for k, system in enumerate(result.systems):
        rows = []
        for p, (source, reference, candidates) in zip(system.paragraphs, paragraphs):
            candidate = source if k == 0 else candidates.get(system.name, next(iter(candidates.values())))
            check = check_paragraph(source, candidate, reference, "vi", "th")
            p.source, p.reference, p.candidate = source, reference, candidate
            p.details["numbers"] = copy.deepcopy(check.details)
            p.scores["numbers"] = float(200 * (check.row[2] + check.row[3]) / (check.row[0] + check.row[1])) \
                if check.row[0] + check.row[1] else 100.0
            rows.append(check.row)
        summary = summary_from_statistics(np.array(rows))
        system.corpus_scores["numbers"] = Score(summary["f1"], "numbers|rules:test|pivot:vi|target:th", summary["f1"] - 5,
                                                min(100.0, summary["f1"] + 5), higher_is_better=True, summary=summary)
    return result


def _marks(page: Page) -> list[dict]:
    return [attrs for attrs in page.tags("mark") if attrs.get("data-status")]


def _cell_marks(html: str) -> list[tuple[str, str, str]]:
    """(status, text, title) of every highlighted item, in page order."""
    found = []

    class Marks(Page):
        def __init__(self, text):
            self.current = None
            super().__init__(text)

        def handle_starttag(self, tag, attrs):
            super().handle_starttag(tag, attrs)
            if tag == "mark" and dict(attrs).get("data-status"):
                self.current = [dict(attrs)["data-status"], "", dict(attrs).get("title") or ""]

        def handle_endtag(self, tag):
            super().handle_endtag(tag)
            if tag == "mark" and self.current is not None:
                found.append(tuple(self.current))
                self.current = None

        def handle_data(self, data):
            super().handle_data(data)
            if self.current is not None:
                self.current[1] += data

    Marks(html)
    return found


# ---------------------------------------------------------------- report.html


def test_html_highlights_changed_amounts_converted_years_and_missing_items():
    html = render_html(numbers_run())
    page = assert_safe(html)
    marks = _cell_marks(html)
    # the candidate: the BE year converted, the amount changed, the acronym preserved
    assert ("converted", "2566", "converted: BE year 2566 = 2023") in marks
    assert ("changed", "100 ล้านเยน", "changed: 100 tỷ yen in the pivot, 100 ล้านเยน in the candidate") in marks
    assert ("preserved", "JICA", "preserved: JICA") in marks
    # the pivot shows the worst status among the systems and one line per system, plus the reference
    assert ("changed", "100 tỷ yen", "copy: preserved: 100 tỷ yen\nmt: changed: 100 tỷ yen in the pivot, 100 ล้านเยน "
            "in the candidate\nreference: preserved: 100 tỷ yen = 100,000 ล้านเยน") in marks
    assert ("missing", "2021", "copy: preserved: 2021\nmt: missing: 2021 is not in the candidate\n"
            "reference: converted: BE year 2021 = 2564") in marks
    # the reference: its own BE year conversion, and the year it changed
    assert ("converted", "2564", "converted: BE year 2564 = 2021") in marks
    assert ("changed", "2517", "changed: 1973 in the pivot, 2517 in the reference "
            "(the human reference differs from the pivot here)") in marks
    classes = {a["data-status"]: a["class"] for a in _marks(page)}
    assert classes["changed"] == "n n-changed" and classes["converted"] == "n n-converted"
    assert classes["missing"] == "n n-missing" and classes["preserved"] == "n n-preserved"
    text = " ".join(page.all_text.split())
    assert "⚑ the human reference changed a number here: the system is not blamed" in text
    assert "(reference: changed: 1973→2517)" in text
    assert [a.get("data-reference-disagrees") for a in page.tags("tr") if "data-r" in a] == [None, "true", None, None]
    assert [a.get("data-numbers-lost") for a in page.tags("tr") if "data-r" in a] == ["true", "true", "true", None]
    assert page.tags("input")[-1] == {"id": "lost-only", "type": "checkbox"}
    assert "1 lost" in text  # the numbers cell of a paragraph with a changed amount


def test_html_summary_shows_the_numbers_headline():
    result = numbers_run()
    page = Page(render_html(result))
    h = numbers_view.headline(result.system("mt").corpus_scores["numbers"])
    assert h is not None and (h.with_errors, h.paragraphs, h.reference_disagrees) == (2, 4, 1)
    rows = {a["data-system"]: a for a in page.tags("tr") if a.get("data-system")}
    assert {"copy", "mt"} <= set(rows)
    text = " ".join(page.all_text.split())
    assert "Numbers, dates and names" in text
    assert f"{h.precision:.2f}" in text and f"{h.recall:.2f}" in text and "2 of 4" in text
    assert "4 of 6 pivot items kept (2 preserved, 2 converted), 1 changed, 1 missing, 0 added" in text
    figures = [a for a in page.tags("td") if a.get("data-figure") == "paragraphs_with_errors"]
    assert len(figures) == 2 and figures[1].get("class") == "num bad"


def test_html_span_payloads_stay_text():
    """Item texts, titles and statuses from run.json are data: escaped in element text and attributes alike."""
    result = numbers_run()
    p = result.system("mt").paragraphs[3]
    p.candidate = f"x {EVIL_IMG} y {EVIL_SCRIPT}"
    start = p.candidate.index(EVIL_IMG)
    start2 = p.candidate.index(EVIL_SCRIPT)
    p.details["numbers"]["items"] = [
        {"kind": "name", "status": "added", "source": None,
         "candidate": {"text": EVIL_IMG, "span": [start, start + len(EVIL_IMG)], "value": EVIL_IMG}},
        {"kind": "name", "status": '"><img src=z onerror=alert(4)>', "source": None,
         "candidate": {"text": EVIL_SCRIPT, "span": [start2, start2 + len(EVIL_SCRIPT)], "value": "x"}},
    ]
    html = render_html(result)
    page = assert_safe(html)
    marks = _cell_marks(html)
    assert ("added", EVIL_IMG, f"added: {EVIL_IMG} is not in the pivot") in marks
    assert ('"><img src=z onerror=alert(4)>', EVIL_SCRIPT, '"><img src=z onerror=alert(4)>') in marks
    assert [a["class"] for a in _marks(page) if a["data-status"].startswith('"')] == ["n n-other"]
    assert "</script><script>alert" not in html


def test_html_skips_spans_that_do_not_point_at_their_text():
    result = numbers_run()
    items = result.system("mt").paragraphs[0].details["numbers"]["items"]
    items[0]["candidate"]["span"] = [0, 4]  # stale: the text there is not "2566"
    items[1]["candidate"]["span"] = [30, 10_000]  # out of range
    items[2]["candidate"]["span"] = ["48", 52]  # not integers
    result.system("mt").paragraphs[1].details["numbers"] = {"items": "not a list"}
    result.system("mt").paragraphs[2].details["numbers"]["items"].append(None)
    page = assert_safe(render_html(result))
    texts = [text for _, text, _ in _cell_marks(render_html(result))]
    assert "2566" not in texts[:3] and "100 ล้านเยน" not in texts and page.all_text.count("ในปี 2566") >= 2


def test_html_report_reads_the_same_from_run_json():
    result = numbers_run()
    assert render_html(run_from_dict(json.loads(json.dumps(result.to_dict())))) == render_html(result)


def test_segments_cut_text_at_spans_and_skip_overlaps():
    segs = numbers_view.segments("ab 12 cd 34", [(3, 5, "n-preserved", "t1", "preserved"),
                                                 (4, 8, "n-changed", "t2", "changed"),
                                                 (9, 11, "n-missing", "t3", "missing")])
    assert [(s.text, s.cls) for s in segs] == [("ab ", ""), ("12", "n-preserved"), (" cd ", ""), ("34", "n-missing")]
    assert "".join(s.text for s in segs) == "ab 12 cd 34"
    assert numbers_view.segments("", []) == [numbers_view.Segment("")]


# ---------------------------------------------------------------- paragraphs.csv


def _csv(result: RunResult) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(paragraphs_csv(result), newline="")))


def test_csv_has_the_items_in_compact_form():
    rows = _csv(numbers_run())
    assert list(rows[0]) == CSV_FIXED + ["chrf", "ter", "numbers"] + CSV_NUMBERS
    mt = [r for r in rows if r["system"] == "mt"]
    assert mt[0]["numbers_items"] == ("converted: 2023→2566 (BE year); changed: 100 tỷ yen→100 ล้านเยน; "
                                      "preserved: JICA")
    assert mt[0]["numbers_lost"] == "1" and mt[0]["numbers_reference"] == ""
    assert mt[1]["numbers_items"] == "converted: 1973→2516 (BE year)"
    assert mt[1]["numbers_reference"] == "changed: 1973→2517"
    assert mt[2]["numbers_items"] == "preserved: Tháng 9; missing: 2021" and mt[2]["numbers_lost"] == "1"
    assert mt[3]["numbers_items"] == "" and mt[3]["numbers_lost"] == "0"
    copy_rows = [r for r in rows if r["system"] == "copy"]
    assert copy_rows[0]["numbers_items"] == "preserved: 2023; preserved: 100 tỷ yen; preserved: JICA"


def test_csv_item_cells_are_spreadsheet_safe():
    result = numbers_run()
    details = result.system("mt").paragraphs[0].details["numbers"]
    details["items"] = [{"status": "=HYPERLINK(\"http://x\")", "source": {"text": "1"}, "candidate": None}]
    details["reference_issues"] = [{"status": "@SUM(A1)", "source": None, "reference": {"text": "2"}}]
    row = [r for r in _csv(result) if r["system"] == "mt"][0]
    assert row["numbers_items"] == "'=HYPERLINK(\"http://x\"): 1"
    assert row["numbers_reference"] == "'@SUM(A1): 2"


# ---------------------------------------------------------------- the terminal


def _render(result: RunResult) -> str:
    console = Console(width=200, record=True, force_terminal=False, color_system=None)
    with console.capture() as capture:
        render_run(console, result, None, None)
    return capture.get()


def _table(text: str, title: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("└"):
            break
        if line.startswith(("│", "┃")):
            rows.append([c.strip() for c in line.strip()[1:-1].replace("┃", "│").split("│")])
    return rows


def test_terminal_counts_lost_items_and_reference_disagreements():
    text = _render(numbers_run())
    rows = _table(text, "mt (copy)")
    header = rows[0]
    assert header[-2:] == ["numbers", "lost"]
    lost = {row[0]: row[-1] for row in rows[1:] if row[0].isdigit()}
    assert lost == {"1": "1", "2": "⚑", "3": "1", "4": ""}
    document = next(row for row in rows if row[3].startswith("document"))
    assert document[-1] == "2"  # one changed + one missing item
    h = numbers_view.headline(numbers_run().system("mt").corpus_scores["numbers"])
    assert (f"numbers, dates and names: precision {h.precision:.2f}, recall {h.recall:.2f}; 2 of 4 paragraphs with a "
            "missing or changed item; in 1 paragraph the human reference itself changed or dropped a number") in text
    assert "⚑ the human reference itself changed or dropped a number there (1 paragraph)" in text
    copy_rows = _table(text, "copy (copy)")
    assert {row[0]: row[-1] for row in copy_rows[1:] if row[0].isdigit()} == {"1": "", "2": "⚑", "3": "", "4": ""}


# ---------------------------------------------------------------- summary.md


def test_markdown_headline_per_system_with_user_text_escaped():
    result = numbers_run(names=("copy", "<b>@mt</b>"))
    md = render_markdown(result)
    h = numbers_view.headline(result.systems[1].corpus_scores["numbers"])
    line = next(x for x in md.splitlines() if x.startswith("- \\<b\\>\\@mt\\</b\\>: F1"))
    assert f"precision {h.precision:.2f}, recall {h.recall:.2f}; 2 of 4 paragraphs with a missing or changed item" in line
    assert "in 1 paragraph the human reference itself changed or dropped a number" in line
    assert "<b>" not in line and "@mt" not in line.replace("\\@mt", "")  # no HTML, no @mention
    assert "- copy: F1 100.00, precision 100.00, recall 100.00; 0 of 4 paragraphs" in md


# ---------------------------------------------------------------- runs without the metric


def test_runs_without_numbers_render_as_before():
    old = synthetic_run(n=3)  # an older run.json: no numbers metric, no details
    old.systems[0].paragraphs[0].details["errors"] = {"items": [{"status": "changed"}]}  # a metric evalkit doesn't know
    old.systems[0].corpus_scores["errors"] = Score(1.0, "errors-sig", summary={"precision": 1.0})
    html = render_html(old)
    page = assert_safe(html)
    assert not _marks(page) and 'id="numbers-summary"' not in html and 'class="numbers-legend"' not in html
    assert not page.tags("input")[1:] and not [a for a in page.tags("tr") if "data-numbers-lost" in a]
    assert next(iter(_csv(old))).keys() == set(CSV_FIXED + ["chrf", "ter"])
    text = _render(old)
    assert " lost " not in text and "numbers, dates and names" not in text
    assert "Numbers, dates and names" not in render_markdown(old)


def test_a_metric_listed_without_details_or_summary_is_harmless():
    result = numbers_run()
    for system in result.systems:
        system.corpus_scores["numbers"].summary = None
        for p in system.paragraphs:
            p.details.clear()
    html = render_html(result)
    assert not _marks(assert_safe(html)) and 'id="numbers-summary"' not in html
    rows = _csv(result)
    assert all(r["numbers_items"] == "" and r["numbers_lost"] == "" for r in rows)
    text = _render(result)
    assert "numbers, dates and names" not in text and "Numbers, dates and names" not in render_markdown(result)


def test_headline_needs_precision_and_recall():
    assert numbers_view.headline(None) is None
    assert numbers_view.headline(Score(90.0, "s")) is None
    assert numbers_view.headline(Score(90.0, "s", summary={"precision": float("nan"), "recall": 1.0})) is None
    h = numbers_view.headline(Score(90.0, "s", summary={"precision": 80.0, "recall": 100.0}), paragraphs=7)
    assert h is not None and (h.f1, h.paragraphs, h.with_errors) == (90.0, 7, 0)


@pytest.mark.parametrize("status, expected", [
    ("preserved", "preserved: 1973"), ("missing", "missing: 1973 is not in the candidate"),
    ("added", "added: 2516 is not in the pivot"), ("not expected", "not expected (not counted): why"),
    ("added, as in the reference", "added, as in the reference (not counted): 2516"),
])
def test_describe_words(status, expected):
    item = {"status": status, "source": {"text": "1973"}, "candidate": {"text": "2516" if "added" in status else "1973"},
            "why": "why"}
    on = "pivot" if status in ("missing", "not expected") else "candidate"
    assert numbers_view.describe(item, on) == expected
