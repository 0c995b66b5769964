"""Where a service's code is read from: its built package, or its sources.

The built package (``switchyard_infra.build.build_service_dir``) is what
deploys to AWS, so it is used when the build is available. Without it, the
function runs from the service's ``src/`` with the shared contracts library
beside it; its other dependencies then come from the runtime's
site-packages.
"""

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)


def _has_module(paths: list[Path], handler: str) -> bool:
    module = handler.rpartition(".")[0].replace(".", "/")
    return any(
        (p / f"{module}.py").is_file() or (p / module / "__init__.py").is_file()
        for p in paths
    )


def source_paths(root: Path, service: str) -> list[Path]:
    return [root / "services" / service / "src", root / "libs" / "contracts" / "src"]


def built_path(service: str) -> Path | None:
    """The built package directory, or None when the build cannot give one."""
    try:
        from switchyard_infra.build import build_service_dir
    except ImportError:
        return None
    try:
        return Path(build_service_dir(service))
    except Exception as exc:  # the build is another part: report, fall back
        logger.warning("building %s failed, running from sources: %s", service, exc)
        return None


def package_path(
    root: Path, service: str, handler: str, built: Path | None = None
) -> str | None:
    """The ``sys.path`` entries (joined) holding the handler, or None.

    ``built`` is the service's built package (see ``built_path``); the
    sources are the fallback.
    """
    if built is not None and _has_module([built], handler):
        return str(built)
    paths = source_paths(root, service)
    if _has_module(paths, handler):
        return os.pathsep.join(str(p) for p in paths)
    return None
