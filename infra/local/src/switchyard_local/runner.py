"""Run functions from their built packages, each in its own worker processes.

A worker stays warm between invocations, like a Lambda sandbox. A worker
that runs past the function's timeout is killed with its process group and
replaced; one that crashes is replaced on the next invocation. As on Lambda,
the timeout counts from the end of the worker's Init phase (its imports),
which has a limit of its own (``INIT_LIMIT_S``): a slow cold start does not
eat into the time the handler's context reports. Each function
has a small pool of workers (its local concurrency), and every line a worker
prints reaches the log sink prefixed with the function's name.
"""

import contextlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import sysconfig
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from switchyard_local.errors import FunctionError, UnknownFunction
from switchyard_local.templates import FunctionSpec, function_name

logger = logging.getLogger(__name__)

WORKER_SCRIPT = str(Path(__file__).with_name("worker.py"))
LogSink = Callable[[str, str], None]
# Lambda's Init phase has its own limit, apart from the function timeout; an
# Init that runs longer goes on within the invocation's timeout.
INIT_LIMIT_S = 10.0


def print_sink(name: str, line: str) -> None:
    """Write one worker line to stderr, prefixed with the function's name."""
    sys.stderr.write(f"[{name}] {line}\n")


@dataclass
class InvokeResult:
    """What one invocation returned: the payload, and the error kind if any."""

    payload: bytes
    function_error: str | None = None
    request_id: str = ""
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.function_error is None

    def json(self) -> object:
        return json.loads(self.payload or b"null")


