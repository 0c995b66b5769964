"""Replay encoding, the webhook receiver's failures, the site config, tallies."""

import json
from collections import Counter
from pathlib import Path

import aws_kinesis_agg.aggregator as kpl
import pytest
from werkzeug.test import Client

from switchyard_local.accounting import tally
from switchyard_local.replay import aggregated_records
from switchyard_local.site_server import SiteApp, site_config
from switchyard_local.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.unit


def test_aggregated_records_unpack_to_the_same_events_in_order():
    events = [{"id": str(i), "type": "PushEvent"} for i in range(60)]

    records = aggregated_records(events, per_record=25)

    assert len(records) == 3
    assert all(r["Data"][:4] == b"\xf3\x89\x9a\xc2" for r in records)
    decoded = []
    for record in records:
        aggregate = kpl.messages_pb2.AggregatedRecord()
        # KPL layout: 4 magic bytes, the protobuf message, a 16-byte MD5.
        aggregate.ParseFromString(record["Data"][4:-16])
        decoded.extend(json.loads(r.data) for r in aggregate.records)
    assert decoded == events


def test_receiver_fails_some_ids_once_and_a_few_for_good():
    receiver = WebhookReceiver(transient_per_256=128, permanent_per_256=64)
    client = Client(receiver)
    ids = [str(i) for i in range(200)]

    first = {
        i: client.post("/", headers={"X-Switchyard-Event-Id": i}).status_code
        for i in ids
    }
    second = {
        i: client.post("/", headers={"X-Switchyard-Event-Id": i}).status_code
        for i in ids
    }

    assert {first[i] for i in ids} == {200, 422, 503}
    assert all(second[i] == 200 for i in ids if first[i] == 503)
    assert all(second[i] == 422 for i in ids if first[i] == 422)
    duplicated = [i for i, n in receiver.accepted.items() if n > 1]
    assert duplicated == [i for i in ids if first[i] == 200]


def test_site_serves_files_and_the_generated_config(tmp_path: Path):
    (tmp_path / "index.html").write_text("<h1>hi</h1>")
    config = site_config(
        api_url="http://api",
        region="us-east-1",
        user_pool_id="p",
        client_id="c",
        cognito_url="http://moto",
    )
    client = Client(SiteApp(tmp_path, config))

    assert client.get("/").data == b"<h1>hi</h1>"
    assert client.get("/config.json").get_json() == {
        "apiUrl": "http://api",
        "region": "us-east-1",
        "userPoolId": "p",
        "clientId": "c",
        "cognitoEndpoint": "http://moto",
    }
    assert client.get("/../../etc/passwd").status_code == 404


def test_tally_adds_up_and_names_lost_and_duplicated_events():
    result = tally(
        sent_ids=["a", "b", "c", "d", "e"],
        expected={"a", "b", "c"},
        deliveries=Counter({"a": 1, "b": 2}),
        parked_ids=["d"],
    )

    assert (result.sent, result.delivered, result.parked, result.unrouted) == (
        5,
        2,
        1,
        2,
    )
    assert result.adds_up
    assert result.lost == ["c"]
    assert result.duplicated == ["b"]
    assert result.unexpected == ["d"]
    assert not result.clean
