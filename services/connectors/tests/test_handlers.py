"""Functional tests: the Lambda entry points, their contract and their logs."""

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest

from connectors import handlers
from connectors.budget import Deadline
from connectors.errors import DeadLetterError
from connectors.log import logger
from switchyard_contracts import DeliveryBatch

pytestmark = pytest.mark.functional


@dataclass
class FakeContext:
    remaining_ms: int = 20_000
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def env(aws, hook, kit, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DEAD_LETTER_QUEUE_URL": aws.queue_url,
        "IDEMPOTENCY_TABLE": kit.idempotency_table,
        "PAYLOAD_BUCKET": kit.payload_bucket,
        "DELIVERY_TABLE_PREFIX": "switchyard-test-",
        "WEBHOOK_ALLOWLIST": "127.0.0.1/32",
        "WEBHOOK_MAX_ATTEMPTS": "2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    handlers.runner.cache_clear()
    yield values
    handlers.runner.cache_clear()


@pytest.mark.parametrize(
    "payload",
    [
        {"hello": "world"},
        ["not", "an", "object"],
        "text",
        {"kind": "switchyard.deliveries", "version": 2, "target": {}, "deliveries": []},
        {
            "kind": "switchyard.deliveries",
            "version": 1,
            "target": {"connector": "webhook", "params": {}},
            "deliveries": [{"rule": "no event id", "event": {}}],
        },
    ],
)
def test_payload_that_is_not_a_batch_becomes_one_record_and_returns(
    aws, env, payload: Any
) -> None:
    result = handlers.webhook_handler(payload, FakeContext())

    assert result["counts"] == {"delivered": 0, "duplicate": 0, "failed": 1}
    assert "not a delivery batch" in result["rejected"]
    (record,) = aws.failure_records()
    assert record.origin == "connector"
    assert record.event_id.startswith("invalid-payload:")
    assert record.error.retryable is False
    assert json.loads(base64.b64decode(record.raw)) == payload


def test_webhook_handler_delivers_a_batch_and_reports_each_event(
    aws, env, hook, kit
) -> None:
    events = kit.github_events(2)
    payload = kit.batch("webhook", {"url": hook.url}, events)

    result = handlers.webhook_handler(payload, FakeContext())

    assert result == {
        "kind": "switchyard.delivery-result",
        "connector": "webhook",
        "target_id": DeliveryBatch.from_dict(payload).target_id,
        "counts": {"delivered": 2, "duplicate": 0, "failed": 0},
        "results": [
            {"event_id": e["id"], "outcome": "delivered", "attempts": 1} for e in events
        ],
    }


def test_dynamodb_handler_writes_a_batch(aws, env, kit) -> None:
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, kit.github_events(2))

    result = handlers.dynamodb_handler(payload, FakeContext())

    assert result["counts"]["delivered"] == 2
    assert len(aws.items()) == 2


def test_batch_for_another_connector_is_recorded_not_delivered(
    aws, env, hook, kit
) -> None:
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])

    handlers.dynamodb_handler(payload, FakeContext())

    (record,) = aws.failure_records()
    assert record.error.type == "InvalidTarget"
    assert "CONNECTOR_FUNCTIONS" in record.error.message
    assert hook.requests == []


def test_unsendable_failure_record_raises_and_the_retry_skips_done_work(
    aws, env, hook, kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook.reply(200).reply(400)
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "ok"}, {"id": "bad"}])
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", aws.queue_url + "-missing")
    handlers.runner.cache_clear()

    with pytest.raises(DeadLetterError, match="SendMessage"):
        handlers.webhook_handler(payload, FakeContext())

    # Lambda's async retry runs the same payload once the queue is reachable.
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", aws.queue_url)
    handlers.runner.cache_clear()
    hook.reply(400)
    result = handlers.webhook_handler(payload, FakeContext())

    assert [r["outcome"] for r in result["results"]] == ["duplicate", "failed"]
    assert [json.loads(r.body)["id"] for r in hook.requests] == ["ok", "bad", "bad"]
    (record,) = aws.failure_records()
    assert record.event_id == "bad"


