"""The HTML report: escaping, completeness, and the page in a real headless Chromium.

The browser test drives Chromium through its DevTools protocol over
`--remote-debugging-pipe` (fd 3 in, fd 4 out, NUL-separated JSON), the transport
Puppeteer and Playwright use: no port, no driver binary, no Python package
beyond the standard library. It is marked `browser` so it can be deselected
(`-m "not browser"`), and skips with a reason where Chromium is not installed
(`apt-get install -y chromium`).
"""

from __future__ import annotations

import base64
import copy
import fcntl
import hashlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import CORPUS, make_config
from evalkit.report.html_page import render_html, static_text
from evalkit.results import (
    AlignmentRecord,
    DocumentRecord,
    ParagraphResult,
    RunResult,
    Score,
    SystemResult,
    run_from_dict,
    single_document_run,
)

JS = static_text("report.js")
EVIL_IMG = "<img src=x onerror=alert(1)>"
EVIL_SCRIPT = "</script><script>alert(2)</script>"
EVIL_NAME = 'evil "<b>name</b>'


def corpus_html_line() -> str:
    """A raw `<a …><img …></a>` line the scraper left in the corpus (004, line 13)."""
    line = (CORPUS / "004_424d4b2d4314c3a5.txt").read_text(encoding="utf-8").splitlines()[12]
    assert line.startswith("<a ") and "<img " in line
    return line


# ---------------------------------------------------------------- parsing the page


