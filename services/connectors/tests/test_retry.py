"""Unit tests: backoff, Retry-After and time budgets."""

from datetime import UTC, datetime

import pytest

from connectors.budget import Deadline, invocation_deadline
from connectors.retry import Backoff, is_retryable_status, parse_retry_after

pytestmark = pytest.mark.unit


def test_backoff_bound_doubles_up_to_the_cap() -> None:
    highest = Backoff(base=0.5, cap=3.0, rand=lambda low, high: high)

    assert [highest.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_backoff_is_jittered_between_zero_and_the_bound() -> None:
    seen: list[tuple[float, float]] = []
    backoff = Backoff(
        base=1.0, cap=10.0, rand=lambda low, high: seen.append((low, high)) or 0.0
    )

    backoff.delay(3)

    assert seen == [(0.0, 4.0)]


def test_retry_after_sets_the_least_wait() -> None:
    lowest = Backoff(base=1.0, cap=10.0, rand=lambda low, high: low)

    assert lowest.delay(1, retry_after=7.0) == 7.0
    # An endless wait is never taken: it is past any deadline.
    assert lowest.delay(1, retry_after=float("inf")) == float("inf")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 120 ", 120.0),
        ("Fri, 04 Dec 2026 12:00:30 GMT", 30.0),
        ("Fri, 04 Dec 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("1e3", None),
        ("2.5", None),
        ("Fri, 31 Dec 99999 23:59:59 GMT", None),
        ("Fri, 04 Dec 2026 25:00:00 GMT", None),
        ("9" * 400, float("inf")),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(
    header: str | None, seconds: float | None
) -> None:
    now = datetime(2026, 12, 4, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after(header, now) == seconds


@pytest.mark.parametrize(
    ("status", "retry"),
    [(429, True), (500, True), (503, True), (400, False), (404, False), (409, False)],
)
def test_only_429_and_5xx_are_retried(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry


def test_deadline_is_shared_among_the_deliveries_left() -> None:
    now = [100.0]
    deadline = Deadline.after(12.0, clock=lambda: now[0])

    share = deadline.share(4)

    assert share.remaining() == pytest.approx(3.0)
    now[0] += 3.5
    assert share.expired() and deadline.remaining() == pytest.approx(8.5)


def test_invocation_deadline_keeps_a_reserve_from_the_context() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 30_000

    deadline = invocation_deadline(
        Context(), reserve=2.0, default=60.0, clock=lambda: 0.0
    )

    assert deadline.remaining() == pytest.approx(28.0)
    assert invocation_deadline(None, 2.0, 60.0, clock=lambda: 0.0).remaining() == 58.0
