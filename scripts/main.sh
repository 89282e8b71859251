#!/usr/bin/env bash
# Set up (venv + install) and run the main job: `skrank compare` (extra
# arguments go to it, e.g. `bash scripts/main.sh --quick` or
# `bash scripts/main.sh --data ../shared/data/MQ2008`).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" tests
cd "$ROOT"
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    set -- compare "$@"
fi
"$VENV/bin/skrank" "$@"
