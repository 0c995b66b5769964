"""Service packages are reproducible and hold only what the service needs."""

import os
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from switchyard_infra.build import (
    LAMBDA_PLATFORM,
    build_service,
    build_service_dir,
    plan,
    prune_unpacked,
)
from switchyard_infra.services import get_service
from switchyard_infra.zipfiles import FIXED_DATE_TIME, write_zip

# The smallest package; its wheels stay cached under .build/ between runs.
SERVICE = "user-api"


@pytest.mark.unit
def test_zip_bytes_do_not_depend_on_file_times_modes_or_order(tmp_path: Path):
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    first, second = tree / "pkg" / "a.py", tree / "b.txt"
    first.write_text("a = 1\n")
    second.write_text("b\n")

    write_zip([("pkg/a.py", first), ("b.txt", second)], tmp_path / "one.zip")
    os.utime(first, (1, 1))
    first.chmod(0o755)
    write_zip([("b.txt", second), ("pkg/a.py", first)], tmp_path / "two.zip")

    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["b.txt", "pkg/a.py"]
    assert {i.date_time for i in infos} == {FIXED_DATE_TIME}
    assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}


@pytest.mark.functional
def test_building_a_service_twice_gives_byte_identical_zips(tmp_path: Path):
    first = build_service(SERVICE, tmp_path / "first")
    second = build_service(SERVICE, tmp_path / "second")

    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.functional
def test_package_holds_the_service_its_workspace_deps_and_wheels_but_not_boto3(
    tmp_path: Path,
):
    service = get_service(SERVICE)
    declared = tomllib.loads((service.directory / "pyproject.toml").read_text())
    wants_contracts = any(
        d.startswith("switchyard-contracts")
        for d in declared["project"]["dependencies"]
    )

    path = build_service(SERVICE, tmp_path)

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert "user_api" in top
    assert ("switchyard_contracts" in top) is wants_contracts
    assert "aws_lambda_powertools" in top
    assert not top & {"boto3", "botocore", "s3transfer", "router", "connectors"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert names == sorted(names)


@pytest.mark.functional
def test_package_name_follows_its_inputs():
    build = plan(SERVICE, LAMBDA_PLATFORM)

    assert build.zip_name == f"{SERVICE}-{build.digest[:16]}.zip"
    assert "aws-lambda-powertools==" in build.requirements
    assert "boto3" not in build.requirements
    assert plan("router").digest != build.digest


def _unpacked(root: Path, name: str, age_seconds: float = 0) -> Path:
    path = root / name
    (path / "pkg").mkdir(parents=True)
    (path / "pkg" / "module.py").write_text("x = 1\n")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


@pytest.mark.unit
def test_prune_keeps_the_current_and_recently_used_dirs_of_the_service_only(
    tmp_path: Path,
):
    keep = _unpacked(tmp_path, "user-api-" + "a" * 16)
    old = _unpacked(tmp_path, "user-api-" + "b" * 16, age_seconds=3600)
    recent = _unpacked(tmp_path, "user-api-" + "c" * 16, age_seconds=10)
    other_service = _unpacked(tmp_path, "router-" + "d" * 16, age_seconds=3600)
    not_a_build = _unpacked(tmp_path, "user-api-notes", age_seconds=3600)

    removed = prune_unpacked(tmp_path, "user-api", keep, grace_seconds=60)

    assert removed == [old]
    assert not old.exists()
    assert {p.name for p in tmp_path.iterdir()} == {
        keep.name,
        recent.name,
        other_service.name,
        not_a_build.name,
    }


@pytest.mark.functional
def test_building_the_unpacked_dir_removes_the_services_older_ones(tmp_path: Path):
    stale = _unpacked(tmp_path, f"{SERVICE}-" + "0" * 16, age_seconds=3600)
    other = _unpacked(tmp_path, "router-" + "0" * 16, age_seconds=3600)

    built = build_service_dir(SERVICE, tmp_path)

    assert (built / "user_api").is_dir()
    assert not stale.exists()
    assert other.is_dir()
    assert {p.name for p in tmp_path.iterdir()} == {built.name, other.name}
