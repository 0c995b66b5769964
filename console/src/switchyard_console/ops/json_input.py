"""JSON typed in by an operator, read strictly.

Python's ``json.loads`` accepts ``NaN`` and ``Infinity`` (which no other JSON
reader does, so a document holding them would be written out as invalid
JSON), and raises RecursionError, not a decode error, on deeply nested
arrays. Every text an operator submits is read here instead, so both become
ordinary problems shown on the page.
"""

import json
from typing import Any


class JsonInputError(ValueError):
    """The text cannot be used as JSON; ``code`` names the reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _constant(name: str) -> Any:
    raise JsonInputError("invalid-json", f"not valid JSON: {name} is not a JSON number")


def loads(text: str, **options: Any) -> Any:
    """The JSON value of ``text``.

    Raises json.JSONDecodeError for a syntax error (it knows the line and
    column) and JsonInputError for a constant JSON does not have or nesting
    too deep to read.
    """
    try:
        return json.loads(text, parse_constant=_constant, **options)
    except RecursionError:
        raise JsonInputError(
            "too-deep", "the JSON is nested too deeply to read; flatten it"
        ) from None
