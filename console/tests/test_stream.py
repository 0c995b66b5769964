"""Reading the newest events from the stream, KPL aggregates included."""

import json
from pathlib import Path

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator

from switchyard_console.ops import stream
from tests.conftest import STREAM, VALID_RULES

pytestmark = [pytest.mark.functional, pytest.mark.django_db]

GITHUB = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "github-events.jsonl"
)


def _github_events(count: int) -> list[dict]:
    with GITHUB.open() as lines:
        return [json.loads(next(lines)) for _ in range(count)]


def test_plain_and_aggregated_records_are_all_read(aws):
    events = _github_events(6)
    for event in events[:2]:
        aws.kinesis.put_record(
            StreamName=STREAM, Data=json.dumps(event).encode(), PartitionKey="p"
        )
    aggregator = RecordAggregator()
    for event in events[2:]:
        aggregator.add_user_record("p", json.dumps(event).encode())
    key, _, data = aggregator.clear_and_get().get_contents()
    aws.kinesis.put_record(StreamName=STREAM, Data=data, PartitionKey=key)

    read = stream.latest_events(STREAM, limit=10, client=aws.kinesis)

    assert [e.event["id"] for e in read.events] == [e["id"] for e in events]
    aggregated = [
        e for e in read.events if e.sequence_number == read.events[-1].sequence_number
    ]
    assert [e.sub_sequence_number for e in aggregated] == [0, 1, 2, 3]
    assert read.reached_end


def test_only_the_newest_are_kept(aws):
    for number in range(12):
        aws.kinesis.put_record(
            StreamName=STREAM, Data=json.dumps({"n": number}).encode(), PartitionKey="p"
        )

    read = stream.latest_events(STREAM, limit=5, client=aws.kinesis)

    assert [e.event["n"] for e in read.events] == [7, 8, 9, 10, 11]


def test_a_record_that_is_not_json_is_shown_as_such(aws):
    aws.kinesis.put_record(StreamName=STREAM, Data=b"\xff\x00", PartitionKey="p")

    read = stream.latest_events(STREAM, client=aws.kinesis)

    assert read.events[0].event is None
    assert "not a JSON event" in read.events[0].error


def test_dry_run_page_loads_the_stream_and_runs(aws, operator):
    aws.put_rules(VALID_RULES)
    for event in (
        {"type": "PushEvent", "id": "a"},
        {"type": "order.created", "total": 500},
    ):
        aws.kinesis.put_record(
            StreamName=STREAM, Data=json.dumps(event).encode(), PartitionKey="p"
        )

    page = operator.post(
        "/admin/console/routingrules/dry-run/",
        {"action": "load", "count": "10", "position": "TRIM_HORIZON"},
    )

    assert [r.matched for r in page.context["results"]] == [
        ["pushes-to-table"],
        ["new-orders-to-crm"],
    ]
    assert '"PushEvent"' in page.context["events_text"]


def test_latest_skips_what_is_already_there_and_waits_briefly(aws):
    aws.kinesis.put_record(StreamName=STREAM, Data=b'{"old": true}', PartitionKey="p")

    read = stream.latest_events(
        STREAM, position="LATEST", wait_seconds=0.2, client=aws.kinesis
    )

    assert read.events == []
    assert read.calls >= 1


def test_an_unknown_position_is_refused(aws):
    from switchyard_console.ops.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        stream.latest_events(STREAM, position="AT_SEQUENCE_NUMBER", client=aws.kinesis)
