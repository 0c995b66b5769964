"""Time budgets: how long a delivery may keep trying.

An async invocation has a hard timeout. The batch's time is shared fairly:
each delivery may use the time left divided by the deliveries left, so one
slow endpoint cannot starve the rest, and some time is always kept back to
send failure records before Lambda stops the function.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Clock = Callable[[], float]


@dataclass(frozen=True)
class Deadline:
    """A point in monotonic time after which no new work starts."""

    at: float
    clock: Clock = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Clock = time.monotonic) -> "Deadline":
        return cls(clock() + max(0.0, seconds), clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def share(self, parts: int) -> "Deadline":
        """A sooner deadline: this one's time left divided into ``parts``."""
        return Deadline.after(self.remaining() / max(1, parts), self.clock)


def invocation_deadline(
    context: Any, reserve: float, default: float, clock: Clock = time.monotonic
) -> Deadline:
    """The deadline for deliveries: the invocation's time left minus a reserve."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    total = remaining_ms() / 1000.0 if callable(remaining_ms) else default
    return Deadline.after(total - reserve, clock)
