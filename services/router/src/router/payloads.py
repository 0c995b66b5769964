"""Events too large to travel inline are stored in S3 and sent by reference."""

import hashlib
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from router.errors import StorageError

# S3 keys hold at most 1,024 UTF-8 bytes; ids longer than this, or that
# cannot be encoded (a lone surrogate), are named by their digest instead.
MAX_READABLE_ID_BYTES = 512


def payload_key(event_id: str, suffix: str = "json") -> str:
    """``payloads/<event id>.json``: the same event, the same key, on retry."""
    try:
        readable = len(event_id.encode("utf-8")) <= MAX_READABLE_ID_BYTES
    except UnicodeEncodeError:
        readable = False
    if readable:
        name = event_id.replace("/", "_")
    else:
        encoded = event_id.encode("utf-8", "surrogatepass")
        name = "sha256-" + hashlib.sha256(encoded).hexdigest()
    return f"payloads/{name}.{suffix}"


def store_payload(
    client: Any, bucket: str, event_id: str, data: bytes, suffix: str = "json"
) -> dict[str, str]:
    """Put the bytes at the event's key; the ``event_ref`` of a delivery."""
    key = payload_key(event_id, suffix)
    content_type = (
        "application/json" if suffix == "json" else "application/octet-stream"
    )
    try:
        client.put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
    except (ClientError, BotoCoreError) as exc:
        raise StorageError(f"PutObject s3://{bucket}/{key} failed: {exc}") from exc
    return {"bucket": bucket, "key": key}
