"""Any Kinesis batch is accounted for: routed, unrouted or a failure record.

Given a batch of arbitrary records (events, junk, KPL aggregates, events too
large for one invoke), when the router processes it with healthy AWS
clients, then it never raises, every user record is counted once, every
poison record reaches the dead-letter queue, nothing is retried, and each
event reaches each of its targets at most once.
"""

import base64
import json
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router.dispatch import Dispatcher
from router.routing import Router
from router.rules import RuleSet
from switchyard_contracts import ConnectorRegistry, DeliveryBatch, FailureRecord

pytestmark = pytest.mark.unit

LIMIT = 2048
RULES = RuleSet.from_document(
    {
        "rules": [
            {
                "name": "orders",
                "pattern": {"type": ["order"]},
                "targets": [{"connector": "a"}, {"connector": "b"}],
            },
            {
                "name": "any-type",
                "pattern": {"type": [{"exists": True}]},
                "targets": [{"connector": "a"}],
            },
        ]
    },
    version="v1",
)


class Rules:
    def current(self) -> RuleSet:
        return RULES


class Memory:
    """S3 and SQS in a dictionary and a list, with S3's key length limit."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.messages: list[str] = []

    def put_object(self, Bucket, Key, Body, ContentType):
        if len(Key.encode("utf-8")) > 1024:
            raise ClientError(
                {"Error": {"Code": "KeyTooLongError"}, "ResponseMetadata": {}},
                "PutObject",
            )
        self.objects[Key] = Body

    def send_message_batch(self, QueueUrl, Entries):
        self.messages.extend(entry["MessageBody"] for entry in Entries)
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries]}


def aggregate(bodies: list[bytes]) -> bytes:
    aggregator = RecordAggregator()
    for number, body in enumerate(bodies):
        aggregator.add_user_record(f"pk-{number}", body)
    return aggregator.clear_and_get().get_contents()[2]


events = st.fixed_dictionaries(
    {"type": st.sampled_from(["order", "refund", 5, None])},
    optional={
        "id": st.one_of(st.text(max_size=3), st.integers(), st.just("i" * 1500)),
        "pad": st.text(max_size=3000),
    },
).map(lambda e: json.dumps(e).encode())
user_records = st.one_of(
    events,
    st.binary(max_size=32),
    st.sampled_from([b"[]", b'"s"', b"NaN", b'{"a": Infinity}', b"[" * 5000]),
)
datas = st.one_of(
    user_records.map(lambda b: base64.b64encode(b).decode()),
    st.lists(user_records, min_size=1, max_size=3).map(
        lambda bodies: base64.b64encode(aggregate(bodies)).decode()
    ),
    st.sampled_from(["***", "", "e30"]),
)


# The fake Lambda is reset for each example (its calls are cleared).
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(datas, max_size=6))
def test_any_batch_is_routed_or_dead_lettered_and_never_raises(fake_lambda, data):
    memory = Memory()
    connectors = ConnectorRegistry({"a": "fn-a", "b": "fn-b"})
    with ThreadPoolExecutor(max_workers=2) as executor:
        dispatcher = Dispatcher(
            fake_lambda, memory, connectors, "payloads", LIMIT, executor,
            logging.getLogger("router"),
        )  # fmt: skip
        router = Router(
            Rules(), dispatcher, memory, memory, "dlq", "payloads", 4096,
            logging.getLogger("router"),
        )  # fmt: skip
        records = [
            {
                "eventID": f"shardId-1:{n}",
                "kinesis": {"sequenceNumber": str(100 + n), "data": d},
            }
            for n, d in enumerate(data)
        ]
        fake_lambda.calls.clear()

        report = router.process(records)

    assert report.matched + report.unrouted + report.poison == report.user_records
    assert report.user_records >= len(records)
    assert (report.retried, report.failures) == (0, report.poison)
    failures = [FailureRecord.from_dict(json.loads(m)) for m in memory.messages]
    assert len(failures) == report.poison
    assert all(len(call["Payload"]) <= LIMIT for call in fake_lambda.calls)
    for function in ("fn-a", "fn-b"):
        batches = [DeliveryBatch.from_dict(p) for p in fake_lambda.payloads(function)]
        ids = Counter(d.event_id for b in batches for d in b.deliveries)
        assert all(count == 1 for count in ids.values())
        for delivery in (d for b in batches for d in b.deliveries):
            if delivery.event_ref:
                assert delivery.event_ref["key"] in memory.objects
