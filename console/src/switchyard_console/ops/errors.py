"""The console's errors: each says what failed, on what, and what to do.

Every AWS call goes through :func:`switchyard_console.ops.aws.calling`, which
turns botocore's errors into these, so views show them as admin messages
instead of failing with a Django error page.
"""


class ConsoleError(Exception):
    """Base of every error the console shows to an operator."""


class NotConfiguredError(ConsoleError):
    """A setting the page needs is empty."""

    def __init__(self, setting: str, purpose: str) -> None:
        super().__init__(
            f"{setting} is not set, so the console cannot {purpose}; "
            f"set it in the console's environment and restart it"
        )
        self.setting = setting


class AwsError(ConsoleError):
    """An AWS call failed."""

    hint = "Try again; if it keeps failing, check the console's logs."

    def __init__(self, operation: str, resource: str, code: str, detail: str) -> None:
        self.operation = operation
        self.resource = resource
        self.code = code
        self.detail = detail
        super().__init__(
            f"AWS {operation} on {resource} failed ({code}: {detail}). {self.hint}"
        )


class ThrottledError(AwsError):
    hint = "AWS is throttling the console; wait a few seconds and try again."


class AccessDeniedError(AwsError):
    hint = (
        "The console's AWS credentials are not allowed to do this; "
        "grant the permission to its role."
    )


class MissingResourceError(AwsError):
    hint = (
        "The resource does not exist; check the console's settings "
        "(bucket, table, stream and queue names)."
    )


class UnreachableError(AwsError):
    hint = "AWS could not be reached; check the endpoint and the network."


class ConflictError(ConsoleError):
    """Someone else changed the thing first; nothing was written."""


class InvalidInputError(ConsoleError):
    """What the operator entered cannot be used as it is."""
