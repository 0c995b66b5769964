"""Entity tags and ``If-Match``, with HTTP's semantics (RFC 9110 13.1.1).

Every write stores a fresh random ``version``; the ETag is that version in
quotes, a strong validator. A random version rather than a counter means a
profile deleted and created again never repeats an ETag a client still
holds. ``If-Match: *`` holds when a profile exists; a list of tags holds
when one of them, compared strongly, is the current version; weak tags
(``W/"..."``) therefore never match.
"""

import os
import re
from dataclasses import dataclass

from user_api.errors import BadRequestError

# The header's grammar, also the OpenAPI document's pattern for If-Match.
# Tag characters are the visible ASCII ones but '"' (RFC 9110 etagc without
# obs-text); MAX_TAGS bounds the list.
IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"[!#-~]*"(\s*,\s*(W/)?"[!#-~]*")*)\s*$'
MAX_TAGS = 20
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
_ENTITY_TAG = re.compile(r'(W/)?"([!#-~]*)"')


def new_version() -> str:
    """128 random bits as hex: unique without coordination."""
    return os.urandom(16).hex()


def etag_for(version: str) -> str:
    return f'"{version}"'


@dataclass(frozen=True)
class IfMatch:
    """A parsed ``If-Match`` header: ``*`` or the strong tags it lists."""

    any_version: bool = False
    versions: tuple[str, ...] = ()

    def holds_for(self, version: str | None) -> bool:
        """Whether the condition holds for a profile at ``version`` (None: absent)."""
        if version is None:
            return False
        return self.any_version or version in self.versions


def parse_if_match(header: str | None) -> IfMatch | None:
    """The condition in an ``If-Match`` header, None when there is none."""
    if header is None:
        return None
    if not _IF_MATCH.fullmatch(header):
        raise BadRequestError(
            "If-Match must be '*' or a comma-separated list of quoted entity "
            'tags, such as If-Match: "3f2a..."; send the ETag of your last read',
            code="invalid_if_match",
        )
    if header.strip() == "*":
        return IfMatch(any_version=True)

    tags = _ENTITY_TAG.findall(header)
    if len(tags) > MAX_TAGS:
        raise BadRequestError(
            f"If-Match lists {len(tags)} entity tags; send at most {MAX_TAGS}",
            code="invalid_if_match",
        )
    return IfMatch(versions=tuple(tag for weak, tag in tags if not weak))
