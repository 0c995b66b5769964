"""Redrive and bulk redrive against a fake connector and a loopback Invoke API."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from dlq_processor.errors import RecordNotFound, RedriveError
from dlq_processor.redrive import (
    INVOCATION_TYPE,
    BulkProgress,
    Outcome,
    bulk_redrive,
    redrive,
)
from dlq_processor.shapes import Incoming
from dlq_processor.store import FailureStore
from switchyard_contracts import (
    ConnectorRegistry,
    DeliveryBatch,
    FailureError,
    FailureRecord,
    Origin,
)

pytestmark = pytest.mark.functional

WEBHOOK = {"connector": "webhook", "params": {"url": "https://crm.example.com/hooks"}}
REGISTRY = ConnectorRegistry({"webhook": "switchyard-test-connector-webhook"})
ACTOR = "ops@example.com"


class Connector:
    """Plays a connector that now works and deduplicates like the real one."""

    def __init__(self, fail_with: str | None = None) -> None:
        self.fail_with = fail_with
        self.delivered: list[dict[str, Any]] = []
        self.seen: set[str] = set()

    def __call__(self, payload: dict[str, Any]) -> tuple[Any, str | None]:
        batch = DeliveryBatch.from_dict(payload)
        if self.fail_with:
            return {
                "errorType": self.fail_with,
                "errorMessage": "still down",
            }, "Unhandled"
        results = []
        for delivery in batch.deliveries:
            key = delivery.idempotency_key(batch.target_id)
            outcome = "duplicate" if key in self.seen else "delivered"
            if outcome == "delivered":
                self.seen.add(key)
                self.delivered.append(delivery.to_dict())
            results.append(
                {"event_id": delivery.event_id, "outcome": outcome, "attempts": 1}
            )
        counts = {
            name: sum(r["outcome"] == name for r in results)
            for name in ("delivered", "duplicate", "failed")
        }
        # The summary shape of services/connectors (batch.BatchRunner.run).
        summary = {
            "kind": "switchyard.delivery-result",
            "connector": batch.connector,
            "target_id": batch.target_id,
            "counts": counts,
            "results": results,
        }
        return summary, None


def park(
    store: FailureStore,
    event_id: str,
    *,
    target: dict | None = WEBHOOK,
    at: str = "2026-12-04T10:00:00.000Z",
    origin: Origin = Origin.CONNECTOR,
) -> str:
    record = FailureRecord(
        event_id=event_id,
        error=FailureError("HTTPError", "crm answered 503", True),
        origin=origin,
        event={"id": event_id, "type": "order.created", "total": 120.5},
        rule="new-orders-to-crm",
        target=target,
        target_id=DeliveryBatch(target=target).target_id if target else None,
        first_failed_at=at,
        last_failed_at=at,
        correlation_id=f"corr-{event_id}",
    )
    store.record_failure(Incoming(record), f"m-{event_id}")
    return record.record_id


def test_redrive_of_a_working_connector_delivers_once_and_reads_redriven(
    store, fake_lambda
):
    record_id = park(store, "evt-1")
    connector = Connector()
    client = fake_lambda(connector)

    result = redrive(
        record_id, store=store, lambda_client=client, registry=REGISTRY, actor=ACTOR
    )
    again = redrive(
        record_id, store=store, lambda_client=client, registry=REGISTRY, actor=ACTOR
    )

    assert (result.outcome, result.status, result.attempt) == (
        Outcome.DELIVERED,
        "redriven",
        1,
    )
    assert again.outcome is Outcome.DUPLICATE
    assert len(connector.delivered) == 1
    [delivered] = connector.delivered
    assert delivered["event"] == {
        "id": "evt-1",
        "type": "order.created",
        "total": 120.5,
    }
    assert delivered["redrive"] == {"record_id": record_id, "attempt": 1}
    assert delivered["correlation_id"] == "corr-evt-1"
    first_call = client.calls[0]
    assert first_call["FunctionName"] == "switchyard-test-connector-webhook"
    assert first_call["InvocationType"] == INVOCATION_TYPE == "RequestResponse"
    assert len(first_call["Payload"]["deliveries"]) == 1

    record = store.get(record_id)
    assert record["status"] == "redriven"
    assert record["redrive_attempts"] == 2
    actions = [(h["action"], h["actor"]) for h in record["history"]]
    assert actions == [("failed", "connector"), ("redrive", ACTOR), ("redrive", ACTOR)]
    assert record["history"][1]["detail"].startswith("delivered: attempt 1")


def test_an_edited_event_is_sent_and_the_original_kept(store, fake_lambda):
    record_id = park(store, "evt-1")
    connector = Connector()
    edited = {"id": "evt-1", "type": "order.created", "total": 99}

    result = redrive(
        record_id,
        store=store,
        lambda_client=fake_lambda(connector),
        registry=REGISTRY,
        actor=ACTOR,
        edited_event=edited,
    )

    record = store.get(record_id)
    assert result.edited is True
    assert connector.delivered[0]["event"] == edited
    assert record["event"] == edited
    assert record["original_event"]["total"] == 120.5
    assert "edited event" in record["history"][-1]["detail"]


def test_a_connector_that_still_fails_leaves_the_record_parked(store, fake_lambda):
    record_id = park(store, "evt-1")

    result = redrive(
        record_id,
        store=store,
        lambda_client=fake_lambda(Connector(fail_with="ConnectionError")),
        registry=REGISTRY,
        actor=ACTOR,
    )

    assert result.outcome is Outcome.FAILED
    assert result.status == "parked"
    assert "ConnectionError: still down" in result.detail
    assert store.get(record_id)["last_redrive_outcome"] == "failed"


def test_a_summary_that_counts_a_failure_is_a_failure(store, fake_lambda):
    record_id = park(store, "evt-1")
    summary = {
        "kind": "switchyard.delivery-result",
        "counts": {"delivered": 0, "duplicate": 0, "failed": 1},
        "results": [{"event_id": "evt-1", "outcome": "failed", "attempts": 3}],
    }
    client = fake_lambda(lambda payload: (summary, None))

    result = redrive(
        record_id, store=store, lambda_client=client, registry=REGISTRY, actor=ACTOR
    )

    assert result.outcome is Outcome.FAILED
    assert result.status == "parked"


def test_a_rejected_batch_is_a_failure(store, fake_lambda):
    record_id = park(store, "evt-1")
    summary = {"counts": {"failed": 1}, "results": [], "rejected": "not a batch"}

    result = redrive(
        record_id,
        store=store,
        lambda_client=fake_lambda(lambda payload: (summary, None)),
        registry=REGISTRY,
        actor=ACTOR,
    )

    assert result.outcome is Outcome.FAILED
    assert "not a batch" in result.detail


class ThrottledLambda:
    def invoke(self, **kwargs: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}},
            "Invoke",
        )


def test_an_invoke_that_never_ran_keeps_the_status(store):
    record_id = park(store, "evt-1")

    result = redrive(
        record_id,
        store=store,
        lambda_client=ThrottledLambda(),
        registry=REGISTRY,
        actor=ACTOR,
    )

    record = store.get(record_id)
    assert result.outcome is Outcome.INVOKE_ERROR
    assert record["status"] == "parked"
    assert "TooManyRequestsException" in record["history"][-1]["detail"]


@pytest.mark.parametrize("origin", [Origin.STREAM, Origin.UNRECOGNISED])
def test_a_record_without_a_target_is_not_redriven(store, fake_lambda, origin):
    record_id = park(store, "evt-1", target=None, origin=origin)
    client = fake_lambda(Connector())

    with pytest.raises(RedriveError, match="no target"):
        redrive(
            record_id, store=store, lambda_client=client, registry=REGISTRY, actor=ACTOR
        )
    assert client.calls == []


def test_discarded_unknown_and_unregistered_records_are_refused(store, fake_lambda):
    discarded = park(store, "evt-1")
    store.discard(discarded, ACTOR, "test traffic")
    unregistered = park(store, "evt-2", target={"connector": "ftp", "params": {}})
    client = fake_lambda(Connector())

    with pytest.raises(RedriveError, match="discarded"):
        redrive(
            discarded, store=store, lambda_client=client, registry=REGISTRY, actor=ACTOR
        )
    with pytest.raises(RedriveError, match="ftp"):
        redrive(
            unregistered,
            store=store,
            lambda_client=client,
            registry=REGISTRY,
            actor=ACTOR,
        )
    with pytest.raises(RecordNotFound):
        redrive(
            "nope", store=store, lambda_client=client, registry=REGISTRY, actor=ACTOR
        )
    assert client.calls == []


def test_two_operators_redriving_at_once_deliver_once(store, fake_lambda):
    record_id = park(store, "evt-1")
    stale = store.get(record_id)
    connector = Connector()
    client = fake_lambda(connector)
    redrive(record_id, store=store, lambda_client=client, registry=REGISTRY, actor="a")

    # The second operator's page was loaded before the first redrive.
    store.get = lambda _: stale
    with pytest.raises(RedriveError, match="changed while being redriven"):
        redrive(
            record_id, store=store, lambda_client=client, registry=REGISTRY, actor="b"
        )
    assert len(client.calls) == 1


def test_a_redrive_pressed_while_another_is_in_flight_is_refused(store, fake_lambda):
    record_id = park(store, "evt-1")
    connector = Connector()
    second: list[Any] = []

    def first_in_flight(payload: dict[str, Any]) -> tuple[Any, str | None]:
        # A second operator loads the record after the first claim, while
        # the first invoke is still running, and presses redrive.
        if len(client.calls) > 1:
            return connector(payload)
        try:
            redrive(
                record_id,
                store=store,
                lambda_client=client,
                registry=REGISTRY,
                actor="b",
            )
            second.append("delivered")
        except RedriveError as exc:
            second.append(exc)
        return connector(payload)

    client = fake_lambda(first_in_flight)
    result = redrive(
        record_id, store=store, lambda_client=client, registry=REGISTRY, actor="a"
    )

    assert result.outcome is Outcome.DELIVERED
    assert second and "under way" in str(second[0])
    assert len(client.calls) == 1
    record = store.get(record_id)
    assert record["redrive_attempts"] == 1
    assert "redrive_lease_until" not in record


def test_a_record_discarded_during_its_redrive_stays_discarded(store, fake_lambda):
    record_id = park(store, "evt-1")
    connector = Connector()

    def discarded_meanwhile(payload: dict[str, Any]) -> tuple[Any, str | None]:
        store.discard(record_id, "b", "not wanted after all")
        return connector(payload)

    result = redrive(
        record_id,
        store=store,
        lambda_client=fake_lambda(discarded_meanwhile),
        registry=REGISTRY,
        actor="a",
    )

    record = store.get(record_id)
    assert result.outcome is Outcome.DELIVERED
    assert result.status == record["status"] == "discarded"
    assert [h["action"] for h in record["history"]] == [
        "failed",
        "discarded",
        "redrive",
    ]
    assert "redrive_lease_until" not in record


def test_after_an_invoke_that_crashed_the_record_can_be_redriven_again(
    store, fake_lambda
):
    record_id = park(store, "evt-1")

    def crash(payload: dict[str, Any]) -> tuple[Any, str | None]:
        raise RuntimeError("the console lost its connection")

    with pytest.raises(RuntimeError):
        redrive(
            record_id,
            store=store,
            lambda_client=fake_lambda(crash),
            registry=REGISTRY,
            actor=ACTOR,
        )
    result = redrive(
        record_id,
        store=store,
        lambda_client=fake_lambda(Connector()),
        registry=REGISTRY,
        actor=ACTOR,
    )

    assert result.outcome is Outcome.DELIVERED
    assert result.attempt == 2


@pytest.mark.parametrize(
    "edited",
    [
        {"total": float("nan")},
        {"total": float("inf")},
        {"tags": {"a", "b"}},
        {"name": "\ud800"},
        {"nested": [{"when": object()}]},
        {"blob": "x" * 300_001},
    ],
    ids=["nan", "infinity", "set", "surrogate", "object", "too-large"],
)
def test_an_edited_event_that_is_not_json_is_refused_before_anything_changes(
    store, fake_lambda, edited
):
    record_id = park(store, "evt-1")
    client = fake_lambda(Connector())

    with pytest.raises(RedriveError, match="edited event"):
        redrive(
            record_id,
            store=store,
            lambda_client=client,
            registry=REGISTRY,
            actor=ACTOR,
            edited_event=edited,
        )

    record = store.get(record_id)
    assert client.calls == []
    assert record.get("redrive_attempts", 0) == 0
    assert record["event"]["total"] == 120.5


def seed_parked(store: FailureStore, count: int) -> list[str]:
    return [
        park(store, f"evt-{n}", at=f"2026-12-04T10:{n:02d}:00.000Z")
        for n in range(count)
    ]


def test_bulk_redrive_keeps_the_rate_and_reports_progress(store, fake_lambda, clock):
    ids = seed_parked(store, 5)
    no_target = park(store, "stream-1", target=None, origin=Origin.STREAM)
    store.discard(park(store, "gone"), ACTOR, "not wanted")
    connector = Connector()
    seen: list[tuple[int, str | None]] = []

    def progress(state: BulkProgress) -> None:
        seen.append((state.processed, state.last_outcome))

    result = bulk_redrive(
        {},
        store=store,
        lambda_client=fake_lambda(connector),
        registry=REGISTRY,
        actor=ACTOR,
        rate_per_second=2.0,
        progress=progress,
        clock=clock,
        sleep=clock.sleep,
    )

    assert (result.processed, result.delivered, result.skipped) == (6, 5, 1)
    assert result.done and result.cursor is None
    assert no_target in result.skipped_reasons
    assert sorted(d["event_id"] for d in connector.delivered) == sorted(
        f"evt-{n}" for n in range(5)
    )
    assert sum(clock.slept) == pytest.approx(2.5)  # 6 records at 2 per second
    assert [n for n, _ in seen] == [1, 2, 3, 4, 5, 6]
    assert all(store.get(i)["status"] == "redriven" for i in ids)


def test_bulk_redrive_resumes_from_its_cursor(store, fake_lambda, clock):
    seed_parked(store, 5)
    connector = Connector()
    client = fake_lambda(connector)
    common = {
        "store": store,
        "lambda_client": client,
        "registry": REGISTRY,
        "actor": ACTOR,
        "clock": clock,
        "sleep": clock.sleep,
        "page_size": 2,
    }

    first = bulk_redrive({"status": "parked"}, max_records=2, **common)
    rest = bulk_redrive({"status": "parked"}, resume_from=first.cursor, **common)

    assert (first.processed, first.done) == (2, False)
    assert first.cursor
    assert (rest.processed, rest.done) == (3, True)
    assert len(client.calls) == 5
    assert sorted(d["event_id"] for d in connector.delivered) == [
        f"evt-{n}" for n in range(5)
    ]


def test_bulk_redrive_progress_reports_are_snapshots(store, fake_lambda, clock):
    seed_parked(store, 3)
    reports: list[BulkProgress] = []

    result = bulk_redrive(
        {},
        store=store,
        lambda_client=fake_lambda(Connector()),
        registry=REGISTRY,
        actor=ACTOR,
        progress=reports.append,
        clock=clock,
        sleep=clock.sleep,
    )

    assert result.processed == 3
    assert [r.processed for r in reports] == [1, 2, 3]
    assert len({r.last_record_id for r in reports}) == 3
    assert reports[-1].cursor is not None


def test_bulk_redrive_resumes_after_a_crash_from_the_last_progress_cursor(
    store, fake_lambda, clock
):
    seed_parked(store, 5)
    connector = Connector()
    reports: list[BulkProgress] = []

    def crash_after_two(state: BulkProgress) -> None:
        reports.append(state)
        if state.processed == 2:
            raise RuntimeError("the console's worker died")

    common = {
        "store": store,
        "registry": REGISTRY,
        "actor": ACTOR,
        "clock": clock,
        "sleep": clock.sleep,
        "page_size": 3,
    }
    with pytest.raises(RuntimeError):
        bulk_redrive(
            {}, lambda_client=fake_lambda(connector), progress=crash_after_two, **common
        )
    rest = bulk_redrive(
        {},
        lambda_client=fake_lambda(connector),
        resume_from=reports[-1].cursor,
        **common,
    )

    assert (rest.processed, rest.skipped, rest.done) == (3, 0, True)
    assert sorted(d["event_id"] for d in connector.delivered) == [
        f"evt-{n}" for n in range(5)
    ]


def test_bulk_redrive_refuses_unknown_filter_keys(store, fake_lambda):
    with pytest.raises(ValueError, match="colour"):
        bulk_redrive(
            {"colour": "red"},
            store=store,
            lambda_client=fake_lambda(Connector()),
            registry=REGISTRY,
            actor=ACTOR,
        )


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf")])
def test_bulk_redrive_refuses_a_rate_that_is_not_a_positive_number(
    store, fake_lambda, rate
):
    client = fake_lambda(Connector())
    seed_parked(store, 1)

    with pytest.raises(ValueError, match="rate_per_second"):
        bulk_redrive(
            {},
            store=store,
            lambda_client=client,
            registry=REGISTRY,
            actor=ACTOR,
            rate_per_second=rate,
        )
    assert client.calls == []


class InvokeApi(BaseHTTPRequestHandler):
    """The Lambda Invoke API on loopback, answering as a working connector."""

    connector: Connector
    invocation_types: list[str]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length))
        self.invocation_types.append(self.headers.get("X-Amz-Invocation-Type", ""))
        summary, error = self.connector(payload)
        body = json.dumps(summary).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if error:
            self.send_header("X-Amz-Function-Error", error)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def invoke_api() -> Iterator[tuple[str, type[InvokeApi]]]:
    handler = type(
        "Api", (InvokeApi,), {"connector": Connector(), "invocation_types": []}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_redrive_through_boto3_and_a_loopback_invoke_api(store, invoke_api):
    endpoint, api = invoke_api
    record_id = park(store, "evt-1")
    client = boto3.client("lambda", region_name="us-east-1", endpoint_url=endpoint)

    result = redrive(
        record_id, store=store, lambda_client=client, registry=REGISTRY, actor=ACTOR
    )

    assert result.outcome is Outcome.DELIVERED
    assert api.invocation_types == ["RequestResponse"]
    assert [d["event_id"] for d in api.connector.delivered] == ["evt-1"]
    assert store.get(record_id)["status"] == "redriven"
