"""Functional tests: a webhook target that tries to hold, confuse or abuse
the connector, and repeats of one batch racing each other. Servers listen on
127.0.0.1 only; blocked addresses are refused before any connection."""

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.budget import Deadline
from connectors.credentials import CredentialStore
from connectors.errors import BlockedDestination, InvalidTarget
from connectors.payloads import LoadedEvent
from connectors.settings import Settings
from connectors.webhook import WebhookConnector
from switchyard_contracts import Delivery, DeliveryBatch


def only_record(aws: Any) -> Any:
    records = aws.failure_records()
    assert len(records) == 1, records
    return records[0]


@pytest.mark.functional
def test_body_that_never_ends_is_cut_at_the_delivery_deadline(
    aws, webhook_runner, kit
) -> None:
    head = b"HTTP/1.1 503 Busy\r\nContent-Length: 10000000\r\n\r\n"
    with kit.drip_server(head) as server:
        payload = kit.batch("webhook", {"url": server.url}, [{"id": "e1"}])
        started = time.monotonic()

        webhook_runner(webhook_max_attempts=1).run(payload, Deadline.after(0.5))

        elapsed = time.monotonic() - started
    assert elapsed < 3.0
    record = only_record(aws)
    assert (record.error.type, record.attempts) == ("WebhookHttpError", 1)
    assert "503" in record.error.message


@pytest.mark.functional
def test_status_line_that_never_ends_is_cut_at_the_delivery_deadline(
    aws, webhook_runner, kit
) -> None:
    # Every byte comes well inside the read timeout, so only the deadline
    # can stop it; the status code itself never arrives.
    with kit.drip_server(b"HTTP/1.1", drip=b" ") as server:
        payload = kit.batch("webhook", {"url": server.url}, [{"id": "e1"}])
        started = time.monotonic()

        webhook_runner(webhook_max_attempts=1).run(payload, Deadline.after(0.5))

        elapsed = time.monotonic() - started
    assert elapsed < 3.0
    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == (
        "WebhookTransportError",
        True,
    )
    assert "timed out" in record.error.message


@pytest.mark.unit
@pytest.mark.parametrize("path", ["/a b", "/hoök", "/x?q=1\x7f", "/x?q=\x01"])
def test_url_with_spaces_controls_or_raw_unicode_is_refused_before_sending(
    path: str,
) -> None:
    # http.client would refuse it on every attempt (retried as a transport
    # error) or raise UnicodeEncodeError (an InternalError): both retryable.
    with pytest.raises(InvalidTarget, match="percent-encode") as caught:
        connector("127.0.0.1/32").bind({"url": f"http://127.0.0.1:8080{path}"})

    assert caught.value.retryable is False


@pytest.mark.functional
def test_url_with_a_space_ends_in_one_record_without_a_request(
    aws, hook, webhook_runner, kit
) -> None:
    payload = kit.batch("webhook", {"url": f"{hook.url}/a b"}, [{"id": "e1"}])

    webhook_runner().run(payload, kit.deadline())

    assert hook.requests == []
    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == ("InvalidTarget", False)


@pytest.mark.functional
def test_unexpected_error_releases_the_claim_and_leaves_one_record(
    aws, hook, webhook_runner, kit
) -> None:
    def broken_resolver(host: str, port: int) -> list[str]:
        raise RuntimeError("resolver bug")

    url = f"http://hooks.test:{hook.port}/hook"
    payload = kit.batch("webhook", {"url": url}, [{"id": "e1"}])
    key = f"{DeliveryBatch.from_dict(payload).target_id}#e1"

    webhook_runner(resolver=broken_resolver, webhook_allowlist="hooks.test").run(
        payload, kit.deadline()
    )

    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == ("InternalError", True)
    # Released, so the redrive is not refused as in flight elsewhere.
    assert aws.ledger_item(key) is None
    result = webhook_runner(
        resolver=lambda host, port: ["127.0.0.1"], webhook_allowlist="hooks.test"
    ).run(payload, kit.deadline())
    assert result["counts"]["delivered"] == 1


@pytest.mark.unit
@pytest.mark.parametrize(
    "name",
    ["x-correlation-id", "X-Switchyard-Event-Id", "x-switchyard-rule"],
)
def test_rule_headers_cannot_forge_the_connectors_own(name: str) -> None:
    with pytest.raises(InvalidTarget, match="connector sets it"):
        connector().bind({"url": "https://hooks.example.test/", "headers": {name: "x"}})


@pytest.mark.functional
def test_rule_content_type_replaces_the_default_instead_of_doubling_it(
    aws, hook, webhook_runner, kit
) -> None:
    params = {
        "url": hook.url,
        "headers": {"content-type": "application/cloudevents+json"},
    }

    webhook_runner().run(kit.batch("webhook", params, [{"id": "e1"}]), kit.deadline())

    lines = [
        value
        for name, value in hook.requests[0].header_lines
        if name.lower() == "content-type"
    ]
    assert lines == ["application/cloudevents+json"]


