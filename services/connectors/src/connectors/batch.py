"""Run one delivery batch through a connector.

Every delivery ends in exactly one outcome: delivered, duplicate, or failed.
Each failure becomes one failure record on the dead-letter queue, sent
before the next delivery starts (the records of deliveries never attempted,
out of time or refused outright, go together at the end, ten to a call), and
the invocation then returns normally.
The one exception is a failure record that cannot be sent: that raises, so
Lambda's async retries (and then its on-failure destination) take over, and
the ledger keeps the deliveries already made from being made twice.
"""

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from connectors.budget import Deadline
from connectors.connector import Connector
from connectors.deadletters import DeadLetterQueue
from connectors.errors import (
    DeadLetterError,
    DeliveryError,
    IdempotencyStoreError,
    InternalError,
    InvalidTarget,
    TimeBudgetExhausted,
)
from connectors.log import logger
from connectors.outcomes import Outcome, Status
from connectors.payloads import EventLoader
from switchyard_contracts import (
    ContractError,
    DeliveryBatch,
    FailureError,
    FailureRecord,
    Origin,
)
from switchyard_contracts.canonical import digest

RESULT_KIND = "switchyard.delivery-result"
# Errors that are our own fault log at ERROR; the rest are the target's or
# the rule's, and log at WARNING.
OUR_FAULTS = (IdempotencyStoreError, InternalError)


def _check_deliveries(deliveries: list[Any]) -> None:
    """Every event id must be a non-empty string, as the contract types it,
    and the texts that become keys and headers must have a UTF-8 form.

    The contract's parser turns any value into text, so ``None`` would be
    delivered as the event "None", and an empty id would give every such
    event one shared idempotency key.
    """
    for index, delivery in enumerate(deliveries):
        event_id = delivery.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            raise ContractError(
                f"deliveries[{index}].event_id must be a non-empty string, "
                f"not {event_id!r}"[:300]
            )
        # Half a surrogate pair has no UTF-8 form: no key, header or item
        # could hold it (UnicodeEncodeError, a ValueError, rejects the batch).
        for name in ("event_id", "rule", "correlation_id"):
            value = delivery.get(name)
            if isinstance(value, str):
                value.encode("utf-8")


