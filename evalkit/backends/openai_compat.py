"""Models where they are served: any OpenAI-compatible chat-completions (or completions) server.

vLLM (`vllm serve`), SGLang, TGI, llama.cpp's `llama-server`, Ollama,
`transformers serve` and hosted APIs all speak the OpenAI protocol, so one
backend evaluates any of them: a 7B+ LLM or MADLAD-10B is served once, outside
the evaluation process, and evalkit sends it one request per paragraph.

The prompt is the `causal` backend's (`evalkit.backends.prompting`): the same
template, few-shot examples and system prompt, sent as chat messages (the
server applies the model's chat template) or, with `endpoint: completions`, as
the same plain prompt `causal` renders for a base model; the answer is cut at
the first stop string (a line break by default) as `causal` cuts it.

Why httpx (async) and a semaphore rather than the official `openai` client:
evalkit needs to own the retry policy (count every retry, honour `Retry-After`
and `retry-after-ms`, tell a refused key from a busy server), to read `usage`
from any server's loose JSON (several servers return fields the client's types
do not know, or omit ones they require), and to keep its per-request overhead
small and measurable; the `openai` client would wrap all of that in its own
retries and types, and is one more dependency for users of a local server.
httpx is the client the `openai` package itself is built on.

Faults (policy of the OpenAI cookbook and AWS's "exponential backoff and
jitter"): 429, 5xx, 408/409, timeouts, dropped connections and malformed
answers are retried up to `max_retries` times after a full-jitter exponential
delay (`backoff` · 2^attempt, capped at `backoff_max`), or after the server's
`Retry-After` when it is longer (also capped at `backoff_max`). A paragraph
that still fails is recorded; after every paragraph has been tried the call
raises `TranslationError` naming how many failed and the first error, so the
system is marked failed and nothing is scored silently. Paragraphs that did
succeed were already reported finished, so the translation cache has kept them
and a re-run sends only the failures. 401/403 or an unknown model stop the run
at once: `load()` checks `GET /models` before any paragraph is sent.

The API key is read from the environment variable that `api_key_env` names, at
load time, and only ever placed in the `Authorization` header: it is not an
option, so it is in no config record, identity, signature, info or cache file,
and every text a server sends back is scrubbed of it before it reaches an error
message. Credentials inside `base_url` are refused for the same reason.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import os
import queue
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from evalkit import __version__
from evalkit.backends.base import Finished, ProgressCallback, Translations, Translator
from evalkit.backends.identity import backend_identity
from evalkit.backends.prompting import PromptOptions, build_messages, cut_answer, looks_refused, prompt_hash, render_prompt
from evalkit.errors import ModelUnavailableError, TranslationError

# Body fields evalkit sets itself; extra_body may not override them (each has its own option).
_OWN_FIELDS = frozenset(
    {"model", "messages", "prompt", "stop", "max_tokens", "max_completion_tokens", "temperature", "stream", "n"}
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OPERATIONAL = frozenset(
    {
        "base_url", "api_key_env", "max_concurrency", "requests_per_minute", "tokens_per_minute", "timeout",
        "max_retries", "backoff", "backoff_max", "url_in_identity",
    }
)
_FLAGGED_KEPT = 20  # flagged answers listed in info (all are counted)
_ERRORS_KEPT = 5  # distinct failure messages listed in info


class OpenAIOptions(PromptOptions):
    base_url: str | None = Field(
        None,
        description="the server's OpenAI API root, e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL)",
    )
    api_key_env: str | None = Field(
        None, description="NAME of the environment variable that holds the API key (never the key itself); none: no key"
    )
    endpoint: Literal["chat", "completions"] = Field(
        "chat", description="chat: /chat/completions (the server applies the chat template); completions: a plain prompt"
    )
    temperature: float = Field(0.0, ge=0, description="0 = greedy; > 0 samples and is never cached")
    max_tokens: int = Field(256, ge=1, description="tokens generated per paragraph at most")
    extra_body: dict[str, Any] = Field(
        default_factory=dict, description="fields passed through in every request body (e.g. vLLM's top_k, seed)"
    )
    max_concurrency: int = Field(4, ge=1, description="requests in flight at once")
    requests_per_minute: float | None = Field(None, gt=0, description="start at most this many requests per minute")
    tokens_per_minute: int | None = Field(None, gt=0, description="stay under this many tokens per minute (prompt + max_tokens estimated, then usage)")
    timeout: float = Field(120.0, gt=0, description="seconds to wait for a connection or the next bytes of an answer")
    max_retries: int = Field(5, ge=0, description="retries per request on 429, 5xx, timeouts, dropped connections, malformed answers")
    backoff: float = Field(1.0, ge=0, description="first retry waits up to this many seconds (full jitter), doubling each retry")
    backoff_max: float = Field(60.0, ge=0, description="longest wait between retries, Retry-After included")
    url_in_identity: bool = Field(
        True,
        description="file cached translations under base_url too (the same model id on two servers may be different weights); "
        "false shares them between servers of the same model",
    )

    @field_validator("base_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL such as http://127.0.0.1:8000/v1")
        if parts.username or parts.password:
            raise ValueError("base_url must not contain credentials; put the key in an environment variable named by api_key_env")
        if parts.query or parts.fragment:
            raise ValueError("base_url must not contain a query or fragment")
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _check_env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            # the message never repeats the value: it may be a key pasted by mistake
            raise ValueError("api_key_env must be the NAME of an environment variable (e.g. OPENAI_API_KEY), not the key")
        return value

    @field_validator("extra_body")
    @classmethod
    def _check_extra_body(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(set(value) & _OWN_FIELDS)
        if clash:
            raise ValueError(f"extra_body must not set {', '.join(clash)}: evalkit sets them (use the options of the same purpose)")
        return value


# -- pure helpers ---------------------------------------------------------------------------


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before retry number `attempt` (0-based): full jitter, at least `Retry-After`, at most `cap`."""
    delay = rng.uniform(0.0, min(cap, base * 2.0**attempt))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, cap)


