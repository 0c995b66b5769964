#!/usr/bin/env bash
# Run every test suite, one pytest per package from inside it, so each keeps
# its own configuration (the console's pytest-django settings, for one), then
# report. Exits non-zero if any suite failed or if no suite ran a test.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# package folder and the test folder inside it
suites=(
  "libs/contracts tests" "services/user-api tests" "services/router tests"
  "services/connectors tests" "services/dlq-processor tests" "infra/local tests"
  "infra tests" "console tests" "tests ."
)
failed=()
ran=0
started=$SECONDS

for entry in "${suites[@]}"; do
  read -r suite tests <<<"$entry"
  [ -d "$suite/$tests" ] || continue
  echo "=== $suite"
  (cd "$suite" && "$root/.venv/bin/pytest" "$tests" "$@")
  status=$?
  case "$status" in
    0) ran=$((ran + 1)) ;;
    5) echo "($suite: no tests collected)" ;;
    *) failed+=("$suite") ;;
  esac
done

echo "suites took $((SECONDS - started)) s"
if [ "${#failed[@]}" -ne 0 ]; then
  echo "FAILED suites: ${failed[*]}"
  exit 1
fi
if [ "$ran" -eq 0 ]; then
  echo "no suite ran a test"
  exit 1
fi
echo "all $ran suites passed"
