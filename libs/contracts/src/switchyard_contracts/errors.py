"""Errors raised when a document does not follow a contract."""


class ContractError(ValueError):
    """A document does not have the shape its contract requires."""
