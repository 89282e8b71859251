#!/usr/bin/env bash
# Set up (venv + install) and run the main job: `skrank compare` (extra
# arguments go to it, e.g. `bash scripts/main.sh --quick` or
# `bash scripts/main.sh --data ../shared/data/MQ2008`). Paths given to it
# (--data, --out, ...) are relative to the folder you run it from.
set -euo pipefail
echo "Setting up .venv and installing skrank with the plot and gbdt extras" \
     "(the first time takes a few minutes)..." >&2
. "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" plot,gbdt
echo "Running: skrank ${*:-compare}" >&2
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    set -- compare "$@"
fi
"$VENV/bin/skrank" "$@"
