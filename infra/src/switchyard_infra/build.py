"""Reproducible Lambda packages: ``python -m switchyard_infra.build <service>``.

A service's zip holds its own package, the workspace packages it depends on
(switchyard-contracts) as source, and its third-party dependencies installed
as wheels for the Lambda platform (CPython 3.12, manylinux2014 x86_64) at the
versions pinned in uv.lock. boto3 and botocore are pruned: the runtime has
them. The zip is named by a digest of everything that goes into it (the
pinned requirements with their hashes, the target platform and every source
file), so an unchanged service maps to the same name and is not rebuilt, and
the archive itself is byte-for-byte reproducible (see zipfiles.py).

Installed dependencies are cached per requirements digest under .build/deps,
and uv keeps its own wheel cache, so a second build is fast.
"""

import argparse
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from switchyard_infra.errors import BuildError, InfraError
from switchyard_infra.paths import BUILD_CACHE_DIR, DIST_DIR, REPO_ROOT
from switchyard_infra.services import Service, get_service
from switchyard_infra.zipfiles import tree_files, write_zip

logger = logging.getLogger(__name__)

# Bump when the layout of the package changes, so old names are not reused.
BUILD_FORMAT = "switchyard-build-1"
# Provided by the Lambda Python runtime; packaging them only adds size.
RUNTIME_PROVIDED = ("boto3", "botocore")
# Console scripts carry the build machine's interpreter path (useless on
# Lambda, and irreproducible); .lock is uv's lock file for the target.
SKIPPED_TOP_LEVEL = {"bin", ".lock"}
# An older unpacked build used this recently may serve a running local stack.
PRUNE_GRACE_SECONDS = 900.0


@dataclass(frozen=True)
class Platform:
    """Where the package will run: uv's --python-version/--python-platform."""

    python_version: str
    python_platform: str | None

    @property
    def label(self) -> str:
        return f"cp{self.python_version}-{self.python_platform or 'host'}"


LAMBDA_PLATFORM = Platform("3.12", "x86_64-manylinux2014")


def host_platform() -> Platform:
    """This interpreter and machine: for running a package locally."""
    return Platform(f"{sys.version_info.major}.{sys.version_info.minor}", None)


@dataclass(frozen=True)
class BuildPlan:
    """What goes into one service package, and its digest."""

    service: Service
    platform: Platform
    requirements: str
    sources: tuple[tuple[str, Path], ...]
    digest: str

    @property
    def zip_name(self) -> str:
        return f"{self.service.name}-{self.digest[:16]}.zip"


def find_uv() -> Path:
    """The uv the bootstrap installed, else one on PATH."""
    bundled = REPO_ROOT / ".tools" / "bin" / "uv"
    if bundled.is_file():
        return bundled
    found = shutil.which("uv")
    if found:
        return Path(found)
    raise BuildError("uv is needed to build packages; run scripts/bootstrap.sh")


def _run_uv(args: list[str]) -> str:
    command = [str(find_uv()), *args]
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BuildError(
            f"uv {args[0]} {args[1] if len(args) > 1 else ''} failed "
            f"(exit {result.returncode}): {result.stderr.strip()[-2000:]}"
        )
    return result.stdout


def _export(service: Service, emit_workspace: bool) -> str:
    args = [
        "export",
        "--package",
        service.project,
        "--no-dev",
        "--frozen",
        "--no-header",
        "--no-annotate",
    ]
    for name in RUNTIME_PROVIDED:
        args += ["--prune", name]
    if emit_workspace:
        args.append("--no-hashes")
    else:
        args.append("--no-emit-workspace")
    return _run_uv(args)


def _workspace_members(service: Service) -> list[Path]:
    """The workspace directories the service needs, itself included."""
    members = []
    for line in _export(service, emit_workspace=True).splitlines():
        line = line.strip()
        if line.startswith("-e "):
            members.append((REPO_ROOT / line[3:].strip()).resolve())
    if service.directory.resolve() not in members:
        raise BuildError(
            f"uv export did not list {service.directory}; is {service.project} "
            "a workspace member in the root pyproject.toml?"
        )
    return sorted(members)


def _package_dirs(member: Path) -> list[Path]:
    """The import packages a workspace member ships (its hatch wheel config)."""
    pyproject = member / "pyproject.toml"
    try:
        config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BuildError(f"cannot read {pyproject}: {exc}") from exc
    wheel = config.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
    packages = wheel.get("wheel", {}).get("packages")
    if not packages:
        raise BuildError(
            f"{pyproject} names no [tool.hatch.build.targets.wheel] packages; "
            "the build copies exactly those directories"
        )
    return [member / package for package in packages]


def _sources(service: Service) -> list[tuple[str, Path]]:
    entries: list[tuple[str, Path]] = []
    for member in _workspace_members(service):
        for package_dir in _package_dirs(member):
            if not package_dir.is_dir():
                raise BuildError(f"{package_dir} does not exist; nothing to package")
            for arcname, path in tree_files(package_dir):
                entries.append((f"{package_dir.name}/{arcname}", path))
    return sorted(entries)


