"""The `openai` backend: any OpenAI-compatible server.

Fault paths run against `fault_server.FaultServer`, a server of the tests' own
on 127.0.0.1; the end-to-end runs (mark `server`) against a real
`transformers serve` serving the tests' tiny causal model. Traffic never leaves
127.0.0.1, every wait is bounded, and nothing asserts on wall-clock time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from pydantic import ValidationError

from conftest import CORPUS, PIVOT, make_config, run_cli
from evalkit.backends import BACKENDS
from evalkit.backends.cached import CachedTranslator
from evalkit.backends.openai_compat import (
    OpenAIOptions,
    OpenAITranslator,
    RateLimiter,
    backoff_delay,
    parse_retry_after,
)
from evalkit.backends.prompting import build_messages, looks_refused, render_prompt
from evalkit.backends.store import TranslationCache
from evalkit.config import load_config
from evalkit.corpus import load_document
from evalkit.errors import ConfigError, ModelUnavailableError, TranslationError
from fault_server import FaultScript, FaultServer, answer_for, prompt_of

pytest.importorskip("httpx", reason="the openai backend needs httpx (pip install -e '.[test]')")

SOURCES = [p[:100] for p in load_document(CORPUS / PIVOT).texts[:4]]
SECRET = "sk-test-4f9c2a7e1b3d8c6a5e0f"  # a key that must never be written anywhere


def make(server: FaultServer, model: str = "tiny-served", **options) -> OpenAITranslator:
    defaults = {"base_url": server.url, "backoff": 0.001, "backoff_max": 5.0, "timeout": 5.0, "max_concurrency": 1}
    return OpenAITranslator("served", model, OpenAIOptions(**{**defaults, **options}))


def expected(source: str, **prompt_options) -> str:
    messages = build_messages(OpenAIOptions(**prompt_options), source, "vi", "th")
    return answer_for(messages[-1]["content"])


# -- options, identity, pure helpers ----------------------------------------------------------


def test_registered_and_options_are_checked():
    assert BACKENDS.get("openai") is OpenAITranslator
    with pytest.raises(ValidationError, match="NAME of an environment variable") as info:
        OpenAIOptions(api_key_env=SECRET)
    assert SECRET not in str(info.value.errors()[0]["msg"])
    with pytest.raises(ValidationError, match="must not contain credentials"):
        OpenAIOptions(base_url="https://user:pw@api.example.com/v1")
    with pytest.raises(ValidationError, match="extra_body must not set max_tokens"):
        OpenAIOptions(extra_body={"max_tokens": 3})
    with pytest.raises(ValidationError, match="http"):
        OpenAIOptions(base_url="127.0.0.1:8000")
    assert OpenAIOptions(base_url="http://127.0.0.1:8000/v1/").base_url == "http://127.0.0.1:8000/v1"


def test_config_error_never_repeats_a_pasted_key(tmp_path):
    path = make_config(tmp_path, systems=[{"name": "s", "backend": "openai", "model": "m", "options": {"api_key_env": SECRET}}])
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "api_key_env" in str(info.value) and SECRET not in str(info.value)


def test_identity_is_model_prompt_and_decoding_not_key_or_speed(monkeypatch):
    base = {"base_url": "http://127.0.0.1:9/v1"}
    one = OpenAITranslator("a", "m", OpenAIOptions(**base, api_key_env="KEY_ONE", max_concurrency=1, timeout=5))
    two = OpenAITranslator("b", "m", OpenAIOptions(**base, api_key_env="KEY_TWO", max_concurrency=8, max_retries=0,
                                                   requests_per_minute=10))
    assert one.identity() == two.identity()  # the key's variable, concurrency, retries and limits change no output
    assert "KEY_ONE" not in one.identity() and "127.0.0.1:9/v1" in one.identity()
    other_server = OpenAITranslator("a", "m", OpenAIOptions(base_url="http://127.0.0.1:10/v1"))
    assert other_server.identity() != one.identity()  # the same id on another server may be other weights
    shared = [OpenAITranslator("a", "m", OpenAIOptions(base_url=url, url_in_identity=False))
              for url in ("http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1")]
    assert shared[0].identity() == shared[1].identity()
    for change in ({"max_tokens": 9}, {"stop": []}, {"system_prompt": "Be terse."}, {"endpoint": "completions"},
                   {"extra_body": {"top_k": 1}}):
        assert OpenAITranslator("a", "m", OpenAIOptions(**base, **change)).identity() != one.identity(), change
    assert OpenAITranslator("a", "other", OpenAIOptions(**base)).identity() != one.identity()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert OpenAITranslator("a", "m", OpenAIOptions()).identity() == OpenAITranslator("a", "m", OpenAIOptions(**base)).identity()


def test_example_configs_load():
    examples = sorted((Path(__file__).resolve().parent.parent / "configs" / "examples").glob("*.yaml"))
    assert examples
    for path in examples:
        config = load_config(path)
        assert any(s.backend == "openai" for s in config.systems), path


def test_sampled_decoding_is_never_cached(tmp_path):
    sampled = OpenAITranslator("s", "m", OpenAIOptions(base_url="http://127.0.0.1:9/v1", temperature=0.7))
    assert sampled.deterministic is False and "temperature:0.7" in sampled.signature()
    cached = CachedTranslator(sampled, tmp_path / "cache.sqlite")
    assert not cached.enabled and "sampled" in cached.bypass_reason


def test_backoff_delay_has_jitter_honours_retry_after_and_is_capped():
    import random

    rng = random.Random(0)
    delays = [backoff_delay(2, 1.0, 60.0, None, rng) for _ in range(200)]
    assert all(0 <= d <= 4.0 for d in delays) and len(set(delays)) > 100  # full jitter over [0, base·2^attempt]
    assert all(backoff_delay(a, 1.0, 3.0, None, rng) <= 3.0 for a in range(12))
    assert backoff_delay(0, 0.01, 60.0, 7.0, rng) == 7.0  # Retry-After is a floor
    assert backoff_delay(0, 0.01, 5.0, 3600.0, rng) == 5.0  # ... up to backoff_max


def test_parse_retry_after():
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == 10.0
    assert parse_retry_after({"retry-after": "soon"}) is None and parse_retry_after({}) is None


def test_rate_limiter_holds_requests_and_tokens_to_the_minute():
    now = [0.0]

    async def sleep(seconds):
        now[0] += seconds

    async def scenario():
        rpm = RateLimiter(2, None, clock=lambda: now[0], sleep=sleep)
        starts = []
        for _ in range(5):
            await rpm.acquire(1)
            starts.append(now[0])
        tpm = RateLimiter(None, 100, clock=lambda: now[0], sleep=sleep)
        now[0] = 1000.0
        first = await tpm.acquire(80)
        RateLimiter.settle(first, 30)  # the server counted fewer than the estimate
        await tpm.acquire(60)  # 30 + 60 fits: no wait
        at = now[0]
        await tpm.acquire(50)  # 90 + 50 does not: waits for the first to leave the window
        return starts, at, now[0]

    starts, before, after = asyncio.run(scenario())
    assert starts == [0.0, 0.0, 60.0, 60.0, 120.0]
    assert before == 1000.0 and after == 1060.0


def test_refusals_are_recognised():
    assert looks_refused("I cannot translate this text.") and looks_refused("I'm sorry, but I can't help with that")
    assert looks_refused("As an AI language model, ...") and looks_refused("Sorry, I am unable to do that")
    assert not looks_refused("ฉันไม่สามารถ") and not looks_refused("Icons are cannot-miss") and not looks_refused("")


# -- against the fault-injecting server -------------------------------------------------------


def test_translates_in_order_cuts_the_answer_and_counts(monkeypatch):
    monkeypatch.setenv("EVALKIT_TEST_KEY", SECRET)
    with FaultServer() as server:
        translator = make(server, api_key_env="EVALKIT_TEST_KEY", max_concurrency=3)
        finished = []
        result = translator.translate(SOURCES, "vi", "th", progress=finished.extend)
        assert result.texts == [expected(s) for s in SOURCES]  # cut at the first line break
        assert sorted(f.index for f in finished) == list(range(len(SOURCES)))
        posts = server.posts()
        assert len(posts) == len(SOURCES) and server.requests[0].path == "/v1/models"  # the server checked first
        assert all(p.headers["Authorization"] == f"Bearer {SECRET}" for p in posts)
        body = posts[0].body
        assert body["model"] == "tiny-served" and body["temperature"] == 0 and body["stop"] == ["\n"]
        assert body["messages"] == build_messages(translator.options, prompt_source(body), "vi", "th")
        info = translator.info
        assert info["requests"] == 4 and info["retries"] == 0 and info["failed_paragraphs"] == 0
        assert info["prompt_tokens"] == 40 and info["completion_tokens"] == 12
        assert info["server_model_entry"]["owned_by"] == "tests" and info["seconds"]["waiting_on_server"] > 0
        assert translator.timings.generate > 0
        for text in (json.dumps(info), translator.signature(), translator.identity()):
            assert SECRET not in text


def prompt_source(body: dict) -> str:
    """The source paragraph inside a recorded chat request (the template's {source})."""
    return next(s for s in SOURCES if s in prompt_of(body))


def test_few_shot_and_system_prompt_are_the_causal_prompt():
    options = {"system_prompt": "You translate news.", "few_shot": [{"source": "Xin chào", "target": "สวัสดี"}]}
    with FaultServer() as server:
        make(server, **options).translate(SOURCES[:1], "vi", "th")
        messages = server.posts()[0].body["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages == build_messages(OpenAIOptions(**options), SOURCES[0], "vi", "th")


def test_completions_endpoint_sends_the_plain_prompt():
    with FaultServer() as server:
        translator = make(server, endpoint="completions", few_shot=[{"source": "Xin chào", "target": "สวัสดี"}])
        result = translator.translate(SOURCES[:2], "vi", "th")
        posts = server.posts()
    assert all(p.path == "/v1/completions" for p in posts)
    prompts = [render_prompt(translator.options, s, "vi", "th") for s in SOURCES[:2]]
    assert [p.body["prompt"] for p in posts] == prompts
    assert result.texts == [answer_for(p) for p in prompts]


def test_works_where_an_event_loop_already_runs_and_under_rate_limits():
    """A notebook runs an event loop in the calling thread; the backend must not try to nest one in it."""
    with FaultServer() as server:
        translator = make(server, requests_per_minute=1000, tokens_per_minute=10**6, max_concurrency=2)

        async def notebook_cell():
            return translator.translate(SOURCES, "vi", "th").texts

        assert asyncio.run(notebook_cell()) == [expected(s) for s in SOURCES]
        assert translator.availability() == (True, f"served at {server.url}")
    assert translator.info["seconds"]["rate_limit_waits"] == 0


def test_429_with_retry_after_is_honoured():
    with FaultServer(FaultScript(actions=["429"], retry_after="1")) as server:
        translator = make(server)
        assert translator.translate(SOURCES[:1], "vi", "th").texts == [expected(SOURCES[0])]
    info = translator.info
    assert info["requests"] == 2 and info["retries"] == 1
    assert info["seconds"]["retry_waits"] >= 1.0  # the planned wait, not a clock reading: at least Retry-After


@pytest.mark.parametrize("fault", ["500", "malformed", "drop"])
def test_transient_faults_are_retried(fault):
    with FaultServer(FaultScript(actions=[fault, fault])) as server:
        translator = make(server)
        assert translator.translate(SOURCES[:2], "vi", "th").texts == [expected(s) for s in SOURCES[:2]]
        assert len(server.posts()) == 4
    assert translator.info["retries"] == 2 and translator.info["failed_paragraphs"] == 0


def test_a_hang_past_the_timeout_fails_the_paragraph_after_its_retries():
    with FaultServer(FaultScript(actions=["hang", "hang"], hang_seconds=20)) as server:
        translator = make(server, timeout=0.3, max_retries=1)
        with pytest.raises(TranslationError) as info:
            translator.translate(SOURCES[:2], "vi", "th")
    message = str(info.value)
    assert message.startswith("1 of 2 paragraphs failed after retries") and "timeout of 0.3 s" in message
    assert "\n" not in message
    assert translator.info["failed_paragraphs"] == 1 and translator.info["errors"]


def test_a_bad_request_is_not_retried():
    with FaultServer(FaultScript(actions=["400"])) as server:
        translator = make(server)
        with pytest.raises(TranslationError, match=r"1 of 3 paragraphs failed .*HTTP 400 refused"):
            translator.translate(SOURCES[:3], "vi", "th")
        assert len(server.posts()) == 3


def test_failed_paragraphs_are_not_cached_and_a_rerun_retries_only_them(tmp_path):
    cache = tmp_path / "cache.sqlite"
    with FaultServer(FaultScript(actions=["ok", "500", "500", "ok", "ok"])) as server:
        first = CachedTranslator(make(server, max_retries=1), cache)
        with pytest.raises(TranslationError, match=r"^1 of 4 paragraphs failed after retries .*HTTP 500 internal error \(after 1 retry\).*a re-run sends only the failed ones"):
            first.translate(SOURCES, "vi", "th")
        assert TranslationCache(cache).get_many(first.identity(), "vi", "th", SOURCES).keys() == {SOURCES[0], SOURCES[2], SOURCES[3]}
        sent = len(server.posts())
        again = CachedTranslator(make(server, max_retries=1), cache)
        result = again.translate(SOURCES, "vi", "th")
        assert result.texts == [expected(s) for s in SOURCES] and result.cached == 3
        assert len(server.posts()) == sent + 1  # only the failed paragraph was sent again


def test_refused_and_empty_answers_are_kept_and_flagged():
    with FaultServer(FaultScript(actions=["refuse", "empty", "ok"])) as server:
        translator = make(server)
        texts = translator.translate(SOURCES[:3], "vi", "th").texts
    assert texts == ["I cannot translate this text.", "", expected(SOURCES[2])]
    info = translator.info
    assert info["refused_answers"] == 1 and info["empty_answers"] == 1
    assert [f["why"] for f in info["flagged"]] == ["refused", "empty"]


def test_unknown_model_is_one_line_before_any_paragraph():
    with FaultServer() as server:
        translator = make(server, model="not-served")
        with pytest.raises(ModelUnavailableError) as info:
            translator.translate(SOURCES, "vi", "th")
        assert server.posts() == []
    assert str(info.value) == f"model 'not-served' is not served at {server.url}; it serves: tiny-served"


def test_a_refused_key_is_one_line_before_any_paragraph(monkeypatch):
    monkeypatch.setenv("EVALKIT_TEST_KEY", SECRET)
    with FaultServer(FaultScript(models_status=401)) as server:
        translator = make(server, api_key_env="EVALKIT_TEST_KEY")
        with pytest.raises(ModelUnavailableError) as info:
            translator.load()
        assert server.posts() == []
        assert translator.availability()[0] is False
    message = str(info.value)
    assert message.startswith(f"the server at {server.url} refused the key in $EVALKIT_TEST_KEY: HTTP 401")
    assert SECRET not in message and "\n" not in message


def test_a_missing_key_variable_and_a_dead_server_are_unavailable(monkeypatch):
    monkeypatch.delenv("EVALKIT_NO_SUCH_KEY", raising=False)
    with FaultServer() as server:
        with pytest.raises(ModelUnavailableError, match=r"environment variable EVALKIT_NO_SUCH_KEY \(api_key_env\) is not set"):
            make(server, api_key_env="EVALKIT_NO_SUCH_KEY").load()
        url = server.url
    with pytest.raises(ModelUnavailableError, match=r"^cannot reach the server at http://127\.0\.0\.1:\d+/v1: .*is the server running"):
        OpenAITranslator("s", "m", OpenAIOptions(base_url=url)).load()
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ModelUnavailableError, match="OPENAI_BASE_URL"):
        OpenAITranslator("s", "m", OpenAIOptions()).load()


def test_a_key_refused_mid_run_stops_at_once(monkeypatch):
    with FaultServer(FaultScript(actions=["ok", "401"])) as server:
        translator = make(server)
        with pytest.raises(TranslationError, match=r"refused the request: HTTP 401"):
            translator.translate(SOURCES, "vi", "th")
        assert len(server.posts()) == 2  # nothing more was sent after the 401


def test_the_key_never_leaks_into_results_cache_or_output(tmp_path, monkeypatch):
    """A careless server echoes the Authorization header in its error bodies; the key still appears nowhere."""
    monkeypatch.setenv("EVALKIT_TEST_KEY", SECRET)
    with FaultServer(FaultScript(default="500", echo_key_in_errors=True)) as server:
        options = {"base_url": server.url, "api_key_env": "EVALKIT_TEST_KEY", "max_retries": 1, "backoff": 0.001,
                   "timeout": 5, "max_concurrency": 2}
        config = make_config(tmp_path, systems=[{"name": "copy", "backend": "copy"},
                                                {"name": "served", "backend": "openai", "model": "tiny-served", "options": options}])
        failing = run_cli("run", config, "-o", tmp_path / "results")
        server.script.default = "ok"
        passing = run_cli("run", config, "-o", tmp_path / "results")
        posts = server.posts()
    assert failing.returncode == 0 and passing.returncode == 0, failing.stderr + passing.stderr
    assert all(p.headers["Authorization"] == f"Bearer {SECRET}" for p in posts)  # it was sent, to the server only
    runs = sorted((tmp_path / "results").glob("*/run.json"))
    assert len(runs) == 2
    failed = next(s for s in json.loads(runs[0].read_text("utf-8"))["systems"] if s["name"] == "served")
    assert failed["status"] == "failed" and "paragraphs failed after retries" in failed["reason"]
    assert "[key]" in json.dumps(failed)  # the echoed key was scrubbed from the recorded errors
    ok = next(s for s in json.loads(runs[1].read_text("utf-8"))["systems"] if s["name"] == "served")
    assert ok["status"] == "ok" and ok["corpus_scores"]
    outputs = [failing.stdout, failing.stderr, passing.stdout, passing.stderr]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".sqlite" for p in files)
    for text in outputs:
        assert SECRET not in text
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), path


