#!/usr/bin/env bash
# Set up (venv + install) and run the whole test suite: lint, tests, doctests,
# then the documentation build (warnings are errors; it runs the examples).
# Locally, SKRANK_SKIP_DOCS=1 skips the docs build; in CI (CI=true) it always runs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" tests,dev
cd "$ROOT"
"$PY" -m ruff check .
"$PY" -m ruff format --check .
"$PY" -m pytest "$@"
if [ "${CI:-}" = "true" ] || [ "${SKRANK_SKIP_DOCS:-0}" != "1" ]; then
    echo "Building the documentation (set SKRANK_SKIP_DOCS=1 to skip locally)"
    rm -rf docs/_build/html
    "$PY" -m sphinx -W --keep-going -q -b html docs docs/_build/html
fi
