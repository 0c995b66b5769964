"""The routing-rules document in its versioned S3 bucket.

Every write is conditional: a save names the ETag the operator started from
(``IfMatch``), or, for the very first document, that none exists yet
(``IfNoneMatch="*"``). When someone else saved in between, S3 refuses the
write and :class:`RulesConflictError` carries the new live version, so the
page can keep the operator's edit and show what changed. Who saved a version
travels with it as object metadata; the history is ListObjectVersions, and a
rollback writes an old version's body as a new version, conditionally too.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from botocore.exceptions import BotoCoreError, ClientError

from switchyard_console.ops import aws
from switchyard_console.ops.errors import (
    AwsError,
    ConflictError,
    InvalidInputError,
    MissingResourceError,
    NotConfiguredError,
)

logger = logging.getLogger(__name__)

SAVED_BY = "saved-by"
NOTE = "note"
# S3 answers NoSuchVersion for an unknown id, InvalidArgument for one that
# is not shaped like a version id, MethodNotAllowed for a delete marker.
NO_VERSION_CODES = {"NoSuchVersion", "InvalidArgument", "MethodNotAllowed", "NoSuchKey"}
CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"}


@dataclass(frozen=True)
class RulesVersion:
    """One stored version of the rules document."""

    text: str
    etag: str
    version_id: str | None
    last_modified: datetime | None
    saved_by: str
    note: str


@dataclass(frozen=True)
class VersionInfo:
    """One line of the history: a version without its body."""

    version_id: str
    etag: str
    last_modified: datetime
    size: int
    is_latest: bool
    saved_by: str
    note: str


class RulesConflictError(ConflictError):
    """The document changed since the operator loaded it; nothing was written."""

    def __init__(self, live: RulesVersion | None) -> None:
        who = f" by {live.saved_by}" if live and live.saved_by else ""
        super().__init__(
            "Someone else saved the rules after you opened them"
            f" (now version {live.version_id if live else 'none'}{who}). "
            "Nothing was written; your edit is kept below, compared with the "
            "new live version. Review it and save again."
        )
        self.live = live


class VersionNotFoundError(InvalidInputError):
    """The rules document has no version with this id."""

    def __init__(self, version_id: str, resource: str) -> None:
        super().__init__(
            f"{resource} has no version {version_id[:100]!r}; pick one from the history"
        )
        self.version_id = version_id


def _meta(metadata: dict[str, str], name: str) -> str:
    return unquote(metadata.get(name, ""))


class RulesStore:
    """Read, save, list and roll back the rules document."""

    def __init__(self, bucket: str, key: str, client: Any | None = None) -> None:
        if not bucket:
            raise NotConfiguredError("RULES_BUCKET", "read the routing rules")
        self.bucket = bucket
        self.key = key
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("s3")
        return self._client

    @property
    def resource(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def live(self) -> RulesVersion | None:
        """The live document, or None when none was ever saved."""
        try:
            with aws.calling("GetObject", self.resource):
                response = self.client.get_object(Bucket=self.bucket, Key=self.key)
        except MissingResourceError as exc:
            if exc.code == "NoSuchKey":
                return None
            raise
        return self._version(response)

    def version(self, version_id: str) -> RulesVersion:
        """One stored version by its S3 version id.

        Raises VersionNotFoundError when the document has no such version (a
        mistyped or forged id, or a delete marker).
        """
        try:
            with aws.calling("GetObject", f"{self.resource} version {version_id}"):
                response = self.client.get_object(
                    Bucket=self.bucket, Key=self.key, VersionId=version_id
                )
        except AwsError as exc:
            if exc.code in NO_VERSION_CODES:
                raise VersionNotFoundError(version_id, self.resource) from exc
            raise
        return self._version(response)

    def _version(self, response: dict[str, Any]) -> RulesVersion:
        metadata = response.get("Metadata") or {}
        return RulesVersion(
            text=response["Body"].read().decode("utf-8"),
            etag=response["ETag"],
            version_id=response.get("VersionId"),
            last_modified=response.get("LastModified"),
            saved_by=_meta(metadata, SAVED_BY),
            note=_meta(metadata, NOTE),
        )

    def history(self, limit: int = 50) -> list[VersionInfo]:
        """The newest versions first, each with who saved it (one HEAD each)."""
        versions: list[dict[str, Any]] = []
        with aws.calling("ListObjectVersions", self.resource):
            paginator = self.client.get_paginator("list_object_versions")
            pages = paginator.paginate(
                Bucket=self.bucket,
                Prefix=self.key,
                PaginationConfig={"MaxItems": limit * 2},
            )
            for page in pages:
                versions += [
                    v for v in page.get("Versions", []) if v["Key"] == self.key
                ]
                if len(versions) >= limit:
                    break
        versions.sort(key=lambda v: v["LastModified"], reverse=True)

        infos = []
        for item in versions[:limit]:
            with aws.calling("HeadObject", f"{self.resource} version"):
                head = self.client.head_object(
                    Bucket=self.bucket, Key=self.key, VersionId=item["VersionId"]
                )
            metadata = head.get("Metadata") or {}
            infos.append(
                VersionInfo(
                    version_id=item["VersionId"],
                    etag=item["ETag"],
                    last_modified=item["LastModified"],
                    size=item["Size"],
                    is_latest=item["IsLatest"],
                    saved_by=_meta(metadata, SAVED_BY),
                    note=_meta(metadata, NOTE),
                )
            )
        return infos

    def save(
        self, text: str, *, expected_etag: str | None, actor: str, note: str = ""
    ) -> RulesVersion:
        """Write a new version if the live one is still ``expected_etag``.

        ``expected_etag`` None means the operator saw no document at all: the
        write then succeeds only if there still is none.
        """
        condition = (
            {"IfMatch": expected_etag} if expected_etag else {"IfNoneMatch": "*"}
        )
        saved_at = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            response = self.client.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=text.encode("utf-8"),
                ContentType="application/json",
                Metadata={
                    SAVED_BY: quote(actor),
                    NOTE: quote(note[:200]),
                    "saved-at": saved_at,
                },
                **condition,
            )
        except ClientError as exc:
            if aws.error_code(exc) in CONFLICT_CODES:
                logger.info("rules save refused: the live version changed")
                raise RulesConflictError(self.live()) from exc
            raise aws.translate(exc, "PutObject", self.resource) from exc
        except BotoCoreError as exc:
            raise aws.translate(exc, "PutObject", self.resource) from exc

        logger.info("rules saved by %s as version %s", actor, response.get("VersionId"))
        return RulesVersion(
            text=text,
            etag=response["ETag"],
            version_id=response.get("VersionId"),
            last_modified=datetime.now(UTC),
            saved_by=actor,
            note=note,
        )