class Page(HTMLParser):
    """Every element the browser's parser would create, every attribute, and the text outside scripts and styles."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._raw: tuple[str, dict] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._raw = (tag, dict(attrs))
            if tag == "script":
                self.scripts.append((dict(attrs), ""))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if self._raw and tag == self._raw[0]:
            self._raw = None

    def handle_data(self, data):
        if self._raw is None:
            self.text.append(data)
        elif self._raw[0] == "script":
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)
        else:
            self.styles.append(data)

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]

    def values(self, attribute: str) -> set[str]:
        return {attrs[attribute] for _, attrs in self.elements if attrs.get(attribute) is not None}

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def assert_safe(html: str) -> Page:
    """Data never became markup, nothing can be fetched, and the embedded JSON parses."""
    page = Page(html)
    tags = {tag for tag, _ in page.elements}
    assert "img" not in tags and "iframe" not in tags and "object" not in tags and "base" not in tags
    assert [attrs for attrs, _ in page.scripts] == [{"type": "application/json", "id": "evalkit-data"}, {}]
    for tag, attrs in page.elements:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href")
        assert href is None or href.startswith("#") or (tag == "link" and href == "data:,"), (tag, attrs)
        assert "url(" not in (attrs.get("style") or ""), (tag, attrs)
    assert not any("url(" in css or "@import" in css for css in page.styles)
    code = page.scripts[1][1]
    assert code == JS and "innerHTML" not in code
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    (csp,) = [a["content"] for a in page.tags("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    raw_json = page.scripts[0][1]
    assert "<" not in raw_json and ">" not in raw_json
    json.loads(raw_json)
    return page


# ---------------------------------------------------------------- a hand-made result


def _paragraph(line: int, candidate: str, scores: dict[str, float], source: str = "nguồn", reference: str = "อ้างอิง",
               confidence: float = 0.9) -> ParagraphResult:
    return ParagraphResult(source_lines=[line], reference_lines=[line + 10], source=source, reference=reference,
                           candidate=candidate, alignment_confidence=confidence, scores=scores)


def _system(name: str, candidates: list[str], chrf: list[float], significance=None, **extra) -> SystemResult:
    sources = ["Việt – Nhật", corpus_html_line(), "Kishida <b>"]
    paragraphs = [
        _paragraph(2 * k + 1, c, {"chrf": x, "ter": 100 - x}, source=sources[k], reference=f"อ้างอิง {k} &amp;",
                   confidence=(0.95, 0.3, 0.8)[k])
        for k, (c, x) in enumerate(zip(candidates, chrf))
    ]
    return SystemResult(
        name=name, backend="copy", model=None, status="ok", signature=f"backend:copy|evalkit:0.1.0|{name}",
        corpus_scores={"chrf": Score(41.0, "nrefs:1|nc:6|version:2.6.0", 39.5, 42.5),
                       "ter": Score(60.0, "nrefs:1|case:lc|tok:tercom", 58.0, 62.0)},
        paragraph_signatures={"chrf": "nrefs:1|nc:6|eff:yes", "ter": "nrefs:1|tok:tercom"},
        significance=significance, paragraphs=paragraphs, translated=3,
        seconds={"load": 0.5, "generate": 1.25, "evalkit": 0.01, "score": 0.2}, **extra,
    )


def hand_made_result() -> RunResult:
    test = {"delta": 2.5, "better": "system", "p_bootstrap": 0.004, "p_randomization": 0.01, "significant": True}
    systems = [
        _system("copy", ["Việt – Nhật", "a", "b"], [10.0, 30.0, 20.0]),
        _system(EVIL_NAME, [EVIL_IMG, EVIL_SCRIPT, "<!-- <script>alert(3)</script>"], [55.0, 5.0, 35.0],
                significance={"baseline": "copy", "alpha": 0.05, "metrics": {"chrf": test, "ter": {**test, "delta": -1.0}}},
                model_info={"revision": "0123abcd<i>", "cache": {"enabled": True, "hits": 2}}),
        SystemResult(name="nllb-600m", backend="seq2seq", model="facebook/nllb-200-distilled-600M", status="unavailable",
                     reason="model facebook/nllb-200-distilled-600M is not available (offline) <see docs>"),
        SystemResult(name="broken", backend="seq2seq", model="/models/x", status="failed", reason="CUDA out of memory"),
    ]
    systems[1].paragraphs[2].notes = ["pivot line 5 exceeded the model's input limit: translated in 2 pieces, joined"]
    doc = dict(detected_lang=None, lang_confidence=0.0, other_language_paragraphs=[])
    return single_document_run(
        run_id="20261123-142501-vi-th", created="2026-11-23T14:25:01+00:00", evalkit_version="0.1.0",
        config={"name": "vi-th", "metrics": ["chrf", "comet", "ter"], "statistics": {"alpha": 0.05},
                "systems": [{"name": s.name, "backend": s.backend} for s in systems]},
        pivot=DocumentRecord(path="/corpus/002.txt", lang="vi", paragraphs=3,
                             dropped=[{"line": 35, "reason": "reply form", "text": corpus_html_line()}], **doc),
        target=DocumentRecord(path="/corpus/000.txt", lang="th", paragraphs=3,
                              dropped=[{"line": 1, "reason": "site name", "text": "</script><img src=y>"}], **doc),
        alignment=AlignmentRecord(
            pairs=[{"source_lines": [2 * k + 1], "target_lines": [2 * k + 11], "confidence": c}
                   for k, c in enumerate((0.95, 0.3, 0.8))],
            unmatched_source_lines=[40], unmatched_target_lines=[43, 47], is_translation=True, pairing_score=0.94,
            pairing_reason="alignment gain 0.9 against shuffled orders",
        ),
        systems=systems,
        unavailable_metrics={"comet": "unbabel-comet is not installed <pip install unbabel-comet>"},
        seconds={"pairing": 0.1, "total": 4.2},
    )


def test_data_is_escaped_text_never_markup():
    html = render_html(hand_made_result())
    page = assert_safe(html)
    text = page.all_text
    for payload in (EVIL_IMG, EVIL_SCRIPT, "<!-- <script>alert(3)</script>", corpus_html_line(), EVIL_NAME,
                    "</script><img src=y>", "0123abcd<i>"):
        assert payload in text, payload
    assert escape(EVIL_IMG) in html and EVIL_IMG not in html
    assert "</script><script>alert" not in html and "<!-- <script>" not in html
    assert "&amp;amp;" in html  # a reference that contains "&amp;" shows "&amp;", not "&"
    assert EVIL_NAME in page.values("data-system")


def test_embedded_json_round_trips_names_and_scores():
    page = Page(render_html(hand_made_result()))
    data = json.loads(page.scripts[0][1])
    assert data["systems"] == ["copy", EVIL_NAME] and data["baseline"] == "copy"
    assert [m["name"] for m in data["metrics"]] == ["chrf", "ter"]
    assert [m["higher_is_better"] for m in data["metrics"]] == [True, False]
    assert data["scores"][1][0] == [55.0, 5.0, 35.0] and data["confidence"] == [0.95, 0.3, 0.8]


def test_metric_direction_comes_from_run_json_not_from_the_metric_registry():
    """A metric evalkit does not know (a plugin's, or one whose package is absent) shows the direction run.json recorded."""
    result = hand_made_result()
    result.config["metrics"] = ["chrf", "errors"]
    result.unavailable_metrics = {}
    for system in result.systems:
        if system.status == "ok":
            system.corpus_scores["errors"] = Score(3.0, "errors-signature", higher_is_better=False)
            system.corpus_scores["chrf"].higher_is_better = True
            for p in system.paragraphs:
                p.scores["errors"] = p.scores.pop("ter")
    page = Page(render_html(result))
    data = json.loads(page.scripts[0][1])
    assert data["metrics"] == [{"name": "chrf", "higher_is_better": True}, {"name": "errors", "higher_is_better": False}]
    assert "errors ↓" in " ".join(page.all_text.split())


def test_every_system_metric_and_reason_appears():
    result = hand_made_result()
    page = Page(render_html(result))
    text = " ".join(page.all_text.split())
    assert {s.name for s in result.systems} <= page.values("data-system")
    assert {"chrf", "ter", "comet"} <= page.values("data-metric")
    assert "system nllb-600m: unavailable — model facebook/nllb-200-distilled-600M is not available (offline) <see docs>" in text
    assert "system broken: failed — CUDA out of memory" in text
    assert "metric comet: unavailable — unbabel-comet is not installed <pip install unbabel-comet>" in text
    # summary: score ± half-width of the CI, Δ and p against the baseline, the significance mark, TER's direction
    assert "41.00 ± 1.50" in text and "95% CI 39.50–42.50" in text
    assert "Δ +2.50 · p = 0.010 * better" in text and "bootstrap 0.004, randomisation 0.010" in text
    assert "ter ↓" in text and "lower is better" in text
    # header: run, files, languages, signatures, revision, timings; alignment: unmatched and dropped lines
    for expected in ("20261123-142501-vi-th", "evalkit 0.1.0", "002.txt", "000.txt", "nrefs:1|nc:6|version:2.6.0",
                     "nrefs:1|nc:6|eff:yes", "0123abcd<i>", "pairing 0.10 s", "generate 1.25 s",
                     "pivot lines 40", "reference lines 43, 47", "reply form", "site name",
                     "alignment gain 0.9 against shuffled orders", "0.30 ⚠",
                     "† pivot line 5 exceeded the model's input limit: translated in 2 pieces, joined"):
        assert expected in text, expected


def test_paragraph_table_has_every_system_side_by_side_with_coloured_scores():
    page = Page(render_html(hand_made_result()))
    rows = page.tags("tr")
    assert sum(1 for r in rows if "data-r" in r) == 3
    sortable = [a for a in page.tags("th") if a.get("data-sort", "").startswith("s:")]
    assert [(a["data-system"], a["data-metric"]) for a in sortable] == [
        ("copy", "chrf"), ("copy", "ter"), (EVIL_NAME, "chrf"), (EVIL_NAME, "ter")]
    cells = [a for a in page.tags("td") if a.get("data-col") == "s:1:0"]
    assert [c["data-v"] for c in cells] == ["55.000000", "5.000000", "35.000000"]
    assert all(c["style"].startswith("background:hsl(") for c in cells)
    # the best chrF is green (hue 120), the worst red (hue 0); for TER, lower is greener
    assert cells[0]["style"] == "background:hsl(120,65%,86%)" and cells[1]["style"] == "background:hsl(0,65%,86%)"
    ter = [a for a in page.tags("td") if a.get("data-col") == "s:1:1"]
    assert ter[0]["style"] == "background:hsl(120,65%,86%)"  # TER 45, the lowest


def test_render_is_a_pure_function_of_the_result():
    result = hand_made_result()
    before = copy.deepcopy(result.to_dict())
    assert render_html(result) == render_html(result)
    assert result.to_dict() == before


def test_result_without_scores_still_renders():
    result = hand_made_result()
    result.systems = [s for s in result.systems if s.status != "ok"]
    page = assert_safe(render_html(result))
    assert "No system produced scores." in page.all_text


# ---------------------------------------------------------------- a real run


@pytest.fixture(scope="module")
def real_report(tmp_path_factory) -> tuple[RunResult, Path]:
    """A real run on the vi-th corpus: the copy baseline, precomputed candidates carrying the payloads, a missing file."""
    from evalkit.config import load_config
    from evalkit.pipeline import run

    tmp = tmp_path_factory.mktemp("html-report")
    (tmp / "floor").mkdir()
    floor = run(load_config(make_config(tmp / "floor", cache=False, statistics={"bootstrap_resamples": 0,
                                                                                 "randomization_trials": 0})))
    records = []
    for k, p in enumerate(floor.system("copy").paragraphs):
        candidate = (p.reference, p.reference[: len(p.reference) // 2], p.source)[k % 3]
        candidate = {1: EVIL_IMG, 2: EVIL_SCRIPT, 4: corpus_html_line()}.get(k, candidate)
        if CHANGED_AMOUNT[0] in p.reference:  # the human translation, with 100 billion yen made 100 million
            candidate = p.reference.replace(*CHANGED_AMOUNT)
        records.append({"line": p.source_lines[0], "translation": candidate})
        records.extend({"line": line, "translation": "."} for line in p.source_lines[1:])
    candidates = tmp / "post-edit.jsonl"
    candidates.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    config = make_config(tmp, cache=False, statistics={"bootstrap_resamples": 200, "randomization_trials": 500}, systems=[
        {"name": "copy", "backend": "copy"},
        {"name": "post-edit", "backend": "precomputed", "options": {"path": str(candidates)}},
        {"name": "vendor-api", "backend": "precomputed", "options": {"path": str(tmp / "missing.jsonl")}},
    ])
    result = run(load_config(config))
    # `evalkit report` renders a run read back from run.json: the same page
    assert render_html(run_from_dict(json.loads(json.dumps(result.to_dict())))) == render_html(result)
    path = tmp / "report.html"
    path.write_text(render_html(result), encoding="utf-8")
    return result, path


CHANGED_AMOUNT = ("100,000 ล้านเยน", "100 ล้านเยน")  # the reference's "100 tỷ yen" (line 39), a thousand times less


def _marks_in(html: str) -> list[tuple[str, str, str]]:
    """(data-status, text, title) of every highlighted item of the numbers metric, in page order."""
    found: list[tuple[str, str, str]] = []

    class Marks(HTMLParser):
        current: list | None = None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "mark" and attrs.get("data-status"):
                self.current = [attrs["data-status"], "", attrs.get("title") or ""]

        def handle_endtag(self, tag):
            if tag == "mark" and self.current is not None:
                found.append(tuple(self.current))
                self.current = None

        def handle_data(self, data):
            if self.current is not None:
                self.current[1] += data

    Marks(convert_charrefs=True).feed(html)
    return found


def test_real_run_highlights_numbers(real_report):
    """The shipped Thai reference converts every year to the Buddhist Era; a candidate that changes an amount is flagged."""
    result, path = real_report
    html = path.read_text(encoding="utf-8")
    marks = _marks_in(html)
    # the reference and the post-edit candidate (the reference's text) write 2023 as 2566: converted, not an error
    assert ("converted", "2566", "converted: BE year 2566 = 2023") in marks
    assert ("converted", "2516", "converted: BE year 2516 = 1973") in marks
    assert ("changed", "100 ล้านเยน", "changed: 100 tỷ yen in the pivot, 100 ล้านเยน in the candidate") in marks
    # the pivot's amount shows the worst status among the systems, with each system's
    pivot, copied = [m for m in marks if m[1] == "100 tỷ yen"]  # the source cell, then the copy candidate
    assert pivot[0] == "changed" and copied == ("preserved", "100 tỷ yen", "preserved: 100 tỷ yen")
    assert "copy: preserved: 100 tỷ yen" in pivot[2] and "post-edit: changed: 100 tỷ yen in the pivot" in pivot[2]
    assert "reference: preserved: 100 tỷ yen = 100,000 ล้านเยน" in pivot[2]
    numbers = result.system("post-edit").corpus_scores["numbers"].summary
    assert numbers["changed"] >= 1 and numbers["paragraphs_with_errors"] >= 1
    page = Page(html)
    figures = {a["data-figure"] for a in page.tags("td") if a.get("data-figure")}
    assert figures == {"precision", "recall", "paragraphs_with_errors", "reference_disagrees"}
    assert "lost" in " ".join(page.all_text.split())


def test_real_run_report(real_report):
    result, path = real_report
    html = path.read_text(encoding="utf-8")
    assert len(html.encode()) < 1_000_000
    page = assert_safe(html)
    text = page.all_text
    assert EVIL_IMG in text and EVIL_SCRIPT in text and corpus_html_line() in text
    assert {"copy", "post-edit", "vendor-api"} <= page.values("data-system")
    assert set(result.config["metrics"]) <= page.values("data-metric")
    assert "candidates file" in result.system("vendor-api").reason and result.system("vendor-api").reason in text
    assert sum(1 for r in page.tags("tr") if "data-r" in r) == len(result.alignment.pairs)
    assert len(page.tags("svg")) == len(result.config["metrics"])
    assert all(d["reason"] in text for d in result.target.dropped)


# ---------------------------------------------------------------- in a browser

CHROMIUM = Path("/usr/bin/chromium") if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage", "--no-default-browser-check"]
LAUNCH = ("import os, sys; a, b = int(sys.argv[1]), int(sys.argv[2]); os.dup2(a, 3); os.dup2(b, 4); os.close(a); "
          "os.close(b); os.execv(sys.argv[3], sys.argv[3:])")


class DevTools:
    """The DevTools protocol over --remote-debugging-pipe: commands to fd 3, replies and events from fd 4."""

    def __init__(self, binary: str | Path, profile: Path, log: Path) -> None:
        to_chrome, self._out = os.pipe()
        self._in, from_chrome = os.pipe()
        # Chromium's ends go to fds 3 and 4 through a tiny exec'ing launcher (no preexec_fn: not safe with threads);
        # copied above 10 first so that moving one onto 3 or 4 never overwrites the other.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_chrome, from_chrome)]
        os.close(to_chrome)
        os.close(from_chrome)
        try:
            with log.open("wb") as sink:
                self.process = subprocess.Popen(
                    [sys.executable, "-c", LAUNCH, *map(str, ends), str(binary), *FLAGS, f"--user-data-dir={profile}",
                     "--remote-debugging-pipe", "about:blank"],
                    stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, pass_fds=ends,
                )
        finally:
            for fd in ends:
                os.close(fd)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 20) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._out, data):]
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline, method)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            event = self._read(deadline, method)
            # an alert() from injected markup would block the load: fail on it rather than time out
            assert event.get("method") != "Page.javascriptDialogOpening", event
            self.events.append(event)
        return next(e for e in self.events if e.get("method") == method)

    def evaluate(self, expression: str, session: str):
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        return reply["result"].get("value")

    def _read(self, deadline: float, waiting_for: str) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"Chromium did not answer {waiting_for}")
            if select.select([self._in], [], [], left)[0]:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the DevTools pipe (exit {self.process.poll()})")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._in)
        os.close(self._out)



