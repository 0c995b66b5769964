"""Where a webhook may point: the scheme and address checks.

A rule author chooses the URL, so the connector must not become a way into
the network it runs in. A URL is refused unless it is ``https`` and every
address its host resolves to is a public unicast address; the operator's
allowlist (``WEBHOOK_ALLOWLIST``: CIDRs or host names) lifts both checks for
what it names. The checks run before any connection is opened, and the
connection then goes to the very address that was checked, so a second DNS
answer (rebinding) cannot redirect it.
"""

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from connectors.errors import BlockedDestination, InvalidTarget, WebhookTransportError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

# The instance metadata service, named although the ranges cover it: these
# two must never be reached by accident.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)


METADATA_REASON = "the instance metadata address"


def blocked_reason(address: IPAddress) -> str | None:
    """Why an address may not be reached without the allowlist, or None."""
    if address in METADATA_ADDRESSES:
        return METADATA_REASON
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return blocked_reason(embedded)
        if address.teredo is not None:
            return blocked_reason(address.teredo[1])
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("not globally routable", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


@dataclass(frozen=True)
class Allowlist:
    """Networks and host names an operator allows despite the checks."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str | Iterable[str]) -> "Allowlist":
        entries = text.split(",") if isinstance(text, str) else list(text)
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(_normalise_host(entry))
        return cls(tuple(networks), frozenset(hosts))

    def allows_host(self, host: str) -> bool:
        return _normalise_host(host) in self.hosts

    def allows_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


@dataclass(frozen=True)
class Destination:
    """A checked webhook destination: connect to ``address``, say ``host``."""

    scheme: str
    host: str
    port: int
    target: str
    address: str

    @property
    def display(self) -> str:
        """The URL without query or credentials, safe to log."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.target.split('?')[0]}"


def parse_url(url: object) -> SplitResult:
    """Check a webhook URL's form; InvalidTarget names what is wrong."""
    if not isinstance(url, str) or not url:
        raise InvalidTarget("webhook target needs params.url, a non-empty string")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidTarget(f"webhook url is malformed: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidTarget(f"webhook url scheme {parts.scheme!r} must be https")
    if not parts.hostname:
        raise InvalidTarget("webhook url has no host")
    if parts.username is not None or parts.password is not None:
        raise InvalidTarget(
            "webhook url carries credentials; put them in a secret named by "
            "params.secret instead"
        )
    if port == 0:
        raise InvalidTarget("webhook url port 0 is not a port")
    rest = parts.path + parts.query + parts.fragment
    odd = next((c for c in rest if not "\x20" < c < "\x7f"), None)
    if odd is not None:
        raise InvalidTarget(
            f"webhook url path or query holds {odd!r}; percent-encode spaces, "
            "control characters and non-ASCII text (e.g. %20, %C3%B6)"
        )
    return parts


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for a TCP connection."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _as_address(text: str) -> IPAddress:
    # getaddrinfo may append an IPv6 zone ("fe80::1%eth0").
    return ipaddress.ip_address(text.split("%", 1)[0])


def check_destination(
    url: str, allowlist: Allowlist, resolver: Resolver = system_resolver
) -> Destination:
    """Resolve and check a webhook URL; refuse before any connection opens."""
    parts = parse_url(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [_as_address(a) for a in resolver(host, port)]
        except (OSError, UnicodeError) as exc:
            raise WebhookTransportError(
                f"could not resolve webhook host {host!r}: {exc}"
            ) from exc
    if not addresses:
        raise WebhookTransportError(f"webhook host {host!r} has no address")

    host_allowed = allowlist.allows_host(host)
    for address in addresses:
        if allowlist.allows_address(address):
            continue
        reason = blocked_reason(address)
        # An allowlisted name lifts every check but one: the metadata
        # service is reachable only through an allowlisted address, so a
        # name whose DNS turns to it never opens it.
        if host_allowed and reason != METADATA_REASON:
            continue
        if reason is not None:
            raise BlockedDestination(
                f"webhook host {host!r} resolves to {address}, which is {reason}; "
                "add it to WEBHOOK_ALLOWLIST only if it must be reached",
                retryable=False,
            )

    fully_allowed = host_allowed or all(allowlist.allows_address(a) for a in addresses)
    if parts.scheme == "http" and not fully_allowed:
        raise BlockedDestination(
            f"webhook url {parts.scheme}://{host} uses plain http; use https, "
            "or allowlist the host in WEBHOOK_ALLOWLIST",
            retryable=False,
        )
    return Destination(parts.scheme, host, port, target, str(addresses[0]))