def test_one_json_log_line_per_delivery_without_the_payload(
    aws, env, hook, kit, caplog: pytest.LogCaptureFixture
) -> None:
    hook.reply(200).reply(404)
    events = [{"id": "e1", "card": "SECRET-CONTENT"}, {"id": "e2"}]
    caplog.set_level("INFO")

    handlers.webhook_handler(
        kit.batch("webhook", {"url": hook.url}, events), FakeContext()
    )

    # The lines exactly as the Lambda's JSON formatter writes them.
    formatter = logger.registered_formatter
    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    outcomes = [line for line in lines if "outcome" in line]
    assert [(o["event_id"], o["outcome"]) for o in outcomes] == [
        ("e1", "delivered"),
        ("e2", "failed"),
    ]
    delivered, failed = outcomes
    assert delivered["level"] == "INFO" and failed["level"] == "WARNING"
    assert delivered["correlation_id"] == "corr-e1"
    assert delivered["function_request_id"] == "req-1"
    assert delivered["target"].startswith("webhook:http://127.0.0.1:")
    assert delivered["attempts"] == 1 and delivered["http_status"] == 200
    assert failed["error_type"] == "WebhookHttpError"
    assert all("SECRET-CONTENT" not in json.dumps(line) for line in lines)


def test_short_remaining_time_records_the_rest_instead_of_timing_out(
    aws, env, hook, kit
) -> None:
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}, {"id": "e2"}])

    # Less than the reserve kept for sending failure records: no time to send.
    result = handlers.webhook_handler(payload, FakeContext(remaining_ms=1500))

    assert result["counts"]["failed"] == 2
    assert hook.requests == []
    records = aws.failure_records()
    assert {r.error.type for r in records} == {"TimeBudgetExhausted"}
    assert len(records) == 2


def test_malformed_target_params_are_recorded_for_every_delivery(aws, env, kit) -> None:
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, [{"id": "e1"}])
    payload["target"]["params"] = ["not", "an", "object"]

    result = handlers.dynamodb_handler(payload, FakeContext())

    assert result["counts"]["failed"] == 1
    (record,) = aws.failure_records()
    assert (record.error.type, record.error.retryable) == ("InvalidTarget", False)
    assert aws.items() == []


def test_event_ref_of_the_wrong_shape_is_recorded_not_crashed(aws, env, kit) -> None:
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, [{"id": "e1"}])
    delivery = payload["deliveries"][0]
    delivery["event"], delivery["event_ref"] = None, "payloads/e1.json"

    handlers.dynamodb_handler(payload, FakeContext())

    (record,) = aws.failure_records()
    assert (record.error.type, record.error.retryable) == ("EventUnavailable", False)


def test_failure_without_a_dead_letter_queue_raises_for_lambda_to_retry(
    aws, env, kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL")
    handlers.runner.cache_clear()
    payload = kit.batch("dynamodb", {"table": "outside-prefix"}, [{"id": "e1"}])

    with pytest.raises(DeadLetterError, match="DEAD_LETTER_QUEUE_URL is not set"):
        handlers.dynamodb_handler(payload, FakeContext())


@pytest.mark.parametrize("event_id", [None, "", {"a": 1}, ["e1"], True])
def test_delivery_without_a_string_event_id_rejects_the_batch_unwritten(
    aws, env, kit, event_id: Any
) -> None:
    # str() would make None into the id "None"; "" would share one
    # idempotency key among every event lacking an id.
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, [{"id": "e1"}])
    payload["deliveries"][0]["event_id"] = event_id

    result = handlers.dynamodb_handler(payload, FakeContext())

    assert "event_id" in result["rejected"]
    assert aws.items() == []
    (record,) = aws.failure_records()
    assert record.event_id.startswith("invalid-payload:")
    assert record.error.retryable is False


