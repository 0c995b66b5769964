"""When to try a webhook again, and how long to wait first.

Waits grow exponentially with full jitter (a random wait between zero and
the exponential bound), so many connectors retrying one endpoint spread out.
A ``Retry-After`` answer sets the least wait; a wait that would end past the
delivery's deadline is not taken at all.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES = frozenset({429}) | frozenset(range(500, 600))


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, capped."""

    base: float = 0.2
    cap: float = 10.0
    rand: Callable[[float, float], float] = field(default=random.uniform)

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """The wait before retry number ``retry`` (1 for the first retry)."""
        bound = min(self.cap, self.base * 2 ** (retry - 1))
        wait = self.rand(0.0, bound)
        return max(wait, retry_after) if retry_after is not None else wait
