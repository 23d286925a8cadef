"""Faults a user meets, through the command line: interrupts, unwritable results, edited corpora, floods, noise.

Signals go to a real `evalkit run` subprocess; the permission case runs the
CLI as an unprivileged user (`setpriv`), since root ignores file modes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from conftest import CORPUS, MALAY, PIVOT, ROOT, make_config, run_cli
from evalkit.corpus import load_document

PIVOT_TEXTS = load_document(CORPUS / PIVOT).texts
PARAGRAPHS = 48  # in the interrupted run: long enough to stop mid-way, short enough to finish quickly


def _cache_entries(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
        except sqlite3.OperationalError:  # the schema is being created right now
            return 0


def _long_corpus(folder: Path, paragraphs: int) -> Path:
    """A pivot of many distinct paragraphs and a reference holding the same text (the pairing is not under test)."""
    folder.mkdir(parents=True)
    lines = [f"{i + 1}. {PIVOT_TEXTS[i % len(PIVOT_TEXTS)]}" for i in range(paragraphs)]
    (folder / "pivot.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "reference.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def long_run_config(tiny_marian, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("long-run")
    corpus = _long_corpus(base / "corpus", PARAGRAPHS)
    config = {
        "name": "long", "corpus": str(corpus),
        "pivot": {"lang": "vi", "file": "pivot.txt", "check_lang": False},
        "target": {"lang": "ms", "file": "reference.txt", "check_lang": False},
        "systems": [{"name": "tiny", "backend": "seq2seq", "model": str(tiny_marian),
                     "options": {"batch_size": 1, "max_new_tokens": 16}}],
        "metrics": ["chrf"], "output_dir": str(base / "results"),
        "statistics": {"bootstrap_resamples": 0, "randomization_trials": 0},
    }
    path = base / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _interrupt(config: Path, cache: Path, sig: int, after_entries: int) -> tuple[subprocess.CompletedProcess, int]:
    """Start a real run, send `sig` once the cache holds `after_entries` more translations; (result, entries after)."""
    start = _cache_entries(cache)
    proc = subprocess.Popen([sys.executable, "-m", "evalkit", "run", str(config), "-q"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while _cache_entries(cache) < start + after_entries and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), _cache_entries(cache)


def test_interrupts_keep_every_finished_batch_say_so_and_a_rerun_resumes(long_run_config):
    cache = long_run_config.parent / "results" / "translation-cache.sqlite"
    results = long_run_config.parent / "results"

    stopped, entries = _interrupt(long_run_config, cache, signal.SIGINT, after_entries=5)
    assert stopped.returncode == 130, stopped.stderr
    [line] = stopped.stderr.strip().splitlines()  # one line, no traceback
    kept = int(re.search(r"(\d+) newly translated paragraph\(s\) are kept in (.+?);", line).group(1))
    assert line.startswith("interrupted: Ctrl-C: ") and str(cache) in line and "resumes" in line
    assert 5 <= kept == entries < PARAGRAPHS  # what the message says is what the cache holds, committed batch by batch
    assert [p.name for p in results.iterdir() if p.is_dir()] == []  # no run folder, not even an empty one

    terminated, after = _interrupt(long_run_config, cache, signal.SIGTERM, after_entries=5)
    assert terminated.returncode == 143, terminated.stderr
    assert terminated.stderr.startswith("interrupted: SIGTERM: ") and "Traceback" not in terminated.stderr
    assert after > entries

    finished = run_cli("run", long_run_config, "--paragraphs", "0")
    assert finished.returncode == 0, finished.stderr
    [folder] = [p for p in results.iterdir() if p.is_dir()]
    data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert data["systems"][0]["from_cache"] == after  # everything kept before was reused, nothing translated twice
    assert data["systems"][0]["translated"] == PARAGRAPHS - after


def test_an_unwritable_results_folder_fails_before_any_translating(tiny_marian, tmp_path):
    blocker = tmp_path / "results-is-a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    cache = tmp_path / "cache.sqlite"
    config = make_config(tmp_path, systems=[{"name": "tiny", "backend": "seq2seq", "model": str(tiny_marian)}],
                         cache=str(cache), metrics=["chrf"])
    proc = run_cli("run", config, "--output-dir", blocker)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: cannot write results to {blocker}") and len(proc.stderr.splitlines()) == 1
    assert _cache_entries(cache) == 0  # nothing was translated


def test_a_write_failure_after_the_work_keeps_run_json_and_says_where(tmp_path):
    from evalkit.config import load_config
    from evalkit.errors import ResultsError
    from evalkit.pipeline import run
    from evalkit.report.files import write_results_or_keep

    result = run(load_config(make_config(tmp_path, target_lang="ms", target_file=MALAY, metrics=["chrf"])))
    blocker = tmp_path / "now-a-file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ResultsError) as caught:
        write_results_or_keep(result, blocker)
    message = str(caught.value)
    kept = Path(re.search(r"the run is kept in (\S+run\.json)", message).group(1))
    assert json.loads(kept.read_text(encoding="utf-8"))["run_id"] == result.run_id
    shutil.rmtree(kept.parent)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run the CLI as an unprivileged user")
def test_a_results_folder_without_write_permission_is_one_line(tmp_path):
    # The unprivileged user must reach the config and corpus: a world-readable folder of its own.
    base = Path(tempfile.mkdtemp(prefix="evalkit-perm-"))
    try:
        base.chmod(0o755)
        shutil.copytree(CORPUS, base / "corpus")
        locked = base / "locked"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        config = base / "config.yaml"
        config.write_text(yaml.safe_dump({
            "name": "perm", "corpus": "corpus", "pivot": {"lang": "vi", "file": PIVOT},
            "target": {"lang": "ms", "file": MALAY}, "systems": [{"name": "copy", "backend": "copy"}],
            "metrics": ["chrf"], "output_dir": "locked/results", "cache": False,
        }), encoding="utf-8")
        for path in [base, *base.rglob("*")]:
            if path != locked:
                path.chmod(0o755 if path.is_dir() else 0o644)
        proc = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             sys.executable, "-m", "evalkit", "run", str(config)],
            capture_output=True, text=True, cwd=base, timeout=300,
            env={**os.environ, "HOME": str(base), "XDG_CACHE_HOME": str(base / ".cache")},
        )
        if "Permission denied" in proc.stderr and "evalkit" not in proc.stderr:
            pytest.skip(f"the unprivileged user cannot run this interpreter: {proc.stderr.strip()[:200]}")
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith(f"error: cannot write results to {locked / 'results'} (Permission denied)")
        assert "Traceback" not in proc.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_compare_and_check_refuse_a_corpus_edited_between_runs(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    config = make_config(tmp_path, target_lang="ms", target_file=MALAY, metrics=["chrf"], corpus=str(corpus),
                         statistics={"bootstrap_resamples": 0, "randomization_trials": 0})
    assert run_cli("run", config, "-q").returncode == 0
    [before] = [p for p in (tmp_path / "results").iterdir() if p.is_dir()]
    reference = corpus / MALAY
    lines = reference.read_text(encoding="utf-8").split("\n")
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    lines[longest] = lines[longest].replace("Vietnam", "Kemboja", 1)  # same file name, different text
    reference.write_text("\n".join(lines), encoding="utf-8")

    gate = run_cli("check", config, "--baseline", before)
    assert gate.returncode == 2 and f"{MALAY} changed since baseline" in gate.stderr
    assert run_cli("run", config, "-q").returncode == 0
    after = next(p for p in (tmp_path / "results").iterdir() if p.is_dir() and p != before)
    compared = run_cli("compare", before, after)
    assert compared.returncode == 2
    assert f"{MALAY} changed between the runs" in compared.stderr and len(compared.stderr.splitlines()) == 1


def test_paragraphs_flag_bounds_the_terminal_output(tmp_path):
    config = make_config(tmp_path, target_lang="ms", target_file=MALAY, metrics=["chrf"],
                         statistics={"bootstrap_resamples": 0, "randomization_trials": 0})
    short = run_cli("run", config, "--paragraphs", "2")
    everything = run_cli("run", config, "--paragraphs", "all")
    assert short.returncode == everything.returncode == 0
    assert len(short.stdout.splitlines()) < len(everything.stdout.splitlines())
    assert "--paragraphs all" in short.stdout
    bad = run_cli("run", config, "--paragraphs", "many")
    assert bad.returncode == 2 and "--paragraphs" in bad.stderr
    # the verdict in words, the numbers behind it in run.json
    assert "Malay 001_011d1486f715c8a5.txt translates the Vietnamese 002_6d8f2e7b812a4376.txt:" in everything.stdout
    assert "paragraphs aligned" in everything.stdout and "nats" not in everything.stdout


def test_a_quiet_run_prints_nothing_on_stderr(tiny_marian, tmp_path):
    config = make_config(tmp_path, systems=[
        {"name": "tiny", "backend": "seq2seq", "model": str(tiny_marian), "options": {"batch_size": 2, "max_new_tokens": 8}},
    ], metrics=["chrf", "bleu"], statistics={"bootstrap_resamples": 0, "randomization_trials": 0})
    proc = run_cli("run", config, "-q", subprocess_run=True)
    assert proc.returncode == 0 and proc.stderr == ""


def test_thai_segmentation_does_not_trigger_sacrebleus_detokenization_warning(caplog):
    from evalkit.scorers import METRICS

    thai = load_document(CORPUS / "000_04e105a6d28e593c.txt").texts
    texts = [f"{thai[i % len(thai)]} {i}." for i in range(120)]  # segmentation leaves " ." at every end
    scorer = METRICS.get("bleu")("th")
    with caplog.at_level(logging.WARNING, logger="sacrebleu"):
        scorer.corpus_score(texts, texts)
    assert not [r for r in caplog.records if "tokenized period" in r.getMessage()]
