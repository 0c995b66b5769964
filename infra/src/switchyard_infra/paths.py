"""Where things are in the repository, found from this package's location."""

from pathlib import Path

# infra/src/switchyard_infra/paths.py -> the repository root is three up.
REPO_ROOT = Path(__file__).resolve().parents[3]
TEMPLATES_DIR = REPO_ROOT / "infra" / "templates"
SERVICES_DIR = REPO_ROOT / "services"
DIST_DIR = REPO_ROOT / "dist"
BUILD_CACHE_DIR = REPO_ROOT / ".build"
SITE_DIR = REPO_ROOT / "site"
