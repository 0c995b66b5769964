"""How a failure record is laid out as an item of the failed-events table.

Documents (the event, its target, its source coordinates, an original event
kept through an edit) are stored as JSON text, not as DynamoDB maps: the
numbers keep their exact spelling, floats need no Decimal round trip, and
the size that counts against the 400 KB item limit is the text's length.
Readers get them back as dicts. Scalars the indexes use (status,
target_name, error_type, last_failed_at) are always present.
"""

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from switchyard_contracts.canonical import digest

STATUSES = ("parked", "redriven", "resolved", "discarded")
JSON_FIELDS = ("event", "target", "source", "original_event")
NUMBER_FIELDS = ("attempts", "redrive_attempts")
TARGET_NAME_LIMIT = 256
# The parameters that name where a connector delivers, in order of
# preference, for the short form in target_name.
NAMING_PARAMS = (
    "url",
    "table",
    "table_name",
    "TableName",
    "queue_url",
    "topic_arn",
    "bucket",
    "function",
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def target_name(target: Mapping[str, Any] | None, origin: str) -> str:
    """The target's connector and a short form of its parameters.

    Records without a target still need a value for the target index:
    "router" when the router failed before choosing one, else
    "unrecognised".
    """
    if not target or not target.get("connector"):
        return "router" if origin in ("router", "stream") else "unrecognised"
    connector = str(target["connector"])
    params = target.get("params") or {}
    short = None
    if isinstance(params, Mapping):
        for name in NAMING_PARAMS:
            if isinstance(params.get(name), str) and params[name]:
                short = params[name]
                break
        if short is None and params:
            short = digest(params, length=8)
    if short is not None and "://" in short:
        short = _bare_url(short)
    name = f"{connector}:{short}" if short else connector
    return name[:TARGET_NAME_LIMIT]


def _bare_url(url: str) -> str:
    """A URL without credentials, query or fragment, fit to show and index."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0]
    return f"{parts.scheme}://{host}{port}{parts.path}"


def to_json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def serialize(value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value."""
    return _serializer.serialize(value)


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A table item as the plain dict the console and redrive read."""
    record: dict[str, Any] = {
        name: _plain(_deserializer.deserialize(value)) for name, value in item.items()
    }
    for name in JSON_FIELDS:
        text = record.get(name)
        if isinstance(text, str):
            try:
                record[name] = json.loads(text)
            except ValueError:
                record[name] = None
                record[f"{name}_text"] = text
    for name in NUMBER_FIELDS:
        if name in record:
            record[name] = int(record[name])
    if isinstance(record.get("sqs_message_ids"), set):
        record["sqs_message_ids"] = sorted(record["sqs_message_ids"])
    record.setdefault("history", [])
    return record


def _plain(value: Any) -> Any:
    """Decimals as int or float, sets as sets, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
