"""The connectors' error hierarchy.

Every error that can end a delivery says whether trying again later could
help (``retryable``); the failure record carries that flag to the console.
"""


class ConnectorError(Exception):
    """Base of every error raised by the connectors package."""

    retryable: bool = False


class ConfigurationError(ConnectorError):
    """The function's own configuration (environment) is missing or wrong."""


class DeadLetterError(ConnectorError):
    """A failure record could not be sent: the invocation must fail."""


class DeliveryError(ConnectorError):
    """One delivery failed; the message says why and what to do."""

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class InternalError(DeliveryError):
    """An unexpected exception while delivering; the record keeps the event."""

    retryable = True


class InvalidTarget(DeliveryError):
    """The target's parameters are unusable; fix the rule."""


class InvalidEvent(DeliveryError):
    """The event cannot be delivered as it is (shape, numbers, size)."""


class EventUnavailable(DeliveryError):
    """An event sent by reference could not be read from the payload bucket."""


class ItemTooLarge(InvalidEvent):
    """The DynamoDB item would exceed DynamoDB's 400 KB item limit."""


class DeliveryTableError(DeliveryError):
    """DynamoDB refused or failed the write to the target table."""


class IdempotencyStoreError(DeliveryError):
    """The idempotency table could not be read or written."""

    retryable = True


class InFlightElsewhere(DeliveryError):
    """Another invocation holds this delivery right now."""

    retryable = True


class CredentialsError(DeliveryError):
    """The webhook's named secret could not be read or is malformed."""


class BlockedDestination(DeliveryError):
    """The webhook URL points at an address or scheme that is not allowed."""


class RedirectRefused(DeliveryError):
    """The webhook answered with a redirect, which is never followed."""


class WebhookHttpError(DeliveryError):
    """The webhook answered with a status that is not a success."""

    def __init__(self, message: str, *, status: int, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status


class WebhookTransportError(DeliveryError):
    """The connection failed or timed out before a full answer came back."""

    retryable = True


class TimeBudgetExhausted(DeliveryError):
    """The invocation ran out of time before this delivery could be made."""

    retryable = True
