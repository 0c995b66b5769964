"""Hostile dead-letter messages: each is stored once or left on the queue.

Whatever a body holds (binary junk, JSON of the wrong type in any field,
numbers DynamoDB refuses, text that is not UTF-8, nesting deeper than the
parser's stack), the processor stores one record per event it names, or
one "unrecognised" record for the message, and never raises anything but a
storage error that the handler turns into a batch item failure.
"""

import itertools
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlq_processor import handler as handler_module
from dlq_processor.errors import StorageError
from dlq_processor.processor import DeadLetterProcessor
from dlq_processor.store import FailureStore, WriteOutcome
from dlq_processor.stream import StreamReader

pytestmark = pytest.mark.functional

WEBHOOK = {"connector": "webhook", "params": {"url": "https://crm.example.com/hooks"}}
FAILURE = {
    "kind": "switchyard.failure",
    "version": 1,
    "event_id": "evt-1",
    "event": {"id": "evt-1", "type": "order.created"},
    "rule": "new-orders-to-crm",
    "target": WEBHOOK,
    "error": {"type": "HTTPError", "message": "crm answered 503", "retryable": True},
    "attempts": 2,
    "first_failed_at": "2026-12-04T10:00:00.000Z",
    "last_failed_at": "2026-12-04T10:05:00.000Z",
    "origin": "connector",
    "correlation_id": "corr-1",
    "source": {"shard_id": "shardId-000000000000", "sequence_number": "1"},
}
ASYNC = {
    "version": "1.0",
    "timestamp": "2026-12-04T10:05:00.000Z",
    "requestContext": {
        "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:webhook",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    },
    "requestPayload": {
        "kind": "switchyard.deliveries",
        "version": 1,
        "target": WEBHOOK,
        "deliveries": [
            {"event_id": "evt-1", "rule": "r", "event": {"id": "evt-1"}},
            {"event_id": "evt-2", "rule": "r", "event": {"id": "evt-2"}},
        ],
    },
    "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
    "responsePayload": {"errorType": "TimeoutError", "errorMessage": "timed out"},
}
STREAM = {
    "requestContext": {
        "requestId": "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:router",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 1,
    },
    "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
    "version": "1.0",
    "timestamp": "2026-12-04T10:05:00.000Z",
    "KinesisBatchInfo": {
        "shardId": "shardId-000000000000",
        "startSequenceNumber": "1",
        "endSequenceNumber": "9",
        "batchSize": 2,
        "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/gone-stream",
    },
}

# JSON values of every type, including the ones DynamoDB refuses as
# numbers (floats, over-precise, huge) and text that is not UTF-8.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**45), max_value=10**45)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
MESSAGE_IDS = itertools.count()
NON_FINITE = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400"])


