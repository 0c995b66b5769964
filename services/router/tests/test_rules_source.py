"""The rules source keeps the last good rules when S3 misbehaves."""

import io
import json
import logging

import pytest

from router.errors import RulesSourceError
from router.rules_source import RulesSource

pytestmark = pytest.mark.unit

DOC = {
    "rules": [{"name": "a", "pattern": {"t": ["x"]}, "targets": [{"connector": "c"}]}]
}


class FlakyS3:
    """Serves the document once, then fails as told."""

    def __init__(self, error) -> None:
        self.error = error
        self.requests: list[dict] = []

    def get_object(self, **request):
        self.requests.append(request)
        if len(self.requests) > 1 and self.error is not None:
            raise self.error
        return {"Body": io.BytesIO(json.dumps(DOC).encode()), "ETag": '"e1"'}


def test_a_failed_recheck_keeps_the_last_good_rules(kinesis, caplog):
    s3 = FlakyS3(kinesis.error("InternalError", 500, "GetObject"))
    clock = iter([0.0, 100.0]).__next__
    source = RulesSource("b", "k", 30, s3, logging.getLogger("router"), clock)

    first = source.current()
    with caplog.at_level(logging.WARNING, logger="router"):
        second = source.current()

    assert second is first and first.version == '"e1"'
    assert s3.requests[1]["IfNoneMatch"] == '"e1"'
    assert any("keeping rules version" in r.getMessage() for r in caplog.records)


def test_a_failed_first_read_raises_so_the_batch_is_retried(kinesis):
    class Failing:
        def get_object(self, **request):
            raise kinesis.error("SlowDown", 503, "GetObject")

    source = RulesSource("b", "k", 30, Failing(), logging.getLogger("router"))

    with pytest.raises(RulesSourceError, match="s3://b/k"):
        source.current()


def test_an_invalid_document_at_cold_start_fails_the_batch_until_fixed():
    # Dropping every event as unrouted would lose them while warm containers
    # still route with their last good rules; a retry waits for the fix.
    class Versions:
        def __init__(self) -> None:
            self.versions = [
                ('"bad"', b'{"rules": [{"name": "a"}]}'),
                ('"good"', json.dumps(DOC).encode()),
            ]

        def get_object(self, **request):
            etag, body = self.versions.pop(0)
            return {"Body": io.BytesIO(body), "ETag": etag}

    clock = iter([0.0, 100.0]).__next__
    source = RulesSource("b", "k", 30, Versions(), logging.getLogger("router"), clock)

    with pytest.raises(RulesSourceError, match=r'"bad".*not valid'):
        source.current()
    assert source.current().version == '"good"'
