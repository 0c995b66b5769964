"""Redrive: send a parked failure back to its connector, once, and say how it went.

SQS's own redrive cannot serve here (StartMessageMoveTask refuses queues fed
by Lambda, and the messages are gone once stored), so a redrive re-invokes
the record's target connector with a one-delivery batch holding the stored
event, or an edited one. The delivery carries ``redrive = {"record_id",
"attempt"}`` and keeps the event id, so the connector's deduplication on
(target, event id) still guards against a second delivery.

The invocation is synchronous (``RequestResponse``): the operator sees the
connector's answer at once, and the record's status says what happened:

- delivered (or already delivered, "duplicate"): status "redriven";
- the connector failed it: status back to "parked" (the connector also
  sends a fresh failure record, which lands on the same record);
- the invoke itself failed (throttled, function missing): status unchanged.

Each attempt is claimed with a conditional write on the record's redrive
counter first, so two operators pressing the button at once cannot both
deliver. Bulk redrive walks a filtered query at a fixed rate, reports
progress after each record and returns a cursor to resume from.
"""

import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dlq_processor.errors import ClaimRefused, DlqError, RecordNotFound, RedriveError
from dlq_processor.store import FailureStore
from switchyard_contracts import (
    ConnectorRegistry,
    ContractError,
    Delivery,
    DeliveryBatch,
)

logger = logging.getLogger(__name__)

INVOCATION_TYPE = "RequestResponse"
REDRIVABLE = ("parked", "redriven")
FILTER_KEYS = ("status", "target_name", "error_type", "since", "until")
DETAIL_LIMIT = 500


class Outcome(StrEnum):
    """How one redrive ended."""

    DELIVERED = "delivered"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    INVOKE_ERROR = "invoke-error"


STATUS_AFTER = {
    Outcome.DELIVERED: "redriven",
    Outcome.DUPLICATE: "redriven",
    Outcome.FAILED: "parked",
    Outcome.INVOKE_ERROR: None,
}


@dataclass(frozen=True)
class RedriveResult:
    """The outcome of one redrive and the record's status after it."""

    record_id: str
    attempt: int
    outcome: Outcome
    status: str
    detail: str
    function: str
    edited: bool = False
    response: Any = None

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.DELIVERED, Outcome.DUPLICATE)


@dataclass
class BulkProgress:
    """Running totals of a bulk redrive, passed to ``progress`` each step."""

    processed: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    last_record_id: str | None = None
    last_outcome: str | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class BulkResult:
    """What a bulk redrive did; ``cursor`` resumes it when ``done`` is false."""

    processed: int
    delivered: int
    failed: int
    skipped: int
    results: list[RedriveResult] = field(default_factory=list)
    skipped_reasons: dict[str, str] = field(default_factory=dict)
    cursor: str | None = None
    done: bool = True


def redrive(
    record_id: str,
    *,
    store: FailureStore,
    lambda_client: Any,
    registry: ConnectorRegistry,
    actor: str,
    edited_event: dict[str, Any] | None = None,
) -> RedriveResult:
    """Re-invoke a record's connector with its event (or an edited one).

    Raises RecordNotFound for an unknown id and RedriveError when the record
    cannot be redriven (no target, no event, discarded or resolved, or
    another redrive of it under way). A connector's failure is not an
    exception: it is the result's outcome.
    """
    record = store.get(record_id)
    if record is None:
        raise RecordNotFound(f"no failure record {record_id!r} in {store.table_name}")
    if edited_event is not None:
        _check_edited(edited_event, store.inline_limit)
    target = _redrivable_target(record)
    function = _function_for(registry, target, record_id)
    event, event_ref = _event_to_send(record, edited_event)

    try:
        claimed = store.claim_redrive(
            record_id,
            expected_attempts=int(record.get("redrive_attempts") or 0),
            edited_event=edited_event,
            current=record,
        )
    except ClaimRefused as exc:
        raise RedriveError(
            f"record {record_id} changed while being redriven, or another "
            "redrive of it is under way; reload it and try again"
        ) from exc
    attempt = int(claimed["redrive_attempts"])

    try:
        delivery = Delivery(
            event_id=str(record["event_id"]),
            rule=str(record.get("rule") or ""),
            correlation_id=str(record.get("correlation_id") or record["event_id"]),
            event=event,
            event_ref=event_ref,
            source=record.get("source"),
            redrive={"record_id": record_id, "attempt": attempt},
        )
        batch = DeliveryBatch(target=dict(target), deliveries=[delivery])
        outcome, detail, response = _invoke(lambda_client, function, batch)
    except Exception:
        # Whether the connector ran is unknown; free the record for the
        # next redrive rather than leave it leased until the lease lapses.
        _release(store, record_id)
        raise

    edited = edited_event is not None
    note = f"attempt {attempt} to {function}{' with an edited event' if edited else ''}"
    updated = store.record_redrive(
        record_id,
        status=STATUS_AFTER[outcome],
        actor=actor,
        outcome=str(outcome),
        detail=f"{note}: {detail}",
    )
    logger.info(
        "redrive of %s by %s: %s (attempt %d)", record_id, actor, outcome, attempt
    )
    return RedriveResult(
        record_id=record_id,
        attempt=attempt,
        outcome=outcome,
        status=str(updated["status"]),
        detail=detail,
        function=function,
        edited=edited,
        response=response,
    )


