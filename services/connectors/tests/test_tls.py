"""Functional test: HTTPS to a pinned address keeps the URL's host for SNI,
the certificate check and the Host header."""

import datetime
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.budget import Deadline

pytestmark = pytest.mark.functional

x509 = pytest.importorskip("cryptography.x509")


def make_certificate(directory: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``host``; returns (cert, key) paths."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_hook(tmp_path: Path, kit) -> Iterator[tuple]:
    cert, key = make_certificate(tmp_path, "hooks.test")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    server = kit.hook_server(tls=server_context).start()
    try:
        yield server, client_context
    finally:
        server.stop()


def test_https_goes_to_the_checked_address_in_the_urls_name(
    aws, tls_hook, webhook_runner, kit
) -> None:
    server, client_context = tls_hook
    runner = webhook_runner(
        resolver=lambda host, port: ["127.0.0.1"], tls_context=client_context
    )
    url = f"https://hooks.test:{server.port}/hook"

    result = runner.run(
        kit.batch("webhook", {"url": url}, [{"id": "e1"}]), kit.deadline()
    )

    assert result["counts"]["delivered"] == 1
    assert server.requests[0].headers["Host"] == f"hooks.test:{server.port}"


def test_certificate_for_another_name_is_refused_without_retry(
    aws, tls_hook, webhook_runner, kit
) -> None:
    server, client_context = tls_hook
    runner = webhook_runner(
        resolver=lambda host, port: ["127.0.0.1"], tls_context=client_context
    )
    url = f"https://other.test:{server.port}/hook"

    runner.run(kit.batch("webhook", {"url": url}, [{"id": "e1"}]), kit.deadline())

    assert server.requests == []
    (record,) = aws.failure_records()
    assert (record.error.type, record.error.retryable) == (
        "WebhookTransportError",
        False,
    )
    assert "did not verify" in record.error.message


def test_https_answer_dripping_forever_is_cut_at_the_delivery_deadline(
    aws, tmp_path: Path, webhook_runner, kit
) -> None:
    cert, key = make_certificate(tmp_path, "hooks.test")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    runner = webhook_runner(
        resolver=lambda host, port: ["127.0.0.1"],
        tls_context=ssl.create_default_context(cafile=str(cert)),
        webhook_max_attempts=1,
    )
    with kit.drip_server(b"HTTP/1.1", drip=b" ", tls=server_context) as server:
        url = f"https://hooks.test:{server.port}/hook"
        started = time.monotonic()

        runner.run(
            kit.batch("webhook", {"url": url}, [{"id": "e1"}]), Deadline.after(0.5)
        )

        elapsed = time.monotonic() - started
    assert server.connections == 1
    assert elapsed < 3.0
    (record,) = aws.failure_records()
    assert record.error.type == "WebhookTransportError"
    assert "timed out" in record.error.message
