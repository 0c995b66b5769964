"""The user API's errors.

Two families: ``RequestError`` is the caller's mistake and becomes a 4xx
response naming what to fix; everything else under ``UserApiError`` is a fault
of ours (or of AWS) and becomes a 500 (or a 503 when DynamoDB is only busy).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: where (a JSON Pointer), a code, words."""

    field: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class UserApiError(Exception):
    """Base of every error this package raises."""


class ConfigurationError(UserApiError):
    """The function's environment is wrong; no request can succeed."""


class StoreError(UserApiError):
    """A DynamoDB call failed for a reason that is not the caller's."""


class StoreBusyError(StoreError):
    """DynamoDB throttled us; retrying later can succeed."""


class WriteConditionError(UserApiError):
    """A conditional write found the item not as expected; nothing changed."""


class RequestError(UserApiError):
    """The caller's mistake, answered with ``status`` and a stable ``code``."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        problems: tuple[Problem, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.problems = problems
        self.headers = headers or {}


class BadRequestError(RequestError):
    status = 400
    code = "bad_request"


class ValidationFailedError(BadRequestError):
    """The body parsed but breaks the rules; ``problems`` lists every one."""

    code = "validation_failed"


class UnauthenticatedError(RequestError):
    status = 401
    code = "unauthenticated"


class ProfileNotFoundError(RequestError):
    status = 404
    code = "profile_not_found"


class MethodNotAllowedError(RequestError):
    status = 405
    code = "method_not_allowed"


class ConflictError(RequestError):
    status = 409
    code = "conflict"


class PreconditionFailedError(RequestError):
    status = 412
    code = "precondition_failed"


class PayloadTooLargeError(RequestError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(RequestError):
    status = 415
    code = "unsupported_media_type"
