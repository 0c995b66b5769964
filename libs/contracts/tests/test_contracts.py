"""The wire contracts round-trip and refuse what is malformed."""

import json

import pytest

from switchyard_contracts import (
    ConnectorRegistry,
    ContractError,
    Delivery,
    DeliveryBatch,
    FailureError,
    FailureRecord,
    Origin,
    target_id,
)

pytestmark = pytest.mark.unit

TARGET = {"connector": "webhook", "params": {"url": "https://example.com/h"}}


def test_target_id_is_stable_and_ignores_key_order():
    reordered = {"params": {"url": "https://example.com/h"}, "connector": "webhook"}
    assert target_id(TARGET) == target_id(reordered)
    assert target_id(TARGET) != target_id({**TARGET, "params": {"url": "x"}})


def test_delivery_batch_round_trips_through_json():
    batch = DeliveryBatch(
        target=TARGET,
        deliveries=[Delivery(event_id="e1", rule="r", correlation_id="c", event={})],
    )
    again = DeliveryBatch.from_dict(json.loads(json.dumps(batch.to_dict())))
    assert again == batch
    assert again.target_id == target_id(TARGET)


def test_delivery_needs_exactly_one_of_event_and_reference():
    with pytest.raises(ContractError, match="exactly one"):
        Delivery(event_id="e1", rule="r", correlation_id="c")
    with pytest.raises(ContractError, match="exactly one"):
        Delivery(
            event_id="e1",
            rule="r",
            correlation_id="c",
            event={},
            event_ref={"bucket": "b", "key": "k"},
        )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"kind": "other"}, "not a"),
        ({"kind": "switchyard.deliveries", "version": 9}, "version"),
        ({"kind": "switchyard.deliveries", "version": 1, "target": {}}, "connector"),
        (
            {"kind": "switchyard.deliveries", "version": 1, "target": TARGET},
            "deliveries",
        ),
    ],
)
def test_malformed_batches_are_refused_with_the_reason(payload, message):
    with pytest.raises(ContractError, match=message):
        DeliveryBatch.from_dict(payload)


def test_failure_record_round_trips_and_has_one_id_per_event_and_target():
    record = FailureRecord(
        event_id="e1",
        error=FailureError("HTTPError", "503 from upstream", retryable=True),
        origin=Origin.CONNECTOR,
        event={"a": 1},
        target=TARGET,
        target_id=target_id(TARGET),
        attempts=3,
    )
    again = FailureRecord.from_dict(json.loads(record.to_message()))
    assert again == record
    assert again.record_id == record.with_attempts(5).record_id


def test_failure_record_refuses_an_unknown_origin():
    doc = json.loads(
        FailureRecord(
            event_id="e", error=FailureError("T", "m"), origin=Origin.ROUTER
        ).to_message()
    )
    doc["origin"] = "somewhere"
    with pytest.raises(ContractError, match="bad value"):
        FailureRecord.from_dict(doc)


def test_registry_reads_the_environment_and_names_unknown_connectors():
    registry = ConnectorRegistry.from_env(
        {"CONNECTOR_FUNCTIONS": '{"webhook": "fn-webhook"}'}
    )
    assert registry.function_for("webhook") == "fn-webhook"
    with pytest.raises(ContractError, match=r"'sms'.*known: webhook"):
        registry.function_for("sms")
    with pytest.raises(ContractError, match="not valid JSON"):
        ConnectorRegistry.from_env({"CONNECTOR_FUNCTIONS": "{"})


@pytest.mark.parametrize("event_id", [None, "", 7, ["e"]])
def test_a_delivery_needs_a_non_empty_string_event_id(event_id):
    with pytest.raises(ContractError, match="event_id"):
        Delivery.from_dict({"event_id": event_id, "event": {}})


def test_a_delivery_that_is_not_an_object_is_refused():
    with pytest.raises(ContractError, match="object"):
        Delivery.from_dict(["not", "an", "object"])


def test_target_id_refuses_text_with_no_utf8_form():
    lone = {"connector": "webhook", "params": {"url": "https://x/\ud800"}}
    with pytest.raises(UnicodeEncodeError):
        target_id(lone)
