"""Unit tests: which webhook destinations are refused, before any connection."""

import ipaddress

import pytest

from connectors.errors import BlockedDestination, InvalidTarget, WebhookTransportError
from connectors.safety import Allowlist, blocked_reason, check_destination

pytestmark = pytest.mark.unit

NOBODY = Allowlist.parse("")


def resolver_for(*addresses: str):
    calls: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return list(addresses)

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "the instance metadata address"),
        ("fd00:ec2::254", "the instance metadata address"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not globally routable"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "the instance metadata address"),
        ("2002:a00:1::1", "private"),
    ],
)
def test_internal_addresses_are_blocked_with_their_reason(
    address: str, reason: str
) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111"])
def test_public_unicast_addresses_are_not_blocked(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/",
        "https://10.0.0.1/hook",
        "https://[::1]:8443/hook",
        "https://[fd00:ec2::254]/",
    ],
)
def test_blocked_literal_addresses_are_refused_without_resolving(url: str) -> None:
    resolve = resolver_for("93.184.216.34")

    with pytest.raises(BlockedDestination) as caught:
        check_destination(url, Allowlist.parse("127.0.0.1/32"), resolve)

    assert caught.value.retryable is False
    assert "WEBHOOK_ALLOWLIST" in str(caught.value)
    assert resolve.calls == []


def test_host_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(BlockedDestination, match=r"10\.1\.2\.3, which is private"):
        check_destination(
            "https://hooks.example.com/x", NOBODY, resolver_for("10.1.2.3")
        )


def test_one_blocked_address_among_public_ones_refuses_the_host() -> None:
    resolve = resolver_for("93.184.216.34", "169.254.169.254")

    with pytest.raises(BlockedDestination, match="metadata"):
        check_destination("https://hooks.example.com/x", NOBODY, resolve)


def test_public_https_host_is_checked_and_pinned_to_its_address() -> None:
    resolve = resolver_for("93.184.216.34")

    destination = check_destination(
        "https://Hooks.Example.com/in?token=abc", NOBODY, resolve
    )

    assert destination.address == "93.184.216.34"
    assert destination.host == "hooks.example.com"
    assert destination.port == 443
    assert destination.target == "/in?token=abc"
    assert "token" not in destination.display


def test_plain_http_to_a_public_host_is_refused() -> None:
    with pytest.raises(BlockedDestination, match="plain http"):
        check_destination(
            "http://hooks.example.com/x", NOBODY, resolver_for("93.184.216.34")
        )


def test_allowlisted_cidr_permits_loopback_over_plain_http() -> None:
    destination = check_destination(
        "http://127.0.0.1:8080/hook", Allowlist.parse("127.0.0.1/32"), resolver_for()
    )

    assert (destination.address, destination.port) == ("127.0.0.1", 8080)


def test_allowlist_of_one_address_does_not_open_its_neighbours() -> None:
    with pytest.raises(BlockedDestination):
        check_destination("http://127.0.0.2/", Allowlist.parse("127.0.0.1/32"))


def test_allowlisted_host_name_permits_its_private_addresses() -> None:
    allowlist = Allowlist.parse(" 10.9.0.0/16 , Internal.Hooks.Local. ")

    destination = check_destination(
        "http://internal.hooks.local/x", allowlist, resolver_for("192.168.7.7")
    )

    assert destination.address == "192.168.7.7"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", "scheme"),
        ("https://user:pw@example.com/x", "credentials"),
        ("https:///nohost", "no host"),
        ("https://example.com:99999/", "malformed"),
        ("", "non-empty"),
    ],
)
def test_malformed_urls_are_refused_as_invalid_targets(url: str, message: str) -> None:
    with pytest.raises(InvalidTarget, match=message):
        check_destination(url, NOBODY, resolver_for("93.184.216.34"))


def test_unresolvable_host_is_a_retryable_transport_error() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(WebhookTransportError) as caught:
        check_destination("https://nowhere.invalid/", NOBODY, fail)

    assert caught.value.retryable is True


@pytest.mark.parametrize("address", ["169.254.169.254", "::ffff:169.254.169.254"])
def test_allowlisted_host_name_never_reaches_the_metadata_address(
    address: str,
) -> None:
    # A name is allowlisted to reach a private service; if its DNS is ever
    # pointed at the metadata service, the name alone must not open it.
    allowlist = Allowlist.parse("internal.hooks.local")

    with pytest.raises(BlockedDestination, match="metadata"):
        check_destination(
            "http://internal.hooks.local/x", allowlist, resolver_for(address)
        )


def test_metadata_address_is_reachable_only_when_allowlisted_by_address() -> None:
    allowlist = Allowlist.parse("169.254.169.254/32")

    destination = check_destination(
        "http://169.254.169.254/latest/", allowlist, resolver_for()
    )

    assert destination.address == "169.254.169.254"
