"""Functional tests: the webhook connector against a real HTTP server on
127.0.0.1 and moto (SQS dead letters, the idempotency table, secrets)."""

import json
import socket
import time
from typing import Any

import pytest

from switchyard_contracts import DeliveryBatch

pytestmark = pytest.mark.functional


def only_record(aws: Any) -> Any:
    records = aws.failure_records()
    assert len(records) == 1, records
    return records[0]


def test_event_is_posted_once_with_a_stable_idempotency_key(
    aws, hook, webhook_runner, kit
) -> None:
    events = kit.github_events(2)
    payload = kit.batch("webhook", {"url": hook.url}, events)
    target_id = DeliveryBatch.from_dict(payload).target_id

    result = webhook_runner().run(payload, kit.deadline())

    assert result["counts"] == {"delivered": 2, "duplicate": 0, "failed": 0}
    assert [json.loads(r.body) for r in hook.requests] == events
    first = hook.requests[0].headers
    assert first["Idempotency-Key"] == f"{target_id}#{events[0]['id']}"
    assert first["Content-Type"] == "application/json"
    assert first["Host"] == f"127.0.0.1:{hook.port}"
    assert first["X-Correlation-Id"] == f"corr-{events[0]['id']}"
    item = aws.ledger_item(f"{target_id}#{events[0]['id']}")
    assert item["status"]["S"] == "done"
    assert int(item["expiration"]["N"]) > time.time()
    assert aws.failure_records() == []


def test_repeated_batch_is_skipped_as_duplicates_without_a_post(
    aws, hook, webhook_runner, kit
) -> None:
    payload = kit.batch("webhook", {"url": hook.url}, kit.github_events(3))
    webhook_runner().run(payload, kit.deadline())

    # A Lambda async retry or a Kinesis retry brings the same batch again,
    # to a fresh container (a new ledger owner).
    result = webhook_runner().run(payload, kit.deadline())

    assert result["counts"] == {"delivered": 0, "duplicate": 3, "failed": 0}
    assert len(hook.requests) == 3
    assert aws.failure_records() == []


def test_server_failing_twice_is_retried_until_it_accepts(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(503, times=1).reply(500, times=1)
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1", "n": 1}])

    result = webhook_runner().run(payload, kit.deadline())

    assert result["results"] == [
        {"event_id": "e1", "outcome": "delivered", "attempts": 3}
    ]
    keys = {r.headers["Idempotency-Key"] for r in hook.requests}
    assert len(hook.requests) == 3 and len(keys) == 1
    assert aws.failure_records() == []


def test_server_failing_every_time_ends_in_one_retryable_record(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(502, body=b"bad gateway", times=10)
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])

    result = webhook_runner(webhook_max_attempts=3).run(payload, kit.deadline())

    assert result["counts"]["failed"] == 1
    assert len(hook.requests) == 3
    record = only_record(aws)
    assert record.error.type == "WebhookHttpError"
    assert record.error.retryable is True
    assert "answered 502: bad gateway" in record.error.message
    assert "gave up after 3 attempts" in record.error.message
    assert record.attempts == 3
    assert record.origin == "connector"
    assert record.event == {"id": "e1"}
    assert record.target == {"connector": "webhook", "params": {"url": hook.url}}
    assert record.correlation_id == "corr-e1"


def test_client_error_is_not_retried_and_a_redrive_delivers_it(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(400, body=b"missing field")
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])

    webhook_runner().run(payload, kit.deadline())

    assert len(hook.requests) == 1
    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == ("WebhookHttpError", False)
    assert "400: missing field" in record.error.message
    # The failed claim was released, so a redrive of the record delivers.
    result = webhook_runner().run(payload, kit.deadline())
    assert result["counts"]["delivered"] == 1
    assert len(hook.requests) == 2


def test_too_many_requests_waits_for_retry_after(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(429, headers={"Retry-After": "1"})
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])

    started = time.monotonic()
    result = webhook_runner().run(payload, kit.deadline())

    assert result["counts"]["delivered"] == 1
    assert time.monotonic() - started >= 1.0
    assert len(hook.requests) == 2


def test_retry_after_beyond_the_time_left_gives_up_at_once(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(503, headers={"Retry-After": "120"})
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])

    started = time.monotonic()
    webhook_runner().run(payload, kit.deadline(5))

    # Far less than the 120 s asked for: it did not wait.
    assert time.monotonic() - started < 10
    assert len(hook.requests) == 1
    record = only_record(aws)
    assert record.error.retryable is True
    assert "Retry-After 120 s" in record.error.message


