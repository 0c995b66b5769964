"""Profiles against a table that always loses the race."""

import pytest

from user_api.attributes import item_size
from user_api.claims import Caller
from user_api.errors import (
    ConflictError,
    PayloadTooLargeError,
    WriteConditionError,
)
from user_api.profiles import WRITE_ATTEMPTS, Profiles
from user_api.store import StoredProfile

pytestmark = pytest.mark.unit


class RacingTable:
    """Every conditional write finds the item changed by someone else."""

    def __init__(self) -> None:
        self.reads = 0

    def get(self, user_id: str) -> StoredProfile:
        self.reads += 1
        return StoredProfile(user_id=user_id, version=f"v{self.reads}", attributes={})

    def put(self, values, *, replacing) -> None:
        raise WriteConditionError("changed")

    def delete(self, current) -> None:
        raise WriteConditionError("changed")


@pytest.mark.parametrize("operation", ["replace", "patch", "delete"])
def test_losing_every_race_is_a_409_after_a_few_fresh_reads(operation) -> None:
    table = RacingTable()
    profiles = Profiles(table, max_item_bytes=1000)
    caller = Caller(sub="u1")

    with pytest.raises(ConflictError) as caught:
        if operation == "delete":
            profiles.delete(caller, None)
        else:
            getattr(profiles, operation)(caller, {"a": "b"}, None)

    assert caught.value.code == "concurrent_update"
    assert table.reads == WRITE_ATTEMPTS


class RecordingTable:
    """An empty table that keeps what is written to it."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def get(self, user_id: str) -> None:
        return None

    def put(self, values, *, replacing) -> None:
        self.items.append(values)


def test_an_item_of_exactly_the_limit_is_written_and_one_byte_more_is_a_413() -> None:
    fixed = {"user_id": "u1", "version": "v", "created_at": "t", "updated_at": "t"}
    limit = item_size({**fixed, "big": ""}) + 1000
    table = RecordingTable()
    profiles = Profiles(
        table, max_item_bytes=limit, clock=lambda: "t", versions=lambda: "v"
    )

    profiles.replace(Caller(sub="u1"), {"big": "x" * 1000}, None)
    with pytest.raises(PayloadTooLargeError) as caught:
        profiles.replace(Caller(sub="u1"), {"big": "é" * 500 + "x"}, None)

    assert item_size(table.items[0]) == limit
    assert caught.value.code == "profile_too_large"
    assert f"more than the {limit} bytes" in caught.value.message
