"""Deliveries serialize to the contract; settings come from the environment."""

import json

import pytest
from botocore.exceptions import EndpointConnectionError

from router.config import Settings
from router.dispatch import delivery_bytes, envelope, is_retryable
from router.errors import ConfigError
from router.records import decode_records
from switchyard_contracts import Delivery, DeliveryBatch

pytestmark = pytest.mark.unit


def test_spliced_delivery_bytes_equal_the_contract_form(kinesis):
    text = '{"id": "e\\u00e9", "n": [1, 2.5, null], "s": "\u00fc\\"q"}'
    (event,) = decode_records([kinesis.record(text.encode(), "9")], 10_000).events

    parsed = json.loads(delivery_bytes(event, "rule \u00e9"))

    expected = Delivery(
        event_id="e\u00e9",
        rule="rule \u00e9",
        correlation_id="e\u00e9",
        event=json.loads(text),
        source={
            "shard_id": kinesis.shard,
            "sequence_number": "9",
            "sub_sequence_number": 0,
        },
    )
    assert parsed == expected.to_dict()


def test_the_envelope_wraps_deliveries_into_a_delivery_batch(kinesis):
    target = {"connector": "webhook", "params": {"url": "https://x.example"}}
    (event,) = decode_records([kinesis.record(b'{"id": 1}', "9")], 100).events
    opening, closing = envelope(target)
    ref = {"bucket": "b", "key": "payloads/1.json"}

    payload = (
        opening
        + delivery_bytes(event, "r")
        + b","
        + delivery_bytes(event, "r", ref)
        + closing
    )

    batch = DeliveryBatch.from_dict(json.loads(payload))
    assert batch.target == target
    assert [d.event for d in batch.deliveries] == [{"id": 1}, None]
    assert batch.deliveries[1].event_ref == ref
    assert json.loads(payload)["target_id"] == batch.target_id


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("TooManyRequestsException", 429, True),
        ("ServiceException", 500, True),
        ("Anything", 503, True),
        ("ResourceNotFoundException", 404, False),
        ("RequestTooLargeException", 413, False),
        ("AccessDeniedException", 403, False),
    ],
)
def test_invoke_errors_are_classed_by_whether_a_retry_can_help(
    kinesis, code, status, retryable
):
    assert is_retryable(kinesis.error(code, status)) is retryable


def test_connection_errors_are_retryable():
    assert is_retryable(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))


def test_settings_read_every_variable_with_defaults():
    settings = Settings.from_env(
        {
            "RULES_BUCKET": "r",
            "DEAD_LETTER_QUEUE_URL": "q",
            "PAYLOAD_BUCKET": "p",
            "CONNECTOR_FUNCTIONS": '{"webhook": "fn"}',
            "INVOKE_CONCURRENCY": "4",
        }
    )

    assert settings.rules_key == "rules/rules.json"
    assert settings.rules_ttl_seconds == 30
    assert settings.async_payload_limit_bytes == 1_048_576
    assert settings.max_event_bytes == 1_048_576
    assert settings.invoke_concurrency == 4
    assert settings.connectors.function_for("webhook") == "fn"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "RULES_BUCKET"),
        (
            {
                "RULES_BUCKET": "r",
                "DEAD_LETTER_QUEUE_URL": "q",
                "PAYLOAD_BUCKET": "p",
                "MAX_EVENT_BYTES": "big",
            },
            "MAX_EVENT_BYTES",
        ),
        (
            {
                "RULES_BUCKET": "r",
                "DEAD_LETTER_QUEUE_URL": "q",
                "PAYLOAD_BUCKET": "p",
                "CONNECTOR_FUNCTIONS": "[]",
            },
            "CONNECTOR_FUNCTIONS",
        ),
    ],
)
def test_bad_settings_name_the_variable(env, needle):
    with pytest.raises(ConfigError, match=needle):
        Settings.from_env(env)