ROWS = "Array.from(document.querySelectorAll('#paragraph-table tbody tr'))"


class Tab:
    """One page loaded in headless Chromium, with what a user does to it: evaluate, click, pick from a <select>."""

    def __init__(self, browser: DevTools, path: Path) -> None:
        self.browser = browser
        self.url = path.resolve().as_uri()
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=self.session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, self.session)
        browser.send("Page.navigate", {"url": self.url}, self.session)
        browser.wait_for("Page.loadEventFired")

    def __call__(self, expression: str):
        return self.browser.evaluate(expression, self.session)

    def click(self, selector: str) -> None:
        """A real mouse click (pressed and released) at the element's centre, after scrolling it into view."""
        element = f"document.querySelector({json.dumps(selector)})"
        box = self(f"{element}.scrollIntoView({{block: 'center', inline: 'center'}});"
                   f"(b => [b.x + b.width / 2, b.y + b.height / 2])({element}.getBoundingClientRect())")
        for kind in ("mousePressed", "mouseReleased"):
            self.browser.send("Input.dispatchMouseEvent",
                              {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1}, self.session)

    def choose(self, select_id: str, label: str) -> None:
        """Pick the option with this visible label, as the browser does: set the value, fire `change`."""
        found = self(f"(s => {{ const o = Array.from(s.options).find(o => o.text === {json.dumps(label)});"
                     f"if (!o) return false; s.value = o.value; s.dispatchEvent(new Event('change')); return true; }})"
                     f"(document.getElementById({json.dumps(select_id)}))")
        assert found, (select_id, label)

    def order(self) -> list[int]:
        """The paragraph rows as displayed, top to bottom, by their document index."""
        return self(f"{ROWS}.map(r => +r.dataset.r)")

    def problems(self) -> list[dict]:
        return [e for e in self.browser.events
                if e.get("method") in ("Runtime.exceptionThrown", "Page.javascriptDialogOpening")
                or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]


