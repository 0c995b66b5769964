"""The embedded moto server starts on loopback, answers, resets and stops."""

import socket
import urllib.request

import boto3
import pytest

from switchyard_local.moto_server import MotoServer, MotoServerError

pytestmark = pytest.mark.functional


def _port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_server_answers_on_loopback_and_stops_cleanly(aws_env):
    server = MotoServer().start()
    try:
        assert server.endpoint_url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{server.endpoint_url}/moto-api/data.json") as r:
            assert r.status == 200
        s3 = boto3.client("s3", endpoint_url=server.endpoint_url)
        s3.create_bucket(Bucket="switchyard-probe")
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["switchyard-probe"]
    finally:
        server.stop()
    assert not _port_is_open(server.port)
    server.stop()  # a second stop is harmless


def test_reset_forgets_every_resource(aws_server):
    s3 = boto3.client("s3", endpoint_url=aws_server)
    s3.create_bucket(Bucket="switchyard-probe")
    urllib.request.urlopen(
        urllib.request.Request(f"{aws_server}/moto-api/reset", method="POST")
    ).close()
    assert s3.list_buckets()["Buckets"] == []


def test_aws_server_fixture_points_clients_at_the_server(aws_server, monkeypatch):
    # No endpoint_url given: the standard AWS_ENDPOINT_URL variable routes it.
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="probe")["QueueUrl"]
    assert url.endswith("/probe")
    assert aws_server.startswith("http://127.0.0.1:")


def test_a_server_that_cannot_bind_reports_why(aws_env, moto_server):
    clash = MotoServer(port=moto_server.port)
    with pytest.raises(MotoServerError, match="already in use"):
        clash.start(timeout=10)
    clash.stop()


def test_in_process_mock_needs_no_server(mock_aws_inprocess):
    table = boto3.client("dynamodb").create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert table["TableDescription"]["TableName"] == "t"
