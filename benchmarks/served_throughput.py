"""Paragraphs per second through the `openai` backend against a real local server, and evalkit's own cost per request.

The server is `transformers serve` (a real OpenAI-compatible server: FastAPI +
uvicorn) serving the tests' tiny causal model (2-layer Llama, hidden 64, ChatML
template; random weights: speed does not depend on their values), offline on a
free 127.0.0.1 port, once with `--continuous-batching` and once without. Each
server gets the same Vietnamese paragraphs from the corpus through evalkit's
`OpenAITranslator` at concurrency 1, 2, 4 and 8 (no cache), side by side.

Fairness: every answer is forced to exactly `--new-tokens` tokens
(min_new_tokens = max_new_tokens in the served folder's generation_config.json,
which `transformers serve` starts from; evalkit sends no stop string), so a
configuration cannot win by stopping early; one untimed request warms each
server up. Candidates at each concurrency are compared with concurrency 1's.

evalkit's own overhead per request is measured two ways:
(a) in the backend, during the real runs: building the request body, parsing the
    answer, usage and cutting (`model_info.seconds.evalkit_per_answer_ms`);
(b) the whole client side with no server at all: `--overhead-requests` requests
    through httpx's in-process MockTransport answering at once, wall time per
    request = evalkit + httpx + the event loop + the worker-thread hand-off, and
    again wrapped in the translation cache (a SQLite commit per reported batch),
    which is what a real run pays.
The target is < 2 ms per request.

On these machines client and server share 2 CPU cores (with whatever else
runs), so concurrency above 2 mostly measures contention; on a GPU server the
same script shows how far concurrency and continuous batching scale.

Usage: .venv/bin/python benchmarks/served_throughput.py [--paragraphs 24] [--new-tokens 16]
       [--concurrency 1,2,4,8] [--overhead-requests 2000] [--skip-server]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # tiny_causal: the same tiny model the tests serve

from evalkit.backends.cached import CachedTranslator  # noqa: E402
from evalkit.backends.openai_compat import OpenAIOptions, OpenAITranslator  # noqa: E402
from evalkit.corpus import load_document  # noqa: E402

CORPUS = ROOT / "corpus" / "vn-jp-2023" / "002_6d8f2e7b812a4376.txt"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_model(folder: Path, new_tokens: int) -> Path:
    from transformers.utils import logging as hf_logging

    from tiny_causal import build_llama

    hf_logging.disable_progress_bar()
    model = build_llama(folder / "model", folder / "work", chat=True)
    config_path = model / "generation_config.json"
    config = json.loads(config_path.read_text())
    config.update(min_new_tokens=new_tokens, max_new_tokens=new_tokens)
    config_path.write_text(json.dumps(config))
    return model.resolve()


class Server:
    """`transformers serve` in its own process group, stopped on exit."""

    def __init__(self, model: Path, log: Path, continuous_batching: bool) -> None:
        self.port = free_port()
        command = [str(Path(sys.executable).parent / "transformers"), "serve", str(model), "--host", "127.0.0.1",
                   "--port", str(self.port), "--device", "cpu"]
        if continuous_batching:
            command.append("--continuous-batching")
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self.log = log
        self.process = subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def wait(self) -> float:
        clock = time.perf_counter()
        for _ in range(600):
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-1500:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as response:
                    if response.status == 200:
                        return time.perf_counter() - clock
            except OSError:
                time.sleep(0.25)
        raise RuntimeError("server never became healthy")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)


def translator(url: str, model: str, concurrency: int, new_tokens: int) -> OpenAITranslator:
    options = OpenAIOptions(base_url=url, max_tokens=new_tokens, stop=[], max_concurrency=concurrency, timeout=600,
                            max_retries=0)
    return OpenAITranslator("bench", model, options)


def serve_rows(model: Path, paragraphs: list[str], levels: list[int], new_tokens: int, work: Path) -> list[dict]:
    rows = []
    for cb in (False, True):
        server = Server(model, work / f"serve-cb{int(cb)}.log", cb)
        try:
            startup = server.wait()
            translator(server.url, str(model), 1, new_tokens).translate(paragraphs[:1], "vi", "th")  # warm-up
            reference = None
            for level in levels:
                t = translator(server.url, str(model), level, new_tokens)
                clock = time.perf_counter()
                try:
                    texts = t.translate(paragraphs, "vi", "th").texts
                except Exception as exc:  # a benchmark reports a configuration that fails, and goes on
                    rows.append({"cb": cb, "concurrency": level, "error": str(exc)[:160], "startup": startup})
                    continue
                wall = time.perf_counter() - clock
                reference = reference if reference is not None else texts
                info = t.info
                rows.append({
                    "cb": cb, "concurrency": level, "startup": startup, "wall": wall,
                    "per_s": len(paragraphs) / wall, "waiting": t.timings.generate,
                    "evalkit_ms": info["seconds"]["evalkit_per_answer_ms"],
                    "completion_tokens": info["completion_tokens"], "same": texts == reference,
                })
        finally:
            server.stop()
    return rows


def overhead_rows(requests: int, work: Path) -> list[dict]:
    """The whole client side per request, against an in-process transport that answers at once."""
    import httpx

    body = json.dumps({
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Xin chào\nmore"}}],
        "usage": {"prompt_tokens": 60, "completion_tokens": 8, "total_tokens": 68},
    }).encode()
    models = json.dumps({"object": "list", "data": [{"id": "m"}]}).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=models if request.method == "GET" else body,
                              headers={"content-type": "application/json"})

    texts = [f"Đoạn văn số {i}: Hà Nội, ngày {i % 28 + 1} tháng 5 năm 2023, 100 tỷ yên." for i in range(requests)]
    rows = []
    for label, cached, concurrency in (("backend", False, 1), ("backend", False, 8), ("backend + cache", True, 8)):
        t = OpenAITranslator("bench", "m", OpenAIOptions(base_url="http://mock.invalid/v1", max_concurrency=concurrency))
        t._transport = httpx.MockTransport(answer)
        t.load()
        runner = CachedTranslator(t, work / f"overhead-{len(rows)}.sqlite") if cached else t
        clock = time.perf_counter()
        runner.translate(texts, "vi", "th", progress=lambda finished: None)
        wall = time.perf_counter() - clock
        rows.append({"what": label, "concurrency": concurrency, "requests": requests,
                     "per_request_ms": 1000 * wall / requests, "own_ms": t.info["seconds"]["evalkit_per_answer_ms"]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paragraphs", type=int, default=24)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--concurrency", default="1,2,4,8")
    parser.add_argument("--overhead-requests", type=int, default=2000)
    parser.add_argument("--skip-server", action="store_true", help="only the client-side overhead")
    args = parser.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]
    paragraphs = [p[:300] for p in load_document(CORPUS).texts][: args.paragraphs]
    with tempfile.TemporaryDirectory(prefix="served-bench-") as tmp:
        work = Path(tmp)
        print(f"evalkit overhead per request, no server ({args.overhead_requests} requests, in-process transport):")
        print(f"{'path':<18}{'concurrency':>12}{'ms/request':>12}{'evalkit own ms':>16}")
        for row in overhead_rows(args.overhead_requests, work):
            print(f"{row['what']:<18}{row['concurrency']:>12}{row['per_request_ms']:>12.3f}{row['own_ms']:>16.4f}")
        if args.skip_server:
            return
        model = build_model(work / "tiny", args.new_tokens)
        print(f"\ntransformers serve, tiny causal model, {len(paragraphs)} paragraphs x {args.new_tokens} tokens "
              f"(forced), {os.cpu_count()} CPU cores shared by client and server:")
        print(f"{'batching':<14}{'concurrency':>12}{'wall s':>9}{'para/s':>9}{'x c=1':>7}{'waiting s':>11}"
              f"{'evalkit ms/req':>16}{'tokens':>8}{'same as c=1':>13}")
        rows = serve_rows(model, paragraphs, levels, args.new_tokens, work)
        base: dict[bool, float] = {}
        for row in rows:
            label = "continuous" if row["cb"] else "per request"
            if "error" in row:
                print(f"{label:<14}{row['concurrency']:>12}  failed: {row['error']}")
                continue
            base.setdefault(row["cb"], row["per_s"])
            print(f"{label:<14}{row['concurrency']:>12}{row['wall']:>9.2f}{row['per_s']:>9.2f}"
                  f"{row['per_s'] / base[row['cb']]:>7.2f}{row['waiting']:>11.2f}{row['evalkit_ms']:>16.4f}"
                  f"{row['completion_tokens']:>8}{'yes' if row['same'] else 'NO':>13}")
        starts = {("continuous" if r["cb"] else "per request"): r["startup"] for r in rows}
        print("server start-up (s): " + ", ".join(f"{k} {v:.1f}" for k, v in starts.items()))


if __name__ == "__main__":
    main()
