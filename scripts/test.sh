#!/usr/bin/env bash
# Set up (venv + install) and run the whole test suite: lint, tests, doctests.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" tests,dev
cd "$ROOT"
"$PY" -m ruff check .
"$PY" -m ruff format --check .
"$PY" -m pytest "$@"
