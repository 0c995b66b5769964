"""A webhook receiver on 127.0.0.1 whose behaviour is chosen by the URL path.

Each path is one fault, decided per event id (the connector's
``X-Switchyard-Event-Id`` header):

- ``/ok``: always 200.
- ``/flaky``: 503 for the first ``flaky_failures`` attempts, then 200.
- ``/broken``: always 500.
- ``/hang``: never answers; holds the connection until ``hang_seconds``
  pass or the receiver stops, then closes it without a status line.
- ``/crash``: like ``/hang``, and calls ``on_crash`` first (the test kills
  the connector's worker there, mid-delivery).
- ``/repair``: 422 until ``repaired`` is set, then 200.

Only a 200 that was written counts as delivered (``accepted``); every
request is counted in ``attempts``.
"""

import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATHS = ("ok", "flaky", "broken", "hang", "crash", "repair")


class FaultReceiver:
    """The server and its counters; ``url(path)`` names a behaviour."""

    def __init__(self, flaky_failures: int = 2, hang_seconds: float = 15.0) -> None:
        self.flaky_failures = flaky_failures
        self.hang_seconds = hang_seconds
        self.repaired = False
        self.on_crash: Callable[[str], None] | None = None
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.accepted: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fault-receiver", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    def start(self) -> "FaultReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def delivered(self, path: str) -> Counter[str]:
        """Accepted deliveries of one path, per event id."""
        with self._lock:
            return Counter(
                {eid: n for (p, eid), n in self.accepted.items() if p == path}
            )

    def tried(self, path: str) -> Counter[str]:
        with self._lock:
            return Counter(
                {eid: n for (p, eid), n in self.attempts.items() if p == path}
            )

    def _answer(self, path: str, event_id: str) -> int | None:
        """The status to send, or None to hang; counts the attempt."""
        with self._lock:
            self.attempts[(path, event_id)] += 1
            attempt = self.attempts[(path, event_id)]
        if path == "ok":
            return 200
        if path == "flaky":
            return 503 if attempt <= self.flaky_failures else 200
        if path == "broken":
            return 500
        if path == "repair":
            return 200 if self.repaired else 422
        if path == "crash" and self.on_crash is not None:
            self.on_crash(event_id)
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                path = self.path.strip("/").split("?", 1)[0]
                event_id = self.headers.get("X-Switchyard-Event-Id", "")
                if path not in PATHS:
                    self._reply(404)
                    return
                status = receiver._answer(path, event_id)
                if status is None:
                    receiver._release.wait(receiver.hang_seconds)
                    self.close_connection = True
                    return
                if self._reply(status) and status == 200:
                    with receiver._lock:
                        receiver.accepted[(path, event_id)] += 1

            def _reply(self, status: int) -> bool:
                body = b'{"ok": true}' if status == 200 else b'{"error": "fault"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                except OSError:
                    return False
                return True

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler
