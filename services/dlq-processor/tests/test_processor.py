"""Failures the processor must leave on the queue rather than store."""

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dlq_processor.errors import StreamReadError
from dlq_processor.processor import DeadLetterProcessor
from dlq_processor.store import FailureStore
from dlq_processor.stream import StreamReader

pytestmark = pytest.mark.functional


class ThrottledKinesis:
    def get_shard_iterator(self, **kwargs: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException"}},
            "GetShardIterator",
        )


def test_a_throttled_stream_read_leaves_the_message_for_later(
    store: FailureStore, load_sample
):
    body = json.dumps(
        load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")
    )
    processor = DeadLetterProcessor(store, StreamReader(client=ThrottledKinesis()))

    with pytest.raises(StreamReadError, match="ProvisionedThroughputExceeded"):
        processor.process("m-1", body)
    assert list(store.iter_records()) == []


def test_a_batch_with_no_stream_configured_keeps_what_is_known(
    store: FailureStore, load_sample
):
    document = load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")
    del document["KinesisBatchInfo"]["streamArn"]
    processor = DeadLetterProcessor(store, StreamReader(client=ThrottledKinesis()))

    result = processor.process("m-1", json.dumps(document))

    [record] = store.iter_records()
    assert result.shape == "stream-batch"
    assert "EVENTS_STREAM_NAME is not set" in record["error_message"]


class SlowKinesis:
    """A shard that hands out one record of the batch, then empty pages."""

    def __init__(self, first_sequence: str) -> None:
        self.first_sequence = first_sequence
        self.calls = 0

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, str]:
        return {"ShardIterator": "it-0"}

    def get_records(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        records = []
        if self.calls == 1:
            data = json.dumps({"id": "evt-first"}).encode()
            records = [{"SequenceNumber": self.first_sequence, "Data": data}]
        return {
            "Records": records,
            "NextShardIterator": f"it-{self.calls}",
            "MillisBehindLatest": 86_400_000,
        }


def test_a_batch_read_that_stops_short_leaves_the_message_for_later(
    store: FailureStore, load_sample
):
    document = load_sample("kinesis_on_failure__aws-lambda-developer-guide.json")
    start = document["KinesisBatchInfo"]["startSequenceNumber"]
    kinesis = SlowKinesis(start)
    processor = DeadLetterProcessor(store, StreamReader(client=kinesis, max_calls=5))

    with pytest.raises(StreamReadError, match="1 of 500"):
        processor.process("m-1", json.dumps(document))

    assert kinesis.calls == 5
    assert list(store.iter_records()) == []
