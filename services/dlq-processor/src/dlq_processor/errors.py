"""The dead-letter processor's errors, one family for the whole package."""


class DlqError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigurationError(DlqError):
    """A setting is missing or malformed; the message names the variable."""


class StorageError(DlqError):
    """The failed-events table or the payload bucket refused an operation.

    The message is left on the queue (a batch item failure) so that SQS
    retries it and, after the redrive policy's receive count, moves it to
    the unprocessable queue.
    """


class StorageRejected(StorageError):
    """The table refused a write as invalid (an item too large, a bad key).

    The same write can never succeed, so the processor keeps the message
    whole as an "unrecognised" record instead of retrying it.
    """


class StreamReadError(DlqError):
    """Records could not be read back from the events stream for now."""


class RecordNotFound(DlqError, KeyError):
    """No failure record has the given id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "failure record not found"


class InvalidCursor(DlqError, ValueError):
    """A pagination cursor was not produced by the same query."""


class InvalidStatus(DlqError, ValueError):
    """A status outside parked, redriven, resolved and discarded."""


class RedriveError(DlqError):
    """A record cannot be redriven as it stands; the message says why."""


class AlarmError(DlqError):
    """The alarm topic or the window claim failed."""


class ClaimRefused(DlqError):
    """A conditional claim lost: the record changed since it was read."""