@pytest.fixture
def chromium(tmp_path):
    browser = DevTools(CHROMIUM, tmp_path / "profile", tmp_path / "chromium.log")
    try:
        yield browser
    finally:
        browser.close()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_report_in_headless_chromium(real_report, chromium, tmp_path):
    result, path = real_report
    tab = Tab(chromium, path)
    text = tab("document.body.innerText")
    assert EVIL_IMG in text and EVIL_SCRIPT in text
    assert tab("[document.images.length, document.scripts.length]") == [0, 2]
    assert tab("document.getElementById('controls').hidden") is False  # the script ran

    # Sort by one system's chrF: click its header as a user would.
    column = "s:1:0"  # the second scored system (post-edit), first metric (chrf)
    header = f"document.querySelector('th[data-sort=\"{column}\"]')"
    assert tab(f"{header}.dataset.system + ' ' + {header}.dataset.metric") == "post-edit chrf"
    before = tab.order()
    tab.click(f'th[data-sort="{column}"]')
    after = tab.order()
    values = tab(f"{ROWS}.map(r => parseFloat(r.querySelector('td[data-col=\"{column}\"]').dataset.v))")
    assert after != before and sorted(after) == sorted(before)
    assert values == sorted(values)
    assert tab(f"{header}.getAttribute('aria-sort')") == "ascending"

    # The filter hides the rows that do not contain the text.
    shown = tab("const f = document.getElementById('filter'); f.value = 'onerror';"
                "f.dispatchEvent(new Event('input')); " + ROWS + ".filter(r => !r.hidden).length")
    assert shown == 1
    assert tab("document.getElementById('count').textContent") == f"1 of {len(after)} pairs shown"
    tab("const g = document.getElementById('filter'); g.value = ''; g.dispatchEvent(new Event('input'));"
        "document.querySelector('.scroll').scrollLeft = 0; window.scrollTo(0, 0)")

    size = chromium.send("Page.getLayoutMetrics", session=tab.session)["cssContentSize"]
    shot = chromium.send("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 5000), "scale": 1},
    }, tab.session)
    png = base64.b64decode(shot["data"])
    assert png.startswith(b"\x89PNG")
    (tmp_path / "report.png").write_bytes(png)
    if os.environ.get("EVALKIT_REPORT_SCREENSHOT"):  # to look at the page: EVALKIT_REPORT_SCREENSHOT=report.png pytest …
        Path(os.environ["EVALKIT_REPORT_SCREENSHOT"]).write_bytes(png)

    # numbers: the changed amount and a Buddhist-Era year, as the reader sees them (styled apart, titled)
    marked = tab("Array.from(document.querySelectorAll('#paragraph-table mark[data-status]')).map(m => "
                 "[m.dataset.status, m.textContent, m.title, getComputedStyle(m).backgroundColor, "
                 "getComputedStyle(m).fontWeight])")
    changed = [m for m in marked if m[0] == "changed" and m[1] == "100 ล้านเยน"]
    converted = [m for m in marked if m[0] == "converted" and m[1] == "2566"]
    preserved = [m for m in marked if m[0] == "preserved"]
    assert changed and changed[0][2] == "changed: 100 tỷ yen in the pivot, 100 ล้านเยน in the candidate"
    assert converted and converted[0][2] == "converted: BE year 2566 = 2023"
    assert len({changed[0][3], converted[0][3], preserved[0][3]}) == 3  # three different backgrounds
    assert int(changed[0][4]) >= 700  # and changed is bold: not told by colour alone

    requests = [e["params"]["request"]["url"] for e in chromium.events if e.get("method") == "Network.requestWillBeSent"]
    assert tab.url in requests  # the recorder saw the document itself, so an empty list below means something
    assert [u for u in requests if u != tab.url and not u.startswith("data:")] == []
    assert tab.problems() == []


