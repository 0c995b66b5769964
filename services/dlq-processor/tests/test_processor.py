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
