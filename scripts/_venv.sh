# Sourced by scripts/serve and scripts/test: make .venv with the given requirements file, once
# per change of that file, and activate it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="${ENDRPI_VENV:-$ROOT/.venv}"
REQUIREMENTS="$1"

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating a virtual environment in $VENV" >&2
  if grep -qs "Raspberry Pi" /proc/device-tree/model; then
    # On a Pi, let the venv see Raspberry Pi OS's own GPIO libraries (python3-lgpio and friends).
    "$PYTHON" -m venv --system-site-packages "$VENV"
  else
    "$PYTHON" -m venv "$VENV"
  fi
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
stamp="$VENV/.installed-$(basename "$REQUIREMENTS")"
if [ ! -f "$stamp" ] || [ "$REQUIREMENTS" -nt "$stamp" ] || [ requirements/base.txt -nt "$stamp" ]; then
  echo "Installing the requirements ($REQUIREMENTS) into $VENV: a minute or more the first time" >&2
  python -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  touch "$stamp"
fi