# ---------------------------------------------------------------- the paragraph controls, on known numbers

# Three scored systems, five paragraphs; every order below is worked out by hand from these numbers,
# and no two values the script compares are equal, so each expected order is the only right one.
CONTROL_SYSTEMS = ["copy", "post-edit", EVIL_NAME]
CONTROL_SCORES = {  # system → metric → score of paragraphs 0..4 (document order)
    "copy": {"chrf": [10, 20, 30, 40, 50], "ter": [70, 60, 50, 40, 30]},
    "post-edit": {"chrf": [60, 15, 45, 36, 52], "ter": [20, 65, 30, 55, 47]},
    EVIL_NAME: {"chrf": [20, 80, 25, 41, 49], "ter": [90, 10, 35, 42, 51]},
}
GREEN, RED = "rgb(215, 240, 220)", "rgb(246, 214, 211)"  # the difference cell's better / worse backgrounds


def controls_result() -> RunResult:
    result = hand_made_result()
    result.config["metrics"] = ["chrf", "ter"]
    result.unavailable_metrics = {}
    result.baseline = "copy"
    result.alignment.pairs = [{"source_lines": [2 * r + 1], "target_lines": [2 * r + 11], "confidence": 0.9}
                              for r in range(5)]
    result.systems = []
    for name in CONTROL_SYSTEMS:
        scores = CONTROL_SCORES[name]
        paragraphs = [_paragraph(2 * r + 1, f"{name} candidate {r}", {"chrf": scores["chrf"][r], "ter": scores["ter"][r]},
                                 source=f"source {r}") for r in range(5)]
        result.systems.append(SystemResult(
            name=name, backend="copy", model=None, status="ok", paragraphs=paragraphs,
            corpus_scores={"chrf": Score(30.0, "chrf-sig", higher_is_better=True),
                           "ter": Score(50.0, "ter-sig", higher_is_better=False)}))
    return result


@pytest.fixture
def controls_tab(chromium, tmp_path) -> Tab:
    path = tmp_path / "controls.html"
    path.write_text(render_html(controls_result()), encoding="utf-8")
    tab = Tab(chromium, path)
    assert tab("document.getElementById('controls').hidden") is False  # the script ran to its end
    yield tab
    assert tab.problems() == []


def _delta_column(tab: Tab) -> tuple[str, list[str], list[str]]:
    """The difference column as displayed: its header, then each row's text and background, top to bottom."""
    header = tab("document.querySelector('th[data-sort=\"delta\"]').textContent")
    cells = tab(f"{ROWS}.map(r => [r.lastElementChild.innerText, getComputedStyle(r.lastElementChild).backgroundColor])")
    return header, [text for text, _ in cells], [colour for _, colour in cells]


