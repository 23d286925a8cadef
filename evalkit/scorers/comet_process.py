"""evalkit's side of the COMET worker: start it in COMET's environment, send requests, read answers with a deadline.

One JSON object per line each way (see `evalkit.scorers.comet_worker`). Every
read has a deadline, so a worker that hangs (a deadlock, a swapping machine)
costs at most `timeout` seconds and is killed; a worker that dies is noticed at
once (end of file on its stdout). Both become `WorkerError`, one line with the
last line the worker wrote to its log; the scorer turns it into the metric being
unavailable for the run. The worker's stderr goes to a log file, never to a
pipe nobody reads (a full pipe would block it).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import tempfile
import time
from pathlib import Path

from evalkit.errors import EvalkitError

WORKER_SCRIPT = Path(__file__).with_name("comet_worker.py")
PROTOCOL = 1  # must match comet_worker.PROTOCOL (the worker file is not imported here: it runs elsewhere)
_LOG_TAIL = 4000


class WorkerError(EvalkitError):
    """The worker could not be started, died, hung past its timeout, or answered an error."""

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind  # "unavailable": the model cannot be loaded there; "error": anything else


class WorkerProcess:
    """One worker subprocess; `request` sends one message and waits (at most `timeout` s) for its answer."""

    def __init__(self, python: Path, timeout: float, label: str = "COMET worker") -> None:
        self.python = Path(python)
        self.timeout = timeout
        self.label = label
        self.versions: dict[str, str] = {}
        self._process: subprocess.Popen | None = None
        self._buffer = b""
        self._next_id = 0
        self._log_path: Path | None = None
        self.loaded: set[str] = set()  # model keys loaded in this process

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        handle, name = tempfile.mkstemp(prefix="evalkit-comet-worker-", suffix=".log")
        self._log_path = Path(name)
        environment = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                       "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
        try:
            # -I: isolated mode, so the worker's folder (evalkit/scorers, with a numbers.py) is not on
            # sys.path and PYTHON* variables of the main environment do not leak into COMET's.
            self._process = subprocess.Popen(
                [str(self.python), "-I", str(WORKER_SCRIPT)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=handle, env=environment,
            )
        except OSError as exc:
            raise WorkerError(f"cannot start the {self.label} ({self.python}): {exc.strerror or exc}") from None
        finally:
            os.close(handle)
        hello = self._read(self.timeout, "starting")
        if hello.get("event") != "ready":
            self._fail(f"the {self.label} sent {str(hello)[:80]!r} instead of its greeting")
        if hello.get("protocol") != PROTOCOL:
            self._fail(f"the {self.label} speaks protocol {hello.get('protocol')}, evalkit {PROTOCOL}")
        self.versions = dict(hello.get("versions") or {})

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def close(self) -> None:
        """Ask the worker to exit; kill it if it does not within a few seconds. Keeps the log only after a failure."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            try:
                process.stdin.write(b'{"op": "shutdown"}\n')
                process.stdin.flush()
                process.stdin.close()
                process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if self._log_path is not None and process.returncode == 0:
            self._log_path.unlink(missing_ok=True)

    # -- messages ----------------------------------------------------------------------------

    def request(self, op: str, what: str, timeout: float | None = None, **payload) -> dict:
        if not self.alive:
            self._fail(f"the {self.label} is not running")
        self._next_id += 1
        message = {"id": self._next_id, "op": op, **payload}
        try:
            self._process.stdin.write((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))
            self._process.stdin.flush()
        except OSError:  # a broken pipe: the worker is gone
            self._fail(f"the {self.label} exited before {what}")
        answer = self._read(timeout or self.timeout, what)
        if answer.get("id") != self._next_id:
            self._fail(f"the {self.label} answered request {answer.get('id')} while evalkit waited for {self._next_id}")
        if not answer.get("ok"):
            kind = answer.get("kind", "error")
            error = str(answer.get("error") or "no reason given")
            if kind != "unavailable":  # the worker's log has the traceback
                error += f" (worker log: {self._log_path})"
            raise WorkerError(error, kind)
        return answer

    def _read(self, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        stream = self._process.stdout
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self._fail(f"the {self.label} did not answer within {timeout:g} s while {what}; it was stopped", kill=True)
                chunk = os.read(stream.fileno(), 1 << 16)
                if not chunk:
                    status = self._process.wait()
                    self._fail(f"the {self.label} exited with status {status} while {what}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            answer = json.loads(line)
        except ValueError:
            self._fail(f"the {self.label} wrote a line that is not JSON while {what}: {line[:80]!r}")
        if not isinstance(answer, dict):
            self._fail(f"the {self.label} wrote {line[:80]!r} while {what}")
        return answer

    def _fail(self, message: str, kill: bool = False) -> None:
        """Stop the worker (it cannot be trusted any more) and raise, quoting the last line of its log."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        last = self.log_tail()
        detail = f": {last}" if last else ""
        where = f" (worker log: {self._log_path})" if self._log_path else ""
        self._process = None
        if process is not None and process.stdout is not None:
            process.stdout.close()
        raise WorkerError(f"{message}{detail}{where}")

    def log_tail(self) -> str:
        """The last non-empty line the worker wrote to stderr, for one-line error messages."""
        if self._log_path is None:
            return ""
        try:
            with self._log_path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - _LOG_TAIL))
                lines = [ln.strip() for ln in handle.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""


# -- one worker per COMET environment, shared by the metrics of a run --------------------------------
#
# COMET and CometKiwi in one config would otherwise start two workers, each paying for Python,
# torch and comet imports; instead the first to need a worker starts it, each loads its model
# under its own key, and the last to release it stops it. The registry holds live processes only
# while a scorer uses them (nothing happens at import).

_SHARED: dict[str, WorkerProcess] = {}
_USERS: dict[str, set[int]] = {}


def acquire_worker(python: Path, timeout: float, user: object) -> WorkerProcess:
    """The running worker of this environment, started if there is none (or the last one died)."""
    key = str(python)
    worker = _SHARED.get(key)
    if worker is None or not worker.alive:
        worker = WorkerProcess(python, timeout)
        _SHARED[key] = worker
        worker.start()
    _USERS.setdefault(key, set()).add(id(user))
    return worker


def release_worker(python: Path, user: object) -> None:
    """This user is done; the last user's release stops the worker."""
    key = str(python)
    users = _USERS.get(key, set())
    users.discard(id(user))
    if not users:
        _USERS.pop(key, None)
        worker = _SHARED.pop(key, None)
        if worker is not None:
            worker.close()
