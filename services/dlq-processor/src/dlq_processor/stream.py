"""Reading a failed batch back from the events stream.

A Kinesis on-failure record names a shard and a sequence-number range but
carries no data, so the events must be fetched with GetShardIterator
(AT_SEQUENCE_NUMBER) and GetRecords before retention drops them. Records
packed by the KPL (magic bytes F3 89 9A C2) are unpacked into their user
records, each with its sub-sequence number, as the router does.

Sequence numbers are compared as integers: AWS writes 56 digits, the local
stack small counters, and neither is fixed width.
"""

import base64
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aws_kinesis_agg import MAGIC
from aws_kinesis_agg.deaggregator import iter_deaggregate_records
from botocore.exceptions import BotoCoreError, ClientError

from dlq_processor.errors import StreamReadError
from dlq_processor.shapes import StreamBatch, StreamEvent

logger = logging.getLogger(__name__)

# Errors that mean the data will never come back: the stream or shard is
# gone, or the sequence number is past retention. Anything else (throttle,
# network) is worth another try, so the message stays on the queue.
GONE = {"ResourceNotFoundException", "InvalidArgumentException"}
MAX_RECORDS_PER_CALL = 1000


@dataclass(frozen=True)
class StreamRead:
    """The events found for a batch, or why none could be found."""

    events: list[StreamEvent] = field(default_factory=list)
    missing_reason: str | None = None


class StreamReader:
    """Fetches the records of a failed batch from Kinesis."""

    def __init__(
        self,
        client: Any = None,
        stream_name: str | None = None,
        max_calls: int = 25,
    ) -> None:
        self._client = client
        self.stream_name = stream_name
        self.max_calls = max_calls

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("kinesis")
        return self._client

    def read(self, batch: StreamBatch) -> StreamRead:
        """The batch's events; StreamReadError when worth retrying later."""
        name = batch.stream_name or self.stream_name
        if not name:
            return StreamRead(
                missing_reason="the record names no stream and EVENTS_STREAM_NAME "
                "is not set"
            )
        if self.stream_name and name != self.stream_name:
            # The message comes off a queue others can write to: read only
            # the events stream, never whichever stream a record names.
            return StreamRead(
                missing_reason=f"the record names the stream {name[:128]!r}, not "
                f"the events stream {self.stream_name!r}; it was not read"
            )

        try:
            records = list(self._records_in_range(name, batch))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in GONE:
                return StreamRead(
                    missing_reason=f"the records {batch.start_sequence}.."
                    f"{batch.end_sequence} of {name}/{batch.shard_id} cannot be "
                    f"read any more ({code}: {exc})"
                )
            raise StreamReadError(
                f"reading {name}/{batch.shard_id} from {batch.start_sequence} "
                f"failed: {code or exc}; the message is left on the queue"
            ) from exc
        except BotoCoreError as exc:
            raise StreamReadError(
                f"reading {name}/{batch.shard_id} failed: {exc}"
            ) from exc

        if not records:
            return StreamRead(
                missing_reason=f"no record between {batch.start_sequence} and "
                f"{batch.end_sequence} is left in {name}/{batch.shard_id} "
                "(retention may have dropped them)"
            )
        events = [event for r in records for event in unpack(r, batch.shard_id)]
        if batch.batch_size and len(records) < batch.batch_size:
            logger.warning(
                "read %d of %d records of a failed batch from %s/%s",
                len(records),
                batch.batch_size,
                name,
                batch.shard_id,
            )
        return StreamRead(events=events)

    def _records_in_range(self, name: str, batch: StreamBatch) -> Iterator[dict]:
        start, end = int(batch.start_sequence), int(batch.end_sequence)
        wanted = batch.batch_size or None
        iterator = self.client.get_shard_iterator(
            StreamName=name,
            ShardId=batch.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            StartingSequenceNumber=batch.start_sequence,
        )["ShardIterator"]

        found = 0
        for _ in range(self.max_calls):
            limit = min(MAX_RECORDS_PER_CALL, (wanted - found) if wanted else 1000)
            response = self.client.get_records(ShardIterator=iterator, Limit=limit)
            for record in response.get("Records", []):
                sequence = int(record["SequenceNumber"])
                if sequence > end:
                    return
                if sequence >= start:
                    found += 1
                    yield record
                    if wanted and found >= wanted:
                        return
            iterator = response.get("NextShardIterator")
            caught_up = response.get("MillisBehindLatest", 0) == 0
            if not iterator or (caught_up and not response.get("Records")):
                return
        # Neither the end of the range nor the end of the shard was reached:
        # storing what was read would drop the rest of the batch unseen.
        raise StreamReadError(
            f"read {found} of {wanted or 'unknown'} records of {name}/"
            f"{batch.shard_id} from {batch.start_sequence} in {self.max_calls} "
            "GetRecords calls without reaching the end of the batch; the "
            "message is left on the queue"
        )


def unpack(record: dict[str, Any], shard_id: str) -> list[StreamEvent]:
    """A GetRecords record as its user records (one unless KPL-aggregated)."""
    data: bytes = record["Data"]
    sequence = str(record["SequenceNumber"])
    partition_key = record.get("PartitionKey")
    if not data.startswith(MAGIC):
        return [StreamEvent(shard_id, sequence, 0, data, partition_key)]

    # The deaggregator expects a record shaped like Lambda's Kinesis event;
    # it checks the digest and gives a bad aggregate back as one record.
    lambda_record = {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "sequenceNumber": sequence,
            "partitionKey": partition_key,
            "approximateArrivalTimestamp": record.get("ApproximateArrivalTimestamp"),
            "data": base64.b64encode(data),
        }
    }
    events = []
    for user in iter_deaggregate_records(lambda_record):
        kinesis = user["kinesis"]
        events.append(
            StreamEvent(
                shard_id=shard_id,
                sequence_number=sequence,
                sub_sequence_number=int(kinesis.get("subSequenceNumber", 0)),
                data=base64.b64decode(kinesis["data"]),
                partition_key=kinesis.get("partitionKey"),
                aggregated=bool(kinesis.get("aggregated", False)),
            )
        )
    return events