def bulk_redrive(
    filter: Mapping[str, Any],
    *,
    store: FailureStore,
    lambda_client: Any,
    registry: ConnectorRegistry,
    actor: str,
    rate_per_second: float = 5.0,
    resume_from: str | None = None,
    progress: Callable[[BulkProgress], None] | None = None,
    max_records: int | None = None,
    page_size: int = 25,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> BulkResult:
    """Redrive every record matching a filter, at most ``rate_per_second``.

    ``filter`` takes the keys of ``FailureStore.query`` (status,
    target_name, error_type, since, until); status defaults to "parked".
    Records that cannot be redriven are skipped with their reason. Stops
    after ``max_records`` when given and returns a cursor; pass it as
    ``resume_from`` to carry on (also after a crash, from the last cursor
    ``progress`` saw).
    """
    unknown = set(filter) - set(FILTER_KEYS)
    if unknown:
        raise ValueError(
            f"unknown filter key(s) {sorted(unknown)}; use {', '.join(FILTER_KEYS)}"
        )
    if not 0 < rate_per_second < math.inf:
        raise ValueError(
            f"rate_per_second must be a positive number, not {rate_per_second!r}"
        )
    query = {"status": "parked", **{k: v for k, v in filter.items() if v is not None}}
    interval = 1.0 / rate_per_second

    state = BulkProgress(cursor=resume_from)
    results: list[RedriveResult] = []
    skipped: dict[str, str] = {}
    next_slot = clock()
    cursor = resume_from
    while True:
        page = store.query(**query, limit=page_size, cursor=cursor)
        for record in page.items:
            if max_records is not None and state.processed >= max_records:
                return _bulk_result(state, results, skipped, done=False)

            # Pace the invokes evenly rather than in bursts, so the target
            # sees a steady rate however the pages fall.
            wait = next_slot - clock()
            if wait > 0:
                sleep(wait)
            next_slot = max(next_slot, clock()) + interval

            record_id = str(record["record_id"])
            try:
                result = redrive(
                    record_id,
                    store=store,
                    lambda_client=lambda_client,
                    registry=registry,
                    actor=actor,
                )
            except (RedriveError, RecordNotFound) as exc:
                skipped[record_id] = str(exc)
                state.skipped += 1
                state.last_outcome = "skipped"
            else:
                results.append(result)
                if result.ok:
                    state.delivered += 1
                else:
                    state.failed += 1
                state.last_outcome = str(result.outcome)
            state.processed += 1
            state.last_record_id = record_id
            state.cursor = store.cursor_after(record, **query)
            if progress is not None:
                # A snapshot, so a caller that keeps reports keeps each one.
                progress(replace(state))
        if not page.next_cursor:
            state.cursor = None
            return _bulk_result(state, results, skipped, done=True)
        cursor = page.next_cursor


def _bulk_result(
    state: BulkProgress,
    results: list[RedriveResult],
    skipped: dict[str, str],
    done: bool,
) -> BulkResult:
    return BulkResult(
        processed=state.processed,
        delivered=state.delivered,
        failed=state.failed,
        skipped=state.skipped,
        results=results,
        skipped_reasons=skipped,
        cursor=None if done else state.cursor,
        done=done,
    )


def _check_edited(edited: Any, limit: int) -> None:
    """An edited event must be a JSON object that fits a record."""
    if not isinstance(edited, dict):
        raise RedriveError(
            f"an edited event must be a JSON object, not {type(edited).__name__}"
        )
    try:
        text = json.dumps(edited, ensure_ascii=False, allow_nan=False)
        size = len(text.encode("utf-8"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise RedriveError(
            f"the edited event is not plain JSON (finite numbers, UTF-8 text, "
            f"objects and lists only): {str(exc)[:200]}"
        ) from None
    if size > limit:
        raise RedriveError(
            f"the edited event is {size} bytes, more than {limit}; shorten it"
        )


def _release(store: FailureStore, record_id: str) -> None:
    try:
        store.release_redrive(record_id)
    except DlqError:
        logger.exception("redrive lease of %s not released", record_id)


def _redrivable_target(record: Mapping[str, Any]) -> dict[str, Any]:
    record_id = record["record_id"]
    if record.get("status") not in REDRIVABLE:
        raise RedriveError(
            f"record {record_id} is {record.get('status')}; only parked or "
            "redriven records are redriven (mark it parked first)"
        )
    target = record.get("target")
    if not isinstance(target, Mapping) or not target.get("connector"):
        raise RedriveError(
            f"record {record_id} ({record.get('origin')}) has no target: it "
            "failed before a connector was chosen, so there is nothing to "
            "re-invoke; fix the cause and publish the event again"
        )
    return dict(target)


def _function_for(
    registry: ConnectorRegistry, target: Mapping[str, Any], record_id: str
) -> str:
    try:
        return registry.function_for(str(target["connector"]))
    except ContractError as exc:
        raise RedriveError(f"cannot redrive record {record_id}: {exc}") from exc


def _event_to_send(
    record: Mapping[str, Any], edited: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, str] | None]:
    if edited is not None:
        return edited, None
    if record.get("event") is not None:
        return dict(record["event"]), None
    if record.get("event_ref"):
        return None, dict(record["event_ref"])
    raise RedriveError(
        f"record {record['record_id']} holds no event (only what was known of "
        "it); there is nothing to send"
    )


def _invoke(
    lambda_client: Any, function: str, batch: DeliveryBatch
) -> tuple[Outcome, str, Any]:
    payload = json.dumps(batch.to_dict(), separators=(",", ":"))
    try:
        response = lambda_client.invoke(
            FunctionName=function,
            InvocationType=INVOCATION_TYPE,
            Payload=payload.encode("utf-8"),
        )
    except (ClientError, BotoCoreError) as exc:
        return (
            Outcome.INVOKE_ERROR,
            f"Invoke {function} failed: {exc}"[:DETAIL_LIMIT],
            None,
        )

    body = _read_payload(response.get("Payload"))
    if response.get("FunctionError"):
        return Outcome.FAILED, _error_detail(response["FunctionError"], body), body
    event_id = batch.deliveries[0].event_id
    return (*_summary_outcome(body, event_id), body)


def _read_payload(payload: Any) -> Any:
    if payload is None:
        return None
    data = payload.read() if hasattr(payload, "read") else payload
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data


def _error_detail(function_error: str, body: Any) -> str:
    if isinstance(body, Mapping):
        text = (
            f"{body.get('errorType', function_error)}: {body.get('errorMessage', '')}"
        )
    else:
        text = f"{function_error}: {body}"
    return text[:DETAIL_LIMIT]


def _summary_outcome(body: Any, event_id: str) -> tuple[Outcome, str]:
    """Read the connector's summary for our one delivery.

    Connectors answer with a ``switchyard.delivery-result``: per-delivery
    ``results`` (``event_id``, ``outcome``) and ``counts``; a payload that
    was not a batch comes back ``rejected``. The entry naming our event id
    decides; failing that, the counts; failing both, a normal return means
    the delivery was made.
    """
    if isinstance(body, Mapping):
        if body.get("rejected"):
            return Outcome.FAILED, f"connector rejected the batch: {body['rejected']}"
        entries = body.get("results")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and str(entry.get("event_id")) == event_id:
                return _entry_outcome(entry)
        counts = body.get("counts") if isinstance(body.get("counts"), Mapping) else body
        if _positive(counts.get("failed")):
            return Outcome.FAILED, f"connector reported a failure: {_short(body)}"
        if _positive(counts.get("duplicate")) and not _positive(
            counts.get("delivered")
        ):
            return Outcome.DUPLICATE, f"already delivered: {_short(body)}"
    return Outcome.DELIVERED, f"connector answered {_short(body)}"


def _positive(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value > 0
    return isinstance(value, list) and bool(value)


def _entry_outcome(entry: Mapping[str, Any]) -> tuple[Outcome, str]:
    status = str(entry.get("outcome") or entry.get("status") or "").lower()
    if status == "duplicate":
        return Outcome.DUPLICATE, f"already delivered: {_short(entry)}"
    if status == "delivered":
        return Outcome.DELIVERED, f"delivered: {_short(entry)}"
    return (
        Outcome.FAILED,
        f"connector reported {status or 'no status'}: {_short(entry)}",
    )


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text[:DETAIL_LIMIT]
