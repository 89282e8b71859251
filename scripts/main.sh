#!/usr/bin/env bash
# Set up (venv + install) and run the main job.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" tests
cd "$ROOT"
"$VENV/bin/skrank" "$@"
