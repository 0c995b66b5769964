"""What each method does to the caller's profile.

Every write reads the current item, checks ``If-Match`` against it, builds
the whole new item and writes it on condition that the item is still the
one read. When another writer slipped in between, the condition fails,
nothing changes, and the operation starts again from a fresh read, where an
``If-Match`` that no longer holds becomes a 412. After a few lost races in a
row the caller gets a 409 and can retry.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from user_api.attributes import item_size
from user_api.claims import Caller
from user_api.errors import (
    ConflictError,
    PayloadTooLargeError,
    PreconditionFailedError,
    ProfileNotFoundError,
    WriteConditionError,
)
from user_api.preconditions import IfMatch, new_version
from user_api.store import StoredProfile, UsersTable

WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class Profile:
    """The caller's attributes and the version they are at."""

    attributes: dict[str, Any]
    version: str
    created: bool = False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Profiles:
    """The five operations of the API, for one table."""

    def __init__(
        self,
        table: UsersTable,
        *,
        max_item_bytes: int,
        clock: Callable[[], str] = _now,
        versions: Callable[[], str] = new_version,
    ) -> None:
        self.table = table
        self.max_item_bytes = max_item_bytes
        self._clock = clock
        self._versions = versions

    def get(self, caller: Caller) -> Profile:
        current = self.table.get(caller.sub)
        if current is None:
            raise _not_found()
        return Profile(current.attributes, current.version)

    def create(
        self, caller: Caller, attributes: dict[str, Any], if_match: IfMatch | None
    ) -> Profile:
        def build(current: StoredProfile | None) -> dict[str, Any]:
            if current is not None:
                raise ConflictError(
                    "you already have a profile; change it with PUT or PATCH",
                    code="profile_exists",
                )
            return attributes

        return self._write(caller, if_match, build)

    def replace(
        self, caller: Caller, attributes: dict[str, Any], if_match: IfMatch | None
    ) -> Profile:
        return self._write(caller, if_match, lambda current: attributes)

    def patch(
        self, caller: Caller, changes: dict[str, Any], if_match: IfMatch | None
    ) -> Profile:
        def build(current: StoredProfile | None) -> dict[str, Any]:
            if current is None:
                raise _not_found()
            merged = dict(current.attributes)
            for name, value in changes.items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            return merged

        return self._write(caller, if_match, build)

    def delete(self, caller: Caller, if_match: IfMatch | None) -> None:
        for _ in range(WRITE_ATTEMPTS):
            current = self.table.get(caller.sub)
            _check_precondition(if_match, current)
            if current is None:
                raise _not_found()
            try:
                self.table.delete(current)
            except WriteConditionError:
                continue
            return
        raise _lost_races()

    def _write(
        self,
        caller: Caller,
        if_match: IfMatch | None,
        build: Callable[[StoredProfile | None], dict[str, Any]],
    ) -> Profile:
        for _ in range(WRITE_ATTEMPTS):
            current = self.table.get(caller.sub)
            _check_precondition(if_match, current)
            attributes = build(current)

            now = self._clock()
            version = self._versions()
            item: dict[str, Any] = {
                **attributes,
                "user_id": caller.sub,
                "version": version,
                "created_at": (current.created_at if current else None) or now,
                "updated_at": now,
            }
            # Tokens without an email claim (access tokens) keep the stored
            # one; only an address the pool says is verified is recorded, so
            # nobody can pass as another user in the operators' search.
            fresh = caller.email if caller.email_verified is True else None
            email = fresh or (current.email if current else None)
            if email:
                item["email"] = email
            self._check_size(item)

            try:
                self.table.put(item, replacing=current)
            except WriteConditionError:
                continue
            return Profile(attributes, version, created=current is None)
        raise _lost_races()

    def _check_size(self, item: dict[str, Any]) -> None:
        size = item_size(item, stop_above=self.max_item_bytes)
        if size > self.max_item_bytes:
            raise PayloadTooLargeError(
                f"the profile would take more than the {self.max_item_bytes} "
                "bytes DynamoDB allows for one item; remove or shorten attributes",
                code="profile_too_large",
            )


def _check_precondition(
    if_match: IfMatch | None, current: StoredProfile | None
) -> None:
    if if_match is None:
        return
    if not if_match.holds_for(current.version if current else None):
        raise PreconditionFailedError(
            "the profile changed since you read it (If-Match does not hold); "
            "nothing was changed: read it again, reapply your edit and retry"
            if current is not None
            else "If-Match was sent but you have no profile; nothing was changed",
        )


def _not_found() -> ProfileNotFoundError:
    return ProfileNotFoundError("you have no profile yet; create it with POST or PUT")


def _lost_races() -> ConflictError:
    return ConflictError(
        "the profile kept changing while this request ran; nothing was changed "
        "by it: read it again and retry",
        code="concurrent_update",
    )
