"""One alarm per burst, per target and error type, on moto."""

import json
from typing import Any

import pytest

from dlq_processor.alarm import BurstAlarm
from dlq_processor.errors import AlarmError
from dlq_processor.processor import DeadLetterProcessor
from dlq_processor.store import FailureStore, WriteOutcome
from switchyard_contracts import FailureError, FailureRecord, Origin

pytestmark = pytest.mark.functional

WEBHOOK = {"connector": "webhook", "params": {"url": "https://crm.example.com/hooks"}}


def message(event_id: str, error_type: str = "HTTPError") -> str:
    return FailureRecord(
        event_id=event_id,
        error=FailureError(error_type, "crm answered 503", True),
        origin=Origin.CONNECTOR,
        event={"id": event_id},
        target=WEBHOOK,
        target_id="tid",
    ).to_message()


def test_failures_within_the_window_alarm_once_and_after_it_again(
    processor: DeadLetterProcessor, alarm_inbox, clock
):
    for n in range(4):
        processor.process(f"m-{n}", message(f"e-{n}"))
        clock.now += 60
    clock.now += 100  # 340 s after the first: the window is over
    processor.process("m-late", message("e-late"))

    alarms = alarm_inbox.messages()

    assert len(alarms) == 2
    assert {a["error_type"] for a in alarms} == {"HTTPError"}
    assert alarms[0]["window_seconds"] == 300


def test_a_duplicate_message_raises_no_alarm_of_its_own(
    processor: DeadLetterProcessor, alarm_inbox, clock
):
    processor.process("m-1", message("e-1"))
    clock.now += 1000

    result = processor.process("m-1", message("e-1"))

    assert result.alarms == 0
    assert len(alarm_inbox.messages()) == 1


def test_two_containers_racing_for_one_window_alarm_once(
    aws: dict[str, Any], names, alarm_inbox, clock
):
    def container() -> BurstAlarm:
        return BurstAlarm(
            alarm_inbox.topic_arn,
            names["idempotency"],
            dynamodb_client=aws["dynamodb"],
            sns_client=aws["sns"],
            clock=clock,
        )

    first = container().notify("webhook:x", "HTTPError", {"record_id": "r1"})
    second = container().notify("webhook:x", "HTTPError", {"record_id": "r2"})

    assert (first, second) == (True, False)
    assert len(alarm_inbox.messages()) == 1


class BrokenSns:
    def publish(self, **kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AuthorizationError"}}, "Publish")


def test_a_failed_publish_gives_the_window_back(
    aws: dict[str, Any], names, alarm_inbox, clock
):
    broken = BurstAlarm(
        alarm_inbox.topic_arn,
        names["idempotency"],
        dynamodb_client=aws["dynamodb"],
        sns_client=BrokenSns(),
        clock=clock,
    )
    working = BurstAlarm(
        alarm_inbox.topic_arn,
        names["idempotency"],
        dynamodb_client=aws["dynamodb"],
        sns_client=aws["sns"],
        clock=clock,
    )

    with pytest.raises(AlarmError, match="AuthorizationError"):
        broken.notify("webhook:x", "HTTPError", {})
    assert working.notify("webhook:x", "HTTPError", {}) is True


def test_a_lost_alarm_does_not_lose_the_record(
    aws: dict[str, Any], names, store: FailureStore, clock
):
    alarm = BurstAlarm(
        "arn:aws:sns:us-east-1:123456789012:nope",
        names["idempotency"],
        dynamodb_client=aws["dynamodb"],
        sns_client=BrokenSns(),
        clock=clock,
    )
    processor = DeadLetterProcessor(store=store, alarm=alarm)

    result = processor.process("m-1", message("e-1"))

    assert result.alarms == 0
    assert len(list(store.iter_records())) == 1


def test_window_claims_in_the_failed_events_table_stay_out_of_queries(
    aws: dict[str, Any], names, store: FailureStore, alarm_inbox, clock
):
    alarm = BurstAlarm(
        alarm_inbox.topic_arn,
        names["table"],
        key_name="record_id",
        dynamodb_client=aws["dynamodb"],
        sns_client=aws["sns"],
        clock=clock,
    )
    processor = DeadLetterProcessor(store=store, alarm=alarm)

    processor.process("m-1", message("e-1"))
    processor.process("m-2", message("e-2"))

    assert len(alarm_inbox.messages()) == 1
    assert len(store.query().items) == 2
    assert (
        len(store.query(target_name="webhook:https://crm.example.com/hooks").items) == 2
    )
    assert store.counts()["by_status"]["parked"] == 2


class CountingSns(BrokenSns):
    def __init__(self) -> None:
        self.publishes = 0

    def publish(self, **kwargs: Any) -> None:
        self.publishes += 1
        super().publish(**kwargs)


def async_batch_message(count: int) -> str:
    deliveries = [
        {"event_id": f"e-{n}", "rule": "r", "event": {"id": f"e-{n}"}}
        for n in range(count)
    ]
    return json.dumps(
        {
            "requestContext": {"condition": "RetriesExhausted"},
            "requestPayload": {
                "kind": "switchyard.deliveries",
                "version": 1,
                "target": WEBHOOK,
                "deliveries": deliveries,
            },
            "responsePayload": {"errorType": "TimeoutError", "errorMessage": "slow"},
        }
    )


def test_a_batch_of_failures_while_sns_is_down_tries_to_alarm_once(
    aws: dict[str, Any], names, store: FailureStore, clock
):
    sns = CountingSns()
    alarm = BurstAlarm(
        "arn:aws:sns:us-east-1:123456789012:alarms",
        names["idempotency"],
        dynamodb_client=aws["dynamodb"],
        sns_client=sns,
        clock=clock,
    )
    processor = DeadLetterProcessor(store=store, alarm=alarm)

    result = processor.process("m-1", async_batch_message(20))

    assert result.count(WriteOutcome.CREATED) == 20
    assert sns.publishes == 1
