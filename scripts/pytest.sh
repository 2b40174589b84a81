#!/usr/bin/env bash
# pytest, where "no tests collected" (exit 5) is a failure rather than a silent pass.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
rc=$?
if [[ $rc -eq 5 ]]; then
  echo "pytest: no tests were collected for: $*" >&2
  exit 1
fi
exit $rc