def _error_payload(message: str, error_type: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


class Worker:
    """One warm process running one function."""

    def __init__(
        self, spec: FunctionSpec, package_path: str, env: dict[str, str], sink: LogSink
    ) -> None:
        self.spec = spec
        read_fd, write_fd = os.pipe()
        runtime_path = sysconfig.get_paths()["purelib"]
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-S",
                "-u",
                WORKER_SCRIPT,
                package_path,
                runtime_path,
                spec.handler,
                str(write_fd),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            env=env,
            cwd=package_path.split(os.pathsep)[0],
            start_new_session=True,
        )
        os.close(write_fd)
        self._results: IO[bytes] = os.fdopen(read_fd, "rb")
        self._buffer = b""
        self.ready = False
        self.timed_out = False
        self._logs = threading.Thread(
            target=self._forward_logs, args=(sink,), daemon=True
        )
        self._logs.start()

    def _forward_logs(self, sink: LogSink) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            sink(self.spec.name, raw.decode("utf-8", "replace").rstrip("\n"))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def invoke(self, request: dict, timeout_s: float) -> dict | None:
        """The worker's answer, or None when it timed out or died (then killed).

        The timeout counts from the end of the worker's Init phase (its
        imports), which has a limit of its own, as on Lambda.
        """
        assert self.process.stdin is not None
        self.timed_out = False
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            return None
        try:
            if not self.ready:
                self._wait_ready(time.monotonic() + INIT_LIMIT_S)
            answer = self._read_answer(time.monotonic() + timeout_s)
        except EOFError:
            self.kill()
            return None
        if answer is None:
            self.timed_out = True
            self.kill()
        return answer

    def _wait_ready(self, deadline: float) -> None:
        """Until the worker's Init phase ends, or ``deadline`` passes."""
        while not self.ready:
            line = self._read_line(deadline)
            if line is None:
                return
            if json.loads(line).get("ready") is True:
                self.ready = True

    def _read_answer(self, deadline: float) -> dict | None:
        """The next answer before ``deadline``, else None; raises EOFError
        when the worker closed its end."""
        while True:
            line = self._read_line(deadline)
            if line is None:
                return None
            message = json.loads(line)
            if message.get("ready") is True and "ok" not in message:
                # The end of an Init that ran past its own limit.
                self.ready = True
                continue
            return message

    def _read_line(self, deadline: float) -> bytes | None:
        fd = self._results.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def kill(self) -> None:
        """Kill the worker's whole process group; safe to call twice."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            logger.error("worker of %s did not exit", self.spec.name)
        for stream in (self.process.stdin, self._results):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


@dataclass
class LocalFunction:
    """One function: its definition, package, environment and worker pool."""

    spec: FunctionSpec
    package_path: str
    env: dict[str, str]
    sink: LogSink
    concurrency: int = 2
    _idle: list[Worker] = field(default_factory=list)
    _all: set[Worker] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.Semaphore | None = None
    restarts: int = 0
    _stopped: bool = False

    def __post_init__(self) -> None:
        self._slots = threading.Semaphore(self.concurrency)

    def _new_worker(self) -> Worker:
        worker = Worker(self.spec, self.package_path, self.env, self.sink)
        with self._lock:
            stopped = self._stopped
            if not stopped:
                self._all.add(worker)
        if stopped:
            # A worker started while the function stopped must not outlive it.
            worker.kill()
            raise FunctionError(f"{self.spec.name} is stopped")
        return worker

    def prewarm(self) -> None:
        """Start one worker now so the first invocation finds it warm."""
        try:
            worker = self._new_worker()
        except FunctionError:
            return
        with self._lock:
            self._idle.append(worker)

    def invoke(self, payload: bytes, request_id: str | None = None) -> InvokeResult:
        request_id = request_id or str(uuid.uuid4())
        assert self._slots is not None
        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None or not worker.alive:
                if worker is not None:
                    self._discard(worker)
                worker = self._new_worker()
            started = time.monotonic()
            answer = worker.invoke(
                {
                    "payload": payload.decode("utf-8"),
                    "request_id": request_id,
                    "function_name": self.spec.name,
                    "function_arn": self.spec.arn,
                    "memory_mb": self.spec.memory_mb,
                    "timeout_s": self.spec.timeout,
                },
                # The worker measures the deadline too; a little slack here
                # lets it report the handler's own error first.
                self.spec.timeout + 0.5,
            )
            duration_ms = (time.monotonic() - started) * 1000
        if answer is None:
            self._discard(worker)
            if worker.timed_out:
                message = f"Task timed out after {self.spec.timeout:.2f} seconds"
                error_type = "Sandbox.Timedout"
            else:
                message = f"RequestId: {request_id} Error: Runtime exited"
                error_type = "Runtime.ExitError"
            self.sink(self.spec.name, f"{request_id} {message}")
            return InvokeResult(
                _error_payload(message, error_type), "Unhandled", request_id
            )
        with self._lock:
            self._idle.append(worker)
        if answer["ok"]:
            return InvokeResult(
                answer["payload"].encode(), None, request_id, duration_ms
            )
        body = {k: answer[k] for k in ("errorMessage", "errorType", "stackTrace")}
        return InvokeResult(
            json.dumps(body).encode(), "Unhandled", request_id, duration_ms
        )

    def _discard(self, worker: Worker) -> None:
        """Kill a timed-out or crashed worker and start its replacement."""
        worker.kill()
        with self._lock:
            self._all.discard(worker)
            self.restarts += 1
            replace = not self._stopped and not self._idle
        if replace:
            threading.Thread(target=self.prewarm, daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
        for worker in workers:
            worker.kill()


def worker_environment(
    spec: FunctionSpec,
    package_path: str,
    moto_url: str,
    lambda_url: str | None,
) -> dict[str, str]:
    """What a Lambda sandbox would see, with AWS pointed at the local stack."""
    from switchyard_local.moto_server import aws_environment

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "HOME": os.environ.get("HOME", package_path.split(os.pathsep)[0]),
        **aws_environment(moto_url),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "LAMBDA_TASK_ROOT": package_path.split(os.pathsep)[0],
    }
    if lambda_url:
        env["AWS_ENDPOINT_URL_LAMBDA"] = lambda_url
    env.update(spec.environment)
    return env


class FunctionRunner:
    """Every local function by name; invokes them and stops them all."""

    def __init__(self, sink: LogSink = print_sink, concurrency: int = 2) -> None:
        self.sink = sink
        self.concurrency = concurrency
        self.functions: dict[str, LocalFunction] = {}

    def add(
        self,
        spec: FunctionSpec,
        package_path: str,
        moto_url: str,
        lambda_url: str | None = None,
        concurrency: int | None = None,
    ) -> LocalFunction:
        env = worker_environment(spec, package_path, moto_url, lambda_url)
        function = LocalFunction(
            spec, package_path, env, self.sink, concurrency or self.concurrency
        )
        self.functions[spec.name] = function
        return function

    def get(self, name_or_arn: str) -> LocalFunction:
        name = function_name(name_or_arn)
        try:
            return self.functions[name]
        except KeyError:
            raise UnknownFunction(
                f"Function not found: {name_or_arn}; the local stack runs "
                f"{sorted(self.functions)}"
            ) from None

    def invoke(
        self, name_or_arn: str, payload: bytes, request_id: str | None = None
    ) -> InvokeResult:
        return self.get(name_or_arn).invoke(payload, request_id)

    def prewarm(self) -> None:
        """Start one worker of every function, in parallel."""
        threads = [
            threading.Thread(target=f.prewarm, daemon=True)
            for f in self.functions.values()
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def pids(self) -> list[int]:
        """Process ids of every live worker."""
        return [
            worker.process.pid
            for function in self.functions.values()
            for worker in list(function._all)
            if worker.alive
        ]

    def stop(self) -> None:
        for function in self.functions.values():
            function.stop()
