"""What became of one delivery."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from connectors.errors import DeliveryError


class Status(StrEnum):
    DELIVERED = "delivered"
    DUPLICATE = "duplicate"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """A delivery's end: made, already made before, or failed for good."""

    status: Status
    attempts: int = 0
    error: DeliveryError | None = None
    # Why a retryable failure stopped being retried, for the failure record.
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def delivered(cls, attempts: int, **details: Any) -> "Outcome":
        return cls(Status.DELIVERED, attempts, details=details)

    @classmethod
    def duplicate(cls, **details: Any) -> "Outcome":
        return cls(Status.DUPLICATE, 0, details=details)

    @classmethod
    def failed(
        cls,
        error: DeliveryError,
        attempts: int = 0,
        note: str | None = None,
        **details: Any,
    ) -> "Outcome":
        return cls(Status.FAILED, attempts, error, note, details)

    @property
    def message(self) -> str:
        text = str(self.error) if self.error is not None else ""
        return f"{text}; {self.note}" if self.note else text