def _expected_delta(a: str, b: str, metric: str, order=range(5)) -> list[str]:
    return [f"{CONTROL_SCORES[a][metric][r] - CONTROL_SCORES[b][metric][r]:+.2f}" for r in order]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_selectors_list_systems_and_metrics_and_start_on_a_system_against_the_baseline(controls_tab):
    tab = controls_tab
    names = "id => Array.from(document.getElementById(id).options).map(o => o.text)"
    assert tab(f"({names})('sys-a')") == CONTROL_SYSTEMS and tab(f"({names})('sys-b')") == CONTROL_SYSTEMS
    assert tab(f"({names})('metric')") == ["chrf", "ter"]
    header, texts, colours = _delta_column(tab)
    assert header == "Δ post-edit − copy (chrf)"
    assert texts == ["+50.00", "-5.00", "+15.00", "-4.00", "+2.00"] == _expected_delta("post-edit", "copy", "chrf")
    assert colours == [GREEN, RED, GREEN, RED, GREEN]  # chrF: higher is better
    assert tab.order() == [0, 1, 2, 3, 4]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_changing_the_selectors_recomputes_the_difference_column(controls_tab):
    tab = controls_tab
    tab.choose("metric", "ter")
    header, texts, colours = _delta_column(tab)
    assert header == "Δ post-edit − copy (ter)"
    assert texts == ["-50.00", "+5.00", "-20.00", "+15.00", "+17.00"]
    assert colours == [GREEN, RED, GREEN, RED, RED]  # TER: lower is better, so a rise is red
    tab.choose("metric", "chrf")
    tab.choose("sys-a", EVIL_NAME)  # a name full of markup arrives as text
    tab.choose("sys-b", "post-edit")
    header, texts, colours = _delta_column(tab)
    assert header == f"Δ {EVIL_NAME} − post-edit (chrf)"
    assert texts == ["-40.00", "+65.00", "-20.00", "+5.00", "-3.00"] == _expected_delta(EVIL_NAME, "post-edit", "chrf")
    assert colours == [RED, GREEN, RED, GREEN, RED]
    tab.choose("sys-b", EVIL_NAME)  # a system against itself: no difference, no colour
    header, texts, colours = _delta_column(tab)
    assert texts == ["0.00"] * 5 and len(set(colours)) == 1 and GREEN not in colours and RED not in colours


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_sort_by_difference_orders_rows_and_follows_the_selectors(controls_tab):
    tab = controls_tab
    tab.click("#sort-delta")
    assert tab.order() == [1, 3, 4, 2, 0]  # post-edit − copy on chrF, most negative first
    assert _delta_column(tab)[1] == ["-5.00", "-4.00", "+2.00", "+15.00", "+50.00"]
    assert tab("document.querySelector('th[data-sort=\"delta\"]').getAttribute('aria-sort')") == "ascending"
    tab.click("#sort-delta")  # again: the other way round
    assert tab.order() == [0, 2, 4, 3, 1]
    assert tab("document.querySelector('th[data-sort=\"delta\"]').getAttribute('aria-sort')") == "descending"
    tab.click("#sort-delta")
    tab.choose("sys-a", EVIL_NAME)  # while sorted by difference, a new pair of systems re-sorts the rows
    tab.choose("sys-b", "post-edit")
    assert tab.order() == [0, 2, 4, 3, 1]  # −40, −20, −3, +5, +65
    assert _delta_column(tab)[1] == ["-40.00", "-20.00", "-3.00", "+5.00", "+65.00"]
    tab.choose("metric", "ter")  # evil − post-edit on TER: +70, −55, +5, −13, +4
    assert tab.order() == [1, 3, 4, 2, 0]
    tab.click("#reset")
    assert tab.order() == [0, 1, 2, 3, 4]
    assert tab("document.querySelector('th[data-sort=\"delta\"]').getAttribute('aria-sort')") is None


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_worst_first_sorts_by_the_left_system_in_the_metric_direction(controls_tab):
    tab = controls_tab

    def shown(system: int, metric: int) -> list[str]:
        return tab(f"{ROWS}.map(r => r.querySelector('td[data-col=\"s:{system}:{metric}\"]').innerText)")

    tab.click("#worst")  # post-edit on chrF, higher is better: lowest first
    assert tab.order() == [1, 3, 2, 4, 0]
    assert shown(1, 0) == ["15.00", "36.00", "45.00", "52.00", "60.00"]
    tab.choose("metric", "ter")
    tab.click("#worst")  # TER, lower is better: highest first
    assert tab.order() == [1, 3, 4, 2, 0]
    assert shown(1, 1) == ["65.00", "55.00", "47.00", "30.00", "20.00"]
    tab.choose("sys-a", EVIL_NAME)
    tab.click("#worst")
    assert tab.order() == [0, 4, 3, 2, 1]
    assert shown(2, 1) == ["90.00", "51.00", "42.00", "35.00", "10.00"]
    tab.click("#reset")
    assert tab.order() == [0, 1, 2, 3, 4]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_number_spans_with_markup_stay_text_in_chromium(chromium, tmp_path):
    """An item whose text (and status) is markup, from a hand-edited or hostile run.json: shown as text, nothing runs."""
    from test_report_numbers import numbers_run

    result = numbers_run()
    p = result.system("mt").paragraphs[3]
    p.candidate = f"x {EVIL_IMG} y"
    start = p.candidate.index(EVIL_IMG)
    p.details["numbers"]["items"] = [{"kind": "name", "status": '"><img src=z onerror=alert(4)>', "source": None,
                                      "candidate": {"text": EVIL_IMG, "span": [start, start + len(EVIL_IMG)]}}]
    path = tmp_path / "numbers.html"
    path.write_text(render_html(result), encoding="utf-8")
    tab = Tab(chromium, path)
    assert tab("document.images.length") == 0 and tab("document.scripts.length") == 2
    found = tab("Array.from(document.querySelectorAll('mark[data-status]')).filter(m => m.textContent === "
                f"{json.dumps(EVIL_IMG)}).map(m => [m.dataset.status, m.title, m.children.length])")
    assert found == [['"><img src=z onerror=alert(4)>', '"><img src=z onerror=alert(4)>', 0]]
    assert tab("document.querySelector('tr[data-reference-disagrees]').dataset.r") == "1"
    assert "the human reference changed a number here" in tab("document.body.innerText")
    # "only paragraphs with lost numbers or ⚑": the changed amount, the reference's changed year, the missing year
    tab.click("#lost-only")
    assert tab(f"{ROWS}.filter(r => !r.hidden).map(r => +r.dataset.r)") == [0, 1, 2]
    assert tab("document.getElementById('count').textContent") == "3 of 4 pairs shown"
    tab.click("#lost-only")
    assert tab(f"{ROWS}.filter(r => !r.hidden).length") == 4
    assert tab.problems() == []


