"""The failure record: what fails for good, as it travels to the dead letters.

Router and connectors send one failure record per event to the dead-letter
queue; the dead-letter processor stores each as an item of the failed-events
table. The record holds everything needed to explain and redrive the failure,
and nothing is inferred later.

Wire form (an SQS message body)::

    {"kind": "switchyard.failure", "version": 1,
     "event_id": "...", "event": {...} | null, "event_ref": {...} | null,
     "raw": "<base64 of undecodable bytes>" | null,
     "rule": "..." | null, "target": {...} | null, "target_id": "..." | null,
     "error": {"type": "...", "message": "...", "retryable": false},
     "attempts": 1, "first_failed_at": "2026-...Z", "last_failed_at": "...Z",
     "origin": "router" | "connector" | "async-invoke" | "stream",
     "correlation_id": "...", "source": {...} | null}
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from switchyard_contracts.canonical import digest
from switchyard_contracts.errors import ContractError

KIND = "switchyard.failure"
VERSION = 1


class Origin(StrEnum):
    """Where a failure happened."""

    ROUTER = "router"
    CONNECTOR = "connector"
    ASYNC_INVOKE = "async-invoke"
    STREAM = "stream"
    UNRECOGNISED = "unrecognised"


def utc_now() -> str:
    """Now, as ISO 8601 in UTC with millisecond precision and a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class FailureError:
    """What went wrong, and whether trying again could help."""

    type: str
    message: str
    retryable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "retryable": self.retryable}

    @classmethod
    def from_exception(
        cls, exc: BaseException, retryable: bool = False
    ) -> "FailureError":
        return cls(
            type=type(exc).__name__, message=str(exc)[:2000], retryable=retryable
        )


@dataclass(frozen=True)
class FailureRecord:
    """One event that failed for good, on its way to the failed-events table."""

    event_id: str
    error: FailureError
    origin: Origin
    event: dict[str, Any] | None = None
    event_ref: dict[str, str] | None = None
    raw: str | None = None
    rule: str | None = None
    target: dict[str, Any] | None = None
    target_id: str | None = None
    attempts: int = 1
    first_failed_at: str = field(default_factory=utc_now)
    last_failed_at: str = field(default_factory=utc_now)
    correlation_id: str | None = None
    source: dict[str, Any] | None = None

    @property
    def record_id(self) -> str:
        """The table key: one record per event and target, however often sent."""
        return digest({"event_id": self.event_id, "target_id": self.target_id})

    def with_attempts(self, attempts: int) -> "FailureRecord":
        return replace(self, attempts=attempts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "version": VERSION,
            "event_id": self.event_id,
            "event": self.event,
            "event_ref": self.event_ref,
            "raw": self.raw,
            "rule": self.rule,
            "target": self.target,
            "target_id": self.target_id,
            "error": self.error.to_dict(),
            "attempts": self.attempts,
            "first_failed_at": self.first_failed_at,
            "last_failed_at": self.last_failed_at,
            "origin": str(self.origin),
            "correlation_id": self.correlation_id,
            "source": self.source,
        }

    def to_message(self) -> str:
        """The SQS message body."""
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str)

    @staticmethod
    def is_failure_document(data: Any) -> bool:
        return isinstance(data, Mapping) and data.get("kind") == KIND

    @classmethod
    def from_dict(cls, data: Any) -> "FailureRecord":
        """Parse a failure document; raise ContractError naming what is wrong."""
        if not cls.is_failure_document(data):
            raise ContractError(f"document is not a {KIND!r} record")
        error = data.get("error")
        if not isinstance(error, Mapping):
            raise ContractError("failure record field 'error' must be an object")
        try:
            return cls(
                event_id=str(data["event_id"]),
                error=FailureError(
                    type=str(error.get("type") or "Unknown"),
                    message=str(error.get("message") or ""),
                    retryable=bool(error.get("retryable", False)),
                ),
                origin=Origin(data["origin"]),
                event=data.get("event"),
                event_ref=data.get("event_ref"),
                raw=data.get("raw"),
                rule=data.get("rule"),
                target=data.get("target"),
                target_id=data.get("target_id"),
                attempts=int(data.get("attempts") or 1),
                first_failed_at=str(data.get("first_failed_at") or utc_now()),
                last_failed_at=str(data.get("last_failed_at") or utc_now()),
                correlation_id=data.get("correlation_id"),
                source=data.get("source"),
            )
        except KeyError as exc:
            raise ContractError(f"failure record is missing the field {exc}") from exc
        except ValueError as exc:
            raise ContractError(f"failure record has a bad value: {exc}") from exc