def test_slow_answer_times_out_and_the_retry_succeeds(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(200, delay=1.5)
    payload = kit.batch("webhook", {"url": hook.url, "timeout": 0.3}, [{"id": "e1"}])

    result = webhook_runner().run(payload, kit.deadline())

    assert result["results"][0] == {
        "event_id": "e1",
        "outcome": "delivered",
        "attempts": 2,
    }
    assert aws.failure_records() == []


def test_always_slow_server_ends_in_a_timeout_record(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(200, delay=1.0, times=5)
    payload = kit.batch("webhook", {"url": hook.url, "timeout": 0.2}, [{"id": "e1"}])

    webhook_runner(webhook_max_attempts=2).run(payload, kit.deadline())

    record = only_record(aws)
    assert record.error.type == "WebhookTransportError"
    assert "timed out" in record.error.message
    assert record.attempts == 2


def test_redirect_is_not_followed(aws, hook, webhook_runner, kit) -> None:
    hook.reply(302, headers={"Location": "http://169.254.169.254/latest/"})
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])

    webhook_runner().run(payload, kit.deadline())

    assert len(hook.requests) == 1
    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == ("RedirectRefused", False)
    assert "169.254.169.254" in record.error.message


def test_refused_connection_is_retried_then_recorded(
    aws, closed_port, webhook_runner, kit
) -> None:
    url = f"http://127.0.0.1:{closed_port}/hook"
    payload = kit.batch("webhook", {"url": url}, [{"id": "e1"}])

    webhook_runner(webhook_max_attempts=3).run(payload, kit.deadline())

    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == (
        "WebhookTransportError",
        True,
    )
    assert record.attempts == 3


