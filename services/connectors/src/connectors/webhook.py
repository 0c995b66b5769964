"""The webhook connector: POST each event as JSON, once, within the budget.

Per delivery: claim the key in the ledger (a ``done`` key is a duplicate),
then POST with ``Idempotency-Key: <target_id>#<event_id>``. A 2xx completes
the key. Connection errors, timeouts, 429 and 5xx are retried with backoff
while the delivery's share of the invocation's time lasts; other 4xx and
every 3xx (redirects are never followed) fail at once. A failure releases
the key so a redrive can try again.
"""

import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from connectors.budget import Deadline
from connectors.credentials import (
    FORBIDDEN_VALUE_CHARS,
    HEADER_NAME,
    CredentialStore,
    parse_secret_ref,
)
from connectors.dedupe import Claim, DeliveryLedger
from connectors.errors import (
    BlockedDestination,
    DeliveryError,
    IdempotencyStoreError,
    InFlightElsewhere,
    InternalError,
    InvalidTarget,
    RedirectRefused,
    WebhookHttpError,
)
from connectors.log import logger
from connectors.outcomes import Outcome
from connectors.payloads import LoadedEvent
from connectors.retry import Backoff, is_retryable_status, parse_retry_after
from connectors.safety import (
    Allowlist,
    Resolver,
    check_destination,
    parse_url,
    system_resolver,
)
from connectors.settings import Settings
from connectors.transport import Response, post
from switchyard_contracts import Delivery

USER_AGENT = "switchyard-connector/1"
KNOWN_PARAMS = frozenset({"url", "secret", "timeout", "headers"})
# Credentials belong in a named secret, never in the rules document.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
    }
)
# Set by the connector itself; neither the rule nor the secret may change them
# (the identity headers would let a rule forge another event's identity).
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "idempotency-key",
        "x-switchyard-event-id",
        "x-switchyard-rule",
        "x-correlation-id",
    }
)
ERROR_BODY_CHARS = 300
# Shorter secret values are not worth hiding, and would blank common text.
MIN_REDACTED_CHARS = 4


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    display: str
    secret: str | None = None
    read_timeout: float | None = None
    headers: dict[str, str] = field(default_factory=dict)


def header_safe(text: str) -> str:
    """Percent-encode what cannot travel in a header value (non-ASCII, controls)."""
    return quote(text, safe="".join(chr(c) for c in range(0x21, 0x7F) if c != 0x25))


def _redact(text: str, hidden: tuple[str, ...]) -> str:
    """``text`` without the secret's header values (an endpoint may echo the
    request's headers in its error body)."""
    for value in hidden:
        if len(value) >= MIN_REDACTED_CHARS:
            text = text.replace(value, "[redacted]")
    return text


def _set_header(headers: dict[str, str], name: str, value: str) -> None:
    """Set a header, replacing any spelling of it: names are case-insensitive."""
    for existing in [n for n in headers if n.lower() == name.lower()]:
        del headers[existing]
    headers[name] = value


