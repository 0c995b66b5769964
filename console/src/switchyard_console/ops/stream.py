"""The newest events on the stream, for dry runs.

Reads each shard with GetShardIterator and a bounded number of GetRecords
calls, unpacks KPL-aggregated records (magic bytes F3 89 9A C2) into their
user records, and keeps the newest. ``TRIM_HORIZON`` reads from the start of
retention and keeps the tail; ``LATEST`` waits briefly for events that arrive
after the request.

Limitation: on a long stream, TRIM_HORIZON with a bounded number of calls
reaches only the oldest part of retention; the page says how many calls were
made and whether the end of a shard was reached.
"""

import base64
import time
from dataclasses import dataclass
from typing import Any

from aws_kinesis_agg.deaggregator import iter_deaggregate_records

from switchyard_console.ops import aws, json_input
from switchyard_console.ops.errors import InvalidInputError, NotConfiguredError

POSITIONS = ("TRIM_HORIZON", "LATEST")


@dataclass(frozen=True)
class StreamEvent:
    shard_id: str
    sequence_number: str
    sub_sequence_number: int
    partition_key: str
    arrived: Any
    event: Any
    error: str

    @property
    def label(self) -> str:
        return f"{self.shard_id}:{self.sequence_number}:{self.sub_sequence_number}"


@dataclass(frozen=True)
class StreamRead:
    events: list[StreamEvent]
    calls: int
    reached_end: bool


def _user_records(records: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bytes]]:
    """Each stored record's user records with their data as bytes."""
    unpacked = []
    for record in iter_deaggregate_records(records, data_format="Boto3"):
        kinesis = record["kinesis"]
        data = kinesis["data"]
        # Records unpacked from an aggregate come back base64-encoded, the
        # way Lambda delivers them; plain records keep boto3's raw bytes.
        if kinesis.get("aggregated"):
            data = base64.b64decode(data)
        unpacked.append((kinesis, data))
    return unpacked


def _decode(data: bytes) -> tuple[Any, str]:
    try:
        return json_input.loads(data.decode("utf-8")), ""
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"not a JSON event: {exc}"


def _order(event: StreamEvent) -> tuple[float, int, int]:
    arrived = event.arrived.timestamp() if hasattr(event.arrived, "timestamp") else 0
    number = event.sequence_number
    # Sequence numbers are decimal strings of any length: compare as integers.
    return arrived, int(number) if number.isdigit() else 0, event.sub_sequence_number


def latest_events(
    stream_name: str,
    *,
    limit: int = 10,
    position: str = "TRIM_HORIZON",
    max_calls: int = 20,
    wait_seconds: float = 3.0,
    client: Any | None = None,
) -> StreamRead:
    """Up to ``limit`` of the newest events across every shard."""
    if not stream_name:
        raise NotConfiguredError("EVENTS_STREAM_NAME", "read events from the stream")
    if position not in POSITIONS:
        raise InvalidInputError(f"position must be one of {', '.join(POSITIONS)}")
    kinesis = client or aws.client("kinesis")

    with aws.calling("ListShards", stream_name):
        shards = kinesis.list_shards(StreamName=stream_name)["Shards"]

    found: list[StreamEvent] = []
    calls = 0
    reached_end = True
    deadline = time.monotonic() + wait_seconds
    for shard in shards:
        shard_id = shard["ShardId"]
        with aws.calling("GetShardIterator", f"{stream_name}/{shard_id}"):
            iterator = kinesis.get_shard_iterator(
                StreamName=stream_name, ShardId=shard_id, ShardIteratorType=position
            )["ShardIterator"]
        shard_done = False
        while iterator and calls < max_calls:
            with aws.calling("GetRecords", f"{stream_name}/{shard_id}"):
                response = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            calls += 1
            for kinesis_record, data in _user_records(response.get("Records", [])):
                event, error = _decode(data)
                found.append(
                    StreamEvent(
                        shard_id=shard_id,
                        sequence_number=str(kinesis_record["sequenceNumber"]),
                        sub_sequence_number=int(
                            kinesis_record.get("subSequenceNumber") or 0
                        ),
                        partition_key=str(kinesis_record.get("partitionKey", "")),
                        arrived=kinesis_record.get("approximateArrivalTimestamp"),
                        event=event,
                        error=error,
                    )
                )
            iterator = response.get("NextShardIterator")
            caught_up = response.get("MillisBehindLatest", 0) == 0
            if caught_up and not response.get("Records"):
                if position == "LATEST" and time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                shard_done = True
                break
        reached_end = reached_end and shard_done

    found.sort(key=_order)
    return StreamRead(events=found[-limit:], calls=calls, reached_end=reached_end)
