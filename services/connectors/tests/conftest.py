"""Fixtures: moto for AWS, a scripted HTTP server on 127.0.0.1, runners."""

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from connectors.batch import BatchRunner
from connectors.budget import Deadline
from connectors.credentials import CredentialStore
from connectors.deadletters import DeadLetterQueue
from connectors.dedupe import DeliveryLedger
from connectors.dynamodb import DynamoDbConnector
from connectors.payloads import EventLoader
from connectors.settings import Settings
from connectors.webhook import WebhookConnector
from switchyard_contracts import Delivery, DeliveryBatch, FailureRecord
from switchyard_local.moto_server import free_port

_deserializer = TypeDeserializer()
DATA_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data"
QUEUE = "switchyard-test-dead-letters"
IDEMPOTENCY_TABLE = "switchyard-test-idempotency"
DELIVERY_TABLE = "switchyard-test-deliveries"
PAYLOAD_BUCKET = "switchyard-test-payloads"


@dataclass
class Answer:
    """One scripted answer of the test HTTP server."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    # Every header line as sent, repeats included (``headers`` keeps one).
    header_lines: list[tuple[str, str]] = field(default_factory=list)


class HookServer:
    """A real HTTP server on 127.0.0.1 answering from a script, then 200."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.script: list[Answer] = []
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with owner._lock:
                    owner.requests.append(
                        Received(
                            self.path,
                            dict(self.headers.items()),
                            body,
                            list(self.headers.items()),
                        )
                    )
                    answer = owner.script.pop(0) if owner.script else Answer()
                time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up waiting: that is the test

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self.scheme = "https"
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def reply(
        self,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: bytes = b"ok",
        delay: float = 0.0,
        times: int = 1,
    ) -> "HookServer":
        """Script the next ``times`` answers; after the script, 200 ok."""
        self.script.extend(
            Answer(status, headers or {}, body, delay) for _ in range(times)
        )
        return self

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/hook"

    def start(self) -> "HookServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class DripServer:
    """Sends ``head`` at once, then ``drip`` every ``every`` seconds until the
    client goes away or ``give_up`` seconds pass."""

    def __init__(
        self,
        head: bytes,
        drip: bytes = b"x",
        every: float = 0.05,
        give_up: float = 6.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.tls = tls
        self.head = head
        self.drip = drip
        self.every = every
        self.give_up = give_up
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        ends = time.monotonic() + self.give_up
        with conn:
            try:
                conn.settimeout(1.0)
                if self.tls is not None:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                conn.recv(65536)
                conn.sendall(self.head)
                while time.monotonic() < ends and not self._stop.is_set():
                    time.sleep(self.every)
                    conn.sendall(self.drip)
            except OSError:
                return  # the client hung up: what the test wants

    def __enter__(self) -> "DripServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()


@pytest.fixture
def hook() -> Iterator[HookServer]:
    server = HookServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on, below the ephemeral range.

    An ephemeral port could be the one the kernel gives the connector's own
    connection, which then connects to itself instead of being refused.
    """
    return free_port()


@dataclass
class Aws:
    """moto resources every connector test uses, and readers for them."""

    queue_url: str
    sqs: Any = field(repr=False)
    dynamodb: Any = field(repr=False)
    s3: Any = field(repr=False)

    def failure_records(self) -> list[FailureRecord]:
        records = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10
            ).get("Messages", [])
            if not messages:
                return records
            for message in messages:
                records.append(FailureRecord.from_dict(json.loads(message["Body"])))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )

    def items(self, table: str = DELIVERY_TABLE) -> list[dict[str, Any]]:
        found = self.dynamodb.scan(TableName=table, ConsistentRead=True)["Items"]
        return [{k: _deserializer.deserialize(v) for k, v in i.items()} for i in found]

    def ledger_item(self, key: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(
            TableName=IDEMPOTENCY_TABLE, Key={"id": {"S": key}}, ConsistentRead=True
        ).get("Item")

    def create_table(self, name: str, key: str = "id") -> None:
        self.dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )


class Clients:
    """boto3 clients made once per session: making them is the slow part.

    moto registers its interception in botocore when imported, so clients
    made after that answer from moto while a test's ``mock_aws`` is active.
    They are only handed out through the ``aws`` fixture, which is.
    """

    def __init__(self) -> None:
        import moto  # noqa: F401 - must be imported before any client is made

        self._made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = boto3.client(
                service,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._made[service]


@pytest.fixture(scope="session")
def clients() -> Clients:
    return Clients()


@pytest.fixture
def aws(mock_aws_inprocess: None, clients: Clients) -> Aws:
    sqs = clients("sqs")
    dynamodb = clients("dynamodb")
    s3 = clients("s3")
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    dynamodb.create_table(
        TableName=IDEMPOTENCY_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    s3.create_bucket(Bucket=PAYLOAD_BUCKET)
    found = Aws(queue_url, sqs, dynamodb, s3)
    found.create_table(DELIVERY_TABLE)
    return found


def test_settings(aws: Aws, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "dead_letter_queue_url": aws.queue_url,
        "payload_bucket": PAYLOAD_BUCKET,
        "idempotency_table": IDEMPOTENCY_TABLE,
        "delivery_table_prefix": "switchyard-test-",
        "webhook_allowlist": "127.0.0.1/32",
        "webhook_max_attempts": 4,
        "webhook_connect_timeout": 1.0,
        "webhook_read_timeout": 1.0,
        "backoff_base_seconds": 0.01,
        "backoff_cap_seconds": 0.05,
        "reserve_seconds": 0.0,
    }
    values.update(overrides)
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]


def _runner(aws: Aws, connector: Any, settings: Settings) -> BatchRunner:
    client = lambda: aws.s3  # noqa: E731
    return BatchRunner(
        connector,
        EventLoader(settings.payload_bucket, settings.max_event_bytes, client),
        DeadLetterQueue(
            settings.dead_letter_queue_url,
            lambda: aws.sqs,
            client,
            settings.payload_bucket,
            settings.dead_letter_message_limit_bytes,
        ),
    )


@pytest.fixture
def webhook_runner(aws: Aws, clients: Clients) -> Callable[..., BatchRunner]:
    """Build a webhook runner; keyword arguments override settings."""

    def build(
        resolver: Any = None, tls_context: Any = None, **overrides: Any
    ) -> BatchRunner:
        settings = test_settings(aws, **overrides)
        ledger = (
            DeliveryLedger(
                settings.idempotency_table,
                settings.idempotency_ttl_seconds,
                lambda: aws.dynamodb,
            )
            if settings.idempotency_table
            else None
        )
        credentials = CredentialStore(
            lambda: clients("ssm"), lambda: clients("secretsmanager"), 60
        )
        extra: dict[str, Any] = {"tls_context": tls_context}
        if resolver is not None:
            extra["resolver"] = resolver
        connector = WebhookConnector(settings, credentials, ledger, **extra)
        return _runner(aws, connector, settings)

    return build


@pytest.fixture
def dynamodb_runner(aws: Aws) -> Callable[..., BatchRunner]:
    def build(**overrides: Any) -> BatchRunner:
        settings = test_settings(aws, **overrides)
        connector = DynamoDbConnector(
            lambda: aws.dynamodb, settings.delivery_table_prefix
        )
        return _runner(aws, connector, settings)

    return build


def batch(
    connector: str,
    params: dict[str, Any],
    events: list[dict[str, Any]],
    rule: str = "test-rule",
) -> dict[str, Any]:
    """A delivery batch payload, as the router sends it."""
    deliveries = [
        Delivery(
            event_id=str(event.get("id", f"evt-{i}")),
            rule=rule,
            correlation_id=f"corr-{event.get('id', i)}",
            event=event,
        )
        for i, event in enumerate(events)
    ]
    return DeliveryBatch(
        target={"connector": connector, "params": params}, deliveries=deliveries
    ).to_dict()


def deadline(seconds: float = 20.0) -> Deadline:
    return Deadline.after(seconds)


def github_events(count: int) -> list[dict[str, Any]]:
    """Real events from the shared data set."""
    lines = (DATA_DIR / "github-events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines[:count]]


class Kit:
    """Helpers for test modules (conftest itself is not importable)."""

    batch = staticmethod(batch)
    deadline = staticmethod(deadline)
    github_events = staticmethod(github_events)
    settings = staticmethod(test_settings)
    hook_server = HookServer
    drip_server = DripServer
    payload_bucket = PAYLOAD_BUCKET
    delivery_table = DELIVERY_TABLE
    idempotency_table = IDEMPOTENCY_TABLE


@pytest.fixture
def kit() -> Kit:
    return Kit()
