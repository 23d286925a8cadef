"""A small OpenAI-compatible HTTP server of the tests' own, on 127.0.0.1, that injects faults on request.

It answers `GET /v1/models` and `POST /v1/chat/completions` / `/v1/completions`.
Each POST takes the next action from a script (a list; `default` once it is
used up): a correct answer, 429 with Retry-After, 500, a hang past the
client's timeout, malformed JSON, a dropped connection, 401/400/404, a refusal
or an empty answer. Every request is recorded (path, headers, JSON body) so a
test can check what evalkit sent - and what it did not send. Hangs are bounded
(they end when the server stops, or after `hang_seconds`), so no test can block.

A correct answer is deterministic: `<8 hex digits of the prompt's hash>`, then
a line break and a second line that evalkit must cut off.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def answer_for(prompt_text: str) -> str:
    """The first line of the server's correct answer for a prompt (what evalkit keeps)."""
    return "tr-" + hashlib.sha256(prompt_text.encode("utf-8")).hexdigest()[:8]


def prompt_of(body: dict) -> str:
    """The text a request asks about: the last user message (chat) or the prompt (completions)."""
    if "messages" in body:
        return body["messages"][-1]["content"]
    return body["prompt"]


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None


@dataclass
class FaultScript:
    actions: list[str] = field(default_factory=list)
    default: str = "ok"
    retry_after: str = "1"
    models: list[str] = field(default_factory=lambda: ["tiny-served"])
    models_status: int = 200
    echo_key_in_errors: bool = False  # a careless server that repeats the Authorization header in its error bodies
    hang_seconds: float = 10.0


class FaultServer:
    def __init__(self, script: FaultScript | None = None) -> None:
        self.script = script or FaultScript()
        self.requests: list[Recorded] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                server._record(self, None)
                if self.path.rstrip("/") != "/v1/models":
                    self._send(404, {"detail": "Not Found"})
                    return
                script = server.script
                if script.models_status != 200:
                    self._send(script.models_status, {"error": {"message": "invalid api key", "type": "auth"}})
                    return
                self._send(200, {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "tests"} for m in script.models]})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                action = server._record(self, body)
                key = self.headers.get("Authorization", "")
                echo = f" (you sent {key!r})" if server.script.echo_key_in_errors else ""
                if action == "ok" or action in ("refuse", "empty"):
                    text = {
                        "ok": answer_for(prompt_of(body)) + "\nsecond line the backend must cut",
                        "refuse": "I cannot translate this text.",
                        "empty": "\n" + answer_for(prompt_of(body)),
                    }[action]
                    chat = self.path.endswith("/chat/completions")
                    choice = {"index": 0, "finish_reason": "stop"}
                    choice.update({"message": {"role": "assistant", "content": text}} if chat else {"text": text})
                    self._send(200, {
                        "id": "x", "object": "chat.completion" if chat else "text_completion", "model": body["model"],
                        "choices": [choice], "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
                    })
                elif action == "429":
                    self._send(429, {"error": {"message": "rate limited" + echo}}, {"Retry-After": server.script.retry_after})
                elif action == "500":
                    self._send(500, {"error": {"message": "internal error" + echo}})
                elif action in ("400", "401", "404"):
                    self._send(int(action), {"error": {"message": f"refused{echo}"}})
                elif action == "malformed":
                    self._send(200, b'{"choices": [ {"message": ')
                elif action == "drop":
                    self.close_connection = True  # no response at all: the client sees the connection close
                elif action == "hang":
                    server.stopping.wait(server.script.hang_seconds)
                    self.close_connection = True
                else:
                    raise AssertionError(f"unknown action {action!r}")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _record(self, handler: BaseHTTPRequestHandler, body: dict | None) -> str | None:
        with self._lock:
            self.requests.append(Recorded(handler.command, handler.path, dict(handler.headers.items()), body))
            if handler.command != "POST":
                return None
            return self.script.actions.pop(0) if self.script.actions else self.script.default

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=10)


def contract_setup(request):
    """For tests/test_contracts.py's BACKEND_SETUP: the openai backend against a fault server that answers correctly."""
    server = FaultServer().__enter__()
    request.addfinalizer(lambda: server.__exit__(None, None, None))
    return "tiny-served", {"base_url": server.url, "max_retries": 0}