def _payload_digest(payload: Any) -> str:
    """The contract's digest of a payload, or of its ASCII JSON if the
    payload holds text with no UTF-8 form (the contract's digest fails)."""
    try:
        return digest(payload)
    except UnicodeEncodeError:
        text = json.dumps(payload, default=str, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class BatchRunner:
    """Delivers a batch through one connector and accounts for each event."""

    connector: Connector
    loader: EventLoader
    dead_letters: DeadLetterQueue

    def run(self, payload: Any, deadline: Deadline) -> dict[str, Any]:
        try:
            batch = DeliveryBatch.from_dict(payload)
            _check_deliveries(payload["deliveries"])
            # Hashes the target: text with no UTF-8 form fails here, once.
            batch.target_id  # noqa: B018
        except (ContractError, TypeError, AttributeError, ValueError) as exc:
            # UnicodeEncodeError is a ValueError.
            return self._reject(payload, exc)

        outcomes = self._deliver_all(batch, deadline)
        counts = {status.value: 0 for status in Status}
        for _, outcome in outcomes:
            counts[outcome.status.value] += 1
        return {
            "kind": RESULT_KIND,
            "connector": self.connector.name,
            "target_id": batch.target_id,
            "counts": counts,
            "results": [
                {
                    "event_id": event_id,
                    "outcome": outcome.status.value,
                    "attempts": outcome.attempts,
                }
                for event_id, outcome in outcomes
            ],
        }

    def _deliver_all(
        self, batch: DeliveryBatch, deadline: Deadline
    ) -> list[tuple[str, Outcome]]:
        bound: Any = None
        refusal: DeliveryError | None = None
        if batch.connector != self.connector.name:
            refusal = InvalidTarget(
                f"a {batch.connector!r} batch reached the {self.connector.name!r} "
                "connector; check CONNECTOR_FUNCTIONS",
                retryable=False,
            )
        else:
            try:
                bound = self.connector.bind(batch.params)
            except InvalidTarget as exc:
                refusal = exc
            except (TypeError, ValueError, AttributeError) as exc:
                refusal = InvalidTarget(
                    f"target params must be a JSON object fit for the "
                    f"{self.connector.name!r} connector: {exc}",
                    retryable=False,
                )
        target_name = (
            self.connector.describe(bound) if bound is not None else batch.connector
        )

        results: list[tuple[str, Outcome]] = []
        # Records of deliveries never attempted go out ten to a call at the
        # end; a crash before then loses nothing, as none was attempted.
        unattempted: list[FailureRecord] = []
        total = len(batch.deliveries)
        for index, delivery in enumerate(batch.deliveries):
            key = delivery.idempotency_key(batch.target_id)
            started = time.monotonic()
            attempted = False
            if refusal is not None:
                outcome = Outcome.failed(refusal)
            elif deadline.expired():
                outcome = Outcome.failed(
                    TimeBudgetExhausted(
                        "the invocation ran out of time before this delivery; "
                        "redrive it"
                    )
                )
            else:
                attempted = True
                outcome = self._deliver_one(
                    bound, delivery, key, deadline.share(total - index)
                )

            self._log(batch, delivery, target_name, outcome, started)
            if outcome.status is Status.FAILED:
                record = self._record(batch, delivery, outcome)
                if attempted:
                    self.dead_letters.send(record)
                else:
                    unattempted.append(record)
            results.append((delivery.event_id, outcome))
        if unattempted:
            self.dead_letters.send_many(unattempted)
        return results

    def _deliver_one(
        self, bound: Any, delivery: Any, key: str, deadline: Deadline
    ) -> Outcome:
        try:
            event = self.loader.load(delivery)
            return self.connector.deliver(bound, delivery, event, key, deadline)
        except DeliveryError as exc:
            return Outcome.failed(exc)
        except DeadLetterError:
            raise
        except Exception as exc:
            logger.exception("unexpected error delivering %s", delivery.event_id)
            return Outcome.failed(InternalError(f"{type(exc).__name__}: {exc}"))

    @staticmethod
    def _record(batch: DeliveryBatch, delivery: Any, outcome: Outcome) -> FailureRecord:
        error = outcome.error
        assert error is not None
        return FailureRecord(
            event_id=delivery.event_id,
            error=FailureError(
                type=type(error).__name__,
                message=outcome.message[:2000],
                retryable=bool(error.retryable),
            ),
            origin=Origin.CONNECTOR,
            event=delivery.event,
            event_ref=delivery.event_ref,
            rule=delivery.rule or None,
            target=batch.target,
            target_id=batch.target_id,
            attempts=max(1, outcome.attempts),
            correlation_id=delivery.correlation_id,
            source=delivery.source,
        )

    def _log(
        self,
        batch: DeliveryBatch,
        delivery: Any,
        target_name: str,
        outcome: Outcome,
        started: float,
    ) -> None:
        fields: dict[str, Any] = {
            "correlation_id": delivery.correlation_id,
            "event_id": delivery.event_id,
            "rule": delivery.rule,
            "target": target_name,
            "target_id": batch.target_id,
            "outcome": outcome.status.value,
            "attempts": outcome.attempts,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            **outcome.details,
        }
        if delivery.redrive:
            fields["redrive"] = delivery.redrive
        if outcome.error is None:
            logger.info("delivery %s", outcome.status.value, extra=fields)
            return
        fields["error_type"] = type(outcome.error).__name__
        fields["error_message"] = outcome.message[:500]
        fields["retryable"] = bool(outcome.error.retryable)
        ours = isinstance(outcome.error, OUR_FAULTS)
        log = logger.error if ours else logger.warning
        log("delivery failed", extra=fields)

    def _reject(self, payload: Any, exc: Exception) -> dict[str, Any]:
        """A payload that is not a batch: one failure record keeps it whole."""
        # ASCII JSON: half a surrogate pair travels as its escape.
        raw = json.dumps(payload, default=str, separators=(",", ":")).encode()
        # Keep the record under the queue's limit: base64 grows by a third.
        budget = self.dead_letters.limit_bytes * 2 // 3 - 4096
        message = (
            f"payload for the {self.connector.name!r} connector is not a "
            f"delivery batch: {exc}"
        )
        if len(raw) > budget:
            message += f" (raw payload of {len(raw)} bytes cut to {budget})"
            raw = raw[: max(0, budget)]
        record = FailureRecord(
            event_id=f"invalid-payload:{_payload_digest(payload)}",
            error=FailureError(
                type=type(exc).__name__, message=message[:2000], retryable=False
            ),
            origin=Origin.CONNECTOR,
            raw=base64.b64encode(raw).decode("ascii"),
        )
        self.dead_letters.send(record)
        logger.warning(
            "payload rejected",
            extra={
                "outcome": Status.FAILED.value,
                "event_id": record.event_id,
                "target": self.connector.name,
                "error_type": type(exc).__name__,
                "error_message": message[:500],
            },
        )
        return {
            "kind": RESULT_KIND,
            "connector": self.connector.name,
            "target_id": None,
            "counts": {"delivered": 0, "duplicate": 0, "failed": 1},
            "results": [],
            "rejected": message,
        }
