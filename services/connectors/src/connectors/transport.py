"""One HTTP POST to a checked destination, with bounded time and reads.

The connection goes to the address that ``safety.check_destination``
approved, never to a fresh DNS answer, while the Host header and the TLS
server name (SNI and certificate check) use the URL's host. Redirects are
never followed: the caller sees the 3xx.

Socket timeouts bound each read, not the whole answer: a server can send one
byte just inside the read timeout, again and again. A watchdog therefore
shuts the socket down when the delivery's deadline passes, whatever the
connection is doing then.
"""

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass

from connectors.budget import Deadline
from connectors.errors import WebhookTransportError
from connectors.safety import Destination

CHUNK_BYTES = 16 * 1024


@dataclass(frozen=True)
class Response:
    """A webhook's answer; ``body`` holds at most the configured bound."""

    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to a fixed address, named by its host."""

    def __init__(
        self,
        destination: Destination,
        connect_timeout: float,
        read_timeout: float,
        tls_context: ssl.SSLContext | None,
    ) -> None:
        super().__init__(destination.host, destination.port, timeout=connect_timeout)
        self.destination = destination
        self.read_timeout = read_timeout
        self.tls_context = tls_context
        self.cut_off = False
        if destination.scheme == "https":
            self.default_port = 443

    def cut(self) -> None:
        """Stop the exchange now: blocked reads return, later ones fail."""
        self.cut_off = True
        sock = self.sock
        if sock is None:
            return
        # The plain socket's shutdown, also under TLS: it wakes a read
        # blocked in another thread without touching the TLS state.
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def connect(self) -> None:
        sock = socket.create_connection(
            (self.destination.address, self.destination.port), self.timeout
        )
        try:
            sock.settimeout(self.read_timeout)
            if self.destination.scheme == "https":
                context = self.tls_context or ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=self.destination.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        if self.cut_off:  # the watchdog fired while we were connecting
            self.cut()


def post(
    destination: Destination,
    body: bytes,
    headers: dict[str, str],
    *,
    connect_timeout: float,
    read_timeout: float,
    max_response_bytes: int,
    deadline: Deadline,
    tls_context: ssl.SSLContext | None = None,
) -> Response:
    """POST once; raise WebhookTransportError if no full status line came back."""
    remaining = deadline.remaining()
    connection = PinnedConnection(
        destination,
        connect_timeout=max(0.001, min(connect_timeout, remaining)),
        read_timeout=max(0.001, min(read_timeout, remaining)),
        tls_context=tls_context,
    )
    watchdog = threading.Timer(remaining, connection.cut)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", destination.target, body=body, headers=headers)
        response = connection.getresponse()
        status = response.status
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        content = _read_bounded(response, max_response_bytes, deadline)
    except (OSError, http.client.HTTPException) as exc:
        raise _transport_error(destination, connection, exc) from exc
    finally:
        watchdog.cancel()
        connection.close()
    return Response(status, answer_headers, content)


def _transport_error(
    destination: Destination, connection: PinnedConnection, exc: Exception
) -> WebhookTransportError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return WebhookTransportError(
            f"TLS certificate of {destination.host} did not verify: {exc}; "
            "the endpoint needs a certificate from a public authority",
            retryable=False,
        )
    if connection.cut_off:
        return WebhookTransportError(
            f"POST {destination.display} timed out: no full answer before the "
            "delivery's deadline"
        )
    if isinstance(exc, TimeoutError):
        return WebhookTransportError(
            f"POST {destination.display} timed out ({exc or 'no answer in time'})"
        )
    return WebhookTransportError(
        f"POST {destination.display} failed: {type(exc).__name__}: {exc}"
    )


def _read_bounded(
    response: http.client.HTTPResponse, limit: int, deadline: Deadline
) -> bytes:
    """Read at most ``limit`` bytes; a slow or cut body keeps what arrived."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size < limit and not deadline.expired():
            chunk = response.read(min(CHUNK_BYTES, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (TimeoutError, OSError, http.client.HTTPException):
        # The status line already came: the body only explains it.
        pass
    return b"".join(chunks)