@pytest.mark.parametrize(
    "ref",
    [
        {"bucket": "switchyard-test-payloads", "key": 5},
        {"bucket": "switchyard-test-payloads", "key": ["payloads/e1.json"]},
    ],
)
def test_event_ref_with_a_non_string_key_is_a_non_retryable_record(
    aws, env, kit, ref: dict[str, Any]
) -> None:
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, [{"id": "e1"}])
    payload["deliveries"][0].update(event=None, event_ref=ref)

    handlers.dynamodb_handler(payload, FakeContext())

    (record,) = aws.failure_records()
    assert (record.error.type, record.error.retryable) == ("EventUnavailable", False)


@pytest.fixture
def sqs_calls(aws, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Each SQS send the connector makes: (operation, messages)."""
    calls: list[tuple[str, int]] = []
    single, batch = aws.sqs.send_message, aws.sqs.send_message_batch

    def send_message(**kwargs: Any) -> Any:
        calls.append(("send_message", 1))
        return single(**kwargs)

    def send_message_batch(**kwargs: Any) -> Any:
        calls.append(("send_message_batch", len(kwargs["Entries"])))
        return batch(**kwargs)

    monkeypatch.setattr(aws.sqs, "send_message", send_message)
    monkeypatch.setattr(aws.sqs, "send_message_batch", send_message_batch)
    return calls


def test_many_deliveries_past_the_deadline_are_recorded_ten_to_a_call(
    aws, hook, kit, webhook_runner, sqs_calls
) -> None:
    # The 2 s reserve must cover every record: one SendMessage per record
    # would not fit it for a large batch, and Lambda would kill the run.
    events = [{"id": f"e{i}"} for i in range(25)]
    payload = kit.batch("webhook", {"url": hook.url}, events)

    result = webhook_runner().run(payload, Deadline.after(0.0))

    assert result["counts"]["failed"] == 25
    assert hook.requests == []
    assert sqs_calls == [("send_message_batch", n) for n in (10, 10, 5)]
    records = aws.failure_records()
    assert sorted(r.event_id for r in records) == sorted(e["id"] for e in events)
    assert {r.error.type for r in records} == {"TimeBudgetExhausted"}


def test_invalid_target_records_are_sent_ten_to_a_call(
    aws, kit, dynamodb_runner, sqs_calls
) -> None:
    events = [{"id": f"e{i}"} for i in range(12)]
    payload = kit.batch("dynamodb", {"table": "outside-prefix"}, events)

    dynamodb_runner().run(payload, kit.deadline())

    assert sqs_calls == [("send_message_batch", 10), ("send_message_batch", 2)]
    records = aws.failure_records()
    assert len(records) == 12
    assert {r.error.type for r in records} == {"InvalidTarget"}


def test_delivery_failures_are_each_recorded_before_the_next_delivery(
    aws, hook, kit, webhook_runner, sqs_calls
) -> None:
    hook.reply(404).reply(404)
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}, {"id": "e2"}])

    webhook_runner().run(payload, kit.deadline())

    assert sqs_calls == [("send_message", 1), ("send_message", 1)]
    assert len(aws.failure_records()) == 2


def _broken_batch(kit: Any, where: str) -> dict[str, Any]:
    payload = kit.batch("dynamodb", {"table": kit.delivery_table}, [{"id": "e1"}])
    if where == "kind":
        payload["kind"] = "not-a-batch \ud800"
    elif where == "params":
        payload["target"]["params"]["table"] = "switchyard-test-\udfff"
    else:
        payload["deliveries"][0][where] = "e\ud800"
    return payload


@pytest.mark.parametrize("where", ["kind", "params", "event_id", "rule"])
def test_half_surrogate_anywhere_in_the_batch_is_one_record_not_a_crash(
    aws, env, kit, where: str
) -> None:
    # Text with no UTF-8 form breaks hashing (the target id, the digest of a
    # rejected payload) and every wire format; the run must still end well.
    result = handlers.dynamodb_handler(_broken_batch(kit, where), FakeContext())

    assert result["counts"]["failed"] == 1
    assert "rejected" in result
    assert aws.items() == []
    (record,) = aws.failure_records()
    assert record.event_id.startswith("invalid-payload:")
    assert record.error.retryable is False
