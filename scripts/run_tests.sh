#!/usr/bin/env bash
# Run every test suite, one pytest per package from inside it, so each keeps
# its own configuration (the console's pytest-django settings, for one), then
# report. Exits non-zero if any suite failed or if no suite ran a test.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

suites=(libs/contracts services/user-api services/router services/connectors
        services/dlq-processor infra/local infra console tests)
failed=()
ran=0

for suite in "${suites[@]}"; do
  [ -d "$suite" ] || continue
  find "$suite" -name 'test_*.py' -not -path '*/node_modules/*' | grep -q . || continue
  echo "=== $suite"
  (cd "$suite" && "$root/.venv/bin/pytest" "$@")
  status=$?
  case "$status" in
    0) ran=$((ran + 1)) ;;
    5) echo "($suite: no tests collected)" ;;
    *) failed+=("$suite") ;;
  esac
done

if [ "${#failed[@]}" -ne 0 ]; then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
if [ "$ran" -eq 0 ]; then
  echo "no suite ran a test"
  exit 1
fi
echo "all $ran suites passed"
