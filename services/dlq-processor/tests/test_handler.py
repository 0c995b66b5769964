"""The Lambda handler end to end on moto: each message shape, stored."""

import json
from typing import Any

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from dlq_processor import handler as handler_module
from dlq_processor.store import FailureStore
from switchyard_contracts import (
    Delivery,
    DeliveryBatch,
    FailureError,
    FailureRecord,
    Origin,
)

pytestmark = pytest.mark.functional

WEBHOOK = {"connector": "webhook", "params": {"url": "https://crm.example.com/hooks"}}


@pytest.fixture
def env(
    aws: dict[str, Any],
    names: dict[str, str],
    alarm_inbox: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """The handler's environment as the template sets it, on moto."""
    values = {
        "FAILED_EVENTS_TABLE": names["table"],
        "IDEMPOTENCY_TABLE": names["idempotency"],
        "EVENTS_STREAM_NAME": names["stream"],
        "PAYLOAD_BUCKET": names["bucket"],
        "ALARM_TOPIC_ARN": alarm_inbox.topic_arn,
        "ALARM_WINDOW_SECONDS": "300",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    handler_module.dead_letter_processor.cache_clear()
    yield values
    handler_module.dead_letter_processor.cache_clear()


@pytest.fixture
def invoke(env: dict[str, str], lambda_context: Any):
    """Calls the handler with an SQS event; returns its response."""

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return handler_module.handler(event, lambda_context)

    return call


def all_records(store: FailureStore) -> list[dict[str, Any]]:
    return list(store.iter_records())


def connector_failure(event_id: str = "evt-1", **changes: Any) -> FailureRecord:
    fields = {
        "event_id": event_id,
        "error": FailureError("HTTPError", "crm answered 503", retryable=True),
        "origin": Origin.CONNECTOR,
        "event": {"id": event_id, "type": "order.created", "total": 120},
        "rule": "new-orders-to-crm",
        "target": WEBHOOK,
        "target_id": DeliveryBatch(target=WEBHOOK).target_id,
        "attempts": 3,
        "correlation_id": f"corr-{event_id}",
    }
    return FailureRecord(**(fields | changes))


def test_a_connector_failure_record_is_stored(invoke, sqs_event, store):
    record = connector_failure()

    response = invoke(sqs_event(record.to_message(), message_ids=["m-1"]))

    assert response == {"batchItemFailures": []}
    stored = store.get(record.record_id)
    assert stored["event"] == record.event
    assert stored["origin"] == "connector"
    assert stored["attempts"] == 3
    assert stored["status"] == "parked"
    assert stored["target_name"] == "webhook:https://crm.example.com/hooks"


def test_an_async_failure_destination_record_is_split_per_delivery(
    invoke, sqs_event, store, load_sample
):
    document = load_sample("async_invoke_failure__aws-lambda-developer-guide.json")
    batch = DeliveryBatch(
        target=WEBHOOK,
        deliveries=[
            Delivery(
                event_id=f"o-{n}", rule="r", correlation_id=f"c-{n}", event={"n": n}
            )
            for n in range(3)
        ],
    )
    document["requestPayload"] = batch.to_dict()

    response = invoke(sqs_event(json.dumps(document)))

    assert response["batchItemFailures"] == []
    records = sorted(all_records(store), key=lambda r: r["event_id"])
    assert [r["event_id"] for r in records] == ["o-0", "o-1", "o-2"]
    assert all(r["origin"] == "async-invoke" for r in records)
    assert all(r["attempts"] == 3 for r in records)
    assert all(r["target"] == WEBHOOK for r in records)
    assert records[1]["event"] == {"n": 1}
    assert "Process exited before completing request" in records[0]["error_message"]


def test_the_documented_async_record_is_kept_as_unrecognised(
    invoke, sqs_event, store, load_sample
):
    body = json.dumps(
        load_sample("async_invoke_failure__aws-lambda-developer-guide.json")
    )

    response = invoke(sqs_event(body, message_ids=["m-async"]))

    assert response["batchItemFailures"] == []
    [record] = all_records(store)
    assert record["origin"] == "unrecognised"
    assert record["target_name"] == "unrecognised"
    assert record["raw"] == body
    assert record["raw_encoding"] == "text"
    assert "not a delivery batch" in record["error_message"]
    assert "Process exited before completing request" in record["error_message"]


def put(aws: dict[str, Any], stream: str, data: bytes, key: str = "pk") -> dict:
    return aws["kinesis"].put_record(StreamName=stream, Data=data, PartitionKey=key)


def kinesis_failure_body(load_sample, first: dict, last: dict, count: int) -> str:
    """The documented on-failure record, pointed at records of our stream."""
    document = load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")
    info = document["KinesisBatchInfo"]
    info["shardId"] = first["ShardId"]
    info["startSequenceNumber"] = first["SequenceNumber"]
    info["endSequenceNumber"] = last["SequenceNumber"]
    info["batchSize"] = count
    info["streamArn"] = (
        "arn:aws:kinesis:us-east-1:123456789012:stream/switchyard-test-events"
    )
    return json.dumps(document)


def test_a_kinesis_on_failure_record_is_read_back_from_the_stream(
    invoke, sqs_event, store, aws, names, load_sample
):
    stream = names["stream"]
    put(aws, stream, b'{"id": "before-the-batch"}')
    first = put(aws, stream, b'{"id": "evt-a", "type": "order.created"}')
    put(aws, stream, b'{"type": "order.created", "total": 7}')
    aggregator = RecordAggregator()
    aggregator.add_user_record("k1", b'{"id": "agg-1"}')
    aggregator.add_user_record("k2", b'{"type": "no id, packed"}')
    key, _, data = aggregator.clear_and_get().get_contents()
    last = put(aws, stream, data, key)
    put(aws, stream, b'{"id": "after-the-batch"}')
    body = kinesis_failure_body(load_sample, first, last, count=3)

    response = invoke(sqs_event(body, message_ids=["m-kinesis"]))

    assert response["batchItemFailures"] == []
    records = {r["event_id"]: r for r in all_records(store)}
    shard = first["ShardId"]
    middle = str(int(first["SequenceNumber"]) + 1)
    assert sorted(records) == sorted(
        [
            "evt-a",
            f"{shard}:{middle}:0",
            "agg-1",
            f"{shard}:{last['SequenceNumber']}:1",
        ]
    )
    packed = records[f"{shard}:{last['SequenceNumber']}:1"]
    assert packed["event"] == {"type": "no id, packed"}
    assert packed["source"]["sub_sequence_number"] == 1
    assert all(r["origin"] == "stream" for r in records.values())
    assert all(r["target_name"] == "router" for r in records.values())
    assert all(r["error_type"] == "RetryAttemptsExhausted" for r in records.values())


def test_one_unstorable_event_in_a_kinesis_batch_does_not_sink_the_others(
    invoke, sqs_event, store, aws, names, load_sample
):
    stream = names["stream"]
    first = put(aws, stream, b'{"id": "evt-a"}')
    long_id = put(aws, stream, json.dumps({"id": "x" * 5000}).encode())
    last = put(aws, stream, b'{"id": "evt-c", "name": "\\ud800"}')
    body = kinesis_failure_body(load_sample, first, last, count=3)

    response = invoke(sqs_event(body, message_ids=["m-kinesis"]))

    assert response["batchItemFailures"] == []
    records = {r["event_id"]: r for r in all_records(store)}
    shard = first["ShardId"]
    unstorable = [
        f"{shard}:{long_id['SequenceNumber']}:0",
        f"{shard}:{last['SequenceNumber']}:0",
    ]
    assert sorted(records) == sorted(["evt-a", *unstorable])
    assert all(r["origin"] == "stream" for r in records.values())
    for event_id in unstorable:
        assert records[event_id].get("event") is None
        assert records[event_id]["raw_encoding"] == "base64"
        assert records[event_id]["raw"]


def test_a_kinesis_batch_gone_from_the_stream_keeps_what_is_known(
    invoke, sqs_event, store, load_sample
):
    # The documented record names "mystream", which does not exist here,
    # as if retention (or a deleted stream) had already dropped the data.
    body = json.dumps(
        load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")
    )

    response = invoke(sqs_event(body))

    assert response["batchItemFailures"] == []
    [record] = all_records(store)
    assert record["error_type"] == "StreamRecordsUnavailable"
    assert "only the batch metadata is stored" in record["error_message"]
    assert record["source"]["batch_size"] == 500
    assert record["raw"] == body
    assert record["event_id"].startswith("shardId-000000000001:4960118965")


def test_a_batch_naming_another_stream_is_not_read_from_it(
    invoke, sqs_event, store, aws, load_sample
):
    # Only the events stream is read back: a record naming another stream
    # (of this account, or of another account whose stream has the same
    # name here) must not pull that stream's data into the table.
    aws["kinesis"].create_stream(StreamName="audit-log", ShardCount=1)
    first = put(aws, "audit-log", b'{"id": "secret-1"}')
    body = kinesis_failure_body(load_sample, first, first, count=1)
    body = body.replace("stream/switchyard-test-events", "stream/audit-log")

    response = invoke(sqs_event(body))

    assert response["batchItemFailures"] == []
    [record] = all_records(store)
    assert record["error_type"] == "StreamRecordsUnavailable"
    assert "audit-log" in record["error_message"]
    assert "secret-1" not in json.dumps(record)


def test_the_same_message_delivered_twice_gives_one_record(
    invoke, sqs_event, store, aws, names, load_sample
):
    first = put(aws, names["stream"], b'{"id": "evt-a"}')
    last = put(aws, names["stream"], b'{"id": "evt-b"}')
    stream_body = kinesis_failure_body(load_sample, first, last, count=2)
    failure_body = connector_failure().to_message()
    event = sqs_event(stream_body, failure_body, message_ids=["m-1", "m-2"])

    invoke(event)
    response = invoke(event)

    assert response["batchItemFailures"] == []
    records = all_records(store)
    assert len(records) == 3
    assert all(len(r["history"]) == 1 for r in records)
    assert {r["attempts"] for r in records} == {1, 3}


def test_a_repeat_of_the_same_event_and_target_updates_one_record(
    invoke, sqs_event, store
):
    first = connector_failure(last_failed_at="2026-12-04T10:00:00.000Z")
    again = connector_failure(
        last_failed_at="2026-12-04T10:05:00.000Z",
        error=FailureError("Timeout", "crm timed out", retryable=True),
        attempts=1,
    )

    invoke(sqs_event(first.to_message(), message_ids=["m-1"]))
    invoke(sqs_event(again.to_message(), message_ids=["m-2"]))

    [record] = all_records(store)
    assert record["attempts"] == 4
    assert record["error_type"] == "Timeout"
    assert record["last_failed_at"] == "2026-12-04T10:05:00.000Z"
    assert len(record["history"]) == 2


def test_unparseable_messages_are_stored_raw(
    invoke, store, load_shared_event, sqs_event
):
    samples = [
        "sqs_event_2rec__powertools-py.json",
        "sqs_event_from_dlq_redrive__powertools-py.json",
        "sqs_event_message_attributes__lambda-go.json",
    ]
    bodies = {}
    for name in samples:
        event = load_shared_event(name)
        bodies.update({r["messageId"]: r["body"] for r in event["Records"]})
        assert invoke(event)["batchItemFailures"] == []
    invoke(sqs_event('{"kind": "switchyard.failure", "error": 1}', message_ids=["m-x"]))
    bodies["m-x"] = '{"kind": "switchyard.failure", "error": 1}'

    records = {r["sqs_message_id"]: r for r in all_records(store)}

    assert set(records) == set(bodies)
    for message_id, body in bodies.items():
        assert records[message_id]["raw"] == body
        assert records[message_id]["origin"] == "unrecognised"
        assert records[message_id]["event_id"] == f"sqs:{message_id}"
    assert "failure" in records["m-x"]["error_message"]


def test_a_missing_table_fails_every_message_so_sqs_keeps_them(
    invoke, sqs_event, monkeypatch
):
    monkeypatch.setenv("FAILED_EVENTS_TABLE", "switchyard-test-no-such-table")
    handler_module.dead_letter_processor.cache_clear()
    event = sqs_event(connector_failure().to_message(), "junk", message_ids=["a", "b"])

    response = invoke(event)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]
    }


def test_only_the_message_that_cannot_be_stored_is_retried(
    invoke, sqs_event, store, monkeypatch
):
    monkeypatch.delenv("PAYLOAD_BUCKET")
    handler_module.dead_letter_processor.cache_clear()
    huge = connector_failure("huge", event={"id": "huge", "blob": "x" * 400_000})
    fine = connector_failure("fine")

    response = invoke(
        sqs_event(huge.to_message(), fine.to_message(), message_ids=["m-huge", "m-ok"])
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-huge"}]}
    assert [r["event_id"] for r in all_records(store)] == ["fine"]


def test_a_burst_of_failures_raises_one_alarm(invoke, sqs_event, alarm_inbox):
    same = [connector_failure(f"evt-{n}").to_message() for n in range(5)]
    other_error = connector_failure(
        "evt-x", error=FailureError("AuthError", "401 from crm")
    ).to_message()

    invoke(sqs_event(*same))
    invoke(sqs_event(other_error))
    alarms = alarm_inbox.messages()

    assert sorted(a["error_type"] for a in alarms) == ["AuthError", "HTTPError"]
    assert all(
        a["target_name"] == "webhook:https://crm.example.com/hooks" for a in alarms
    )
    assert all("blob" not in json.dumps(a) for a in alarms)
