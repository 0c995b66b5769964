"""Events too large to travel inline are stored in S3 and sent by reference."""

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from router.errors import StorageError


def payload_key(event_id: str, suffix: str = "json") -> str:
    """``payloads/<event id>.json``: the same event, the same key, on retry."""
    return f"payloads/{event_id.replace('/', '_')}.{suffix}"


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
