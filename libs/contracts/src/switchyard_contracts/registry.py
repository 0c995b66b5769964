"""The connector registry: which Lambda function serves each connector name.

The router invokes, and the dead-letter processor redrives through, the same
mapping, set as configuration: the environment variable ``CONNECTOR_FUNCTIONS``
holds a JSON object such as ``{"webhook": "switchyard-dev-connector-webhook"}``.
"""

import json
import os
from collections.abc import Mapping

from switchyard_contracts.errors import ContractError

ENV_VAR = "CONNECTOR_FUNCTIONS"


class ConnectorRegistry:
    """Connector names to Lambda function names or ARNs."""

    def __init__(self, functions: Mapping[str, str]) -> None:
        self._functions = dict(functions)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ConnectorRegistry":
        text = (os.environ if environ is None else environ).get(ENV_VAR, "{}")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContractError(f"{ENV_VAR} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in data.items()
        ):
            raise ContractError(f"{ENV_VAR} must be a JSON object of strings")
        return cls(data)

    def names(self) -> list[str]:
        return sorted(self._functions)

    def __contains__(self, connector: object) -> bool:
        return connector in self._functions

    def function_for(self, connector: str) -> str:
        """The function serving a connector; ContractError if none is set."""
        try:
            return self._functions[connector]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise ContractError(
                f"no function is registered for connector {connector!r} "
                f"(known: {known}); set it in {ENV_VAR}"
            ) from None