def with_field(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict:
    """A deep copy of ``document`` with the field at ``path`` set to ``value``."""
    copy = json.loads(json.dumps(document))
    here = copy
    for name in path[:-1]:
        here = here[name]
    here[path[-1]] = value
    return copy


def paths(document: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field path of a document, containers included."""
    found = []
    if isinstance(document, dict):
        for name, value in document.items():
            found.append((*prefix, name))
            found.extend(paths(value, (*prefix, name)))
    return found


def mutated(template: dict[str, Any]) -> st.SearchStrategy[str]:
    """The template with one field (or one delivery) set to any JSON value."""
    return st.builds(
        lambda path, value: json.dumps(with_field(template, path, value)),
        st.sampled_from(paths(template)),
        JSON_VALUES,
    )


def non_finite(template: dict[str, Any]) -> st.SearchStrategy[str]:
    """The template with one field spelled as a number JSON cannot carry."""
    marker = "__NUMBER__"

    def spell(path: tuple[str, ...], number: str) -> str:
        text = json.dumps(with_field(template, path, marker))
        return text.replace(f'"{marker}"', number)

    return st.builds(spell, st.sampled_from(paths(template)), NON_FINITE)


SHAPED = st.one_of(
    mutated(FAILURE),
    mutated(ASYNC),
    mutated(STREAM),
    non_finite(FAILURE),
    non_finite(ASYNC),
)
BODIES = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
    JSON_VALUES.map(json.dumps),
    SHAPED,
    # The same, inside the envelope of an SNS topic without raw delivery.
    SHAPED.map(lambda body: json.dumps({"Type": "Notification", "Message": body})),
)


@pytest.fixture
def bare_processor(store: FailureStore, aws: dict[str, Any]) -> DeadLetterProcessor:
    """A processor on moto without alarms, reading whichever stream is named."""
    return DeadLetterProcessor(store, StreamReader(client=aws["kinesis"]))


def assert_stored_once(
    processor: DeadLetterProcessor, store: FailureStore, message_id: str, body: str
) -> None:
    """The property: records for the message exist, and a replay adds none."""
    result = processor.process(message_id, body)

    assert result.outcomes, "a message became no record at all"
    assert WriteOutcome.DUPLICATE not in result.outcomes.values()
    for record_id in result.outcomes:
        stored = store.get(record_id)
        assert stored is not None
        assert message_id in stored["sqs_message_ids"]
        assert stored["status"] == "parked"
        assert isinstance(stored["last_failed_at"], str)

    again = processor.process(message_id, body)
    assert set(again.outcomes) == set(result.outcomes)
    assert set(again.outcomes.values()) == {WriteOutcome.DUPLICATE}


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=BODIES)
def test_any_body_is_stored_once_and_never_raises(bare_processor, store, body):
    message_id = f"m-{next(MESSAGE_IDS)}"

    assert_stored_once(bare_processor, store, message_id, body)


WRONG_TYPES = [
    ("event_ref", "s3://bucket/key"),
    ("event_ref", {"bucket": 1.5, "key": "k"}),
    ("raw", 5),
    ("rule", {"name": 1.5}),
    ("target", "webhook"),
    ("target", [1]),
    ("target_id", 1.5),
    ("correlation_id", 2.5),
    ("attempts", [1]),
    ("attempts", 10**50),
    ("attempts", -3),
    ("last_failed_at", "x" * 2000),
    ("last_failed_at", 5),
    ("event", ["not", "an", "object"]),
    ("event", {"text": "\ud800"}),
    ("event_id", "\udfff"),
    ("error", {"type": "T" * 5000, "message": "M" * 390_000}),
]


@pytest.mark.parametrize(
    ("field", "value"), WRONG_TYPES, ids=[f for f, _ in WRONG_TYPES]
)
def test_a_failure_document_with_a_wrong_field_is_stored_not_raised(
    bare_processor, store, field, value
):
    body = json.dumps(with_field(FAILURE, (field,), value))

    assert_stored_once(bare_processor, store, "m-1", body)


def test_a_failure_document_with_an_infinite_attempt_count_is_stored(
    bare_processor, store
):
    body = json.dumps(FAILURE).replace('"attempts": 2', '"attempts": 1e400')

    assert_stored_once(bare_processor, store, "m-1", body)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("responseContext",), [1]),
        (("requestContext",), "ctx"),
        (("requestPayload", "deliveries"), [[1], "x"]),
        (("requestContext", "approximateInvokeCount"), 10**50),
        (("requestPayload", "deliveries", 0), {"event_id": "a", "event_ref": "zz"}),
        (("timestamp",), {"at": 1}),
    ],
    ids=[
        "response-list",
        "context-text",
        "deliveries-lists",
        "huge-count",
        "ref",
        "ts",
    ],
)
def test_an_async_record_with_a_wrong_field_is_stored_not_raised(
    bare_processor, store, path, value
):
    document = json.loads(json.dumps(ASYNC))
    here = document
    for name in path[:-1]:
        here = here[name]
    here[path[-1]] = value

    assert_stored_once(bare_processor, store, "m-1", json.dumps(document))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("startSequenceNumber", "\u00b2"),
        ("streamArn", 5),
        ("shardId", {"a": 1}),
        ("endSequenceNumber", "9" * 300),
    ],
)
def test_a_stream_record_with_a_wrong_field_is_stored_not_raised(
    bare_processor, store, field, value
):
    document = with_field(STREAM, ("KinesisBatchInfo", field), value)

    assert_stored_once(bare_processor, store, "m-1", json.dumps(document))


@pytest.mark.parametrize("value", [[1], "context", 5], ids=["list", "text", "number"])
def test_a_stream_record_whose_context_is_not_an_object_is_stored(
    bare_processor, store, value
):
    document = with_field(STREAM, ("requestContext",), value)
    document = with_field(document, ("timestamp",), 5)

    assert_stored_once(bare_processor, store, "m-1", json.dumps(document))


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000],
    ids=["array", "object"],
)
def test_nesting_deeper_than_the_parser_is_stored_raw(bare_processor, store, body):
    result = bare_processor.process("m-deep", body)

    [record_id] = result.outcomes
    stored = store.get(record_id)
    assert stored["origin"] == "unrecognised"
    assert stored["raw"] == body


def test_non_finite_numbers_in_an_event_keep_the_message_raw(bare_processor, store):
    body = json.dumps(FAILURE).replace('"evt-1", "type"', '"evt-1", "n": NaN, "type"')

    result = bare_processor.process("m-nan", body)

    [record_id] = result.outcomes
    stored = store.get(record_id)
    assert stored["origin"] == "unrecognised"
    assert stored["raw"] == body
    assert "NaN" in stored["error_message"]


def test_a_body_that_is_not_utf8_text_is_kept_as_base64(bare_processor, store):
    body = '{"kind": "switchyard.failure", "junk": "\ud800"}'

    result = bare_processor.process("m-surrogate", body)

    [record_id] = result.outcomes
    stored = store.get(record_id)
    assert stored["origin"] == "unrecognised"
    assert stored["raw_encoding"] == "base64"


class RefusingDynamoDB:
    """A DynamoDB client whose every write is throttled."""

    def __init__(self) -> None:
        self.writes = 0

    def update_item(self, **kwargs: Any) -> None:
        self.writes += 1
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException"}},
            "UpdateItem",
        )


@settings(max_examples=150, deadline=None)
@given(body=BODIES)
def test_any_body_the_table_refuses_is_a_storage_error(body):
    client = RefusingDynamoDB()
    processor = DeadLetterProcessor(FailureStore("no-table", client=client))

    with pytest.raises(StorageError):
        processor.process("m-1", body)
    assert client.writes >= 1


@pytest.fixture
def refusing_handler(monkeypatch: pytest.MonkeyPatch):
    """The handler with a processor whose table throttles every write."""
    processor = DeadLetterProcessor(FailureStore("no-table", client=RefusingDynamoDB()))
    monkeypatch.setattr(handler_module, "dead_letter_processor", lambda: processor)
    return handler_module.handler


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(bodies=st.lists(BODIES, min_size=1, max_size=4))
def test_the_handler_reports_every_unstored_message_and_never_raises(
    refusing_handler, sqs_event, lambda_context, bodies
):
    event = sqs_event(*bodies)

    response = refusing_handler(event, lambda_context)

    reported = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    assert reported == [r["messageId"] for r in event["Records"]]


class RejectingDynamoDB:
    """Refuses the first write of a record as invalid, like an oversized item."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.rejected: list[str] = []

    def update_item(self, **kwargs: Any) -> Any:
        key = kwargs["Key"]["record_id"]["S"]
        if not self.rejected:
            self.rejected.append(key)
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationException",
                        "Message": "Item size has exceeded the maximum allowed size",
                    }
                },
                "UpdateItem",
            )
        return self.real.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_record_the_table_rejects_as_invalid_keeps_the_message_raw(aws, names):
    client = RejectingDynamoDB(aws["dynamodb"])
    store = FailureStore(names["table"], client=client)
    body = json.dumps(FAILURE)

    result = DeadLetterProcessor(store).process("m-1", body)

    [record_id] = result.outcomes
    stored = store.get(record_id)
    assert client.rejected and record_id != client.rejected[0]
    assert stored["origin"] == "unrecognised"
    assert stored["raw"] == body
    assert "ValidationException" in stored["error_message"]


def test_the_events_after_one_the_table_rejects_are_still_stored(aws, names):
    client = RejectingDynamoDB(aws["dynamodb"])
    store = FailureStore(names["table"], client=client)
    body = json.dumps(ASYNC)

    result = DeadLetterProcessor(store).process("m-1", body)

    records = {r["event_id"]: r for r in store.iter_records()}
    assert sorted(records) == ["evt-2", "sqs:m-1"]
    assert records["sqs:m-1"]["raw"] == body
    assert result.count(WriteOutcome.CREATED) == 2


def test_an_event_twice_in_one_async_batch_gives_one_record(bare_processor, store):
    document = json.loads(json.dumps(ASYNC))
    deliveries = document["requestPayload"]["deliveries"]
    deliveries[1] = dict(deliveries[0])

    result = bare_processor.process("m-1", json.dumps(document))

    [record_id] = result.outcomes
    assert result.count(WriteOutcome.CREATED) == 1
    assert store.get(record_id)["attempts"] == 3
    assert len(list(store.iter_records())) == 1
