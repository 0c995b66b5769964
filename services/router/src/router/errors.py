"""The router's errors: one hierarchy, so callers can catch what they handle."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from router.problems import Problem


class RouterError(Exception):
    """Base of every error the router raises on purpose."""


class RulesError(RouterError):
    """A rules document is not valid; ``problems`` lists every reason."""

    def __init__(self, problems: "list[Problem]", version: str | None = None) -> None:
        self.problems = list(problems)
        self.version = version
        first = problems[0] if problems else None
        summary = f"{first.path}: {first.message}" if first else "no detail"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        where = f"rules document {version!r}" if version else "rules document"
        super().__init__(f"{where} is not valid: {summary}{more}")


class RulesSourceError(RouterError):
    """The rules document could not be read; a retry may help."""


class StorageError(RouterError):
    """An S3 write for an event payload failed."""


class DeadLetterError(RouterError):
    """Failure records could not be sent to the dead-letter queue."""


class ConfigError(RouterError):
    """The router's configuration is missing or malformed."""
