"""Faults injected into the whole local pipeline: nothing is lost silently.

One LocalStack for the module (router, connectors, dead-letter processor:
real workers from the built packages, the Invoke API with async retries and
on-failure destinations, the Kinesis and SQS pollers). Events go straight
into Kinesis; webhook targets point at a receiver in this process whose
paths each play one fault. Every test checks the promise: each event sent
is delivered exactly once at its destination, or is exactly one failure
record in the failed-events table with a reason, and never both.
"""

import base64
import hashlib
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from fault.receiver import FaultReceiver
from switchyard_local.stack import LocalStack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

STAGE = "fault"
WEBHOOK = f"switchyard-{STAGE}-connector-webhook"
MAX_EVENT_BYTES = 8192
KPL_MAGIC = b"\xf3\x89\x9a\xc2"


@pytest.fixture(scope="module")
def receiver() -> Iterator[FaultReceiver]:
    server = FaultReceiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fault") / "functions.log"


@pytest.fixture(scope="module")
def stack(log_path: Path, receiver: FaultReceiver) -> Iterator[LocalStack]:
    local = LocalStack(
        stage=STAGE,
        site=False,
        console=False,
        log_path=log_path,
        # Retries of a killed connector start after its idempotency lease
        # (its share of a 1 s budget, plus a second, rounded up to whole
        # seconds) has lapsed, so each retry reaches the receiver again
        # instead of parking the event as in flight elsewhere.
        async_retry_delays=(4.5, 4.5),
        parameters={
            # The router re-reads the rules on every batch (scenario 4).
            "RulesTtlSeconds": "0",
            "MaxEventBytes": str(MAX_EVENT_BYTES),
            "MaximumBatchingWindowInSeconds": "0",
        },
    )
    with local:
        local.put_rules(rules_document(receiver))
        yield local


def rules_document(receiver: FaultReceiver) -> dict[str, Any]:
    """One rule per receiver path: events of type ``fault.<path>`` go there."""
    return {
        "rules": [
            {
                "name": f"to-{path}",
                "enabled": True,
                "pattern": {"type": [f"fault.{path}"]},
                "targets": [
                    {"connector": "webhook", "params": {"url": receiver.url(path)}}
                ],
            }
            for path in ("ok", "flaky", "broken", "hang", "crash", "repair")
        ]
    }


# Sending and accounting.


def make_events(prefix: str, path: str, count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"{prefix}-{n:03d}", "type": f"fault.{path}", "n": n}
        for n in range(count)
    ]


def put_data(stack: LocalStack, blobs: list[bytes]) -> list[str]:
    """Write raw records; each one's stream id (shard:sequence:0)."""
    answer = stack.client("kinesis").put_records(
        StreamName=stack.outputs["EventsStreamName"],
        Records=[
            {"Data": blob, "PartitionKey": f"k{index}"}
            for index, blob in enumerate(blobs)
        ],
    )
    assert answer.get("FailedRecordCount", 0) == 0, answer
    return [f"{r['ShardId']}:{r['SequenceNumber']}:0" for r in answer["Records"]]


def put_events(stack: LocalStack, events: list[dict[str, Any]]) -> None:
    put_data(stack, [json.dumps(e).encode() for e in events])


