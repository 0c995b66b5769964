"""Which code a function runs: its built package first, its sources else."""

import os
from pathlib import Path

import pytest

from switchyard_local.packages import package_path

pytestmark = pytest.mark.unit


def make_repo(root: Path) -> None:
    (root / "services/svc/src/svc").mkdir(parents=True)
    (root / "services/svc/src/svc/handler.py").write_text("def handler(e, c): ...\n")
    (root / "libs/contracts/src").mkdir(parents=True)


def test_built_package_holding_the_handler_wins(tmp_path):
    make_repo(tmp_path)
    built = tmp_path / "built"
    (built / "svc").mkdir(parents=True)
    (built / "svc/handler.py").write_text("")

    assert package_path(tmp_path, "svc", "svc.handler.handler", built) == str(built)


def test_sources_are_the_fallback_with_contracts_beside_them(tmp_path):
    make_repo(tmp_path)

    found = package_path(tmp_path, "svc", "svc.handler.handler", None)

    assert found == os.pathsep.join(
        [str(tmp_path / "services/svc/src"), str(tmp_path / "libs/contracts/src")]
    )


def test_missing_handler_module_gives_none(tmp_path):
    make_repo(tmp_path)

    assert package_path(tmp_path, "svc", "svc.nothing.handler", tmp_path) is None
