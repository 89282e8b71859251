# Sourced by scripts/*.sh: create .venv when absent and install skrank into it.
# Usage: . scripts/_venv.sh EXTRAS   (e.g. "tests" or "tests,docs")
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SKRANK_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
"$PY" -m pip install --quiet --disable-pip-version-check \
    -c "$ROOT/constraints-ci.txt" -e "$ROOT[$1]"