def failure_records(stack: LocalStack) -> list[dict[str, Any]]:
    """Every item of the failed-events table, as plain Python values."""
    client = stack.client("dynamodb")
    table = stack.outputs["FailedEventsTableName"]
    deserialize = TypeDeserializer().deserialize
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**arguments)
        items.extend({k: deserialize(v) for k, v in i.items()} for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def records_for(stack: LocalStack, event_ids: set[str]) -> list[dict[str, Any]]:
    return [r for r in failure_records(stack) if r.get("event_id") in event_ids]


def settle(stack: LocalStack, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait until the stack is idle and ``done()``; fail the test otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        remaining = max(1.0, deadline - time.monotonic())
        assert stack.wait_until_idle(timeout=remaining, settle=1.0)
        if done():
            # Idle once more: a late duplicate would show up now.
            assert stack.wait_until_idle(timeout=30, settle=1.0)
            return
        time.sleep(0.3)
    pytest.fail("the pipeline did not account for every event in time")


def error_of(record: dict[str, Any]) -> dict[str, Any]:
    """The error of a stored failure record: type, message, retryable."""
    error = record.get("error")
    if isinstance(error, dict):
        return error
    return {
        "type": record.get("error_type"),
        "message": record.get("error_message"),
        "retryable": record.get("retryable"),
    }


def assert_accounted(
    sent: set[str],
    delivered: Counter[str],
    records: list[dict[str, Any]],
) -> None:
    """Each event delivered once or parked once, never both, none missing."""
    parked = Counter(r["event_id"] for r in records)
    assert [e for e, n in delivered.items() if n > 1] == [], "delivered twice"
    assert [e for e, n in parked.items() if n > 1] == [], "parked twice"
    assert set(delivered) & set(parked) == set(), "delivered and parked"
    assert set(delivered) | set(parked) == sent, "lost or unexpected"
    for record in records:
        error = error_of(record)
        assert error["type"], record
        assert error["message"], record


@contextmanager
def function_timeout(stack: LocalStack, name: str, seconds: int) -> Iterator[None]:
    """Run ``name`` with a shorter timeout than its template's, then restore.

    LocalStack takes no timeout override and the templates fix ``Timeout``
    (not a parameter), so this sets the runner's copy of the function spec.
    """
    assert stack.runner is not None
    spec = stack.runner.get(name).spec
    saved = spec.timeout
    spec.timeout = seconds
    try:
        yield
    finally:
        spec.timeout = saved


# Scenario 1: a target that recovers, and one that never does.


def test_flaky_target_is_delivered_once_and_broken_target_is_parked(
    stack: LocalStack, receiver: FaultReceiver
):
    flaky = make_events("s1-flaky", "flaky", 20)
    broken = make_events("s1-broken", "broken", 4)
    sent = {e["id"] for e in flaky + broken}

    put_events(stack, flaky + broken)
    settle(
        stack,
        lambda: (
            len(receiver.delivered("flaky")) + len(records_for(stack, sent))
            >= len(sent)
        ),
    )

    records = records_for(stack, sent)
    assert_accounted(
        sent, receiver.delivered("flaky") + receiver.delivered("broken"), records
    )
    assert set(receiver.delivered("flaky")) == {e["id"] for e in flaky}
    # The connector retried: every flaky event needed a third attempt.
    assert all(n == 3 for n in receiver.tried("flaky").values())
    assert {r["event_id"] for r in records} == {e["id"] for e in broken}
    for record in records:
        assert record["origin"] == "connector"
        assert error_of(record)["retryable"] is True
        assert "500" in error_of(record)["message"]
        assert record["status"] == "parked"
    # Retried within the connector, not once per async attempt.
    assert all(n > 1 for n in receiver.tried("broken").values())


# Scenario 2: a receiver that hangs.


def test_hanging_receiver_is_cut_by_the_connector_budget_and_parked(
    stack: LocalStack, receiver: FaultReceiver
):
    events = make_events("s2-hang", "hang", 6)
    sent = {e["id"] for e in events}
    webhook = stack.runner.get(WEBHOOK)
    restarts = webhook.restarts

    with function_timeout(stack, WEBHOOK, 3):
        put_events(stack, events)
        settle(stack, lambda: len(records_for(stack, sent)) >= len(sent))

    records = records_for(stack, sent)
    assert_accounted(sent, receiver.delivered("hang"), records)
    assert {r["event_id"] for r in records} == sent
    for record in records:
        assert record["origin"] == "connector"
        assert error_of(record)["retryable"] is True
    assert any("timed out" in error_of(r)["message"] for r in records)
    # The connector kept to its budget: the runner never had to kill it.
    assert webhook.restarts == restarts


def test_connector_killed_mid_delivery_reaches_the_destination_and_is_parked(
    stack: LocalStack, receiver: FaultReceiver
):
    """The runner's timeout kill, injected: SIGKILL of the worker's group.

    The connector's own budget ends a hang before the function times out
    (previous test), so the kill is done here, as the runner would do it.
    Lambda retries the invocation twice; each attempt is killed; then the
    on-failure destination's record reaches the dead-letter processor,
    which splits it into one failure record per event.
    """
    events = make_events("s2-crash", "crash", 5)
    sent = {e["id"] for e in events}
    webhook = stack.runner.get(WEBHOOK)

    def kill_busy_workers(event_id: str) -> None:
        idle = set(webhook._idle)
        for worker in list(webhook._all):
            if worker not in idle and worker.alive:
                os.killpg(worker.process.pid, signal.SIGKILL)

    receiver.on_crash = kill_busy_workers
    try:
        with function_timeout(stack, WEBHOOK, 3):
            put_events(stack, events)
            settle(stack, lambda: len(records_for(stack, sent)) >= len(sent))
    finally:
        receiver.on_crash = None

    records = records_for(stack, sent)
    assert_accounted(sent, receiver.delivered("crash"), records)
    assert {r["event_id"] for r in records} == sent
    for record in records:
        assert record["origin"] == "async-invoke", record
        assert record["status"] == "parked"
        assert error_of(record)["type"] == "Runtime.ExitError"
        assert "RetriesExhausted after 3 attempt(s)" in error_of(record)["message"]
    # One try per async attempt (the first and Lambda's two retries) of
    # each invocation: the first delivery of the batch is killed each time.
    tries = sum(receiver.tried("crash").values())
    assert tries > 0
    assert tries % 3 == 0


# Scenario 3: poison records written straight to the stream.


def kpl_with_bad_digest(events: list[dict[str, Any]]) -> bytes:
    """A KPL aggregate of ``events`` whose MD5 trailer is wrong."""
    import aws_kinesis_agg.aggregator as aggregator

    agg = aggregator.RecordAggregator()
    for event in events:
        assert agg.add_user_record("k", json.dumps(event).encode()) is None
    data = agg.clear_and_get().get_contents()[2]
    assert data.startswith(KPL_MAGIC)
    body = data[len(KPL_MAGIC) : -16]
    wrong = hashlib.md5(body + b"x").digest()
    return KPL_MAGIC + body + wrong


def test_poison_records_are_parked_and_the_records_around_them_delivered(
    stack: LocalStack, receiver: FaultReceiver
):
    good = make_events("s3-good", "ok", 12)
    poison = {
        "not-json": b"this is not json {",
        "json-array": b'[{"id": "s3-array", "type": "fault.ok"}]',
        "not-utf8": b'{"id": "s3-latin1", "caf\xe9": 1}',
        "too-large": json.dumps(
            {"id": "s3-large", "type": "fault.ok", "pad": "x" * (2 * MAX_EVENT_BYTES)}
        ).encode(),
        "bad-digest": kpl_with_bad_digest(make_events("s3-inner", "ok", 3)),
    }
    blobs = [json.dumps(e).encode() for e in good[:6]]
    blobs += list(poison.values())
    blobs += [json.dumps(e).encode() for e in good[6:]]

    ids = put_data(stack, blobs)
    poison_ids = dict(zip(poison, ids[6 : 6 + len(poison)], strict=True))
    sent = {e["id"] for e in good} | set(poison_ids.values())
    settle(
        stack,
        lambda: (
            len(receiver.delivered("ok").keys() & sent) + len(records_for(stack, sent))
            >= len(sent)
        ),
    )

    delivered = Counter(
        {k: v for k, v in receiver.delivered("ok").items() if k in sent}
    )
    records = records_for(stack, sent)
    assert_accounted(sent, delivered, records)
    assert set(delivered) == {e["id"] for e in good}
    by_id = {r["event_id"]: r for r in records}
    assert set(by_id) == set(poison_ids.values())
    # A KPL aggregate with a bad digest is read as a plain record, as the
    # KPL's deaggregators do: its magic bytes are not UTF-8.
    reasons = {"json-array": "not-object", "bad-digest": "not-utf8"}
    for kind, stream_id in poison_ids.items():
        record = by_id[stream_id]
        assert record["origin"] == "router", record
        assert record["status"] == "parked"
        assert error_of(record)["type"] == reasons.get(kind, kind)
        assert error_of(record)["retryable"] is False
        # The bytes that failed are kept whole, so an operator sees them.
        assert record["raw_encoding"] == "base64"
        assert base64.b64decode(record["raw"]) == poison[kind]


# Scenario 4: the rules document broken mid-stream.


def test_invalid_rules_document_mid_stream_keeps_the_last_good_rules(
    stack: LocalStack, receiver: FaultReceiver, log_path: Path
):
    before = make_events("s4-before", "ok", 15)
    after = make_events("s4-after", "ok", 15)
    sent = {e["id"] for e in before + after}
    invalid = {"rules": [{"name": "broken", "pattern": {"type": "not-an-array"}}]}

    try:
        put_events(stack, before)
        version = stack.put_rules(invalid)
        put_events(stack, after)
        settle(stack, lambda: len(receiver.delivered("ok").keys() & sent) >= len(sent))
    finally:
        stack.put_rules(rules_document(receiver))

    delivered = Counter(
        {k: v for k, v in receiver.delivered("ok").items() if k in sent}
    )
    assert_accounted(sent, delivered, records_for(stack, sent))
    # The router saw the invalid version and said it kept the old one.
    log = log_path.read_text(encoding="utf-8")
    assert "is not valid; keeping version" in log
    assert not version or version in log


# Scenario 5: redrive once the receiver is fixed.


def test_redrive_after_the_receiver_is_fixed_delivers_exactly_once(
    stack: LocalStack, receiver: FaultReceiver
):
    from dlq_processor.redrive import Outcome, redrive
    from dlq_processor.store import FailureStore
    from switchyard_contracts import ConnectorRegistry

    events = make_events("s5-repair", "repair", 3)
    sent = {e["id"] for e in events}
    put_events(stack, events)
    settle(stack, lambda: len(records_for(stack, sent)) >= len(sent))
    parked = records_for(stack, sent)
    assert_accounted(sent, receiver.delivered("repair"), parked)
    assert {r["status"] for r in parked} == {"parked"}
    assert {error_of(r)["retryable"] for r in parked} == {False}

    receiver.repaired = True
    store = FailureStore(
        stack.outputs["FailedEventsTableName"],
        client=stack.client("dynamodb"),
        s3_client=stack.client("s3"),
        payload_bucket=stack.outputs.get("PayloadBucketName"),
    )
    registry = ConnectorRegistry(stack.connector_functions())
    lambda_client = stack.client("lambda")

    def again(record_id: str):
        return redrive(
            record_id,
            store=store,
            lambda_client=lambda_client,
            registry=registry,
            actor="fault-test",
        )

    first = [again(r["record_id"]) for r in parked]
    second = [again(r["record_id"]) for r in parked]
    assert stack.wait_until_idle(timeout=30, settle=1.0)

    assert [r.outcome for r in first] == [Outcome.DELIVERED] * len(parked)
    assert [r.outcome for r in second] == [Outcome.DUPLICATE] * len(parked)
    assert receiver.delivered("repair") == Counter(dict.fromkeys(sent, 1))
    after = records_for(stack, sent)
    assert len(after) == len(parked)
    assert {r["status"] for r in after} == {"redriven"}
