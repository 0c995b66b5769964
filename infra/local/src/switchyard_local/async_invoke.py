"""Asynchronous invocation: the queue behind ``InvocationType=Event``.

Like Lambda, an accepted event is retried when the function fails, up to the
function's ``MaximumRetryAttempts`` (default 2) and within its
``MaximumEventAgeInSeconds``, with a growing delay between attempts; then
the on-failure destination receives AWS's invocation record. Lambda waits a
minute and then two between retries; here the delays are seconds by default
(``retry_delays``) so a local run does not stall.
"""

import heapq
import itertools
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from switchyard_local.destinations import Destinations, invocation_record
from switchyard_local.errors import LocalRuntimeError
from switchyard_local.runner import FunctionRunner
from switchyard_local.templates import InvokeConfigSpec, function_name

logger = logging.getLogger(__name__)


@dataclass(order=True)
class _Pending:
    due: float
    order: int
    function: str = field(compare=False)
    payload: bytes = field(compare=False)
    request_id: str = field(compare=False)
    accepted_at: float = field(compare=False)
    attempts: int = field(compare=False, default=0)


class AsyncInvoker:
    """Runs queued events on a few threads, with retries and destinations."""

    def __init__(
        self,
        runner: FunctionRunner,
        destinations: Destinations,
        configs: dict[str, InvokeConfigSpec] | None = None,
        threads: int = 4,
        retry_delays: tuple[float, ...] = (0.5, 1.0),
    ) -> None:
        self.runner = runner
        self.destinations = destinations
        self.configs = dict(configs or {})
        self.retry_delays = retry_delays
        self._heap: list[_Pending] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._running = 0
        self._stopped = False
        self.stats = {"accepted": 0, "succeeded": 0, "failed": 0, "retried": 0}
        self._threads = [
            threading.Thread(target=self._work, name=f"async-invoke-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def config(self, name: str) -> InvokeConfigSpec:
        return self.configs.get(name) or InvokeConfigSpec(function_name=name)

    def submit(
        self, function: str, payload: bytes, request_id: str | None = None
    ) -> str:
        """Queue one event for ``function``; returns its request id."""
        request_id = request_id or str(uuid.uuid4())
        name = function_name(function)
        self.runner.get(name)
        now = time.monotonic()
        with self._cond:
            heapq.heappush(
                self._heap,
                _Pending(now, next(self._order), name, payload, request_id, now),
            )
            self.stats["accepted"] += 1
            self._cond.notify()
        return request_id

    @property
    def pending(self) -> int:
        """Events queued, waiting for a retry, or running now."""
        with self._cond:
            return len(self._heap) + self._running

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (
                    not self._heap or self._heap[0].due > time.monotonic()
                ):
                    wait = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                item = heapq.heappop(self._heap)
                self._running += 1
            try:
                self._attempt(item)
            except Exception:
                logger.exception("async invocation of %s failed", item.function)
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def _attempt(self, item: _Pending) -> None:
        config = self.config(item.function)
        item.attempts += 1
        try:
            result = self.runner.invoke(item.function, item.payload, item.request_id)
        except LocalRuntimeError as exc:
            logger.error("async invoke of %s: %s", item.function, exc)
            return
        if result.ok:
            self.stats["succeeded"] += 1
            if config.on_success:
                self._send(item, config.on_success, "Success", 200, None, result)
            return

        age = time.monotonic() - item.accepted_at
        retries_left = item.attempts <= config.maximum_retry_attempts
        if retries_left and age < config.maximum_event_age_seconds:
            delay = self.retry_delays[
                min(item.attempts - 1, len(self.retry_delays) - 1)
            ]
            item.due = time.monotonic() + delay
            item.order = next(self._order)
            with self._cond:
                heapq.heappush(self._heap, item)
                self.stats["retried"] += 1
                self._cond.notify()
            return

        self.stats["failed"] += 1
        condition = "RetriesExhausted" if not retries_left else "EventAgeExceeded"
        if config.on_failure:
            self._send(item, config.on_failure, condition, 200, "Unhandled", result)
        else:
            logger.warning(
                "async invocation %s of %s failed for good after %d attempts; "
                "the function has no on-failure destination",
                item.request_id,
                item.function,
                item.attempts,
            )

    def _send(self, item, destination, condition, status, error, result) -> None:
        try:
            request_payload = json.loads(item.payload or b"null")
        except ValueError:
            request_payload = item.payload.decode("utf-8", "replace")
        try:
            response_payload = result.json()
        except ValueError:
            response_payload = result.payload.decode("utf-8", "replace")
        record = invocation_record(
            request_id=item.request_id,
            function_arn=self.runner.get(item.function).spec.arn,
            condition=condition,
            invoke_count=item.attempts,
            request_payload=request_payload,
            status_code=status,
            function_error=error,
            response_payload=response_payload,
        )
        try:
            self.destinations.send(destination, record)
        except LocalRuntimeError:
            logger.exception("destination %s of %s failed", destination, item.function)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until nothing is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.1))
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