def parse_retry_after(headers: Any, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms` (OpenAI), else `Retry-After` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def display_url(url: str) -> str:
    """The URL as shown and recorded: scheme, host, port and path (options refuse credentials and queries)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}".rstrip("/")


class RateLimiter:
    """Requests- and tokens-per-minute limits over a sliding 60-second window, for one event loop.

    A request is admitted when the window holds fewer than `rpm` starts and its
    estimated tokens fit under `tpm` (a request larger than the whole budget
    still goes once the window is empty, or it would never go). Estimates are
    replaced by the usage the server reports. Check and record happen without
    an await in between, so concurrent tasks of one loop cannot both take the
    last slot. `clock` and `sleep` are injectable for tests.
    """

    WINDOW = 60.0

    def __init__(self, rpm: float | None, tpm: int | None, clock: Callable[[], float] = time.monotonic, sleep=None) -> None:
        self.rpm, self.tpm = rpm, tpm
        self.clock = clock
        self.sleep = sleep or asyncio.sleep
        self.entries: deque[list[float]] = deque()  # [start time, tokens]
        self.waited = 0.0

    def _expire(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - self.WINDOW:
            self.entries.popleft()

    def _admits(self, tokens: float) -> bool:
        if self.rpm is not None and len(self.entries) >= self.rpm:
            return False
        if self.tpm is not None and self.entries and sum(e[1] for e in self.entries) + tokens > self.tpm:
            return False
        return True

    async def acquire(self, tokens: float) -> list[float] | None:
        """Wait until a request of about `tokens` tokens may start; returns its entry (for `settle`)."""
        if self.rpm is None and self.tpm is None:
            return None
        while True:  # each pass either admits or sleeps until the oldest entry leaves the window
            now = self.clock()
            self._expire(now)
            if self._admits(tokens):
                entry = [now, float(tokens)]
                self.entries.append(entry)
                return entry
            wait = self.entries[0][0] + self.WINDOW - now
            self.waited += wait
            await self.sleep(wait)

    @staticmethod
    def settle(entry: list[float] | None, tokens: int | None) -> None:
        """Replace a request's estimate with the tokens the server says it used."""
        if entry is not None and tokens is not None:
            entry[1] = float(tokens)


def estimate_tokens(characters: int, max_tokens: int) -> int:
    """A deliberately high guess of a request's tokens before the server counts them (about 3 characters a token)."""
    return math.ceil(characters / 3) + max_tokens


@dataclass
class Accounting:
    """Counters recorded in run.json (`model_info`): what the server was asked and what it cost."""

    requests: int = 0  # HTTP requests sent for paragraphs, retries included
    retries: int = 0
    failed_paragraphs: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    answers_without_usage: int = 0
    empty_answers: int = 0
    refused_answers: int = 0
    hit_max_tokens: int = 0
    retry_wait_seconds: float = 0.0  # waits planned between retries (backoff and Retry-After)
    rate_limit_wait_seconds: float = 0.0
    request_seconds: float = 0.0  # summed over requests (more than the wall time when they overlap)
    evalkit_seconds: float = 0.0  # evalkit's own work per request: body, parsing, cutting (not the HTTP client)
    answered: int = 0
    errors: list[str] = field(default_factory=list)
    flagged: list[dict[str, str]] = field(default_factory=list)


class _Fatal(Exception):
    """The server refuses every request (a key, a model, an endpoint): stop at once."""


class _Failed(Exception):
    """This paragraph failed after its retries."""


@dataclass
class _Job:
    source: str
    body: bytes
    estimate: int


_DONE = object()


class OpenAITranslator(Translator):
    Options = OpenAIOptions
    needs_model = True
    options: OpenAIOptions
    cache_neutral_options = _OPERATIONAL  # how fast and how politely we ask, never what is answered

    def __init__(self, name, model, options) -> None:
        super().__init__(name, model, options)
        self.model_id = None if model is None else str(model)
        self._base_url = options.base_url or (os.environ.get("OPENAI_BASE_URL") or "").rstrip("/") or None
        self._headers: dict[str, str] | None = None  # set once load() has checked the server; holds the key
        self._pending_headers: dict[str, str] = {}
        self._key: str | None = None
        self._served: dict[str, Any] | None = None  # the model's entry in GET /models, when the server lists it
        self._models_note: str | None = None
        self._transport = None  # an httpx transport for tests and benchmarks (httpx.MockTransport); None = network
        self._rng = random.Random()
        self.stats = Accounting()

    # -- identity -------------------------------------------------------------------------
    @property
    def deterministic(self) -> bool:
        return self.options.temperature == 0

    @property
    def url(self) -> str | None:
        return None if self._base_url is None else display_url(self._base_url)

    def identity(self) -> str:
        """The served model id (a server's name for it, not a hub id or a folder evalkit could fingerprint), the prompt
        and decoding options, and, by default, the server's URL: the same id on two servers may be different weights
        ("default" on llama.cpp, a fine-tune under its base's name), and a cache miss costs less than a wrong reuse.
        Never the key, the concurrency or the retry policy."""
        cls = type(self)
        return backend_identity(
            f"{cls.__module__}.{cls.__qualname__}", None, self.identity_options(), neutral_options=self.cache_neutral_options
        )

    def identity_options(self) -> dict[str, object]:
        options = self.options.model_dump(mode="json")
        options["served_model"] = self.model_id
        if self.options.url_in_identity:
            options["server"] = self.url
        return options

    # -- availability and loading -------------------------------------------------------------
    def availability(self) -> tuple[bool | None, str]:
        try:
            self._prepare_client()
            self._check_server(quick=True)
        except ModelUnavailableError as exc:
            return False, str(exc)
        return True, f"served at {self.url}"

    def load(self) -> None:
        if self._headers is not None:
            return
        clock = time.perf_counter()
        self._prepare_client()
        self._check_server(quick=False)
        self.timings.load += time.perf_counter() - clock

    def _prepare_client(self) -> None:
        try:
            import httpx  # noqa: F401
        except ImportError:
            raise ModelUnavailableError("backend openai needs httpx: pip install httpx") from None
        if not self.model_id:
            raise ModelUnavailableError("backend openai needs `model:` (the model id the server serves)")
        if self._base_url is None:
            raise ModelUnavailableError(
                "backend openai needs the server's URL: options.base_url (e.g. http://127.0.0.1:8000/v1) or $OPENAI_BASE_URL"
            )
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        name = self.options.api_key_env
        if name is not None:
            key = os.environ.get(name)
            if not key:
                raise ModelUnavailableError(f"environment variable {name} (api_key_env) is not set or empty")
            self._key = key
            headers["Authorization"] = f"Bearer {key}"
        self._headers = None
        self._pending_headers = headers

    def _check_server(self, quick: bool) -> None:
        """`GET /models`: the server is up, accepts the key, and serves the model; before any paragraph is sent."""
        headers = self._pending_headers
        url = f"{self._base_url}/models"
        response, error = _run_async(self._get_models(url, headers, quick))
        if response is None:
            raise ModelUnavailableError(f"cannot reach the server at {self.url}: {self._scrub(error)}")
        status = response["status"]
        if status in (401, 403):
            key = f"the key in ${self.options.api_key_env}" if self.options.api_key_env else "requests without a key (set api_key_env)"
            raise ModelUnavailableError(
                f"the server at {self.url} refused {key}: HTTP {status} {self._scrub(response['message'])}".rstrip()
            )
        if status in (404, 405, 501):  # a server without the listing (some proxies): the first request will tell
            self._models_note = f"GET /models answered HTTP {status}; model not checked"
        elif status >= 400:
            raise ModelUnavailableError(
                f"the server at {self.url} answered GET /models with HTTP {status} {self._scrub(response['message'])}".rstrip()
            )
        else:
            entries = response["models"]
            if entries is None:
                self._models_note = "GET /models answered something other than a model list; model not checked"
            else:
                ids = [str(e.get("id")) for e in entries if isinstance(e, dict)]
                if self.model_id not in ids:
                    served = ", ".join(ids[:10]) + (f" (and {len(ids) - 10} more)" if len(ids) > 10 else "") if ids else "none"
                    raise ModelUnavailableError(
                        f"model {self.model_id!r} is not served at {self.url}; it serves: {self._scrub(served)}"
                    )
                self._served = next(e for e in entries if isinstance(e, dict) and str(e.get("id")) == self.model_id)
        if not quick:
            self._headers = headers

    async def _get_models(self, url: str, headers: dict[str, str], quick: bool):
        import httpx

        timeout = httpx.Timeout(min(self.options.timeout, 10.0) if quick else self.options.timeout)
        retries = 0 if quick else self.options.max_retries
        async with httpx.AsyncClient(timeout=timeout, transport=self._transport, headers=headers) as client:
            error = "no attempt"
            for attempt in range(retries + 1):
                if attempt:
                    await asyncio.sleep(backoff_delay(attempt - 1, self.options.backoff, self.options.backoff_max, None, self._rng))
                try:
                    response = await client.get(url)
                except httpx.TimeoutException:
                    error = f"no answer within {self.options.timeout:g} s"
                    continue
                except httpx.ConnectError:  # nothing listens there: retrying will not start it
                    return None, "connection refused or host unreachable; is the server running?"
                except httpx.TransportError as exc:
                    error = f"{type(exc).__name__} ({exc})" if str(exc) else type(exc).__name__
                    continue
                if _retryable(response.status_code):
                    error = f"HTTP {response.status_code} {_error_message(response)}"
                    continue
                models = None
                if response.status_code < 400:
                    try:
                        data = response.json()
                        models = data.get("data") if isinstance(data, dict) and isinstance(data.get("data"), list) else None
                    except ValueError:
                        models = None
                return {"status": response.status_code, "message": _error_message(response), "models": models}, None
            return None, error

    # -- translation ------------------------------------------------------------------------
    def _job(self, source: str, source_lang: str, target_lang: str) -> _Job:
        o = self.options
        body: dict[str, Any] = {"model": self.model_id}
        if o.endpoint == "chat":
            messages = build_messages(o, source, source_lang, target_lang)
            body["messages"] = messages
            size = sum(len(m["content"]) for m in messages)
        else:
            prompt = render_prompt(o, source, source_lang, target_lang)
            body["prompt"] = prompt
            size = len(prompt)
        body["max_tokens"] = o.max_tokens
        body["temperature"] = o.temperature
        if o.stop:
            body["stop"] = o.stop[:4]  # the API's limit; cut_answer applies them all anyway
        body.update(o.extra_body)
        return _Job(source, json.dumps(body, ensure_ascii=False).encode("utf-8"), estimate_tokens(size, o.max_tokens))

    def _translate(
        self, texts: list[str], source_lang: str, target_lang: str, progress: ProgressCallback | None
    ) -> Translations:
        """Requests run on an event loop in a worker thread; finished paragraphs come back to this thread, which
        reports them (the cache's SQLite connection belongs to it, and the loop keeps sending while it commits)."""
        self.load()
        clock = time.perf_counter()
        jobs = [self._job(text, source_lang, target_lang) for text in texts]
        self.stats.evalkit_seconds += time.perf_counter() - clock
        events: queue.SimpleQueue = queue.SimpleQueue()
        state: dict[str, Any] = {}
        loop = asyncio.new_event_loop()

        def work() -> None:
            try:
                task = loop.create_task(self._send_all(jobs, events))
                state["task"] = task
                state["result"] = loop.run_until_complete(task)
            except BaseException as exc:  # handed to the calling thread, which raises it
                state["error"] = exc
            finally:
                events.put(_DONE)

        worker = threading.Thread(target=work, name=f"evalkit-openai-{self.name}", daemon=True)
        worker.start()
        try:
            done = False
            while not done:
                try:
                    batch = [events.get(timeout=0.5)]
                except queue.Empty:
                    continue
                while True:  # everything finished meanwhile goes into one report (one cache transaction)
                    try:
                        batch.append(events.get_nowait())
                    except queue.Empty:
                        break
                done = _DONE in batch
                finished = [f for f in batch if f is not _DONE]
                if progress and finished:
                    progress(finished)
        except BaseException:
            # Ctrl-C, or the progress callback (the cache) failed: stop sending and let the loop wind down.
            task = state.get("task")
            if task is not None and not loop.is_closed():
                loop.call_soon_threadsafe(task.cancel)
            worker.join(timeout=self.options.timeout + 5)
            raise
        worker.join()
        loop.close()
        if "error" in state:
            raise state["error"]
        outputs, errors, fatal = state["result"]
        if fatal is not None:
            raise TranslationError(fatal)
        if errors:
            first = min(errors)
            ok = len(texts) - len(errors)
            raise TranslationError(
                f"{len(errors)} of {len(texts)} paragraphs failed after retries (first: paragraph {_excerpt(texts[first])}: "
                f"{errors[first]}); the {ok} translated were reported finished, so with the translation cache "
                f"a re-run sends only the failed ones"
            )
        return Translations.whole(outputs)

    async def _send_all(self, jobs: list[_Job], events: queue.SimpleQueue):
        import httpx

        o = self.options
        url = f"{self._base_url}/{'chat/completions' if o.endpoint == 'chat' else 'completions'}"
        semaphore = asyncio.Semaphore(o.max_concurrency)
        limiter = RateLimiter(o.requests_per_minute, o.tokens_per_minute)
        outputs: list[str] = [""] * len(jobs)
        errors: dict[int, str] = {}
        fatal: list[str] = []
        # `timings.generate` = wall time during which at least one paragraph is with the server: in a request, or
        # waiting to retry or for a rate limit (waits the server imposes); the rest of the call is evalkit's own.
        waiting = [0, 0.0]  # paragraphs with the server, when that count last rose from 0

        async def post(client, job: _Job):
            self.stats.requests += 1
            clock = time.perf_counter()
            try:
                response = await client.post(url, content=job.body)
                await response.aread()
                return response
            finally:
                self.stats.request_seconds += time.perf_counter() - clock

        async def one(index: int, job: _Job) -> None:
            async with semaphore:
                if fatal:
                    return
                if waiting[0] == 0:
                    waiting[1] = time.perf_counter()
                waiting[0] += 1
                try:
                    outputs[index] = await self._complete(post, client, limiter, job)
                except _Fatal as exc:
                    fatal.append(str(exc))
                    return
                except _Failed as exc:
                    errors[index] = str(exc)
                    self.stats.failed_paragraphs += 1
                    if len(self.stats.errors) < _ERRORS_KEPT and str(exc) not in self.stats.errors:
                        self.stats.errors.append(str(exc))
                    return
                finally:
                    waiting[0] -= 1
                    if waiting[0] == 0:
                        self.timings.generate += time.perf_counter() - waiting[1]
            events.put(Finished(index, outputs[index]))

        limits = httpx.Limits(max_connections=o.max_concurrency, max_keepalive_connections=o.max_concurrency)
        timeout = httpx.Timeout(o.timeout)
        async with httpx.AsyncClient(
            headers=self._headers, timeout=timeout, limits=limits, transport=self._transport
        ) as client:
            try:
                await asyncio.gather(*(one(i, job) for i, job in enumerate(jobs)))
            finally:
                self.stats.rate_limit_wait_seconds += limiter.waited
        return outputs, errors, (fatal[0] if fatal else None)

    async def _complete(self, post, client, limiter: RateLimiter, job: _Job) -> str:
        """One paragraph: the request with its retries; the cut answer, or _Failed / _Fatal."""
        import httpx

        o = self.options
        problem, retry_after = "no attempt", None
        for attempt in range(o.max_retries + 1):
            if attempt:
                self.stats.retries += 1
                delay = backoff_delay(attempt - 1, o.backoff, o.backoff_max, retry_after, self._rng)
                self.stats.retry_wait_seconds += delay
                await asyncio.sleep(delay)
            retry_after = None
            entry = await limiter.acquire(job.estimate)
            try:
                response = await post(client, job)
            except httpx.TimeoutException:
                problem = f"no answer within the timeout of {o.timeout:g} s"
                continue
            except httpx.TransportError as exc:
                problem = f"connection failed ({type(exc).__name__})"
                continue
            clock = time.perf_counter()
            status = response.status_code
            if status in (401, 403):
                raise _Fatal(f"the server at {self.url} refused the request: HTTP {status} {self._scrub(_error_message(response))}".rstrip())
            if status == 404:
                raise _Fatal(
                    f"the server at {self.url} answered HTTP 404 for {o.endpoint} requests "
                    f"{self._scrub(_error_message(response))}".rstrip()
                )
            if _retryable(status):
                problem = f"HTTP {status} {self._scrub(_error_message(response))}".rstrip()
                retry_after = parse_retry_after(response.headers)
                continue
            if status >= 400:  # the server rejects this request as it is (too long a prompt, ...): retrying cannot help
                raise _Failed(f"HTTP {status} {self._scrub(_error_message(response))}".rstrip())
            try:
                answer = self._answer(response, job, entry)
            except ValueError as exc:
                problem = f"malformed answer ({exc})"
                continue
            finally:
                self.stats.evalkit_seconds += time.perf_counter() - clock
            return answer
        raise _Failed(f"{problem} (after {o.max_retries} {'retry' if o.max_retries == 1 else 'retries'})" if o.max_retries else problem)

    def _answer(self, response, job: _Job, entry: list[float] | None) -> str:
        """The cut answer from a 2xx response; ValueError when it is not a completion."""
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise ValueError("not JSON") from None
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ValueError("no choices")
        choice = choices[0]
        refused_field = None
        if self.options.endpoint == "chat":
            message = choice.get("message")
            if not isinstance(message, dict):
                raise ValueError("no message")
            raw = message.get("content")
            refused_field = message.get("refusal")
            if raw is None:
                raw = refused_field or ""
        else:
            raw = choice.get("text")
        if not isinstance(raw, str):
            raise ValueError("the answer is not text")
        usage = data.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
            self.stats.prompt_tokens += usage["prompt_tokens"]
            self.stats.completion_tokens += int(usage.get("completion_tokens") or 0)
            RateLimiter.settle(entry, usage.get("total_tokens") or usage["prompt_tokens"] + int(usage.get("completion_tokens") or 0))
        else:
            self.stats.answers_without_usage += 1
        finish = choice.get("finish_reason")
        self.stats.hit_max_tokens += finish == "length"
        answer = cut_answer(raw, self.options.stop)
        self.stats.answered += 1
        why = None
        if refused_field or finish == "content_filter" or looks_refused(answer):
            self.stats.refused_answers += 1
            why = "refused"
        elif answer == "":
            self.stats.empty_answers += 1
            why = "empty"
        if why and len(self.stats.flagged) < _FLAGGED_KEPT:
            self.stats.flagged.append({"why": why, "source": _excerpt(job.source, quote=False), "answer": _excerpt(answer, quote=False)})
        return answer

    def _scrub(self, text: str) -> str:
        """Server-sent text with the key removed (some servers echo what they were sent)."""
        if self._key:
            text = text.replace(self._key, "[key]")
        return text

    # -- provenance ---------------------------------------------------------------------------
    def signature(self) -> str:
        o = self.options
        decoding = "greedy" if o.temperature == 0 else f"temperature:{o.temperature:g}"
        extra = json.dumps(o.extra_body, sort_keys=True, ensure_ascii=True, separators=(",", ":")) if o.extra_body else "none"
        return (
            f"backend:openai|model:{self.model_id}|server:{self.url if o.url_in_identity else 'any'}|endpoint:{o.endpoint}|"
            f"prompt:{prompt_hash(o, None)}|shots:{len(o.few_shot)}|decoding:{decoding}|max_tokens:{o.max_tokens}|"
            f"stop:{json.dumps(o.stop, ensure_ascii=True)}|extra:{extra}|evalkit:{__version__}"
        )

    @property
    def info(self) -> dict[str, object]:
        s = self.stats
        info: dict[str, object] = {
            "server": self.url,
            "endpoint": self.options.endpoint,
            "served_model": self.model_id,
            "prompt_hash": prompt_hash(self.options, None),
        }
        if self._served is not None:
            info["server_model_entry"] = {k: v for k, v in self._served.items() if k in ("id", "owned_by", "root", "max_model_len", "created")}
        if self._models_note:
            info["model_check"] = self._models_note
        info.update(
            requests=s.requests, retries=s.retries, failed_paragraphs=s.failed_paragraphs,
            prompt_tokens=s.prompt_tokens, completion_tokens=s.completion_tokens,
            answers_without_usage=s.answers_without_usage, empty_answers=s.empty_answers,
            refused_answers=s.refused_answers, hit_max_tokens=s.hit_max_tokens,
            seconds={
                "waiting_on_server": round(self.timings.generate, 4),  # wall time with a paragraph at the server
                "in_requests": round(s.request_seconds, 4),  # summed over requests (overlapping)
                "retry_waits": round(s.retry_wait_seconds, 4),
                "rate_limit_waits": round(s.rate_limit_wait_seconds, 4),
                "evalkit_per_answer_ms": round(1000 * s.evalkit_seconds / s.answered, 4) if s.answered else None,
            },
        )
        if s.errors:
            info["errors"] = list(s.errors)
        if s.flagged:
            info["flagged"] = list(s.flagged)
        return info


def _retryable(status: int) -> bool:
    return status in (408, 409, 425, 429) or status >= 500


def _error_message(response) -> str:
    """A one-line reason from an error body: OpenAI's {"error": {"message"}}, FastAPI's {"detail"}, or the text."""
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        data = None
    message = None
    if isinstance(data, dict):
        error = data.get("error")
        message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else data.get("detail")
    if not isinstance(message, str):
        try:
            message = response.text
        except Exception:  # undecodable bytes: the status says enough
            message = ""
    line = " ".join(message.split())
    return line[:200] + ("…" if len(line) > 200 else "")


def _excerpt(text: str, limit: int = 60, quote: bool = True) -> str:
    line = " ".join(text.split())
    line = line[:limit] + ("…" if len(line) > limit else "")
    return repr(line) if quote else line


def _run_async(coro):
    """Run a coroutine to completion from synchronous code, also where this thread already runs a loop (a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
