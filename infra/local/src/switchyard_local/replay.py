"""Replay events into the local system, the two ways back ends send them.

Half go as KPL-aggregated records (``aws_kinesis_agg``) written straight to
Kinesis with ``PutRecords``, as a back end using the KPL would; the other
half go one by one through the API's ``POST /events``.
"""

import json
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aws_kinesis_agg.aggregator import RecordAggregator

from switchyard_local.errors import LocalRuntimeError

Progress = Callable[[int], None]


class ReplayError(LocalRuntimeError):
    """An event could not be sent."""


def load_events(path: Path) -> list[dict[str, Any]]:
    """The events of a JSON-lines file, in order."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def aggregated_records(
    events: Iterable[dict[str, Any]], per_record: int = 25
) -> list[dict[str, Any]]:
    """PutRecords entries, each a KPL aggregate of up to ``per_record`` events."""
    entries = []
    aggregator = RecordAggregator()
    for count, event in enumerate(events):
        full = aggregator.add_user_record(
            str(event.get("id", count)), json.dumps(event).encode()
        )
        if full is not None:
            entries.append(full)
        if aggregator.get_num_user_records() >= per_record:
            entries.append(aggregator.clear_and_get())
    last = aggregator.clear_and_get()
    if last is not None:
        entries.append(last)
    records = []
    for aggregate in entries:
        partition_key, explicit_hash_key, data = aggregate.get_contents()
        record = {"Data": data, "PartitionKey": partition_key}
        if explicit_hash_key:
            record["ExplicitHashKey"] = explicit_hash_key
        records.append(record)
    return records


def put_aggregated(
    kinesis: Any,
    stream_name: str,
    events: list[dict[str, Any]],
    progress: Progress | None = None,
    per_record: int = 25,
) -> int:
    """Write the events as aggregated records; the number of user records sent."""
    records = aggregated_records(events, per_record)
    sent = 0
    for start in range(0, len(records), 100):
        chunk = records[start : start + 100]
        answer = kinesis.put_records(StreamName=stream_name, Records=chunk)
        if answer.get("FailedRecordCount"):
            raise ReplayError(
                f"PutRecords to {stream_name} refused {answer['FailedRecordCount']} "
                "aggregated records"
            )
    for _ in events:
        sent += 1
        if progress:
            progress(1)
    return sent


def post_events(
    api_url: str,
    token: str,
    events: list[dict[str, Any]],
    progress: Progress | None = None,
) -> int:
    """POST each event to ``<api>/events`` with a bearer token; the number sent."""
    sent = 0
    for event in events:
        request = urllib.request.Request(  # noqa: S310 - the local API on loopback
            f"{api_url}/events",
            data=json.dumps(event).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                answer.read()
        except OSError as exc:
            raise ReplayError(
                f"POST /events of event {event.get('id')}: {exc}"
            ) from exc
        sent += 1
        if progress:
            progress(1)
    return sent
