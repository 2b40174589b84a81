#!/usr/bin/env bash
# ansible-test must run from .../ansible_collections/<namespace>/<name>/ (a real path, not a link),
# so the tracked and new files are copied there first.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# outside the clone: inside it, git would mark the copy as ignored and ansible-test would skip everything
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aiplatform-sanity.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
DEST=$WORK/ansible_collections/aiplatform/aks
mkdir -p "$DEST"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [[ -e $f ]] && printf '%s\0' "$f"
done | tar -cf - --null -T - | tar -xf - -C "$DEST"
cd "$DEST"
"$ROOT/.venv/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