# ---------------------------------------------------------------- several languages, several documents


@pytest.fixture(scope="module")
def languages_report(tmp_path_factory) -> tuple[RunResult, Path]:
    """vi → th, ms, id (id missing), copy everywhere, `mine` scored in Thai only (unavailable in Malay)."""
    from test_report_files import languages_run

    tmp = tmp_path_factory.mktemp("languages-report")
    result = languages_run(tmp / "run")
    assert render_html(run_from_dict(json.loads(json.dumps(result.to_dict())))) == render_html(result)
    path = tmp / "report.html"
    path.write_text(render_html(result), encoding="utf-8")
    return result, path


@pytest.fixture(scope="module")
def testset_report(tmp_path_factory) -> tuple[RunResult, Path]:
    from test_report_files import ntrex_run

    tmp = tmp_path_factory.mktemp("testset-report")
    result = ntrex_run(tmp / "run")
    path = tmp / "report.html"
    path.write_text(render_html(result), encoding="utf-8")
    return result, path


def _cells(html: str, css_class: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in Page(html).elements if css_class in (attrs.get("class") or "").split()]


def test_a_run_over_languages_shows_the_matrix_languages_and_documents(languages_report):
    result, path = languages_report
    html = path.read_text(encoding="utf-8")
    page = assert_safe(html)
    text = " ".join(page.all_text.split())
    matrices = [attrs.get("data-metric") for tag, attrs in page.elements if tag == "table"
                and "matrix" in (attrs.get("class") or "")]
    assert matrices == ["chrf", "ter"]
    best = [c for c in _cells(html, "best") if c.get("data-lang")]  # the matrices' cells (not the documents tables')
    # mine is best in Thai on chrF and on TER (lower is better); alone in Malay, copy is not marked
    assert [(c.get("data-lang"), c.get("data-v")) for c in best if c.get("data-v") in ("100.000000", "0.000000")] \
        == [("th", "100.000000"), ("th", "0.000000")]
    assert not [c for c in best if c.get("data-lang") == "ms"]
    assert "Indonesian (id): missing — no Indonesian (id) translation of 002_6d8f2e7b812a4376.txt found" in text
    assert "2 corpus documents in no pair" in text and "003_80fd675a9a6137d2.txt (id): not a translation" in text
    unavailable = [c.get("data-lang") for c in _cells(html, "unavailable") if c.get("data-lang")]
    assert unavailable == ["ms", "ms"] and "mine.ms.jsonl not found" in text  # mine's Malay cells say why
    data = json.loads(page.scripts[0][1])
    assert data["multi"] is True and data["systems"] == ["copy", "mine"]
    assert [(l["code"], l["documents"]) for l in data["langs"]] == [("th", ["002_6d8f2e7b812a4376.txt"]),
                                                                   ("ms", ["002_6d8f2e7b812a4376.txt"])]
    rows = [attrs for tag, attrs in page.elements if tag == "tr" and "data-r" in attrs]
    expected = len(result.system("copy", "th").paragraphs) + len(result.system("copy", "ms").paragraphs)
    assert len(rows) == expected and {r["data-lang"] for r in rows} == {"th", "ms"}
    # mine has no Malay paragraphs: its cells in Malay rows say so
    assert len(data["scores"][1][0]) == expected
    assert [v for v, row in zip(data["scores"][1][0], rows) if row["data-lang"] == "ms"] == \
        [None] * len(result.system("copy", "ms").paragraphs)


def test_a_single_document_run_keeps_its_page(real_report):
    result, path = real_report
    html = path.read_text(encoding="utf-8")
    elements = [attrs for _, attrs in Page(html).elements]
    assert not [a for a in elements if a.get("id") == "scope" or "data-lang" in a or "matrix" in (a.get("class") or "")]
    assert json.loads(Page(html).scripts[0][1])["multi"] is False


def test_names_and_document_ids_with_markup_stay_text_in_a_run_over_languages(languages_report):
    result, _ = languages_report
    result = copy.deepcopy(result)
    for s in result.systems:
        if s.name == "mine":
            s.name = EVIL_NAME
        for p in s.paragraphs:
            p.document = EVIL_IMG
    for d in result.documents:
        d.document = EVIL_SCRIPT
        d.scores = {EVIL_NAME if k == "mine" else k: v for k, v in d.scores.items()}
    result.unpaired[0]["reason"] = EVIL_SCRIPT
    html = render_html(result)
    page = assert_safe(html)
    assert EVIL_NAME in page.all_text and EVIL_IMG in page.all_text and EVIL_SCRIPT in page.all_text
    data = json.loads(page.scripts[0][1])
    assert data["systems"] == ["copy", EVIL_NAME] and data["langs"][0]["documents"] == [EVIL_SCRIPT]