def test_large_error_body_is_read_only_up_to_the_bound(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(400, body=b"x" * 2_000_000)
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])

    webhook_runner(webhook_max_response_bytes=1024).run(payload, kit.deadline())

    record = only_record(aws)
    assert len(record.error.message) < 1000


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record and refuse every attempt to open a socket connection."""
    opened: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        raise AssertionError(f"a connection was opened: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return opened


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://169.254.169.254/",
        "https://10.0.0.1/hook",
        "http://10.0.0.1/hook",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/",
    ],
)
def test_blocked_addresses_are_refused_without_opening_a_connection(
    aws, no_connections, webhook_runner, kit, url: str
) -> None:
    payload = kit.batch("webhook", {"url": url}, [{"id": "e1"}])

    result = webhook_runner().run(payload, kit.deadline())

    assert no_connections == []
    assert result["results"] == [{"event_id": "e1", "outcome": "failed", "attempts": 0}]
    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == ("BlockedDestination", False)


def test_host_name_resolving_to_the_metadata_address_is_refused(
    aws, no_connections, webhook_runner, kit
) -> None:
    # DNS that answers with an internal address must not open a way in.
    payload = kit.batch(
        "webhook", {"url": "https://rebind.example.com/x"}, [{"id": "e1"}]
    )

    webhook_runner(resolver=lambda host, port: ["169.254.169.254"]).run(
        payload, kit.deadline()
    )

    assert no_connections == []
    assert "instance metadata" in only_record(aws).error.message


def test_connection_goes_to_the_checked_address_with_the_urls_host(
    aws, hook, webhook_runner, kit
) -> None:
    port = hook.port
    url = f"http://hooks.internal.test:{port}/hook"
    answers = iter([["127.0.0.1"], ["10.0.0.9"]])
    runner = webhook_runner(
        resolver=lambda host, port: next(answers),
        webhook_allowlist="127.0.0.1/32",
    )

    runner.run(kit.batch("webhook", {"url": url}, [{"id": "e1"}]), kit.deadline())

    assert hook.requests[0].headers["Host"] == f"hooks.internal.test:{port}"
    assert aws.failure_records() == []


def test_auth_headers_come_from_an_ssm_parameter(
    aws, clients, hook, webhook_runner, kit
) -> None:
    clients("ssm").put_parameter(
        Name="/switchyard/test/crm", Value="Bearer s3cret", Type="SecureString"
    )
    params = {"url": hook.url, "secret": "ssm:/switchyard/test/crm"}

    webhook_runner().run(kit.batch("webhook", params, [{"id": "e1"}]), kit.deadline())

    assert hook.requests[0].headers["Authorization"] == "Bearer s3cret"


def test_auth_headers_come_from_a_secrets_manager_json_object(
    aws, clients, hook, webhook_runner, kit
) -> None:
    clients("secretsmanager").create_secret(
        Name="crm-hook", SecretString=json.dumps({"X-Api-Key": "k-123"})
    )
    params = {"url": hook.url, "secret": "secretsmanager:crm-hook"}

    webhook_runner().run(kit.batch("webhook", params, [{"id": "e1"}]), kit.deadline())

    assert hook.requests[0].headers["X-Api-Key"] == "k-123"


def test_missing_secret_fails_each_delivery_without_a_post(
    aws, hook, webhook_runner, kit
) -> None:
    params = {"url": hook.url, "secret": "ssm:/switchyard/test/absent"}

    webhook_runner().run(kit.batch("webhook", params, [{"id": "e1"}]), kit.deadline())

    assert hook.requests == []
    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == ("CredentialsError", False)
    assert "ParameterNotFound" in record.error.message


def test_inline_authorization_header_is_refused_for_every_delivery(
    aws, hook, webhook_runner, kit
) -> None:
    params = {"url": hook.url, "headers": {"Authorization": "Bearer inline"}}
    payload = kit.batch("webhook", params, [{"id": "e1"}, {"id": "e2"}])

    result = webhook_runner().run(payload, kit.deadline())

    assert result["counts"]["failed"] == 2
    assert hook.requests == []
    records = aws.failure_records()
    assert sorted(r.event_id for r in records) == ["e1", "e2"]
    assert all(r.error.type == "InvalidTarget" for r in records)
    assert "params.secret" in records[0].error.message


def test_delivery_held_by_another_invocation_is_recorded_not_sent(
    aws, hook, webhook_runner, kit
) -> None:
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])
    key = f"{DeliveryBatch.from_dict(payload).target_id}#e1"
    aws.dynamodb.put_item(
        TableName=kit.idempotency_table,
        Item={
            "id": {"S": key},
            "status": {"S": "in_progress"},
            "owner": {"S": "someone-else"},
            "lease_until": {"N": str(int(time.time()) + 600)},
        },
    )

    webhook_runner().run(payload, kit.deadline())

    assert hook.requests == []
    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == ("InFlightElsewhere", True)


def test_expired_lease_of_a_crashed_invocation_is_taken_over(
    aws, hook, webhook_runner, kit
) -> None:
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])
    key = f"{DeliveryBatch.from_dict(payload).target_id}#e1"
    aws.dynamodb.put_item(
        TableName=kit.idempotency_table,
        Item={
            "id": {"S": key},
            "status": {"S": "in_progress"},
            "owner": {"S": "crashed"},
            "lease_until": {"N": str(int(time.time()) - 5)},
        },
    )

    result = webhook_runner().run(payload, kit.deadline())

    assert result["counts"]["delivered"] == 1
    assert aws.ledger_item(key)["status"]["S"] == "done"


def test_deliveries_left_when_time_runs_out_are_recorded_for_redrive(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(200, delay=0.6)
    events = [{"id": f"e{i}"} for i in range(3)]
    payload = kit.batch("webhook", {"url": hook.url, "timeout": 5}, events)

    result = webhook_runner().run(payload, kit.deadline(0.5))

    outcomes = [r["outcome"] for r in result["results"]]
    records = aws.failure_records()
    assert outcomes.count("failed") == len(records) >= 1
    assert {r.error.retryable for r in records} == {True}
    assert len(records) == len({r.event_id for r in records})


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Bearer x"},
        {"Cookie": "session=1"},
        {"Idempotency-Key": "mine"},
        {"X-Note": "line\r\nInjected: 1"},
        {"X-Note": "naïve"},
    ],
)
def test_unsafe_inline_headers_are_refused(
    aws, hook, webhook_runner, kit, headers: dict[str, str]
) -> None:
    params = {"url": hook.url, "headers": headers}

    webhook_runner().run(kit.batch("webhook", params, [{"id": "e1"}]), kit.deadline())

    assert hook.requests == []
    assert only_record(aws).error.type == "InvalidTarget"


def test_harmless_inline_headers_are_sent(aws, hook, webhook_runner, kit) -> None:
    params = {"url": hook.url, "headers": {"X-Tenant": "acme"}}

    webhook_runner().run(kit.batch("webhook", params, [{"id": "e1"}]), kit.deadline())

    assert hook.requests[0].headers["X-Tenant"] == "acme"