# -- against a real `transformers serve` --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def served_model(tmp_path_factory):
    """`transformers serve` on a free loopback port, serving the tiny causal model (with a ChatML template), offline."""
    for package in ("fastapi", "uvicorn"):
        pytest.importorskip(package, reason="transformers serve needs transformers[serving] (pip install -e '.[test]')")
    from tiny_causal import build_llama

    base = tmp_path_factory.mktemp("served")
    folder = build_llama(base / "model", base / "work", chat=True).resolve()
    port = _free_port()
    log = (base / "serve.log").open("w")
    command = [str(Path(sys.executable).parent / "transformers"), "serve", str(folder), "--host", "127.0.0.1",
               "--port", str(port), "--device", "cpu"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(360):  # up to ~3 minutes on a busy machine
            if process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("transformers serve did not answer /health")
        if process.poll() is not None:
            pytest.fail(f"transformers serve exited: {(base / 'serve.log').read_text()[-2000:]}")
        yield {"url": f"{url}/v1", "model": str(folder), "pid": process.pid}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
        log.close()


def served_config(tmp_path: Path, served: dict, name: str = "served", **options) -> Path:
    system = {"name": name, "backend": "openai", "model": served["model"],
              "options": {"base_url": served["url"], "max_tokens": 8, "max_concurrency": 1, **options}}
    return make_config(tmp_path, systems=[{"name": "copy", "backend": "copy"}, system])


def run_json(completed: subprocess.CompletedProcess) -> dict:
    """run.json of a `run -q`, which prints the results folder as its last line."""
    assert completed.returncode == 0, completed.stderr
    folder = Path(completed.stdout.strip().splitlines()[-1])
    return json.loads((folder / "run.json").read_text("utf-8"))


def system_of(run: dict, name: str = "served") -> dict:
    return next(s for s in run["systems"] if s["name"] == name)


def candidates(system: dict) -> list[str]:
    return [p["candidate"] for p in system["paragraphs"]]


@pytest.mark.server
def test_served_model_translates_scores_and_caches(served_model, tmp_path):
    config = served_config(tmp_path, served_model)
    first = system_of(run_json(run_cli("run", config, "-q")))
    assert first["status"] == "ok", first["reason"]
    assert set(first["corpus_scores"]) >= {"chrf", "bleu"} and first["translated"] > 5 and first["from_cache"] == 0
    info = first["model_info"]
    assert info["served_model"] == served_model["model"] and info["server"] == served_model["url"]
    assert info["requests"] == first["translated"] and info["retries"] == 0 and info["failed_paragraphs"] == 0
    assert info["prompt_tokens"] > 0 and info["completion_tokens"] > 0
    assert all("\n" not in c for c in candidates(first))
    assert first["signature"].startswith(f"backend:openai|model:{served_model['model']}|server:{served_model['url']}|")
    assert first["seconds"]["generate"] > 0

    second = system_of(run_json(run_cli("run", config, "-q")))
    assert second["status"] == "ok" and second["from_cache"] == first["translated"] and second["translated"] == 0
    assert second["model_info"]["requests"] == 0 and second["model_info"]["cache"]["model_loaded"] is False
    assert candidates(second) == candidates(first)
    assert second["corpus_scores"]["chrf"]["score"] == first["corpus_scores"]["chrf"]["score"]


@pytest.mark.server
def test_concurrency_changes_nothing_but_speed(served_model, tmp_path):
    (tmp_path / "c1").mkdir()
    (tmp_path / "c4").mkdir()
    one = system_of(run_json(run_cli("run", served_config(tmp_path / "c1", served_model), "--no-cache", "-q")))
    four = system_of(run_json(run_cli("run", served_config(tmp_path / "c4", served_model, max_concurrency=4),
                                      "--no-cache", "-q")))
    assert one["status"] == four["status"] == "ok"
    assert candidates(four) == candidates(one) and four["model_info"]["requests"] == one["model_info"]["requests"]


@pytest.mark.server
def test_a_killed_run_resumes_where_it_stopped(served_model, tmp_path):
    config = served_config(tmp_path, served_model, max_tokens=24, stop=[])  # slower answers: time to kill it mid-run
    cache = tmp_path / "results" / "translation-cache.sqlite"
    process = subprocess.Popen([sys.executable, "-m", "evalkit", "run", str(config), "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    kept = 0
    try:
        for _ in range(15000):  # up to ~5 minutes for the first paragraphs to be committed
            if process.poll() is not None:
                break
            if cache.exists():
                try:
                    with sqlite3.connect(cache, timeout=5) as conn:
                        kept = conn.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
                except sqlite3.Error:
                    kept = 0
                if kept >= 2:
                    # Freeze the server first, so no answer can complete between seeing the commit and the
                    # kill: on a fast machine the whole run would otherwise finish within one poll.
                    os.killpg(served_model["pid"], signal.SIGSTOP)
                    break
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        os.killpg(served_model["pid"], signal.SIGCONT)
    with sqlite3.connect(cache, timeout=5) as conn:
        kept = conn.execute("SELECT COUNT(*) FROM translations").fetchone()[0]
    assert kept >= 2, "the run never committed a paragraph"

    resumed = system_of(run_json(run_cli("run", config, "-q")))
    assert resumed["status"] == "ok"
    assert resumed["from_cache"] >= kept and resumed["translated"] > 0  # resumed, not restarted nor finished
    assert resumed["model_info"]["requests"] == resumed["translated"]
    fresh = system_of(run_json(run_cli("run", config, "--no-cache", "-q")))
    assert candidates(resumed) == candidates(fresh)