def test_a_test_set_run_has_a_documents_table_per_language(testset_report):
    result, path = testset_report
    html = path.read_text(encoding="utf-8")
    page = assert_safe(html)
    text = " ".join(page.all_text.split())
    documents = [d.document for d in result.documents_in("th") if d.scored]
    assert f"Thai: line-parallel test set NTREX-128 ({len(documents)} documents)" in text
    rows = [attrs for tag, attrs in page.elements if tag == "tr" and "data-document" in attrs and "data-r" not in attrs]
    assert [(r["data-lang"], r["data-document"]) for r in rows] == \
        [(lang, d.document) for lang in ("th", "ms", "id") for d in result.documents_in(lang)]


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_the_language_selector_shows_one_language(languages_report, chromium):
    result, path = languages_report
    tab = Tab(chromium, path)
    th, ms = (len(result.system("copy", lang).paragraphs) for lang in ("th", "ms"))
    assert tab("document.getElementById('scope').hidden") is False
    options = "id => Array.from(document.getElementById(id).options).map(o => o.text)"
    assert tab(f"({options})('lang-select')") == ["Thai (th)", "Malay (ms)"]
    assert tab(f"({options})('doc-select')") == ["all 1 document", "002_6d8f2e7b812a4376.txt"]
    shown = f"{ROWS}.filter(r => !r.hidden).map(r => r.dataset.lang)"
    assert tab(shown) == ["th"] * th
    assert tab("document.getElementById('count').textContent") == f"{th} of {th} pairs shown"
    visible = ("sel => Array.from(document.querySelectorAll(sel)).filter(e => e.offsetParent !== null)"
               ".map(e => e.dataset.lang)")
    assert tab(f"({visible})('.charts[data-lang]')") == ["th"] and tab(f"({visible})('.doc-group')") == ["th"]
    assert tab("Array.from(document.querySelectorAll('.matrix .sel')).map(e => e.dataset.lang)") == ["th"] * 6
    # the difference column in Thai: mine − copy on chrF, for every row
    tab.choose("sys-a", "mine")
    tab.choose("sys-b", "copy")
    deltas = tab(f"{ROWS}.filter(r => !r.hidden).map(r => r.lastElementChild.innerText)")
    assert len(deltas) == th and all(d.startswith(("+", "0.00")) for d in deltas)
    tab.choose("lang-select", "Malay (ms)")
    assert tab(shown) == ["ms"] * ms
    assert tab("document.getElementById('count').textContent") == f"{ms} of {ms} pairs shown"
    assert tab(f"({visible})('.charts[data-lang]')") == ["ms"] and tab(f"({visible})('.doc-group')") == ["ms"]
    # mine did not run in Malay: no difference to show
    assert set(tab(f"{ROWS}.filter(r => !r.hidden).map(r => r.lastElementChild.innerText)")) == {""}
    # the filter applies within the language
    tab("const f = document.getElementById('filter'); f.value = 'zzz-nowhere'; f.dispatchEvent(new Event('input'))")
    assert tab("document.getElementById('count').textContent") == f"0 of {ms} pairs shown"
    tab.click('.matrix thead th[data-lang="th"]')  # a matrix column header picks its language
    assert tab("document.getElementById('lang-select').value") == "th"
    assert tab("document.getElementById('count').textContent") == f"0 of {th} pairs shown"
    assert tab.problems() == []


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_the_document_selector_narrows_a_language_to_one_document(testset_report, chromium):
    result, path = testset_report
    tab = Tab(chromium, path)
    documents = [d for d in result.documents_in("th") if d.scored]
    total = sum(d.paragraphs for d in documents)
    assert tab("Array.from(document.getElementById('doc-select').options).map(o => o.value)") == \
        [""] + [d.document for d in documents]
    assert tab("document.getElementById('doc-select').options[0].text") == f"all {len(documents)} documents"
    assert tab("document.getElementById('count').textContent") == f"{total} of {total} pairs shown"
    second = documents[1]
    tab.choose("doc-select", second.document)
    shown = f"{ROWS}.filter(r => !r.hidden).map(r => [r.dataset.lang, r.dataset.document])"
    assert tab(shown) == [["th", second.document]] * second.paragraphs
    assert tab("document.getElementById('count').textContent") == f"{second.paragraphs} of {second.paragraphs} pairs shown"
    rows = "Array.from(document.querySelectorAll('table.documents tbody tr')).filter(r => r.offsetParent !== null)"
    assert tab(f"{rows}.map(r => r.dataset.document)") == [second.document]
    tab.choose("lang-select", "Malay (ms)")  # another language: the whole language again
    assert tab("document.getElementById('doc-select').value") == ""
    ms = sum(d.paragraphs for d in result.documents_in("ms") if d.scored)
    assert tab("document.getElementById('count').textContent") == f"{ms} of {ms} pairs shown"
    third = [d for d in result.documents_in("ms") if d.scored][2]
    tab.click(f'table.documents tr[data-lang="ms"][data-document="{third.document}"] th.doc')  # a name picks it
    assert tab("document.getElementById('doc-select').value") == third.document
    assert tab(f"{ROWS}.filter(r => !r.hidden).length") == third.paragraphs
    assert tab.problems() == []
