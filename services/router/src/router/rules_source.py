"""The rules document in S3: loaded once, re-checked after a TTL by ETag.

An unchanged document costs one conditional GET answered 304. A new version
that fails validation is not applied: the last good rules stay in force and
an ERROR names the version. With no document at all nothing is routed and a
WARNING says why. A failed read keeps the last good rules; with none loaded
yet it raises, so the batch is retried rather than dropped.
"""

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from router.errors import RulesError, RulesSourceError
from router.rules import RuleSet

_MISSING_CODES = {"NoSuchKey", "NoSuchBucket", "404"}
_NOT_MODIFIED_CODES = {"304", "NotModified"}


class RulesSource:
    """The current rule set, refreshed from S3 at most once per TTL."""

    def __init__(
        self,
        bucket: str,
        key: str,
        ttl_seconds: float,
        client: Any,
        logger: logging.Logger | Any,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.ttl_seconds = ttl_seconds
        self.client = client
        self.logger = logger
        self.clock = clock
        self.rules: RuleSet | None = None
        self.missing = False
        self.etag: str | None = None
        self.rejected_version: str | None = None
        self.fetches = 0
        self._next_check = float("-inf")

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def current(self) -> RuleSet | None:
        """The rules to route with now; None when there is no document."""
        now = self.clock()
        if now >= self._next_check:
            self._refresh()
            self._next_check = now + self.ttl_seconds
        if self.rules is None and self.missing:
            self.logger.warning(
                "no rules document at %s; events are not routed", self.location
            )
        if self.rules is None and self.rejected_version is not None:
            # Routing nothing would drop the events; a retry waits for a
            # valid document instead, as for a failed first read.
            raise RulesSourceError(
                f"rules document {self.location} version "
                f"{self.rejected_version} is not valid and no good rules are "
                "loaded yet; fix the document"
            )
        return self.rules

    def _refresh(self) -> None:
        request = {"Bucket": self.bucket, "Key": self.key}
        if self.etag:
            request["IfNoneMatch"] = self.etag
        self.fetches += 1
        try:
            response = self.client.get_object(**request)
            body = response["Body"].read()
        except ClientError as exc:
            self._on_error(exc)
            return
        except BotoCoreError as exc:
            self._keep_or_raise(exc)
            return

        etag = response.get("ETag")
        version = response.get("VersionId") or etag
        self.missing = False
        self.etag = etag
        try:
            doc = json.loads(body)
            rules = RuleSet.from_document(doc, version=version)
        except (ValueError, RecursionError, RulesError) as exc:
            # RecursionError: JSON nested deeper than the parser allows.
            problems = exc.problems if isinstance(exc, RulesError) else []
            self.rejected_version = version
            self.logger.error(
                "rules document %s version %s is not valid; keeping version %s: %s",
                self.location,
                version,
                self.rules.version if self.rules else None,
                exc,
                extra={"problems": [p.to_dict() for p in problems[:20]]},
            )
            return
        self.rules = rules
        self.rejected_version = None
        self.logger.info(
            "rules document %s version %s loaded: %d rules",
            self.location,
            version,
            len(rules.rules),
        )

    def _on_error(self, exc: ClientError) -> None:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_MODIFIED_CODES or status == 304:
            return
        if code in _MISSING_CODES:
            self.rules = None
            self.missing = True
            self.etag = None
            self.rejected_version = None
            return
        self._keep_or_raise(exc)

    def _keep_or_raise(self, exc: Exception) -> None:
        if self.rules is None:
            raise RulesSourceError(
                f"GetObject {self.location} failed and no rules are loaded yet: {exc}"
            ) from exc
        self.logger.warning(
            "GetObject %s failed; keeping rules version %s: %s",
            self.location,
            self.rules.version,
            exc,
        )
