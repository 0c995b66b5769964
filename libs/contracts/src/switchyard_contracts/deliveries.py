"""The delivery batch: what the router sends a connector by async invoke.

One batch goes to one target (a connector and its parameters). It holds one
delivery per event. An event travels inline, or by reference to an S3 object
when it is too large for the async payload limit; never both, never neither.

Wire form::

    {"kind": "switchyard.deliveries", "version": 1,
     "target": {"connector": "webhook", "params": {...}},
     "target_id": "<hash of target>",
     "deliveries": [
        {"event_id": "...", "rule": "...", "correlation_id": "...",
         "event": {...} | null, "event_ref": {"bucket": ..., "key": ...} | null,
         "source": {"shard_id": ..., "sequence_number": ...,
                    "sub_sequence_number": 0} | null,
         "redrive": {"record_id": ..., "attempt": 2} | null}
     ]}
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchyard_contracts.canonical import digest
from switchyard_contracts.errors import ContractError

KIND = "switchyard.deliveries"
VERSION = 1


def target_id(target: Mapping[str, Any]) -> str:
    """A stable id for a target: the same connector and params, the same id."""
    return digest({"connector": target["connector"], "params": target.get("params")})


@dataclass(frozen=True)
class Delivery:
    """One event bound for one target."""

    event_id: str
    rule: str
    correlation_id: str
    event: dict[str, Any] | None = None
    event_ref: dict[str, str] | None = None
    source: dict[str, Any] | None = None
    redrive: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if (self.event is None) == (self.event_ref is None):
            raise ContractError(
                f"delivery {self.event_id!r} must carry exactly one of "
                "'event' and 'event_ref'"
            )

    def idempotency_key(self, target_id_: str) -> str:
        """The key connectors deduplicate on: the same event to the same target."""
        return f"{target_id_}#{self.event_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "rule": self.rule,
            "correlation_id": self.correlation_id,
            "event": self.event,
            "event_ref": self.event_ref,
            "source": self.source,
            "redrive": self.redrive,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Delivery":
        if not isinstance(data, Mapping):
            raise ContractError("each delivery must be an object")
        event_id = data.get("event_id")
        if not isinstance(event_id, str) or not event_id:
            raise ContractError(
                f"delivery field 'event_id' must be a non-empty string, "
                f"not {event_id!r}"
            )
        try:
            return cls(
                event_id=event_id,
                rule=str(data.get("rule") or ""),
                correlation_id=str(data.get("correlation_id") or data["event_id"]),
                event=data.get("event"),
                event_ref=data.get("event_ref"),
                source=data.get("source"),
                redrive=data.get("redrive"),
            )
        except KeyError as exc:
            raise ContractError(f"delivery is missing the field {exc}") from exc


@dataclass(frozen=True)
class DeliveryBatch:
    """Deliveries for one target, as one async invoke payload."""

    target: dict[str, Any]
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def connector(self) -> str:
        return str(self.target["connector"])

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.target.get("params") or {})

    @property
    def target_id(self) -> str:
        return target_id(self.target)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "version": VERSION,
            "target": self.target,
            "target_id": self.target_id,
            "deliveries": [d.to_dict() for d in self.deliveries],
        }

    @classmethod
    def from_dict(cls, data: Any) -> "DeliveryBatch":
        """Parse a payload; raise ContractError naming what is wrong."""
        if not isinstance(data, Mapping) or data.get("kind") != KIND:
            raise ContractError(f"payload is not a {KIND!r} document")
        if data.get("version") != VERSION:
            raise ContractError(f"unsupported {KIND} version {data.get('version')!r}")
        target = data.get("target")
        if not isinstance(target, Mapping) or not target.get("connector"):
            raise ContractError("payload field 'target.connector' is missing")
        items = data.get("deliveries")
        if not isinstance(items, list):
            raise ContractError("payload field 'deliveries' must be a list")
        return cls(
            target=dict(target), deliveries=[Delivery.from_dict(d) for d in items]
        )