@pytest.mark.functional
def test_secret_headers_cannot_forge_the_connectors_own(
    aws, hook, webhook_runner, kit, clients
) -> None:
    clients("ssm").put_parameter(
        Name="/hooks/forge",
        Value='{"Authorization": "Bearer s3cr3t", "x-correlation-id": "forged"}',
        Type="SecureString",
    )
    params = {"url": hook.url, "secret": "ssm:/hooks/forge"}

    webhook_runner().run(kit.batch("webhook", params, [{"id": "e1"}]), kit.deadline())

    assert hook.requests == []
    record = only_record(aws)
    assert record.error.type == "InvalidTarget"
    assert "s3cr3t" not in record.error.message


@pytest.mark.functional
def test_same_batch_delivered_concurrently_is_posted_once(
    aws, hook, webhook_runner, kit
) -> None:
    hook.reply(200, delay=0.6)
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])
    results: list[dict[str, Any]] = []

    def run() -> None:
        results.append(webhook_runner().run(payload, kit.deadline()))

    first = threading.Thread(target=run)
    first.start()
    waited_until = time.monotonic() + 5.0
    while not hook.requests:  # the first POST is on the wire
        assert time.monotonic() < waited_until, "the first POST never came"
        time.sleep(0.01)
    run()  # the repeat, from another container, while the first is in flight
    first.join()

    assert len(hook.requests) == 1
    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == ("InFlightElsewhere", True)
    outcomes = sorted(r["results"][0]["outcome"] for r in results)
    assert outcomes == ["delivered", "failed"]
    # The redrive of that record, after the first finished, is a duplicate.
    again = webhook_runner().run(payload, kit.deadline())
    assert again["counts"]["duplicate"] == 1
    assert len(hook.requests) == 1


@pytest.mark.functional
def test_crash_after_the_post_before_done_is_not_posted_again_within_the_lease(
    aws, hook, webhook_runner, kit, monkeypatch
) -> None:
    from connectors.dedupe import DeliveryLedger

    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])
    crashing = webhook_runner()

    def crash(self: DeliveryLedger, key: str) -> None:
        raise SystemExit("the container died")

    with monkeypatch.context() as patch:
        patch.setattr(DeliveryLedger, "complete", crash)
        with pytest.raises(SystemExit):
            crashing.run(payload, kit.deadline())

    # Lambda's async retry, while the crashed claim's lease still runs.
    webhook_runner().run(payload, kit.deadline())

    assert len(hook.requests) == 1
    assert only_record(aws).error.type == "InFlightElsewhere"


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """socket.getaddrinfo answering from a table; numeric forms as inet_aton."""
    table: dict[str, list[str]] = {}

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        host = host.rstrip(".")  # a fully qualified name, as DNS reads it
        if host in table:
            addresses = table[host]
        else:
            try:
                addresses = [socket.inet_ntoa(socket.inet_aton(host))]
            except OSError:
                raise socket.gaierror(socket.EAI_NONAME, "unknown in test") from None
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, 1, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    opened: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        opened.append(args)
        raise AssertionError(f"a connection was opened: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield opened


def connector(allowlist: str = "") -> WebhookConnector:
    """A webhook connector with no AWS at all: no ledger, no secrets."""
    settings = Settings(webhook_allowlist=allowlist, webhook_max_attempts=3)
    return WebhookConnector(settings, CredentialStore(_no_aws, _no_aws, 0), None)


def _no_aws() -> Any:
    raise AssertionError("no AWS client is needed here")


def deliver_once(url: str) -> Any:
    hook = connector()
    delivery = Delivery(event_id="e1", rule="r", correlation_id="c", event={})
    return hook.deliver(
        hook.bind({"url": url}),
        delivery,
        LoadedEvent({}, b"{}"),
        "t#e1",
        Deadline.after(5.0),
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    "url",
    [
        "https://2130706433/",
        "https://0x7f.1/",
        "https://0177.0.0.1/",
        "https://0x7f000001/",
        "https://127.1/",
        "https://2852039166/latest/meta-data/",
        "https://0xa9.0xfe.0xa9.0xfe/",
        "https://0251.0376.0251.0376/",
        "https://10.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:169.254.169.254]/latest/",
        "https://[::]/",
        "https://0.0.0.0/",
        "https://127.0.0.1./",
        "HTTPS://169.254.169.254/",
        "hTTp://10.0.0.1:8080/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[2002:a9fe:a9fe::]/",
        "https://multi.example.test:8443/hook",
        "https://evil.example.test#@hooks.example.test/",
    ],
)
def test_ssrf_spellings_are_refused_before_any_connection(
    fake_dns, no_connections, url: str
) -> None:
    fake_dns["multi.example.test"] = ["93.184.216.34", "10.0.0.7"]
    fake_dns["evil.example.test"] = ["169.254.169.254"]
    fake_dns["hooks.example.test"] = ["93.184.216.34"]

    outcome = deliver_once(url)

    assert no_connections == []
    assert type(outcome.error) is BlockedDestination
    assert (outcome.attempts, outcome.error.retryable) == (0, False)


@pytest.mark.unit
@pytest.mark.parametrize(
    "url",
    [
        "https://good@127.0.0.1/",
        "https://hooks.example.test\\@127.0.0.1/",
        "https://:@127.0.0.1/",
        "gopher://127.0.0.1/",
        "file:///etc/passwd",
    ],
)
def test_userinfo_and_other_schemes_are_invalid_targets(
    fake_dns, no_connections, url: str
) -> None:
    with pytest.raises(InvalidTarget) as caught:
        connector("127.0.0.1/32").bind({"url": url})

    assert no_connections == []
    assert caught.value.retryable is False


@pytest.mark.functional
def test_blocked_spelling_ends_in_one_record_through_the_runner(
    aws, fake_dns, no_connections, webhook_runner, kit
) -> None:
    payload = kit.batch("webhook", {"url": "https://0xa9fea9fe/"}, [{"id": "e1"}])

    result = webhook_runner(webhook_allowlist="").run(payload, kit.deadline())

    assert no_connections == []
    assert result["counts"] == {"delivered": 0, "duplicate": 0, "failed": 1}
    record = only_record(aws)
    assert (record.error.type, record.error.retryable) == ("BlockedDestination", False)


@pytest.mark.functional
@pytest.mark.parametrize(
    ("retry_after", "requests", "outcome"),
    [
        ("99999999999999999999", 1, "failed"),
        ("9" * 400, 1, "failed"),
        ("Fri, 31 Dec 9999 23:59:59 GMT", 1, "failed"),
        ("-5", 2, "delivered"),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 2, "delivered"),
    ],
)
def test_retry_after_huge_negative_or_dated_never_stalls(
    aws, hook, webhook_runner, kit, retry_after: str, requests: int, outcome: str
) -> None:
    hook.reply(503, headers={"Retry-After": retry_after})
    payload = kit.batch("webhook", {"url": hook.url}, [{"id": "e1"}])
    started = time.monotonic()

    result = webhook_runner().run(payload, kit.deadline(5.0))

    assert time.monotonic() - started < 3.0
    assert len(hook.requests) == requests
    assert result["results"][0]["outcome"] == outcome
    records = aws.failure_records()
    assert len(records) == (outcome == "failed")
    assert all(r.error.retryable for r in records)


