"""The router against moto's S3 and SQS, with a fake Lambda client.

Given rules in S3 and a Kinesis batch, when the router processes it, then the
connectors receive delivery batches, failures reach the dead-letter queue and
the partial batch response names only what a retry can fix.
"""

import base64
import json
import logging

import boto3
import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from router.config import Settings
from router.handler import build_router
from router.rules import RuleSet
from switchyard_contracts import ConnectorRegistry, DeliveryBatch, FailureRecord

pytestmark = pytest.mark.functional

RULES_BUCKET = "switchyard-rules"
PAYLOAD_BUCKET = "switchyard-payloads"
CRM = {"connector": "webhook", "params": {"url": "https://crm.example.com/h"}}
TABLE = {"connector": "dynamodb", "params": {"table": "orders"}}
FUNCTIONS = {"webhook": "fn-webhook", "dynamodb": "fn-dynamodb"}
RULES = {
    "rules": [
        {"name": "orders-to-crm", "pattern": {"type": ["order"]}, "targets": [CRM]},
        {
            "name": "big-orders",
            "pattern": {"type": ["order"], "total": [{"numeric": [">", 100]}]},
            "targets": [TABLE, CRM],
        },
        {
            "name": "refunds",
            "pattern": {"type": [{"prefix": "refund"}]},
            "targets": [TABLE],
        },
    ]
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Stack:
    """Buckets, a queue and a router wired to them."""

    def __init__(self, fake_lambda, **overrides) -> None:
        self.s3 = boto3.client("s3")
        self.sqs = boto3.client("sqs")
        for bucket in (RULES_BUCKET, PAYLOAD_BUCKET):
            self.s3.create_bucket(Bucket=bucket)
        self.s3.put_bucket_versioning(
            Bucket=RULES_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        self.queue_url = self.sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
        self.settings = Settings(
            rules_bucket=RULES_BUCKET,
            dead_letter_queue_url=self.queue_url,
            payload_bucket=PAYLOAD_BUCKET,
            connectors=ConnectorRegistry(FUNCTIONS),
            **overrides,
        )
        self.fake_lambda = fake_lambda
        self.router = build_router(
            self.settings, fake_lambda, self.s3, self.sqs, logging.getLogger("router")
        )
        self.clock = Clock()
        self.router.rules.clock = self.clock

    def put_rules(self, document) -> str:
        body = document if isinstance(document, str) else json.dumps(document)
        response = self.s3.put_object(
            Bucket=RULES_BUCKET, Key=self.settings.rules_key, Body=body.encode()
        )
        return response["VersionId"]

    def dead_letters(self) -> list[FailureRecord]:
        found = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(FailureRecord.from_dict(json.loads(message["Body"])))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def batches(self, function: str) -> list[DeliveryBatch]:
        return [DeliveryBatch.from_dict(p) for p in self.fake_lambda.payloads(function)]


@pytest.fixture
def stack(mock_aws_inprocess, fake_lambda) -> Stack:
    return Stack(fake_lambda)


def orders(kinesis, count: int, start: int = 1) -> list[dict]:
    return [
        kinesis.event(
            {
                "id": f"o-{n}",
                "type": "order",
                "total": n * 10,
                "correlation_id": f"c-{n}",
            },
            str(n),
        )
        for n in range(start, start + count)
    ]


def test_events_reach_each_target_once_in_one_call_per_target(stack, kinesis):
    version = stack.put_rules(RULES)

    report = stack.router.process(orders(kinesis, 20))

    crm, table = stack.batches("fn-webhook"), stack.batches("fn-dynamodb")
    assert len(crm) == 1 and len(table) == 1
    assert [d.event_id for d in crm[0].deliveries] == [f"o-{n}" for n in range(1, 21)]
    assert {d.rule for d in crm[0].deliveries} == {"orders-to-crm"}
    assert [d.event_id for d in table[0].deliveries] == [
        f"o-{n}" for n in range(11, 21)
    ]
    assert crm[0].deliveries[0].event == {
        "id": "o-1",
        "type": "order",
        "total": 10,
        "correlation_id": "c-1",
    }
    assert crm[0].deliveries[0].correlation_id == "c-1"
    assert crm[0].deliveries[0].source == {
        "shard_id": kinesis.shard,
        "sequence_number": "1",
        "sub_sequence_number": 0,
    }
    assert all(c["InvocationType"] == "Event" for c in stack.fake_lambda.calls)
    assert (report.matched, report.deliveries, report.invoke_calls) == (20, 30, 2)
    assert report.rules_version == version
    assert report.batch_item_failures() == []


def test_payloads_stay_under_the_limit_and_a_huge_event_goes_by_reference(
    mock_aws_inprocess, fake_lambda, kinesis
):
    stack = Stack(fake_lambda, async_payload_limit_bytes=4096)
    stack.put_rules(RULES)
    records = [
        kinesis.event({"id": f"e-{n}", "type": "refund", "pad": "x" * 900}, str(n))
        for n in range(10)
    ]
    huge = {"id": "huge", "type": "refund", "pad": "y" * 6000}
    records.append(kinesis.event(huge, "99"))

    report = stack.router.process(records)

    sizes = [len(call["Payload"]) for call in fake_lambda.calls]
    assert all(size <= 4096 for size in sizes)
    assert len(sizes) == 4  # 10 x ~1 KB in 3 payloads, the reference in the last
    deliveries = [d for b in stack.batches("fn-dynamodb") for d in b.deliveries]
    assert [d.event_id for d in deliveries] == [f"e-{n}" for n in range(10)] + ["huge"]
    ref = deliveries[-1].event_ref
    assert ref == {"bucket": PAYLOAD_BUCKET, "key": "payloads/huge.json"}
    stored = stack.s3.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
    assert json.loads(stored) == huge
    assert report.by_reference == 1


def test_poison_records_become_failure_records_without_failing_the_batch(
    stack, kinesis
):
    stack.put_rules(RULES)
    records = [
        kinesis.record("%%% not base64", "1"),
        kinesis.record(b"{broken json", "2"),
        *orders(kinesis, 1, start=3),
    ]

    report = stack.router.process(records)

    failures = sorted(stack.dead_letters(), key=lambda f: f.event_id)
    assert [(f.error.type, f.origin.value) for f in failures] == [
        ("bad-base64", "router"),
        ("not-json", "router"),
    ]
    assert base64.b64decode(failures[1].raw) == b"{broken json"
    assert failures[1].event_id == f"{kinesis.shard}:2:0"
    assert failures[1].error.retryable is False
    assert report.batch_item_failures() == []
    assert (report.poison, report.failures, report.matched) == (2, 2, 1)


def test_a_throttled_target_lists_its_records_for_retry_and_others_deliver(
    stack, kinesis
):
    stack.put_rules(RULES)
    stack.fake_lambda.failures["fn-dynamodb"] = kinesis.error(
        "TooManyRequestsException", 429
    )

    report = stack.router.process(orders(kinesis, 12))

    assert report.retry_sequence_numbers == ["11", "12"]
    assert len(stack.batches("fn-webhook")[0].deliveries) == 12
    assert stack.dead_letters() == []


def test_a_kpl_user_record_that_fails_names_its_parent_sequence_number(stack, kinesis):
    stack.put_rules(RULES)
    stack.fake_lambda.failures["fn-dynamodb"] = kinesis.error("ServiceException", 500)
    aggregator = RecordAggregator()
    aggregator.add_user_record("a", json.dumps({"type": "order", "total": 1}).encode())
    aggregator.add_user_record("b", json.dumps({"type": "refund"}).encode())
    data = aggregator.clear_and_get().get_contents()[2]

    report = stack.router.process([*orders(kinesis, 1), kinesis.record(data, "77")])

    assert report.user_records == 3
    assert report.batch_item_failures() == [{"itemIdentifier": "77"}]
    crm = stack.batches("fn-webhook")[0].deliveries
    assert [d.event_id for d in crm] == ["o-1", f"{kinesis.shard}:77:0"]


def test_a_permanent_invoke_failure_sends_failure_records_with_rule_and_target(
    stack, kinesis
):
    stack.put_rules(RULES)
    stack.fake_lambda.failures["fn-dynamodb"] = kinesis.error(
        "ResourceNotFoundException", 404
    )

    report = stack.router.process(orders(kinesis, 11))

    (failure,) = stack.dead_letters()
    assert failure.event_id == "o-11"
    assert (failure.rule, failure.target) == ("big-orders", TABLE)
    assert failure.error.type == "ResourceNotFoundException"
    assert failure.event["total"] == 110
    assert failure.correlation_id == "c-11"
    assert report.batch_item_failures() == []


def test_a_target_with_no_registered_function_fails_for_good(stack, kinesis):
    stack.put_rules(
        {
            "rules": [
                {
                    "name": "ftp",
                    "pattern": {"type": ["order"]},
                    "targets": [{"connector": "ftp"}],
                }
            ]
        }
    )

    report = stack.router.process(orders(kinesis, 2))

    failures = stack.dead_letters()
    assert [f.error.type for f in failures] == ["UnknownConnector"] * 2
    assert "CONNECTOR_FUNCTIONS" in failures[0].error.message
    assert stack.fake_lambda.calls == [] and report.invoke_calls == 0


def test_a_failing_dead_letter_queue_makes_the_record_retry(stack, kinesis):
    stack.put_rules(RULES)
    stack.router.dead_letter_queue_url = stack.queue_url + "-missing"

    report = stack.router.process([kinesis.record(b"[]", "5"), *orders(kinesis, 1)])

    assert report.batch_item_failures() == [{"itemIdentifier": "5"}]


def test_rules_are_cached_then_rechecked_with_a_conditional_get(stack, kinesis):
    first = stack.put_rules(RULES)
    stack.router.process(orders(kinesis, 1))
    source = stack.router.rules

    stack.clock.now += 10
    stack.router.process(orders(kinesis, 1))
    assert source.fetches == 1

    stack.clock.now += 30
    stack.router.process(orders(kinesis, 1))
    assert source.fetches == 2 and source.rules.version == first  # 304

    second = stack.put_rules({"rules": RULES["rules"][:1]})
    stack.clock.now += 31
    report = stack.router.process(orders(kinesis, 20))
    assert (source.fetches, report.rules_version) == (3, second)
    assert report.deliveries == 20


def test_an_invalid_new_document_keeps_the_last_good_rules(stack, kinesis, caplog):
    good = stack.put_rules(RULES)
    stack.router.process(orders(kinesis, 1))
    bad = stack.put_rules({"rules": [{"name": "x", "pattern": {"type": "order"}}]})
    stack.clock.now += 31

    with caplog.at_level(logging.ERROR, logger="router"):
        report = stack.router.process(orders(kinesis, 1))

    assert report.rules_version == good and report.matched == 1
    assert any(
        bad in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records
    )

    stack.put_rules("{not json")
    stack.clock.now += 31
    assert stack.router.process(orders(kinesis, 1)).rules_version == good


def test_without_a_rules_document_nothing_is_routed_and_a_warning_says_why(
    stack, kinesis, caplog
):
    with caplog.at_level(logging.WARNING, logger="router"):
        report = stack.router.process(orders(kinesis, 3))

    assert (report.unrouted, report.matched, report.invoke_calls) == (3, 0, 0)
    assert report.rules_version is None
    assert any("no rules document" in r.getMessage() for r in caplog.records)
    assert report.batch_item_failures() == []


def test_a_failure_record_too_big_for_sqs_carries_its_event_by_reference(
    stack, kinesis
):
    stack.put_rules(RULES)
    stack.fake_lambda.failures["fn-webhook"] = kinesis.error(
        "AccessDeniedException", 403
    )
    big = {"id": "big", "type": "order", "total": 1, "note": "\u00e9" * 150_000}

    report = stack.router.process([kinesis.event(big, "8")])

    (failure,) = stack.dead_letters()
    assert failure.event is None
    assert failure.event_ref == {"bucket": PAYLOAD_BUCKET, "key": "payloads/big.json"}
    stored = stack.s3.get_object(Bucket=PAYLOAD_BUCKET, Key="payloads/big.json")
    assert json.loads(stored["Body"].read()) == big
    assert report.batch_item_failures() == []


def test_an_event_that_breaks_matching_is_poison_and_the_rest_still_route(
    stack, kinesis, monkeypatch
):
    # An event nested ~900 deep parses, yet can exhaust the stack while it is
    # matched (the parser and the matcher use frames differently); the exact
    # depth depends on the caller's stack, so the matcher is made to fail.
    stack.put_rules(RULES)
    routes_for = RuleSet.routes_for

    def fragile(self, event):
        if "deep" in event:
            raise RecursionError("maximum recursion depth exceeded")
        if "odd" in event:
            raise TypeError("a matcher bug")
        return routes_for(self, event)

    monkeypatch.setattr(RuleSet, "routes_for", fragile)
    batch = [
        kinesis.event({"type": "order", "deep": []}, "3"),
        kinesis.event({"type": "order", "odd": 1}, "4"),
        *orders(kinesis, 1, start=5),
    ]

    report = stack.router.process(batch)

    assert (report.poison, report.matched, report.retried) == (2, 1, 0)
    failures = {f.source["sequence_number"]: f for f in stack.dead_letters()}
    assert {n: f.error.type for n, f in failures.items()} == {
        "3": "too-deep",
        "4": "match-error",
    }
    assert json.loads(base64.b64decode(failures["3"].raw))["deep"] == []
    assert [d.event_id for d in stack.batches("fn-webhook")[0].deliveries] == ["o-5"]


def test_retry_sequence_numbers_come_lowest_first(stack, kinesis):
    stack.put_rules(RULES)
    stack.fake_lambda.failures["fn-dynamodb"] = kinesis.error("ServiceException", 500)
    stack.fake_lambda.failures["fn-webhook"] = kinesis.error("ServiceException", 500)
    stack.router.dead_letter_queue_url = stack.queue_url + "-missing"
    refund = {"type": "refund-1"}
    big = {"type": "order", "total": 500}
    batch = [
        kinesis.record(b"[]", "100"),
        kinesis.event(refund, "900"),
        kinesis.event(big, "1000"),
        kinesis.event(refund, "1100"),
    ]

    report = stack.router.process(batch)

    assert report.retry_sequence_numbers == ["100", "900", "1000", "1100"]


def test_an_unreadable_new_rules_document_keeps_the_last_good_rules(stack, kinesis):
    good = stack.put_rules(RULES)
    stack.router.process(orders(kinesis, 1))
    stack.put_rules("[" * 100_000)
    stack.clock.now += 3600

    report = stack.router.process(orders(kinesis, 1, start=2))

    assert (report.rules_version, report.matched) == (good, 1)
    assert stack.router.rules.rejected_version not in (None, good)


@pytest.mark.parametrize("event_id", ["\U0001f600" * 256, "bad-\ud800-id", "../up"])
def test_a_huge_event_with_an_awkward_id_still_travels_by_reference(
    mock_aws_inprocess, fake_lambda, kinesis, event_id
):
    # S3 keys are at most 1,024 UTF-8 bytes, and a lone surrogate has none.
    stack = Stack(fake_lambda, async_payload_limit_bytes=4096)
    stack.put_rules(RULES)
    huge = {"id": event_id, "type": "refund", "pad": "y" * 6000}

    report = stack.router.process([kinesis.event(huge, "99")])

    assert (report.by_reference, report.retried, report.failures) == (1, 0, 0)
    (delivery,) = stack.batches("fn-dynamodb")[0].deliveries
    assert delivery.event_id == event_id
    key = delivery.event_ref["key"]
    assert key.startswith("payloads/") and len(key.encode("utf-8")) <= 1024
    stored = stack.s3.get_object(Bucket=PAYLOAD_BUCKET, Key=key)["Body"].read()
    assert json.loads(stored)["pad"] == huge["pad"]


def test_a_producer_retry_in_the_same_batch_is_delivered_once_per_target(
    stack, kinesis
):
    # Kinesis producers retry puts, so one event (one id) can arrive twice.
    stack.put_rules(RULES)
    event = {"id": "o-7", "type": "order", "total": 700}
    batch = [kinesis.event(event, "7"), kinesis.event(event, "8")]

    report = stack.router.process(batch)

    for function in ("fn-webhook", "fn-dynamodb"):
        (delivery,) = stack.batches(function)[0].deliveries
        assert (delivery.event_id, delivery.source["sequence_number"]) == ("o-7", "7")
    assert (report.matched, report.deliveries) == (2, 2)


def test_a_failed_event_that_cannot_be_serialized_inline_goes_by_reference(
    stack, kinesis, monkeypatch
):
    # An event nested near the parser's limit parses, yet json.dumps of the
    # failure record can run out of stack deeper in the call chain.
    stack.put_rules(RULES)
    stack.fake_lambda.failures["fn-webhook"] = kinesis.error(
        "AccessDeniedException", 403
    )
    to_message = FailureRecord.to_message

    def fragile(self):
        if self.event is not None:
            raise RecursionError("maximum recursion depth exceeded")
        return to_message(self)

    monkeypatch.setattr(FailureRecord, "to_message", fragile)

    report = stack.router.process([kinesis.event({"id": "d", "type": "order"}, "8")])

    monkeypatch.setattr(FailureRecord, "to_message", to_message)
    (failure,) = stack.dead_letters()
    assert failure.event_ref == {"bucket": PAYLOAD_BUCKET, "key": "payloads/d.json"}
    assert (report.failures, report.retried) == (1, 0)
