#!/usr/bin/env bash
# Create .venv and install the whole workspace from uv.lock.
# Idempotent: when neither the lock nor a pyproject changed since the last
# run, it does nothing but compare one checksum.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
PYTHON=${PYTHON:-python3}
TOOLS=.tools
STAMP=.venv/.switchyard-stamp

"$PYTHON" - <<'PY' || { echo "Switchyard needs Python 3.11 or newer" >&2; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

stamp=$(cat uv.lock $(git ls-files '*pyproject.toml' 2>/dev/null || find . -name pyproject.toml -not -path './.venv/*') | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$stamp" ] && [ -x .venv/bin/python ]; then
  exit 0
fi

if [ ! -x "$TOOLS/bin/uv" ] || [ "$("$TOOLS/bin/uv" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  echo "bootstrap: installing uv $UV_VERSION into $TOOLS/"
  "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

echo "bootstrap: syncing .venv from uv.lock"
UV_PYTHON_DOWNLOADS=never "$TOOLS/bin/uv" sync --locked --all-packages --python "$PYTHON" --quiet
echo "$stamp" > "$STAMP"
