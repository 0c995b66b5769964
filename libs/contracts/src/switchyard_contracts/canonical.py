"""Canonical JSON: one spelling per value, so hashes of it are stable."""

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """Serialise with sorted keys and no spaces; the same value, the same text."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def digest(value: Any, length: int = 32) -> str:
    """A short hex SHA-256 of the canonical form of a value."""
    # Half a surrogate pair (JSON can carry one) has no UTF-8 form: this
    # raises UnicodeEncodeError, and callers treat the value as invalid.
    text = canonical_json(value).encode("utf-8")
    return hashlib.sha256(text).hexdigest()[:length]
