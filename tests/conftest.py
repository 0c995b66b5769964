"""Fixtures of the cross-package tests: the repository and the local stack.

``local_stack`` is one ``switchyard_local.stack.LocalStack`` for the whole
session (site on, console off), for tests that only read or add their own
data. A test that needs a stack of its own starts one with ``LocalStack``.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from switchyard_local.stack import LocalStack

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the repository (CI puts it there too)."""
    return REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    logs = tmp_path_factory.mktemp("local-stack") / "functions.log"
    with LocalStack(stage="local", site=True, console=False, log_path=logs) as stack:
        yield stack