class WebhookConnector:
    """POSTs each event to the target URL, at most once per event and target."""

    name = "webhook"

    def __init__(
        self,
        settings: Settings,
        credentials: CredentialStore,
        ledger: DeliveryLedger | None,
        resolver: Resolver = system_resolver,
        tls_context: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
        backoff: Backoff | None = None,
    ) -> None:
        self._settings = settings
        self._allowlist = Allowlist.parse(settings.webhook_allowlist)
        self._credentials = credentials
        self._ledger = ledger
        self._resolver = resolver
        self._tls_context = tls_context
        self._sleep = sleep
        self._backoff = backoff or Backoff(
            settings.backoff_base_seconds, settings.backoff_cap_seconds
        )

    def bind(self, params: dict[str, Any]) -> WebhookTarget:
        unknown = sorted(set(params) - KNOWN_PARAMS)
        if unknown:
            raise InvalidTarget(
                f"webhook target has unknown params {unknown}; it takes "
                f"{sorted(KNOWN_PARAMS)}"
            )
        url = params.get("url")
        parts = parse_url(url)
        assert isinstance(url, str)
        display = f"{parts.scheme}://{parts.netloc}{parts.path}"

        secret = params.get("secret")
        if secret is not None:
            parse_secret_ref(secret)

        timeout = params.get("timeout")
        limit = self._settings.webhook_max_read_timeout
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout <= limit
        ):
            raise InvalidTarget(
                f"params.timeout must be seconds between 0 and {limit}, not {timeout!r}"
            )
        return WebhookTarget(
            url=url,
            display=display,
            secret=secret,
            read_timeout=float(timeout) if timeout is not None else None,
            headers=self._inline_headers(params.get("headers")),
        )

    @staticmethod
    def _inline_headers(headers: object) -> dict[str, str]:
        if headers is None:
            return {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise InvalidTarget("params.headers must be an object of strings")
        for name in headers:
            if name.lower() in CREDENTIAL_HEADERS:
                raise InvalidTarget(
                    f"params.headers sets {name!r} inline; auth never goes in "
                    "the rules: store it in a secret and name it in params.secret"
                )
            if name.lower() in RESERVED_HEADERS:
                raise InvalidTarget(
                    f"params.headers may not set {name!r}; the connector sets it"
                )
            value = headers[name]
            if FORBIDDEN_VALUE_CHARS.search(value) or not value.isascii():
                raise InvalidTarget(
                    f"params.headers[{name!r}] holds a control character (line "
                    "break, NUL...) or non-ASCII text"
                )
            if not HEADER_NAME.match(name):
                raise InvalidTarget(f"params.headers has an invalid name {name!r}")
        return dict(headers)

    def describe(self, bound: WebhookTarget) -> str:
        return f"webhook:{bound.display}"

    def deliver(
        self,
        bound: WebhookTarget,
        delivery: Delivery,
        event: LoadedEvent,
        key: str,
        deadline: Deadline,
    ) -> Outcome:
        if self._ledger is not None:
            try:
                claim = self._ledger.claim(key, lease_seconds=deadline.remaining() + 1)
            except IdempotencyStoreError as exc:
                return Outcome.failed(exc)
            if claim is Claim.DONE:
                return Outcome.duplicate()
            if claim is Claim.BUSY:
                return Outcome.failed(
                    InFlightElsewhere(
                        f"another invocation holds {key!r} right now; if it "
                        "succeeds, a redrive of this record is a duplicate"
                    )
                )

        try:
            headers, hidden = self._headers(bound, delivery, key)
            outcome = self._send(bound, event.body, headers, deadline, hidden)
        except DeliveryError as exc:
            outcome = Outcome.failed(exc)
        except Exception as exc:
            # Still settled below: a claim left behind would turn the redrive
            # into InFlightElsewhere until the lease ran out.
            logger.exception("unexpected error delivering %s", delivery.event_id)
            outcome = Outcome.failed(InternalError(f"{type(exc).__name__}: {exc}"))

        self._settle(key, outcome)
        return outcome

    def _settle(self, key: str, outcome: Outcome) -> None:
        if self._ledger is None:
            return
        try:
            if outcome.error is None:
                self._ledger.complete(key)
            else:
                self._ledger.release(key)
        except IdempotencyStoreError:
            # The POST itself is settled either way; a lease left behind
            # expires at the delivery's deadline.
            logger.exception("could not settle idempotency key %s", key)

    def _headers(
        self, bound: WebhookTarget, delivery: Delivery, key: str
    ) -> tuple[dict[str, str], tuple[str, ...]]:
        """The request's headers, and the secret's values to keep out of
        messages."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Switchyard-Event-Id": header_safe(delivery.event_id),
            "X-Correlation-Id": header_safe(delivery.correlation_id),
        }
        if delivery.rule:
            headers["X-Switchyard-Rule"] = header_safe(delivery.rule)
        for name, value in bound.headers.items():
            _set_header(headers, name, value)
        secret_headers = (
            self._credentials.headers(bound.secret) if bound.secret is not None else {}
        )
        if secret_headers:
            for name, value in secret_headers.items():
                if name.lower() in RESERVED_HEADERS:
                    raise InvalidTarget(
                        f"secret {bound.secret!r} sets {name!r}, which the "
                        "connector sets itself; remove it from the secret"
                    )
                _set_header(headers, name, value)
        headers["Idempotency-Key"] = header_safe(key)
        return headers, tuple(secret_headers.values())

    def _send(
        self,
        bound: WebhookTarget,
        body: bytes,
        headers: dict[str, str],
        deadline: Deadline,
        hidden: tuple[str, ...] = (),
    ) -> Outcome:
        settings = self._settings
        read_timeout = bound.read_timeout or settings.webhook_read_timeout
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                destination = check_destination(
                    bound.url, self._allowlist, self._resolver
                )
                response = post(
                    destination,
                    body,
                    headers,
                    connect_timeout=settings.webhook_connect_timeout,
                    read_timeout=read_timeout,
                    max_response_bytes=settings.webhook_max_response_bytes,
                    deadline=deadline,
                    tls_context=self._tls(),
                )
            except DeliveryError as exc:
                if not exc.retryable:
                    # A refused destination was never sent to.
                    sent = (
                        attempt - 1 if isinstance(exc, BlockedDestination) else attempt
                    )
                    return Outcome.failed(exc, attempts=sent)
                error: DeliveryError = exc
            else:
                if 200 <= response.status < 300:
                    return Outcome.delivered(attempt, http_status=response.status)
                error = self._status_error(bound, response, hidden)
                if not error.retryable:
                    return Outcome.failed(
                        error, attempts=attempt, http_status=response.status
                    )
                retry_after = parse_retry_after(response.header("Retry-After"))

            if attempt >= settings.webhook_max_attempts:
                return Outcome.failed(
                    error, attempts=attempt, note=f"gave up after {attempt} attempts"
                )
            wait = self._backoff.delay(attempt, retry_after)
            remaining = deadline.remaining()
            if wait >= remaining:
                asked = f"Retry-After {retry_after:g} s, " if retry_after else ""
                return Outcome.failed(
                    error,
                    attempts=attempt,
                    note=(
                        f"gave up after {attempt} attempts: {asked}the next try "
                        f"would start after the time left ({remaining:.1f} s)"
                    ),
                )
            logger.debug(
                "retrying %s in %.2f s after attempt %d: %s",
                bound.display,
                wait,
                attempt,
                error,
            )
            self._sleep(wait)

    def _tls(self) -> ssl.SSLContext:
        # Loading the system's CA bundle is slow: once per warm container.
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context

    @staticmethod
    def _status_error(
        bound: WebhookTarget, response: Response, hidden: tuple[str, ...] = ()
    ) -> DeliveryError:
        status = response.status
        if 300 <= status < 400:
            location = _redact(response.header("Location") or "nowhere", hidden)
            return RedirectRefused(
                f"POST {bound.display} answered {status} redirecting to "
                f"{location[:200]}; redirects are not followed: set params.url "
                "to the final URL",
                retryable=False,
            )
        # Redacted before it is cut, so no part of a secret is left at the end.
        snippet = _redact(response.body.decode("utf-8", "replace"), hidden)
        snippet = snippet[:ERROR_BODY_CHARS]
        return WebhookHttpError(
            f"POST {bound.display} answered {status}: {snippet}",
            status=status,
            retryable=is_retryable_status(status),
        )
