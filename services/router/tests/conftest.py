"""Builders shared by the router's tests: Kinesis records and a fake Lambda."""

import base64
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[3]
SHARED_DATA = REPO.parent / "shared" / "data"
SHARD = "shardId-000000000007"


def kinesis_record(data: bytes | str, sequence: str, shard: str = SHARD) -> dict:
    """A record as the Kinesis event source mapping hands it to Lambda."""
    if isinstance(data, bytes):
        data = base64.b64encode(data).decode("ascii")
    return {
        "eventSource": "aws:kinesis",
        "eventID": f"{shard}:{sequence}",
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "pk",
            "sequenceNumber": sequence,
            "data": data,
            "approximateArrivalTimestamp": 1700000000.0,
        },
    }


def event_record(event: dict, sequence: str) -> dict:
    return kinesis_record(json.dumps(event).encode(), sequence)


def client_error(code: str, status: int, operation: str = "Invoke") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} from the fake"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


class FakeLambda:
    """Records Invoke calls; a function may be told to fail with an error."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.failures: dict[str, Exception] = {}
        self._lock = threading.Lock()

    def invoke(self, **request: Any) -> dict[str, Any]:
        with self._lock:
            self.calls.append(request)
        failure = self.failures.get(request["FunctionName"])
        if failure is not None:
            raise failure
        return {"StatusCode": 202}

    def payloads(self, function: str | None = None) -> list[dict[str, Any]]:
        return [
            json.loads(call["Payload"])
            for call in self.calls
            if function is None or call["FunctionName"] == function
        ]


@pytest.fixture
def fake_lambda() -> FakeLambda:
    return FakeLambda()


@pytest.fixture
def github_events() -> list[dict]:
    path = SHARED_DATA / "github-events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line]


class Kinesis:
    """The record builders, handed to tests as the ``kinesis`` fixture."""

    shard = SHARD
    record = staticmethod(kinesis_record)
    event = staticmethod(event_record)
    error = staticmethod(client_error)


@pytest.fixture
def kinesis() -> type[Kinesis]:
    return Kinesis