@pytest.mark.functional
def test_auth_header_and_event_never_reach_the_logs_at_any_level(
    aws, hook, webhook_runner, kit, clients, caplog: pytest.LogCaptureFixture
) -> None:
    clients("ssm").put_parameter(
        Name="/hooks/logged", Value="Bearer tok-LEAKCHECK", Type="SecureString"
    )
    hook.reply(500, times=2).reply(404)
    params = {"url": f"{hook.url}?sig=QUERY-LEAKCHECK", "secret": "ssm:/hooks/logged"}
    event = {"id": "e1", "card": "EVENT-LEAKCHECK"}
    caplog.set_level("DEBUG", logger="connectors")

    webhook_runner().run(kit.batch("webhook", params, [event]), kit.deadline())

    assert len(hook.requests) == 3
    assert hook.requests[0].headers["Authorization"] == "Bearer tok-LEAKCHECK"
    text = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert "delivery failed" in text
    assert "LEAKCHECK" not in text


@pytest.mark.unit
@pytest.mark.parametrize("value", ["a\x0bb", "a\x7fb", "a\x1bb", "a\rb", "a\nb"])
def test_rule_header_values_with_control_characters_are_refused(value: str) -> None:
    with pytest.raises(InvalidTarget, match="control character"):
        connector().bind(
            {"url": "https://hooks.example.test/", "headers": {"X-Note": value}}
        )


@pytest.mark.functional
def test_error_body_echoing_the_auth_header_is_redacted_in_the_record(
    aws, hook, webhook_runner, kit, clients, caplog: pytest.LogCaptureFixture
) -> None:
    # Echo endpoints (request bins, debugging proxies) repeat the request's
    # headers in their error bodies; the record must not carry the secret.
    clients("ssm").put_parameter(
        Name="/hooks/echo",
        Value='{"Authorization": "Bearer tok-ECHOED", "X-Api-Key": "key-ECHOED"}',
        Type="SecureString",
    )
    hook.reply(
        400,
        body=b'{"error": "bad", "seen": {"authorization": "Bearer tok-ECHOED",'
        b' "x-api-key": "key-ECHOED"}}',
    )
    params = {"url": hook.url, "secret": "ssm:/hooks/echo"}
    caplog.set_level("DEBUG", logger="connectors")

    webhook_runner().run(kit.batch("webhook", params, [{"id": "e1"}]), kit.deadline())

    record = only_record(aws)
    assert "400" in record.error.message and "[redacted]" in record.error.message
    assert "ECHOED" not in record.error.message
    assert all("ECHOED" not in repr(r.__dict__) for r in caplog.records)