def plan(name: str, platform: Platform = LAMBDA_PLATFORM) -> BuildPlan:
    """Everything the package of service name is made of, and its digest."""
    service = get_service(name)
    requirements = _export(service, emit_workspace=False)
    sources = _sources(service)
    digest = hashlib.sha256()
    for part in (BUILD_FORMAT, service.name, platform.label, requirements):
        digest.update(part.encode() + b"\0")
    for arcname, path in sources:
        digest.update(arcname.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return BuildPlan(
        service, platform, requirements, tuple(sources), digest.hexdigest()
    )


def _dependencies_dir(requirements: str, platform: Platform) -> Path:
    """Third-party packages installed for platform, cached by requirements."""
    key = hashlib.sha256(f"{platform.label}\0{requirements}".encode()).hexdigest()
    target = BUILD_CACHE_DIR / "deps" / key[:24]
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        requirements_file = Path(scratch) / "requirements.txt"
        requirements_file.write_text(requirements, encoding="utf-8")
        staging = Path(scratch) / "site"
        staging.mkdir()
        if requirements.strip():
            args = [
                "pip",
                "install",
                "--target",
                str(staging),
                "--python-version",
                platform.python_version,
                "--only-binary",
                ":all:",
                "--no-deps",
                "--require-hashes",
                "--link-mode",
                "copy",
                "--quiet",
                "-r",
                str(requirements_file),
            ]
            if platform.python_platform:
                args += ["--python-platform", platform.python_platform]
            _run_uv(args)
        for name in SKIPPED_TOP_LEVEL:
            path = staging / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        # Another build may have finished the same directory meanwhile.
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():
                raise
    return target


def _entries(build: BuildPlan) -> list[tuple[str, Path]]:
    deps = _dependencies_dir(build.requirements, build.platform)
    own = dict(build.sources)
    entries = [(a, p) for a, p in tree_files(deps) if a not in own]
    return sorted(entries + list(build.sources))


def build_service(
    name: str, out_dir: Path | None = None, platform: Platform = LAMBDA_PLATFORM
) -> Path:
    """Build (or reuse) the zip of service name; returns its path."""
    build = plan(name, platform)
    out_dir = Path(out_dir) if out_dir is not None else DIST_DIR
    destination = out_dir / build.zip_name
    if destination.is_file():
        logger.info("reusing %s: its inputs have not changed", destination)
        return destination

    out_dir.mkdir(parents=True, exist_ok=True)
    entries = _entries(build)
    with tempfile.NamedTemporaryFile(
        dir=out_dir, prefix=f".{build.zip_name}.", delete=False
    ) as scratch:
        partial = Path(scratch.name)
    try:
        write_zip(entries, partial)
        partial.chmod(0o644)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def build_service_dir(
    name: str, out_dir: Path | None = None, platform: Platform | None = None
) -> Path:
    """The same content as the zip, unpacked: a directory to put on sys.path.

    The default platform is this interpreter's, so binary dependencies load
    in a local process; pass LAMBDA_PLATFORM for exactly the zip's content.
    """
    build = plan(name, platform or host_platform())
    root = Path(out_dir) if out_dir is not None else BUILD_CACHE_DIR / "unpacked"
    destination = root / f"{name}-{build.digest[:16]}"
    if destination.is_dir():
        # Marks it as in use, for prune_unpacked's grace period.
        os.utime(destination)
    else:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root) as scratch:
            staging = Path(scratch) / "pkg"
            for arcname, path in _entries(build):
                target = staging / arcname
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
            try:
                staging.rename(destination)
            except OSError:
                if not destination.is_dir():
                    raise

    prune_unpacked(root, name, keep=destination)
    return destination


def prune_unpacked(
    root: Path, name: str, keep: Path, grace_seconds: float = PRUNE_GRACE_SECONDS
) -> list[Path]:
    """Remove service name's unpacked directories other than keep.

    Each source change makes a new directory, so without this they pile up.
    One last used (built or reused) within grace_seconds is kept: a local
    stack started from it may still be running. Returns what was removed.
    Limitation: a stack that runs longer than the grace period from an
    outdated build can lose its package directory when another build prunes.
    """
    own_name = re.compile(re.escape(name) + r"-[0-9a-f]{16}")
    recent = time.time() - grace_seconds
    removed = []
    for path in sorted(root.iterdir()):
        if path == keep or not own_name.fullmatch(path.name) or not path.is_dir():
            continue
        try:
            if path.stat().st_mtime > recent:
                continue
        except OSError:
            continue
        # Moved aside first, so that no build finds a half-removed directory
        # under its digest name and reuses it.
        trash = Path(tempfile.mkdtemp(dir=root, prefix=".prune-"))
        try:
            path.rename(trash / path.name)
        except OSError:
            # Another build pruned it meanwhile.
            continue
        finally:
            shutil.rmtree(trash, ignore_errors=True)
        logger.info("removed the older unpacked build %s", path)
        removed.append(path)
    return removed


def describe(path: Path) -> str:
    """'<path> <size> bytes (<MiB>, <n> entries)' for a built zip."""
    size = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        count = len(archive.infolist())
    try:
        shown = path.relative_to(Path.cwd())
    except ValueError:
        shown = path
    return f"{shown} {size} bytes ({size / 1048576:.2f} MiB, {count} entries)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m switchyard_infra.build",
        description="Build a reproducible Lambda zip for one service.",
    )
    parser.add_argument("service", help="user-api, router, connectors or dlq-processor")
    parser.add_argument("--out-dir", type=Path, default=None, help="default: dist/")
    args = parser.parse_args(argv)
    try:
        path = build_service(args.service, args.out_dir)
    except InfraError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(describe(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
