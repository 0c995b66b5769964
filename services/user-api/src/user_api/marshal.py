"""Python values to DynamoDB attribute values and back, numbers as text.

Written here rather than borrowed from boto3's TypeSerializer so that the
wire text of every number is chosen by ``jsontext.number_text`` and so that
reading never depends on boto3 being imported. Sets and binary values are
never written by this API; an operator may still put them on an item, so
reading turns sets into lists and binary into base64 text.
"""

import base64
from decimal import Decimal
from typing import Any

from user_api.jsontext import number_text


def to_attribute_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, Decimal | int):
        return {"N": number_text(value)}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute_value(item) for item in value]}
    if isinstance(value, dict):
        return {"M": {key: to_attribute_value(item) for key, item in value.items()}}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def to_item(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: to_attribute_value(value) for name, value in values.items()}


def from_attribute_value(attribute: dict[str, Any]) -> Any:
    (kind, raw), *_ = attribute.items()
    if kind == "S":
        return raw
    if kind == "N":
        return Decimal(raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "L":
        return [from_attribute_value(item) for item in raw]
    if kind == "M":
        return {key: from_attribute_value(item) for key, item in raw.items()}
    if kind == "SS":
        return sorted(raw)
    if kind == "NS":
        return sorted(Decimal(item) for item in raw)
    if kind == "B":
        return _base64(raw)
    if kind == "BS":
        return sorted(_base64(item) for item in raw)
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def from_item(item: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: from_attribute_value(value) for name, value in item.items()}


def _base64(raw: bytes | str) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.b64encode(data).decode("ascii")
