"""The Lambda entry point with real boto3 clients end to end.

S3 and SQS are the moto server; ``lambda:Invoke`` goes to a tiny HTTP server
on 127.0.0.1 that speaks the Invoke API (moto cannot run functions), found
through ``AWS_ENDPOINT_URL_LAMBDA`` as in the local runtime.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import boto3
import pytest

import router.handler as entry
from switchyard_contracts import DeliveryBatch

pytestmark = pytest.mark.functional


class InvokeServer:
    """Accepts async invokes; answers 429 for functions named as throttled."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []
        self.throttled: set[str] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                name = self.path.split("/functions/", 1)[1].split("/", 1)[0]
                kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
                outer.received.append((name, kind, body))
                if name in outer.throttled:
                    self.send_response(429)
                    self.send_header("x-amzn-ErrorType", "TooManyRequestsException")
                    payload = b'{"Type":"User","message":"Rate exceeded"}'
                else:
                    self.send_response(202)
                    payload = b""
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "InvokeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def invoke_server(aws_server, monkeypatch):
    with InvokeServer() as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.url)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
        monkeypatch.setenv("AWS_RETRY_MODE", "standard")
        yield server
    entry._router = None


def test_the_handler_routes_a_batch_through_real_clients(
    invoke_server, monkeypatch, kinesis, caplog
):
    s3, sqs = boto3.client("s3"), boto3.client("sqs")
    s3.create_bucket(Bucket="rules")
    s3.create_bucket(Bucket="payloads")
    queue = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    s3.put_object(
        Bucket="rules",
        Key="rules/rules.json",
        Body=json.dumps(
            {
                "rules": [
                    {
                        "name": "push",
                        "pattern": {"type": ["PushEvent"]},
                        "targets": [{"connector": "webhook"}],
                    },
                    {
                        "name": "watch",
                        "pattern": {"type": ["WatchEvent"]},
                        "targets": [{"connector": "slow"}],
                    },
                ]
            }
        ).encode(),
    )
    for name, value in {
        "RULES_BUCKET": "rules",
        "PAYLOAD_BUCKET": "payloads",
        "DEAD_LETTER_QUEUE_URL": queue,
        "CONNECTOR_FUNCTIONS": json.dumps({"webhook": "fn-hook", "slow": "fn-slow"}),
    }.items():
        monkeypatch.setenv(name, value)
    entry._router = None
    invoke_server.throttled.add("fn-slow")
    records = [
        kinesis.event({"id": "p1", "type": "PushEvent"}, "10"),
        kinesis.event({"id": "w1", "type": "WatchEvent"}, "11"),
        kinesis.event({"id": "x1", "type": "ForkEvent"}, "12"),
    ]
    context = SimpleNamespace(
        function_name="switchyard-test-router",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:router",
        aws_request_id="req-1",
    )

    response = entry.handler({"Records": records}, context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "11"}]}
    hook = [r for r in invoke_server.received if r[0] == "fn-hook"]
    assert [(name, kind) for name, kind, _ in hook] == [("fn-hook", "Event")]
    batch = DeliveryBatch.from_dict(json.loads(hook[0][2]))
    assert [d.event_id for d in batch.deliveries] == ["p1"]
    (record,) = [r for r in caplog.records if r.getMessage() == "batch routed"]
    summary = json.loads(entry.logger.registered_formatter.format(record))
    assert summary["service"] == "router"
    assert (summary["records"], summary["matched"], summary["unrouted"]) == (3, 2, 1)
    assert (summary["invoke_calls"], summary["retried"]) == (2, 1)
    assert summary["function_request_id"] == "req-1"
