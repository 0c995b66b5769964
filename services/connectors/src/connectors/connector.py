"""What every connector kind provides to the batch runner."""

from typing import Any, Protocol

from connectors.budget import Deadline
from connectors.outcomes import Outcome
from connectors.payloads import LoadedEvent
from switchyard_contracts import Delivery


class Connector(Protocol):
    """A kind of target: checks its parameters, then delivers events."""

    name: str

    def bind(self, params: dict[str, Any]) -> Any:
        """Checked target settings; raise InvalidTarget naming the problem."""
        ...

    def describe(self, bound: Any) -> str:
        """A short, loggable name of the target (no secrets, no query)."""
        ...

    def deliver(
        self,
        bound: Any,
        delivery: Delivery,
        event: LoadedEvent,
        key: str,
        deadline: Deadline,
    ) -> Outcome:
        """Deliver one event at most once; return its outcome."""
        ...
