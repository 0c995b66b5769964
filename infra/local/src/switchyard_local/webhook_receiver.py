"""A small webhook receiver on 127.0.0.1 that fails now and then, on purpose.

Which deliveries fail is decided by a hash of the event id, so a run is
reproducible: some event ids get a transient ``503`` on their first attempt
(the webhook connector retries them), a few get a permanent ``422`` (they
end as failure records). Every accepted delivery is counted per event id,
so a duplicate delivery is visible.
"""

import hashlib
import threading
from collections import Counter

from werkzeug.wrappers import Request, Response


def _bucket(event_id: str) -> int:
    return hashlib.sha256(event_id.encode()).digest()[0]


class WebhookReceiver:
    """The WSGI application; ``accepted`` counts 2xx answers per event id."""

    def __init__(self, transient_per_256: int = 40, permanent_per_256: int = 24):
        self.transient = transient_per_256
        self.permanent = permanent_per_256
        self.accepted: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._lock = threading.Lock()

    def fails_permanently(self, event_id: str) -> bool:
        return _bucket(event_id) < self.permanent

    def fails_first_attempt(self, event_id: str) -> bool:
        bucket = _bucket(event_id)
        return self.permanent <= bucket < self.permanent + self.transient

    def __call__(self, environ, start_response):
        request = Request(environ)
        return self.handle(request)(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return Response("POST only", status=405)
        event_id = request.headers.get("X-Switchyard-Event-Id", "")
        with self._lock:
            self.attempts[event_id] += 1
            attempt = self.attempts[event_id]
            if self.fails_permanently(event_id):
                self.refused[event_id] += 1
                return Response('{"error": "refused"}', status=422)
            if self.fails_first_attempt(event_id) and attempt == 1:
                return Response('{"error": "busy"}', status=503)
            self.accepted[event_id] += 1
        return Response('{"ok": true}', status=200, content_type="application/json")
